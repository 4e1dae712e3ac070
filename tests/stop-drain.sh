#!/bin/sh
# SIGTERM loses no connection the kernel had already queued: with one
# child busy on a slow upload and five requests waiting in the listen
# queue, SIGTERM refuses new connections at once (they fail fast instead
# of queueing behind a stop), then the slow request and all five queued
# ones are answered exactly, and the master exits 0.  A
# SIGHUP, by contrast, does not hold the old child for the queue.
. "$top_srcdir/tests/lib.sh"
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"

sock="$tmp/upcase.sock"
start_worker "$sock" -c 1 -T 10
child=$(children_of "$worker_pid")
idle=$(open_fds "$child")

# The slow request: its body's second half comes only on $tmp/go.
{
	printf 'first half, '
	wait_until 25 test -e "$tmp/go"
	printf 'second half'
} | fcgi_client "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=23 >"$tmp/slow.out" 2>"$tmp/slow.err" &
slow=$!
track_pid "$slow"
wait_until 10 fds_above "$idle" "$child" || fail "the child did not take the slow request"

# Five requests that can only wait in the listen queue.
queued=
for i in 1 2 3 4 5; do
	printf 'begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=8\nparams-end 1\nstdin 1 queued-%d\nstdin-end 1\nexpect-end 1\n' "$i" |
	    "$FCGI_RAW" -t 20 -r "$tmp/q$i.rep" "$sock" >"$tmp/q$i.out" &
	queued="$queued $!"
	track_pid "$!"
done
sleep 0.3

kill -TERM "$worker_pid"
# refused_now: a new connection fails at once (the socket is shut for
# reading, or its file is gone).
refused_now() { ! "$FCGI_RAW" -t 1 "$sock" </dev/null >/dev/null 2>&1; }
wait_until 5 refused_now || fail "new connections were still accepted after the stop began"
touch "$tmp/go"
wait "$slow" || fail "the slow request failed: $(cat "$tmp/slow.err")"
tail -c 23 "$tmp/slow.out" | grep -qx 'FIRST HALF, SECOND HALF' || fail "slow request answered: $(cat "$tmp/slow.out")"
i=0
for pid in $queued; do
	i=$((i + 1))
	wait "$pid" || fail "queued request $i got no answer: $(cat "$tmp/q$i.rep")"
	tail -c 8 "$tmp/q$i.out" | grep -qx "QUEUED-$i" || fail "queued request $i answered: $(cat "$tmp/q$i.out")"
done
wait "$worker_pid" || fail "the master did not exit 0"
pass "SIGTERM with 1 busy child and 5 queued requests: all 6 answered, new connections refused at once, exit 0"

# SIGHUP: the socket stays and a new child takes over; the old one
# leaves after its request without serving the queue.
start_worker "$sock" -c 1 -T 10
old=$(children_of "$worker_pid")
kill -HUP "$worker_pid"
replaced() { _c=$(children_of "$worker_pid"); [ -n "$_c" ] && [ "$_c" != "$old" ]; }
wait_until 2 replaced || fail "SIGHUP: child not replaced within 2 s"
[ "$(fcgi_post "$sock" "after hup")" = "AFTER HUP" ] || fail "SIGHUP: no answer"
kill -TERM "$worker_pid"
wait "$worker_pid" || fail "second master did not exit 0"
pass "SIGHUP replaces the child at once; the socket stays"

# An idle pool stops at once: a listener shut for the stop stays readable,
# and children waiting on it must still notice the stop (not spin to -T).
start_worker "$sock" -c 2 -T 10
t0=$(date +%s%N)
kill -TERM "$worker_pid"
wait "$worker_pid" || fail "idle stop: the master did not exit 0"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$took" -lt 2000 ] || fail "idle stop took $took ms: $(cat "$tmp/worker.log")"
! grep -q 'still busy' "$tmp/worker.log" || fail "idle stop: children had to be killed"
pass "an idle pool of 2 stops in $took ms"
