#!/bin/sh
# -s ADDRESS in each of its forms: 127.0.0.1:PORT serves IPv4 only,
# [::1]:PORT IPv6 only, :PORT and PORT both families on one socket; the
# socket is close-on-exec and listens with --backlog; where the kernel has
# no IPv6, :PORT is one IPv4 socket; addresses that are
# not one exit 2, a port in use exits 1.
. "$top_srcdir/tests/lib.sh"
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss

# A loopback IPv6 address is needed for half of this test.
grep -q '00000000000000000000000000000001 .* lo$' /proc/net/if_inet6 2>/dev/null ||
    skip "no ::1 on lo (IPv6 disabled)"

# serve_tcp ADDRESS [OPTIONS...]: one child on ADDRESS.
serve_tcp() { _st_addr=$1; shift; start_worker_on "$_st_addr" -c 1 "$@"; }
# answers ADDRESS: a request there gets its own uppercase.
answers() {
	_got=$(fcgi_post "$1" "over $1") || fail "no answer on $1: $(cat "$tmp/post.rep")"
	[ "$_got" = "$(echo "OVER $1" | tr a-z A-Z)" ] || fail "$1 answered '$_got'"
}
# unreachable ADDRESS: nothing listens there.
unreachable() {
	! fcgi_post "$1" x >/dev/null 2>&1 || fail "$1 answered, but should not be bound"
}

port=$(free_port)
serve_tcp "127.0.0.1:$port"
answers "127.0.0.1:$port"
unreachable "[::1]:$port"
# Close-on-exec: the master's listening socket must not leak into a program
# it executes (O_CLOEXEC is 02000000 in fdinfo's octal flags).
lfd=$(ls -l "/proc/$worker_pid/fd" | awk '/socket:/ { print $9; exit }')
flags=$(awk '/^flags:/ { print $2 }' "/proc/$worker_pid/fdinfo/$lfd")
[ $(( 0$flags & 02000000 )) -ne 0 ] || fail "listening socket fd $lfd is not close-on-exec (flags $flags)"
stop_worker
pass "127.0.0.1:$port: IPv4 only, close-on-exec"

port=$(free_port)
serve_tcp "[::1]:$port"
answers "[::1]:$port"
unreachable "127.0.0.1:$port"
stop_worker
pass "[::1]:$port: IPv6 only"

for form in ":PORT" "PORT"; do
	port=$(free_port)
	serve_tcp "$(echo "$form" | sed "s/PORT/$port/")" --backlog 7
	answers "127.0.0.1:$port"
	answers "[::1]:$port"
	# One dual-stack socket, with the backlog asked for (ss: Send-Q).
	ss -Hltn "sport = :$port" >"$tmp/ss.out"
	[ "$(wc -l <"$tmp/ss.out")" -eq 1 ] || fail "$form: not one socket: $(cat "$tmp/ss.out")"
	awk '{ exit !($3 == 7 && $4 ~ /^(\*|\[::\]):/) }' "$tmp/ss.out" ||
	    fail "$form: expected one [::]/* socket with backlog 7: $(cat "$tmp/ss.out")"
	stop_worker
	pass "$form: one socket on every address, IPv4 and IPv6, backlog 7"
done

# A kernel without IPv6 (tests/no-ipv6.so: socket(AF_INET6) fails with
# EAFNOSUPPORT): :PORT falls back to one IPv4 socket on every address.
[ -r "$top_builddir/tests/no-ipv6.so" ] || fail "tests/no-ipv6.so not built (make check builds it)"
port=$(free_port)
# Only the worker gets the object.  A sanitizer build wants its runtime
# first among the libraries.
saved_asan=${ASAN_OPTIONS-}
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
LD_PRELOAD="$top_builddir/tests/no-ipv6.so"
export ASAN_OPTIONS LD_PRELOAD
serve_tcp ":$port"
unset LD_PRELOAD
ASAN_OPTIONS=$saved_asan
answers "127.0.0.1:$port"
unreachable "[::1]:$port"
ss -Hltn "sport = :$port" >"$tmp/ss.out"
[ "$(wc -l <"$tmp/ss.out")" -eq 1 ] && awk '{ exit !($4 ~ /^0\.0\.0\.0:/) }' "$tmp/ss.out" ||
    fail ":PORT without IPv6: expected one 0.0.0.0 socket: $(cat "$tmp/ss.out")"
stop_worker
pass ":PORT on a kernel without IPv6: one IPv4 socket on every address"

# Not an address: usage error, exit 2, nothing bound.
for bad in "1.2.3.4" "::1:9000" ":0" "127.0.0.1:70000" "[::1]9000" "127.0.0.1:"; do
	"$WORKER" -f -c 1 -s "$bad" $as_user >"$tmp/bad.out" 2>&1
	st=$?
	[ "$st" -eq 2 ] || fail "-s $bad exited $st, want 2: $(cat "$tmp/bad.out")"
	grep -qF -- "-s $bad:" "$tmp/bad.out" || fail "-s $bad: no reason given: $(cat "$tmp/bad.out")"
done
pass "addresses that are not one exit 2 with the reason"

# A port already in use: startup failure, exit 1.
port=$(free_port)
serve_tcp "127.0.0.1:$port"
"$WORKER" -f -c 1 -s "127.0.0.1:$port" $as_user >"$tmp/busy.out" 2>&1
st=$?
[ "$st" -eq 1 ] && grep -q "bind 127.0.0.1:$port: Address already in use" "$tmp/busy.out" ||
    fail "second bind of 127.0.0.1:$port: exit $st: $(cat "$tmp/busy.out")"
answers "127.0.0.1:$port"
stop_worker
pass "a port in use: exit 1, the first worker serves on"
