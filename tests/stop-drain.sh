# SIGTERM loses no connection the kernel had already queued.
# - One child busy on a slow upload and five requests waiting in the
#   listen queue: SIGTERM refuses new connections at once (connect fails
#   with ECONNREFUSED instead of queueing behind a stop), then the slow
#   request and all five queued ones are answered exactly, and the master
#   exits 0.
# - The same behind nginx with the deploy file (kept connections): two
#   children busy on slow uploads, five requests through nginx queued;
#   after SIGTERM all five get 200 with their own body.  (Before the stop
#   drained on purpose, a child served one queued request, then waited on
#   that kept connection, where the stop reached it: 3 of 5 got 502.)
# A SIGHUP, by contrast, does not hold the old child for the queue.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss

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
# refused_now: a new connection is refused (the socket is shut for
# reading, or its file is gone), not queued and left unanswered.
refused_now() {
	"$FCGI_RAW" -t 1 "$sock" </dev/null >/dev/null 2>"$tmp/refused.err"
	grep -q 'Connection refused\|No such file' "$tmp/refused.err"
}
refused_within() {
	_end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt "$_end" ]; do
		refused_now && return 0
		sleep 0.05
	done
	return 1
}
refused_within 3 ||
    fail "new connections still queued 3 s after the stop began: $(cat "$tmp/refused.err")"
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

# Behind nginx, whose kept connections a draining child must not wait on.
start_worker "$sock" -c 2 -T 10
deploy_server_conf "$sock"
render_nginx_conf "$tmp/server.conf"
start_nginx
rm -f "$tmp/go"
slows=
for s in 1 2; do
	{
		printf 'first half, '
		wait_until 25 test -e "$tmp/go"
		printf 'second half'
	} | fcgi_client "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=23 >"$tmp/slow$s.out" 2>&1 &
	slows="$slows $!"
	track_pid "$!"
	# One at a time, so that each goes to a child of its own.
	wait_until 10 busy_children "$worker_pid" "$s" ||
	    fail "slow request $s: not $s busy children"
done
queued=
for i in 1 2 3 4 5; do
	http -o "$tmp/n$i.out" -w '%{http_code}' --data "through nginx $i" http://upcase/ >"$tmp/n$i.code" 2>&1 &
	queued="$queued $!"
	track_pid "$!"
done
# The socket was born as "s" in a private directory next to $sock and
# renamed (see listen.c): ss knows it by that name.
queue_length() { ss -Hxl src "$tmp/*" | awk '$5 ~ /\/s$/ { print $3 }'; }
in_queue() { [ "$(queue_length)" -ge 5 ]; }
wait_until 10 in_queue || fail "the five requests did not reach the listen queue (it holds $(queue_length))"
kill -TERM "$worker_pid"
sleep 0.3
touch "$tmp/go"
for pid in $slows; do
	wait "$pid" || fail "a slow request failed: $(cat "$tmp"/slow*.out)"
done
i=0; ok=0
for pid in $queued; do
	i=$((i + 1))
	wait "$pid"
	[ "$(cat "$tmp/n$i.code")" = 200 ] && [ "$(cat "$tmp/n$i.out")" = "THROUGH NGINX $i" ] &&
	    ok=$((ok + 1))
done
[ "$ok" = 5 ] || fail "behind nginx, $ok of 5 queued requests answered: $(cat "$tmp"/n*.code)"
wait "$worker_pid" || fail "the master did not exit 0 after the nginx case"
kill -TERM "$nginx_pid"
pass "behind nginx, 2 busy children and 5 queued requests: SIGTERM, all 5 answered 200 with their body"

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
