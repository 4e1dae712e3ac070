#!/bin/sh
# The worker under valgrind's memcheck: no memory errors, and no leak that
# grows with the number of requests.
#
# The worker runs with one child (-c 1) so that every request goes through
# the same traced process.  It serves N requests, then 2N in a second run,
# each a mix of good and bad ones (invalid or lying CONTENT_LENGTH, a body
# over -m, FCGI_ABORT_REQUEST, a client that leaves mid-body, truncated
# and unknown records), and is stopped with SIGTERM.  The test asserts:
#  - 0 errors in the master and in the child, in both runs;
#  - the child's leaked bytes (definitely + indirectly + possibly lost)
#    are the same after 2N requests as after N.
# Numbers are printed for the record.  In the default build libfcgi's
# blocks live in the arena (src/arena.c), which memcheck does not see as
# heap; configure with --disable-arena to check libfcgi's own heap use.
# There, libfcgi 2.4.2 leaks 2 blocks (48 bytes) per management record
# that is not FCGI_GET_VALUES (upstream issue #42, fixed upstream in 2020,
# not in Debian 12), so such records are left out of the mix unless
# VALGRIND_MGMT=1; the arena build reclaims them and always gets them.
#
#   tests/valgrind.sh             from make check, or with top_builddir set
#   VALGRIND_REQUESTS=200         N (default 150)
. "$top_srcdir/tests/lib.sh"

VALGRIND=${VALGRIND:-$(command -v valgrind || true)}
[ -n "$VALGRIND" ] || skip "valgrind not found (Debian: valgrind)"
RAW="$top_builddir/tests/fcgi-raw"
[ -x "$RAW" ] || fail "$RAW not built"
if grep -q '^SANITIZE_CFLAGS = .*sanitize' "$top_builddir/Makefile" 2>/dev/null; then
	skip "built with sanitizers; valgrind cannot run ASan binaries"
fi
requests=${VALGRIND_REQUESTS:-150}
if grep -q '^#define HAVE_ARENA 1' "$top_builddir/config.h" 2>/dev/null; then
	mgmt=${VALGRIND_MGMT:-1}
else
	mgmt=${VALGRIND_MGMT:-0}
	echo "note: no arena: unknown management records left out (libfcgi leak, issue #42)"
fi
limit=4096
sock="$tmp/upcase.sock"
# Unprivileged children write their own log files in here.
mkdir -m 1777 "$tmp/vg"
# Under valgrind a child is slow: give libfcgi's accept poll room.
LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT=5000
export LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT

# send I: request number I of the mix; most are good.
send() {
	_body="vg-request-$1"
	case $(($1 % 10)) in
	1) printf 'begin 1\nparams 1 CONTENT_LENGTH=abc\nparams-end 1\nstdin 1 x\nstdin-end 1\n' ;;
	2) printf 'begin 1\nparams 1 CONTENT_LENGTH=99\nparams-end 1\nstdin 1 short\nstdin-end 1\n' ;;
	3) printf 'begin 1\nparams 1 CONTENT_LENGTH=\nparams-end 1\nstdin 1 rep:%d:o\nstdin-end 1\n' $((limit + 1)) ;;
	4) printf 'begin 1\nparams 1 CONTENT_LENGTH=9\nparams-end 1\nstdin 1 abo\nabort 1\n' ;;
	5) printf 'begin 1\nparams 1 CONTENT_LENGTH=900\nparams-end 1\nstdin 1 gone\nclose\n' ;;
	6) printf 'begin 1\nrecord 1 4 1 40 0 hex:0e01\nshutdown\n' ;;
	7) if [ "$mgmt" = 1 ]; then
		printf 'record 1 77 0 0 0\n'
	   fi
	   printf 'begin 1\nparams-rep 1 40 HTTP_X_ v\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 %s\nstdin-end 1\n' \
	       "${#_body}" "$_body" ;;
	*) printf 'begin 1\nparams 1 CONTENT_LENGTH=%d REQUEST_METHOD=POST\nparams-end 1\nstdin 1 %s\nstdin-end 1\n' \
	       "${#_body}" "$_body" ;;
	esac | "$RAW" -t 30 -r "$tmp/send.rep" "$sock" >"$tmp/send.out" ||
	    fail "request $1 timed out: $(cat "$tmp/send.rep")"
	case $(($1 % 10)) in
	[0789]) grep -q "^$(echo "$_body" | tr a-z A-Z)\$" "$tmp/send.out" ||
		fail "request $1: wrong answer: $(cat "$tmp/send.out")" ;;
	esac
}

