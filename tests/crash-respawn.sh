#!/bin/sh
# libfcgi 2.4.2 crashes on two hostile inputs (LIBFCGI.md, section 4):
#  - an FCGI_GET_VALUES record naming FCGI_MPXS_CONNS 4 times: the reply is
#    built with sprintf in a 64-byte stack buffer; "stack smashing
#    detected", SIGABRT;
#  - a param whose name and value lengths are both 0x7ffffffe: their int
#    sum wraps, malloc fails and libfcgi's assert aborts, SIGABRT.
# The first happens inside FCGX_Accept_r, where the worker cannot reach.
# This test shows the damage is one child: the master (same PID) logs the
# signal and replaces that child (new PID), the other child is untouched,
# requests keep being served meanwhile, and the pool is whole afterwards.
# The second never reaches libfcgi in the usual build: the params bound
# (src/record.c) answers 431 from the lengths alone; a build without the
# private libfcgi copy still crashes on it, as shown here.
. "$top_srcdir/tests/lib.sh"

# In a --enable-sanitizers build, ASan would report the huge malloc itself
# and exit 1; let it return NULL as glibc does, so libfcgi's assert fires.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
export ASAN_OPTIONS
RAW="$top_builddir/tests/fcgi-raw"
[ -x "$RAW" ] || fail "$RAW not built"
sock="$tmp/upcase.sock"
start_worker "$sock" -c 2
master=$worker_pid
wait_until 10 count_children "$master" 2 || fail "pool did not reach 2 children"
seq_no=0

pids() { children_of "$master" | sort | tr '\n' ' '; }

# more_deaths N: the log has more than N child deaths.
more_deaths() { [ "$(grep -c 'killed by signal' "$tmp/worker.log")" -gt "$1" ]; }

# serve CASE: a normal request gets exactly its own uppercased body.
serve() {
	seq_no=$((seq_no + 1))
	_body="after-$1-$seq_no"
	printf 'begin 1\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 %s\nstdin-end 1\n' \
	    "${#_body}" "$_body" |
	    "$RAW" -t 10 -r "$tmp/serve.rep" "$sock" >"$tmp/serve.out" ||
	    fail "$1: request timed out"
	printf 'Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s' \
	    "${#_body}" "$(echo "$_body" | tr a-z A-Z)" >"$tmp/serve.expected"
	cmp -s "$tmp/serve.out" "$tmp/serve.expected" ||
	    fail "$1: wrong response: $(cat "$tmp/serve.out")"
}

# crash CASE: send the script on stdin, then check that exactly one child
# died of SIGABRT and was replaced, and that the master is the same.
crash() {
	_before=$(pids)
	_lines=$(wc -l <"$tmp/worker.log")
	_deaths=$(grep -c 'killed by signal' "$tmp/worker.log")
	"$RAW" -t 10 -r "$tmp/$1.rep" "$sock" >/dev/null ||
	    fail "$1: fcgi-raw timed out: $(cat "$tmp/$1.rep")"
	# The connection ends without an answer to the request.
	! grep -q '^end 1 ' "$tmp/$1.rep" ||
	    fail "$1: the request was answered; libfcgi did not crash: $(cat "$tmp/$1.rep")"
	wait_until 10 more_deaths "$_deaths" ||
	    fail "$1: no child death logged"
	wait_until 10 count_children "$master" 2 ||
	    fail "$1: the pool was not refilled: $(pids)"
	kill -0 "$master" 2>/dev/null || fail "$1: the master died"
	_after=$(pids)
	_gone=$(for p in $_before; do case " $_after " in *" $p "*) ;; *) echo "$p";; esac; done)
	_new=$(for p in $_after; do case " $_before " in *" $p "*) ;; *) echo "$p";; esac; done)
	[ "$(echo "$_gone" | grep -c .)" = 1 ] && [ "$(echo "$_new" | grep -c .)" = 1 ] ||
	    fail "$1: expected one child replaced: before '$_before', after '$_after'"
	sed -n "$((_lines + 1)),\$p" "$tmp/worker.log" >"$tmp/$1.log"
	grep -q "child $_gone killed by signal 6 (Aborted);" "$tmp/$1.log" ||
	    fail "$1: no 'child $_gone killed by signal 6' line: $(cat "$tmp/$1.log")"
	serve "$1"
	serve "$1"
	pass "$1: child $_gone died of SIGABRT, replaced by $_new; master $master serves on"
}

serve baseline
printf 'get-values FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS\nbegin 1\nparams 1 CONTENT_LENGTH=\nparams-end 1\nstdin-end 1\n' |
    crash get-values-overflow
grep -q 'stack smashing detected' "$tmp/get-values-overflow.log" ||
    fail "get-values-overflow: no 'stack smashing detected' in the log"

overflow='begin 1\nrecord 1 4 1 8 0 hex:fffffffefffffffe\nparams-end 1\nstdin-end 1\n'
if grep -q '^#define HAVE_ARENA 1' "$top_builddir/config.h" 2>/dev/null; then
	before=$(pids)
	printf "$overflow" | "$RAW" -t 10 -r "$tmp/overflow.rep" "$sock" >"$tmp/overflow.out" ||
	    fail "param-length-overflow: fcgi-raw timed out"
	grep -q '^Status: 431 ' "$tmp/overflow.out" ||
	    fail "param-length-overflow: not answered 431: $(cat "$tmp/overflow.out" "$tmp/overflow.rep")"
	[ "$(pids)" = "$before" ] || fail "param-length-overflow: a child was replaced"
	serve param-length-overflow
	pass "param-length-overflow: answered 431 from the lengths, no child lost"
else
	printf "$overflow" | crash param-length-overflow
	grep -q 'Assertion' "$tmp/param-length-overflow.log" ||
	    fail "param-length-overflow: no libfcgi assertion in the log"
fi

# A burst of crashes: each dead child is replaced at once (it was serving,
# so this is no start-up failure), while the other child goes on serving.
deaths_before_burst=$(grep -c 'killed by signal 6' "$tmp/worker.log")
for i in 1 2 3 4; do
	printf 'get-values FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS\nbegin 1\nparams-end 1\nstdin-end 1\n' |
	    "$RAW" -t 10 -r "$tmp/burst.rep" "$sock" >/dev/null
	serve crash-burst
done
wait_until 15 count_children "$master" 2 || fail "crash burst: pool not refilled: $(pids)"
kill -0 "$master" 2>/dev/null || fail "crash burst: the master died"
deaths=$(( $(grep -c 'killed by signal 6' "$tmp/worker.log") - deaths_before_burst ))
[ "$deaths" -ge 4 ] || fail "crash burst: only $deaths deaths logged for 4 payloads"
serve crash-burst-end
pass "crash burst: $deaths children died in all, same master, pool of 2 serving"
