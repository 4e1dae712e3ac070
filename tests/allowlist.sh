#!/bin/sh
# The peer allowlist (-A, FCGI_WEB_SERVER_ADDRS), IPv4 and IPv6 alike, on
# one socket that takes both families: a peer not on the list is closed
# before a byte of it is read and logged once a minute for the whole
# pool, however many children refuse it; CIDR prefixes
# admit and refuse by their bits; the variable alone works and -A
# overrides it; on a unix socket the list is ignored with a warning; a
# list that is not one exits 2.
. "$top_srcdir/tests/lib.sh"
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss
grep -q '00000000000000000000000000000001 .* lo$' /proc/net/if_inet6 2>/dev/null ||
    skip "no ::1 on lo (IPv6 disabled)"

# serve_any [OPTIONS...]: the worker on every address of a free port.
serve_any() {
	port=$(free_port)
	start_worker_on ":$port" -c 1 "$@"
}
# admitted ADDRESS [SOURCE]: a request from SOURCE is answered.
admitted() {
	_got=$(fcgi_post "$1" "from ${2:-default}" ${2:+-b "$2:0"}) ||
	    fail "$1 from ${2:-default} was refused: $(cat "$tmp/post.rep"; cat "$tmp/worker.log")"
	[ "$_got" = "$(echo "FROM ${2:-default}" | tr a-z A-Z)" ] || fail "wrong answer '$_got'"
}
# refused ADDRESS SOURCE-TEXT [SOURCE]: no answer, and the log names the peer.
refused() {
	fcgi_post "$1" "from $2" ${3:+-b "$3:0"} >"$tmp/refused.out" 2>/dev/null &&
	    fail "$1 from $2 was answered"
	[ ! -s "$tmp/refused.out" ] || fail "$1 from $2: got response bytes"
	wait_until 5 grep -q "refused a connection from $2: not on the allowlist" "$tmp/worker.log" ||
	    fail "no refusal of $2 logged: $(cat "$tmp/worker.log")"
}

serve_any -A 127.0.0.1
admitted "127.0.0.1:$port"
refused "[::1]:$port" "::1"
stop_worker
pass "-A 127.0.0.1: IPv4 loopback admitted (reached over the IPv6 socket), ::1 refused"

serve_any -A ::1
admitted "[::1]:$port"
refused "127.0.0.1:$port" "127.0.0.1"
stop_worker
pass "-A ::1: ::1 admitted, 127.0.0.1 refused"

serve_any -A "127.0.0.0/30, ::/127"
admitted "127.0.0.1:$port" 127.0.0.3
admitted "[::1]:$port"
refused "127.0.0.1:$port" 127.0.0.4 127.0.0.4
stop_worker
serve_any -A "::2/127"
refused "[::1]:$port" "::1"
stop_worker
pass "CIDR: 127.0.0.0/30 admits .3 and refuses .4; ::/127 admits ::1, ::2/127 refuses it"

# The variable alone, and -A over it.
FCGI_WEB_SERVER_ADDRS=127.0.0.2 serve_any
admitted "127.0.0.1:$port" 127.0.0.2
refused "127.0.0.1:$port" 127.0.0.1 127.0.0.1
stop_worker
FCGI_WEB_SERVER_ADDRS=127.0.0.2 serve_any -A 127.0.0.1
admitted "127.0.0.1:$port" 127.0.0.1
refused "127.0.0.1:$port" 127.0.0.2 127.0.0.2
stop_worker
pass "FCGI_WEB_SERVER_ADDRS alone admits and refuses; -A overrides it"

# Refused before a byte is read: a 256 KiB request sent at once is not
# consumed -- closing a socket with unread data makes the kernel answer
# with a reset, never an orderly end -- and no byte comes back.  Twenty
# such connections log one line: once per address per minute.
serve_any -A 127.0.0.1
children=$(children_of "$worker_pid")
printf 'begin 1\nparams 1 CONTENT_LENGTH=262144\nparams-end 1\nstdin 1 rep:262144:x\nstdin-end 1\nsleep 300\n' >"$tmp/big.script"
"$FCGI_RAW" -t 10 -r "$tmp/big.rep" "[::1]:$port" "$tmp/big.script" >"$tmp/big.out"
grep -Eq '^(reset|write-error)' "$tmp/big.rep" || fail "refused peer: the connection was not reset: $(cat "$tmp/big.rep")"
[ ! -s "$tmp/big.out" ] || fail "refused peer got response bytes"
for _ in $(seq 20); do fcgi_post "[::1]:$port" flood >/dev/null 2>&1; done
[ "$(grep -c 'refused a connection from ::1' "$tmp/worker.log")" -eq 1 ] ||
    fail "expected one refusal line for ::1: $(cat "$tmp/worker.log")"
admitted "127.0.0.1:$port"
[ "$(children_of "$worker_pid")" = "$children" ] || fail "the child changed: refusals must not kill it"
stop_worker
pass "refused peer reset unread with 0 bytes back; 21 refusals, one log line; same child serves on"

# Once per address per minute for the pool, not per child: 4 children,
# 3 rounds of 20 connections at once from ::1 and 127.0.0.2, and one line
# for each address.
port=$(free_port)
start_worker_on ":$port" -c 4 -A 127.0.0.1
for _ in 1 2 3; do
	flood=
	for i in $(seq 10); do
		fcgi_post "[::1]:$port" flood >/dev/null 2>&1 &
		flood="$flood $!"
		fcgi_post "127.0.0.1:$port" flood -b 127.0.0.2:0 >/dev/null 2>&1 &
		flood="$flood $!"
	done
	# shellcheck disable=SC2086
	wait $flood
done
admitted "127.0.0.1:$port"
for peer in ::1 127.0.0.2; do
	[ "$(grep -c "refused a connection from $peer:" "$tmp/worker.log")" -eq 1 ] ||
	    fail "4 children, 30 refusals of $peer: expected one line: $(cat "$tmp/worker.log")"
done
stop_worker
pass "4 children, 60 refusals from 2 peers: one line for each"

# A unix socket has no peer address: the list is ignored, and said so.
start_worker_on "$tmp/u.sock" -c 1 -A 127.0.0.1
grep -q 'ignored on a unix socket' "$tmp/worker.log" || fail "no warning: $(cat "$tmp/worker.log")"
admitted "$tmp/u.sock"
stop_worker
pass "unix socket: list ignored with a warning, requests served"

for bad in "127.0.0.1/33" "::1/129" "localhost" "127.0.0.1,,::1" "10.0.0.1/x"; do
	"$WORKER" -f -c 1 -s "$tmp/x.sock" -A "$bad" $as_user >"$tmp/bad.out" 2>&1
	st=$?
	[ "$st" -eq 2 ] && grep -q "is not an IPv4 or IPv6 address" "$tmp/bad.out" ||
	    fail "-A '$bad': exit $st: $(cat "$tmp/bad.out")"
	[ ! -e "$tmp/x.sock" ] || fail "-A '$bad' left a socket"
done
pass "lists that are not one exit 2 with the entry named, before binding"