# run N: a worker under valgrind serves N requests and stops; the child's
# log is $tmp/vg/N.child, the master's $tmp/vg/N.master.
run() {
	rm -f "$tmp"/vg/vg.*
	# --vgdb=no: no vgdb-pipe-* files are left in /tmp.
	# shellcheck disable=SC2086
	"$VALGRIND" --tool=memcheck --error-exitcode=99 --trace-children=yes \
	    --vgdb=no \
	    --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=none --num-callers=30 \
	    --log-file="$tmp/vg/vg.%p" \
	    "$WORKER" -f -s "$sock" -c 1 -m 4k $as_user >"$tmp/worker.$1.log" 2>&1 &
	vg_pid=$!
	track_pid "$vg_pid"
	wait_until 60 is_socket "$sock" && wait_until 60 has_children "$vg_pid" ||
	    fail "worker under valgrind did not start: $(cat "$tmp/worker.$1.log")"
	_i=0
	while [ "$_i" -lt "$1" ]; do
		_i=$((_i + 1))
		send "$_i"
	done
	kill -TERM "$vg_pid"
	wait "$vg_pid"
	_status=$?
	[ "$_status" = 0 ] || fail "worker under valgrind exited $_status: $(cat "$tmp/worker.$1.log"; cat "$tmp"/vg/vg.*)"
	mv "$tmp/vg/vg.$vg_pid" "$tmp/vg/$1.master"
	set -- "$1" "$tmp"/vg/vg.*
	# A second child log means the master replaced its child: say why.
	[ $# = 2 ] || fail "expected one child log, got: $*; the master said: $(cat "$tmp/worker.$1.log"); the logs' last lines: $(tail -n 15 "$@")"
	mv "$2" "$tmp/vg/$1.child"
	rm -f "$sock"
}

# lost FILE: bytes definitely + indirectly + possibly lost.
lost() {
	awk '/(definitely|indirectly|possibly) lost:/ { gsub(",", "", $4); n += $4 }
	    END { print n + 0 }' "$1"
}
errors() { sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$1"; }
heap() { sed -n 's/.*total heap usage: //p' "$1"; }

n1=$requests
n2=$((requests * 2))
run "$n1"
run "$n2"
for n in $n1 $n2; do
	for who in master child; do
		e=$(errors "$tmp/vg/$n.$who")
		[ "$e" = 0 ] || fail "$n requests: $e memcheck errors in the $who: $(cat "$tmp/vg/$n.$who")"
	done
	echo "$n requests: child: 0 errors, $(lost "$tmp/vg/$n.child") bytes lost, heap: $(heap "$tmp/vg/$n.child")"
	echo "$n requests: master: 0 errors, $(lost "$tmp/vg/$n.master") bytes lost, heap: $(heap "$tmp/vg/$n.master")"
done
l1=$(lost "$tmp/vg/$n1.child")
l2=$(lost "$tmp/vg/$n2.child")
[ "$l1" = "$l2" ] || {
	cat "$tmp/vg/$n2.child" >&2
	fail "the child's leak grows with requests: $l1 bytes after $n1, $l2 after $n2"
}
pass "memcheck: 0 errors; leaked bytes $l1 after $n1 requests, $l2 after $n2"
