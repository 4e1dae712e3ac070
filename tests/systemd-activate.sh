#!/bin/sh
# systemd socket activation, with systemd-socket-activate as the launcher:
# a unix and a TCP socket passed as fd 3 are served; LISTEN_PID,
# LISTEN_FDS and LISTEN_FDNAMES are gone from every child's
# /proc/PID/environ (and the master's); PHP_FCGI_CHILDREN sets the pool
# when -c is absent; two passed sockets exit 2; a LISTEN_PID that is not
# ours is not taken for activation.
. "$top_srcdir/tests/lib.sh"
require SYSTEMD_SOCKET_ACTIVATE
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss

# activate LISTEN-ADDRESS [WORKER-OPTIONS...]: the worker under
# systemd-socket-activate with 3 children from PHP_FCGI_CHILDREN.
activate() {
	_l=$1; shift
	# shellcheck disable=SC2086
	"$SYSTEMD_SOCKET_ACTIVATE" -l "$_l" -E PHP_FCGI_CHILDREN=3 \
	    "$WORKER" -f $as_user "$@" >"$tmp/worker.log" 2>&1 &
	worker_pid=$!
	track_pid "$worker_pid"
}
# served ADDRESS: the first connection starts the worker (it is executed
# in the launcher's process); it must answer, with 3 children.
served() {
	_got=$(fcgi_post "$1" "activated on $1") ||
	    fail "$1: no answer: $(cat "$tmp/post.rep" "$tmp/worker.log")"
	[ "$_got" = "$(echo "ACTIVATED ON $1" | tr a-z A-Z)" ] || fail "$1 answered '$_got'"
	wait_until 10 count_children "$worker_pid" 3 ||
	    fail "$1: PHP_FCGI_CHILDREN=3 not honoured: $(children_of "$worker_pid")"
	for _p in "$worker_pid" $(children_of "$worker_pid"); do
		! tr '\0' '\n' <"/proc/$_p/environ" | grep -q '^LISTEN_' ||
		    fail "$1: process $_p still has LISTEN_* in its environment"
	done
}
stopped() {
	kill -TERM "$worker_pid"
	wait "$worker_pid" || fail "worker did not exit 0: $(cat "$tmp/worker.log")"
}

activate "$tmp/activated.sock"
wait_until 10 is_socket "$tmp/activated.sock" || fail "launcher did not bind"
served "$tmp/activated.sock"
stopped
pass "unix socket from systemd-socket-activate served by 3 children, no LISTEN_* left"

port=$(free_port)
activate "127.0.0.1:$port"
wait_until 10 tcp_listening "$port" || fail "launcher did not listen"
served "127.0.0.1:$port"
stopped
pass "TCP socket 127.0.0.1:$port from systemd-socket-activate served, no LISTEN_* left"

# Two sockets: the unit must be fixed, exit 2 at the first connection.
"$SYSTEMD_SOCKET_ACTIVATE" -l "$tmp/one.sock" -l "$tmp/two.sock" \
    "$WORKER" -f $as_user >"$tmp/two.log" 2>&1 &
two=$!
track_pid "$two"
wait_until 10 is_socket "$tmp/one.sock" || fail "launcher did not bind two sockets"
fcgi_post "$tmp/one.sock" x >/dev/null 2>&1
wait_until 10 sh -c "! kill -0 $two" || fail "two sockets: still running"
wait "$two"
st=$?
[ "$st" -eq 2 ] && grep -q 'LISTEN_FDS=2' "$tmp/two.log" ||
    fail "two sockets: exit $st: $(cat "$tmp/two.log")"
pass "two passed sockets: exit 2 with the reason"

# Variables meant for another process (LISTEN_PID not ours) are not
# activation: with fd 0 not a socket either, there is no listener.
LISTEN_PID=1 LISTEN_FDS=1 "$WORKER" -f $as_user </dev/null >"$tmp/other.log" 2>&1
st=$?
[ "$st" -eq 2 ] && grep -q 'no listening socket' "$tmp/other.log" ||
    fail "LISTEN_PID=1: exit $st: $(cat "$tmp/other.log")"
pass "LISTEN_PID of another process: ignored (exit 2, no listening socket)"
