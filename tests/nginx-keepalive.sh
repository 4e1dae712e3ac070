#!/bin/sh
# nginx upstream keep-alive cannot starve the pool, with any -c: the
# deploy file's own upstream block (keepalive, fastcgi_keep_conn on),
# nginx with 2 worker processes, and far fewer children than nginx keeps
# connections -- a child keeps many connections and serves whichever has
# a request.  Each scenario: 200 sequential requests, each from a new
# client connection, then 3 bursts of 64 at once; every request gets 200
# and its own uppercased body in under 1 s, and nginx logs no upstream
# timeout (fastcgi_read_timeout is cut to 5 s so a starved request would
# show as a 504 quickly).  Scenarios: -c 1 with keepalive 16; -c 2 with
# keepalive 64; -c 1 --max-conns 4 with keepalive 16 (the child closes its
# least recently used idle connections to make room, and says so); and
# --idle-timeout 1: a kept connection is closed after about a second, and
# nginx's next request still succeeds.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL

# scenario CHILDREN KEEPALIVE [WORKER-OPTIONS...]: start the worker and an
# nginx with the deploy file's keep-alive set to KEEPALIVE.
scenario() {
	_c=$1; _k=$2; shift 2
	start_worker "$tmp/fcgi.sock" -c "$_c" "$@"
	deploy_server_conf "$tmp/fcgi.sock"
	sed -i -e "s/^\([[:space:]]*keepalive\) [0-9]*;/\1 $_k;/" \
	    -e 's/^\([[:space:]]*\)fastcgi_keep_conn on;/&\
\1fastcgi_read_timeout 5s;/' "$tmp/server.conf"
	for _want in "keepalive $_k;" "fastcgi_pass upcase_fcgi;" \
	    "fastcgi_keep_conn on;" "fastcgi_read_timeout 5s;"; do
		grep -q "^[[:space:]]*$_want\$" "$tmp/server.conf" ||
		    fail "deploy/nginx/upcase-fcgi.conf: no '$_want'"
	done
	render_nginx_conf "$tmp/server.conf"
	sed -i "s/^worker_processes 1;/worker_processes 2;/" "$tmp/nginx.conf"
	start_nginx
	n=0
}
stop_scenario() {
	grep -q 'upstream timed out' "$tmp/nginx/error.log" &&
	    fail "nginx logged an upstream timeout: $(grep -m1 'timed out' "$tmp/nginx/error.log")"
	kill -TERM "$nginx_pid"
	wait "$nginx_pid"
	stop_worker
}

# sequential COUNT: one request at a time, each curl a new client
# connection; each 200 with its own body, in under 1 s.
sequential() {
	for _ in $(seq "$1"); do
		n=$((n + 1))
		_r=$("$CURL" -sS --max-time 5 --unix-socket "$HTTP_SOCKET" \
		    --data-binary "req-$n" -w ' %{http_code} %{time_total}' \
		    http://localhost/ 2>&1)
		set -- $_r "$@"
		[ "$1 $2" = "REQ-$n 200" ] && awk "BEGIN { exit !($3 < 1) }" ||
		    fail "request $n: '$_r' (body, status, seconds; a starved one is 504 or 000)"
		shift 3
	done
}

# burst COUNT: COUNT requests at once from one curl, each on its own
# client connection; each 200 with its own body, in under 1 s.
burst() {
	# "next" starts the options of another transfer (its own body).
	for _i in $(seq "$1"); do
		[ "$_i" = 1 ] || echo 'next'
		echo 'silent'
		echo 'max-time = 5'
		echo "unix-socket = \"$HTTP_SOCKET\""
		echo 'write-out = "%{http_code} %{time_total}\n"'
		echo "url = \"http://localhost/$n-$_i\""
		echo "data-binary = \"burst-$n-$_i\""
		echo "output = \"$tmp/b.$_i\""
	done >"$tmp/burst.cfg"
	"$CURL" --parallel --parallel-immediate --parallel-max "$1" \
	    -K "$tmp/burst.cfg" >"$tmp/burst.out" 2>/dev/null
	awk '$1 != 200 || $2 >= 1 { bad++ } END { exit bad > 0 }' "$tmp/burst.out" ||
	    fail "burst of $1: status and seconds: $(sort "$tmp/burst.out" | uniq -c | tr '\n' ';')"
	[ "$(wc -l <"$tmp/burst.out")" -eq "$1" ] || fail "burst of $1: $(wc -l <"$tmp/burst.out") answers"
	for _i in $(seq "$1"); do
		[ "$(cat "$tmp/b.$_i")" = "BURST-$n-$_i" ] ||
		    fail "burst request $_i: body '$(cat "$tmp/b.$_i")'"
	done
	n=$((n + $1))
}
traffic() {
	sequential 200
	for _ in 1 2 3; do burst 64; done
}

scenario 1 16
child=$(children_of "$worker_pid")
idle_fds=$(open_fds "$child")
traffic
fds_above "$((idle_fds + 1))" "$child" || fail "-c 1: the child holds $(open_fds "$child") fds, $idle_fds before any request: keep-alive is not in effect"
stop_scenario
pass "-c 1, 2 nginx workers x keepalive 16: 392 requests, all 200 in under 1 s, no upstream timeout"

scenario 2 64
traffic
stop_scenario
pass "-c 2, 2 nginx workers x keepalive 64: 392 requests, all 200 in under 1 s, no upstream timeout"

scenario 1 16 --max-conns 4
traffic
grep -q 'idle kept connections to make room for new ones (--max-conns 4)' "$tmp/worker.log" ||
    fail "--max-conns 4: no line about closing idle connections for room: $(cat "$tmp/worker.log")"
stop_scenario
pass "--max-conns 4 with keepalive 16: all 200 in under 1 s; least recently used idle connections closed, and logged"

scenario 1 16 --idle-timeout 1
child=$(children_of "$worker_pid")
idle=$(open_fds "$child")
sequential 1
fds_above "$idle" "$child" || fail "--idle-timeout 1: no kept connection after a request"
t0=$(date +%s%N)
wait_until 5 sh -c "[ \$(ls /proc/$child/fd | wc -l) -le $idle ]" ||
    fail "--idle-timeout 1: the kept connection is still open after 5 s"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$took" -ge 500 ] || fail "--idle-timeout 1: closed after only $took ms"
sequential 3
stop_scenario
pass "--idle-timeout 1: the kept connection closed after about $took ms more; the next requests through nginx succeed"
