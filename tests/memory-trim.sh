#!/bin/sh
# Resident memory follows the working set: after one 64 MiB body (with
# -m 128M) and then 100 small requests, a child has given the pages of its
# body buffer back, so its VmRSS is a few MiB instead of staying near
# 64 MiB for ever.  (Runs of large bodies keep their pages: the figures
# are in the closing note of the change.)
. "$top_srcdir/tests/lib.sh"
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"

sock="$tmp/upcase.sock"
start_worker "$sock" -c 1 -m 128M
child=$(children_of "$worker_pid")
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
before=$(rss "$child")

size=$((64 * 1024 * 1024))
printf 'begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 rep:%d:a\nstdin-end 1\nexpect-end 1\n' "$size" "$size" |
    "$FCGI_RAW" -t 60 -r "$tmp/big.rep" "$sock" >"$tmp/big.out" || fail "the 64 MiB request failed: $(cat "$tmp/big.rep")"
got=$(wc -c <"$tmp/big.out")
[ "$got" -gt "$size" ] || fail "the 64 MiB request got $got bytes back"
[ "$(children_of "$worker_pid")" = "$child" ] || fail "the child was replaced; this test proves nothing"
peak=$(rss "$child")
for i in $(seq 100); do
	[ "$(fcgi_post "$sock" "small $i")" = "SMALL $i" ] || fail "no answer to small request $i"
done
after=$(rss "$child")
# The body was resident (else this proves nothing), and is no longer: the
# child keeps 2 MiB of its buffer, so allow 8 MiB over where it started
# (a sanitizer build starts higher).
[ $((peak - before)) -gt 60000 ] || fail "the 64 MiB body never was resident ($before KiB, then $peak KiB)"
[ $((after - before)) -lt 8192 ] || fail "child VmRSS is $after KiB 100 requests after a 64 MiB body (was $before KiB before it, $peak KiB right after)"
pass "VmRSS of the child: $before KiB before, $peak KiB right after a 64 MiB body, $after KiB 100 small requests later"
