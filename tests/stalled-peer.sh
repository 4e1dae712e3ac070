#!/bin/sh
# --io-timeout: a peer that stalls holds a child for at most that long,
# and one that sends nothing holds it not at all.  With --io-timeout 1 and
# a single child: half a record header, half the params, half a body, and
# a peer that never reads a 1 MiB response each give the child back
# within 2 s (a request through nginx is answered while the stalled one
# still waits), with a log line; 20 connections that send nothing do not
# delay a request through nginx at all (under 1 s, where each used to
# cost libfcgi's 2 s), and are closed after 1 s with one log line (on
# TCP, after the kernel's deferral of 1 s as well).  Half
# a body and silent peers on TCP too, whose connections inherit the read
# timeout from the listener (loopback TCP buffers would swallow a whole
# unread response, so that case stays on the unix socket); and a SIGHUP
# reaches a child stuck on a stalled peer within the timeout.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss

# start ADDRESS: one child, a 1-second I/O timeout, a 2M body limit.
start() { start_worker_on "$1" -c 1 -m 2M --io-timeout 1; }

# now_ms: wall clock in milliseconds.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# next_request ADDRESS CASE: a request through nginx (unix socket) or
# straight to ADDRESS (TCP) gets its answer; sets _took, the ms since
# $_start.
next_request() {
	case $1 in
	/*)	_got=$(http --max-time 5 --data "after $2" http://localhost/) ;;
	*)	_got=$(fcgi_post "$1" "after $2") ;;
	esac || fail "$2: the next request got no answer: $(cat "$tmp/worker.log")"
	_took=$(( $(now_ms) - _start ))
	[ "$_got" = "$(echo "AFTER $2" | tr a-z A-Z)" ] || fail "$2: next client got '$_got'"
}

# stall ADDRESS CASE LOG-PATTERN: run the script $tmp/CASE.script, which
# stalls for 5 s, in the background; a second client must be answered
# within 2.5 s of the stall's start (so the one child was given back), and
# the worker must log LOG-PATTERN.
stall() {
	_start=$(now_ms)
	"$FCGI_RAW" -t 8 -r "$tmp/$2.rep" "$1" "$tmp/$2.script" >/dev/null 2>&1 &
	_stalled=$!
	track_pid "$_stalled"
	sleep 0.2
	next_request "$1" "$2"
	[ "$_took" -lt 2500 ] || fail "$2: the next client waited $_took ms"
	kill -0 "$_stalled" 2>/dev/null || fail "$2: the stalled client ended early; the test proves nothing"
	grep -q "$3" "$tmp/worker.log" || fail "$2: no log line '$3': $(cat "$tmp/worker.log")"
	kill "$_stalled" 2>/dev/null
	{ wait "$_stalled"; } 2>/dev/null  # no "Terminated" line
	pass "$2: child given back after $_took ms, logged"
}

# silent ADDRESS CASE: 20 peers connect, send nothing and wait for 8 s; a
# request is answered within 1 s all the same, and the worker closes the
# 20 after 1 s (--io-timeout), with a log line.
silent() {
	_start=$(now_ms)
	_silent=
	for _i in $(seq 20); do
		"$FCGI_RAW" -t 8 -r "$tmp/$2.$_i.rep" "$1" "$tmp/silent-reading.script" >/dev/null 2>&1 &
		_silent="$_silent $!"
		track_pid "$!"
	done
	sleep 0.2
	next_request "$1" "$2"
	[ "$_took" -lt 1000 ] || fail "$2: 20 silent peers delayed the next client: $_took ms"
	wait_until 5 grep -q 'new connections that sent nothing for 1 s (--io-timeout)' "$tmp/worker.log" ||
	    fail "$2: no log line of silent connections closed: $(cat "$tmp/worker.log")"
	# shellcheck disable=SC2086
	{ wait $_silent; } 2>/dev/null
	_closed=$(( $(now_ms) - _start ))
	[ "$_closed" -lt 4500 ] && ! grep -L '^eof' "$tmp/$2".*.rep | grep -q . ||
	    fail "$2: the silent peers were not all closed by the worker within 4.5 s ($_closed ms)"
	pass "$2: 20 silent peers, the next request answered after $_took ms, all closed after $_closed ms, logged"
}

begin='begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=100\nparams-end 1\n'
# Sends nothing, but reads until the worker closes the connection (or
# its -t of 8 s).
printf '# nothing\n' >"$tmp/silent-reading.script"
printf 'raw hex:0101\npause 5000\n' >"$tmp/half-header.script"
printf 'begin 1\nrecord 1 4 1 100 0 hex:0e03434f4e54454e\npause 5000\n' >"$tmp/half-params.script"
printf "${begin}stdin 1 only-a-third-of-the-body\npause 5000\n" >"$tmp/half-body.script"
printf 'begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=1048576\nparams-end 1\nstdin 1 rep:1048576:a\nstdin-end 1\npause 5000\n' >"$tmp/unread-response.script"

sock="$tmp/upcase.sock"
start "$sock"
# nginx in front, as deployed: the next request goes through it.
deploy_server_conf "$sock"
render_nginx_conf "$tmp/server.conf"
start_nginx
silent "$sock" silent
stall "$sock" half-header 'no complete request header or params for 1 s'
stall "$sock" half-params 'no complete request header or params for 1 s'
stall "$sock" half-body 'no more of the body for 1 s after 24 bytes'
stall "$sock" unread-response 'read none of it for 1 s (--io-timeout)'
stop_worker

cp "$tmp/half-body.script" "$tmp/tcp-half-body.script"
port=$(free_port)
start "127.0.0.1:$port"
stall "127.0.0.1:$port" tcp-half-body 'no more of the body for 1 s'
silent "127.0.0.1:$port" tcp-silent
stop_worker

# SIGHUP while the only child is stuck on a stalled peer: replaced within
# the timeout (it gives the peer up, then obeys).
start "$sock"
old=$(children_of "$worker_pid")
"$FCGI_RAW" -t 8 "$sock" "$tmp/half-body.script" >/dev/null 2>&1 &
stalled=$!
track_pid "$stalled"
sleep 0.2
t0=$(now_ms)
kill -HUP "$worker_pid"
replaced() { _c=$(children_of "$worker_pid"); [ -n "$_c" ] && [ "$_c" != "$old" ]; }
wait_until 3 replaced || fail "SIGHUP: child $old not replaced within 3 s"
took=$(( $(now_ms) - t0 ))
[ "$took" -lt 2000 ] || fail "SIGHUP: replacement took $took ms"
kill "$stalled" 2>/dev/null
fcgi_post "$sock" "after hup" >/dev/null || fail "SIGHUP: the new child does not serve"
stop_worker
pass "SIGHUP with the child stuck on a stalled peer: replaced after $took ms"

# SIGTERM, and the master's death, reach a child stuck on a stalled peer
# within the timeout too.
start "$sock"
"$FCGI_RAW" -t 8 "$sock" "$tmp/half-body.script" >/dev/null 2>&1 &
track_pid "$!"
sleep 0.2
t0=$(now_ms)
stop_worker
took=$(( $(now_ms) - t0 ))
[ "$took" -lt 2500 ] || fail "SIGTERM with a stalled child: the stop took $took ms"
pass "SIGTERM with the child stuck on a stalled peer: stopped after $took ms"

start "$sock"
child=$(children_of "$worker_pid")
"$FCGI_RAW" -t 8 "$sock" "$tmp/half-body.script" >/dev/null 2>&1 &
track_pid "$!"
sleep 0.2
t0=$(now_ms)
kill -KILL "$worker_pid"
gone() { ! kill -0 "$child" 2>/dev/null || [ "$(ps -o stat= -p "$child" | cut -c1)" = Z ]; }
wait_until 3 gone || fail "master SIGKILLed: child $child still there after 3 s"
took=$(( $(now_ms) - t0 ))
pass "master SIGKILLed with the child stuck on a stalled peer: the child left after $took ms"
