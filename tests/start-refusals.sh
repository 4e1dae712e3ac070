#!/bin/sh
# Starts that must be refused, and leave no socket file: as root, a numeric
# -u without a passwd entry and no -g, and the group root (-g 0); an open
# file limit too low for a child (the soft limit is raised when the hard
# one allows).
. "$top_srcdir/tests/lib.sh"
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"

# refused WHY-PATTERN COMMAND...: exits 1 with that reason, no socket left.
refused() {
	_why=$1; shift
	"$@" >"$tmp/refused.log" 2>&1
	_st=$?
	[ "$_st" -eq 1 ] && grep -q "$_why" "$tmp/refused.log" ||
	    fail "$*: exit $_st: $(cat "$tmp/refused.log")"
	[ ! -e "$tmp/s.sock" ] || fail "$*: left a socket file"
}

if [ "$(id -u)" = 0 ]; then
	refused 'no such user in the passwd database' \
	    "$WORKER" -f -s "$tmp/s.sock" -u 54321
	refused 'refusing to serve requests as group root' \
	    "$WORKER" -f -s "$tmp/s.sock" -u "$run_user" -g 0
	refused 'refusing to serve requests as group root' \
	    "$WORKER" -f -s "$tmp/s.sock" -u "$run_user" -g root
	pass "as root: -u without a passwd entry needs -g; group root refused; no socket left"
fi

# shellcheck disable=SC2086
refused 'the open file limit is 6, and a child needs' \
    sh -c "ulimit -n 6; exec '$WORKER' -f -c 1 -s '$tmp/s.sock' $as_user"
# shellcheck disable=SC2086
sh -c "ulimit -S -n 6; exec '$WORKER' -f -c 1 -s '$tmp/s.sock' $as_user" \
    >"$tmp/worker.log" 2>&1 &
worker_pid=$!
track_pid "$worker_pid"
wait_until 10 has_children "$worker_pid" || fail "soft limit 6: did not start: $(cat "$tmp/worker.log")"
grep -q 'raised the open file limit to' "$tmp/worker.log" || fail "soft limit 6: not raised: $(cat "$tmp/worker.log")"
[ "$(fcgi_post "$tmp/s.sock" "six is not enough")" = "SIX IS NOT ENOUGH" ] ||
    fail "soft limit 6: no answer"
pass "fd limit 6: refused at start with the reason; a soft limit 6 is raised and the worker serves"
