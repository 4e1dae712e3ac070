#!/bin/sh
# The socket of -s is made with its final mode and owner where nobody else
# can reach it, then renamed into place: a user who may write the socket's
# directory and swaps the path for a symlink to a root-owned file while
# the worker starts never gets that file chowned or chmodded (as root: 200
# starts against a swapping loop; the code of 2026-11-27, which bound,
# then chowned and chmodded the path, lost the race after 8 to 101 starts,
# median 19, in 7 runs).  A directory that others than root and the
# server's user may write is refused, unless it is sticky.
. "$top_srcdir/tests/lib.sh"

# is_refused DIR: starting on DIR/s.sock exits 1 naming the directory,
# and leaves no socket.  (A worker that starts instead is stopped after
# 5 s: exit 124.)
is_refused() {
	timeout 5 "$WORKER" -f -c 1 -s "$1/s.sock" $as_user >"$tmp/refused.log" 2>&1
	_st=$?
	[ "$_st" -eq 1 ] && grep -q "socket directory $1: writable by others" "$tmp/refused.log" ||
	    fail "$1: exit $_st: $(cat "$tmp/refused.log")"
	[ ! -e "$1/s.sock" ] || fail "$1: a socket was left behind"
}

mkdir "$tmp/open" "$tmp/sticky"
chmod 0777 "$tmp/open"
chmod 1777 "$tmp/sticky"
is_refused "$tmp/open"
start_worker "$tmp/sticky/s.sock" -c 1
[ "$(stat -c %a "$tmp/sticky/s.sock")" = 660 ] || fail "sticky dir: socket mode $(stat -c %a "$tmp/sticky/s.sock")"
ls -a "$tmp/sticky" | grep -q '^\.upcase-fcgi' && fail "the private directory was left behind"
kill -TERM "$worker_pid"; wait "$worker_pid"
pass "a directory writable by others is refused (exit 1, no socket); a sticky one is used; mode 0660"

[ "$(id -u)" = 0 ] || {
	pass "not root: no owner to change, so no race to run"
	exit 0
}
command -v setpriv >/dev/null 2>&1 || fail "setpriv not found: install util-linux"
[ -x "$top_builddir/tests/swap-symlink" ] || fail "tests/swap-symlink not built (make check builds it)"

# The socket directory belongs to the server's user, who may swap names in
# it; the target is a root-only file it must never get.
dir="$tmp/run"
mkdir "$dir"
chown "$run_user:$run_group" "$dir"
chmod 0755 "$dir"
secret="$tmp/secret"
echo "root only" >"$secret"
chmod 0600 "$secret"
# The swapper (tests/swap-symlink), as that user: whenever a socket
# appears at the path, it atomically replaces it with a symlink to the
# secret -- the window between bind and chown that an older worker had.
setpriv --reuid="$run_user" --regid="$run_group" --clear-groups \
    "$top_builddir/tests/swap-symlink" "$dir/s.sock" "$secret" 60 \
    >"$tmp/swaps" 2>&1 &
swapper=$!
track_pid "$swapper"
started=0
for i in $(seq 200); do
	rm -f "$dir/s.sock"
	"$WORKER" -f -c 1 -s "$dir/s.sock" -M 0666 $as_user >"$tmp/race.log" 2>&1 &
	w=$!
	# Either it starts (a child appears) or it refuses the symlink.
	wait_until 5 sh -c "! kill -0 $w 2>/dev/null || [ -n \"\$(ps -o pid= --ppid $w)\" ]"
	if kill -0 "$w" 2>/dev/null; then
		started=$((started + 1))
		kill -TERM "$w"
	fi
	wait "$w"
	[ "$(stat -c '%U:%G %a' "$secret")" = "root:root 600" ] ||
	    fail "try $i: the secret became $(stat -c '%U:%G %a' "$secret"): the race was won"
done
kill "$swapper"
[ "$started" -gt 0 ] || fail "the worker never started: the race was not run"
pass "200 starts against a swapping loop ($started served): the root-owned file stayed root:root 0600"
