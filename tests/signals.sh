#!/bin/sh
# The master/child lifecycle, on the worker's own -s socket and under
# spawn-fcgi: a killed child is replaced; SIGHUP replaces every child, a
# busy one after its answer; SIGTERM and SIGINT stop everything with
# status 0, idle or after the request in flight completes (or past -T, by
# SIGKILL); children follow a SIGKILLed master, a busy one after its
# answer; a live socket or a regular file is never taken over (exit 1), a
# stale socket is; a start refused for its user leaves no socket; no
# socket and usage errors exit 2; --help and --version exit 0.
. "$top_srcdir/tests/lib.sh"
require CGI_FCGI
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"

# gone PID: no such process any more (a zombie nobody reaped yet counts).
gone() {
	case $(ps -o stat= -p "$1") in
	''|Z*)	return 0 ;;
	esac
	return 1
}
all_gone() {
	for _p; do gone "$_p" || return 1; done
}
# stopped_with PID STATUS: PID, a child of this shell, ends within 15 s
# with that exit status.
stopped_with() {
	wait_until 15 gone "$1" || fail "process $1 still running after 15 s"
	wait "$1"
	_st=$?
	[ "$_st" -eq "$2" ] || fail "process $1 exited with $_st, want $2"
}
# serves SOCKET: one request answered correctly.
serves() {
	printf 'still serving' | cgi_fcgi "$1" REQUEST_METHOD=POST \
	    CONTENT_LENGTH=13 >"$tmp/serves.out" || return 1
	tail -n 1 "$tmp/serves.out" | grep -qx 'STILL SERVING'
}
# disjoint "A B ..." "C D ...": no PID in both lists.
disjoint() {
	for _a in $1; do
		for _b in $2; do [ "$_a" != "$_b" ] || return 1; done
	done
}

# slow_start NAME: a request whose 23-byte body comes in two halves, the
# second only once $tmp/NAME.go exists; returns once a child of the master
# has accepted it (that child then holds one more fd).  Sets $slow_pid.
slow_start() {
	_children=$(children_of "$worker_pid")
	# shellcheck disable=SC2086
	_idle=$(open_fds $_children)
	{
		printf 'first half, '
		wait_until 25 test -e "$tmp/$1.go"
		printf 'second half'
	} | fcgi_client "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=23 \
	    >"$tmp/$1.out" 2>"$tmp/$1.err" &
	slow_pid=$!
	# shellcheck disable=SC2086
	wait_until 10 fds_above "$_idle" $_children ||
	    fail "$1: no child accepted the request"
}
# slow_finish NAME: send the second half; the answer must be exact.
slow_finish() {
	gone "$slow_pid" && fail "$1: ended early: $(cat "$tmp/$1.out" "$tmp/$1.err")"
	touch "$tmp/$1.go"
	wait_until 10 gone "$slow_pid" || fail "$1: did not complete"
	wait "$slow_pid" || fail "$1: failed: $(cat "$tmp/$1.err")"
	printf 'Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\n\r\nFIRST HALF, SECOND HALF' |
	    cmp -s - "$tmp/$1.out" || fail "$1: answered: $(cat "$tmp/$1.out")"
}
# old_left "OLD PIDS": how many of these are still the master's children.
old_left() {
	_now=$(children_of "$worker_pid")
	_k=0
	for _a in $1; do
		for _b in $_now; do [ "$_a" != "$_b" ] || _k=$((_k + 1)); done
	done
	echo $_k
}

# The master removes its socket on stop only where it may: give it a
# directory of its own (as root it runs as $run_user).
mkdir "$tmp/run"
[ "$(id -u)" = 0 ] && chown "$run_user:$run_group" "$tmp/run"
sock="$tmp/run/fcgi.sock"

# --- a killed child is replaced -----------------------------------------
start_worker "$sock" -c 2
wait_until 10 count_children "$worker_pid" 2 || fail "no 2 children"
before=$(children_of "$worker_pid")
victim=$(echo "$before" | head -n 1)
kill -KILL "$victim"
victim_replaced() {
	_now=$(children_of "$worker_pid")
	[ "$(echo "$_now" | wc -l)" -eq 2 ] && disjoint "$victim" "$_now"
}
wait_until 10 victim_replaced ||
    fail "killed child $victim not replaced within 10 s: $(children_of "$worker_pid")"
grep -q "child $victim killed by signal 9" "$tmp/worker.log" ||
    fail "the master did not log the death of $victim: $(cat "$tmp/worker.log")"
serves "$sock" || fail "not serving after a child was killed"
pass "SIGKILL of a child: logged, replaced, still serving"

# --- SIGHUP replaces every child -----------------------------------------
before=$(children_of "$worker_pid")
kill -HUP "$worker_pid"
replaced() {
	_now=$(children_of "$worker_pid")
	[ "$(echo "$_now" | wc -l)" -eq 2 ] && disjoint "$before" "$_now"
}
wait_until 10 replaced || fail "SIGHUP: children not all replaced: before $before, now $(children_of "$worker_pid")"
# shellcheck disable=SC2086
all_gone $before || fail "SIGHUP: old children still running"
serves "$sock" || fail "not serving after SIGHUP"
pass "SIGHUP: all children replaced by new PIDs, still serving"

# --- SIGHUP while a request is in flight ----------------------------------
# The idle child is replaced at once, the busy one only after its answer.
before=$(children_of "$worker_pid")
slow_start hup
kill -HUP "$worker_pid"
one_left() {
	count_children "$worker_pid" 2 && [ "$(old_left "$before")" -eq 1 ]
}
wait_until 10 one_left || fail "SIGHUP in flight: idle child not replaced: before $before, now $(children_of "$worker_pid")"
sleep 0.5	# the busy child must not be stopped in the meantime
[ "$(old_left "$before")" -eq 1 ] || fail "SIGHUP in flight: the busy child went away"
slow_finish hup
wait_until 10 replaced || fail "SIGHUP in flight: the busy child was not replaced after its answer"
serves "$sock" || fail "not serving after SIGHUP in flight"
pass "SIGHUP during a request: it completes, then its child is replaced too"

# --- repeated SIGHUPs are not a crash loop -------------------------------
# Children told to go by SIGHUP are replaced at once, however young: seven
# SIGHUPs in a row, each as soon as the last replacement is there, each
# done within 1 s.  (A crash back-off would wait 100 ms, 200 ms, ... 3.2 s.)
lines=$(wc -l <"$tmp/worker.log")
for round in 1 2 3 4 5 6 7; do
	before=$(children_of "$worker_pid")
	kill -HUP "$worker_pid"
	wait_until 1 replaced ||
	    fail "SIGHUP round $round: children not replaced within 1 s"
done
serves "$sock" || fail "not serving after seven SIGHUPs"
tail -n +"$((lines + 1))" "$tmp/worker.log" >"$tmp/hup-burst.log"
! grep -E 'killed by signal|respawning' "$tmp/hup-burst.log" ||
    fail "SIGHUPs were logged as crashes (above)"
pass "seven SIGHUPs in a row: each replacement within 1 s, no crash lines"

# --- SIGTERM while a request is in flight --------------------------------
children=$(children_of "$worker_pid")
slow_start term
kill -TERM "$worker_pid"
wait_until 10 grep -q 'stopping' "$tmp/worker.log" || fail "the master did not start stopping"
sleep 1.2	# the master re-sends SIGTERM each second: let it, once
! gone "$worker_pid" || fail "the master exited with a request in flight"
slow_finish term
stopped_with "$worker_pid" 0
# shellcheck disable=SC2086
all_gone $children || fail "children left after the master exited"
[ ! -e "$sock" ] || fail "the master did not remove its socket"
pass "SIGTERM during a request: it completes, then all exit, status 0, socket removed"

# --- SIGTERM with a request stuck past -T ---------------------------------
start_worker "$sock" -c 1 -T 1
children=$(children_of "$worker_pid")
slow_start stuck
kill -TERM "$worker_pid"
stopped_with "$worker_pid" 0
# shellcheck disable=SC2086
all_gone $children || fail "-T: the stuck child outlived the master"
grep -q 'still busy' "$tmp/worker.log" || fail "-T: no log line about killing: $(cat "$tmp/worker.log")"
wait_until 10 gone "$slow_pid" || fail "-T: the client still waits"
# Let the writer go first: wait also waits for the rest of the pipeline.
touch "$tmp/stuck.go"
wait "$slow_pid"
st=$?
[ $st -eq 3 ] || fail "-T: the client ended with $st, want 3 (no answer)"
pass "SIGTERM with a request stuck past -T 1: child killed, master exits 0"

# --- SIGTERM or SIGINT while idle ----------------------------------------
# SIGINT does the same as SIGTERM (the shell starts background jobs with
# SIGINT ignored: the worker must install its handler anyway).
for sig in TERM INT; do
	start_worker "$sock" -c 3
	wait_until 10 count_children "$worker_pid" 3 || fail "no 3 children"
	children=$(children_of "$worker_pid")
	kill -"$sig" "$worker_pid"
	stopped_with "$worker_pid" 0
	# shellcheck disable=SC2086
	all_gone $children || fail "idle SIG$sig: children left"
	[ ! -e "$sock" ] || fail "idle SIG$sig: socket not removed"
	pass "SIG$sig while idle: master and 3 children gone, status 0, socket removed"
done

# --- SIGKILL of the master: the children follow --------------------------
start_worker "$sock" -c 2
wait_until 10 count_children "$worker_pid" 2 || fail "no 2 children"
children=$(children_of "$worker_pid")
kill -KILL "$worker_pid"
# shellcheck disable=SC2086
wait_until 10 all_gone $children ||
    fail "children $children outlived the SIGKILLed master by 10 s"
wait "$worker_pid" 2>/dev/null	# status 137: killed
pass "SIGKILL of the master: its children exit by themselves"

# A busy orphan is told to stop (SIGTERM), not killed: it answers first.
rm -f "$sock"
start_worker "$sock" -c 1
children=$(children_of "$worker_pid")
slow_start orphan
kill -KILL "$worker_pid"
wait "$worker_pid" 2>/dev/null	# status 137: killed
slow_finish orphan
# shellcheck disable=SC2086
wait_until 10 all_gone $children || fail "the orphaned child did not exit after its answer"
pass "SIGKILL of the master during a request: the child answers, then exits"

# --- the socket it left is stale: replaced; a live one is refused --------
[ -S "$sock" ] || fail "expected the killed master's socket to remain"
start_worker "$sock" -c 1
grep -q 'stale' "$tmp/worker.log" || fail "stale socket: not logged: $(cat "$tmp/worker.log")"
serves "$sock" || fail "not serving on the replaced stale socket"
pass "a stale socket file is replaced"

live_pid=$worker_pid
printf 'precious' >"$tmp/file"
# shellcheck disable=SC2086
"$WORKER" -f -s "$tmp/file" $as_user -c 1 >"$tmp/file.log" 2>&1 &
file_pid=$!
track_pid "$file_pid"
stopped_with "$file_pid" 1
[ "$(cat "$tmp/file")" = precious ] || fail "-s on a regular file: the file was replaced"
grep -q 'not a socket' "$tmp/file.log" || fail "-s on a regular file: message: $(cat "$tmp/file.log")"
pass "-s on a regular file: refused, exit 1, file untouched"
# shellcheck disable=SC2086
"$WORKER" -f -s "$sock" $as_user -c 1 >"$tmp/second.log" 2>&1 &
second=$!
track_pid "$second"
stopped_with "$second" 1
grep -q 'another server is listening' "$tmp/second.log" ||
    fail "second worker on a live socket: message: $(cat "$tmp/second.log")"
[ -S "$sock" ] && serves "$sock" || fail "the live worker lost its socket"
kill -0 "$live_pid" || fail "the live worker died"
pass "-s on a live worker's socket: refused, exit 1, the live one keeps serving"
kill -TERM "$live_pid"
stopped_with "$live_pid" 0

# --- under spawn-fcgi ----------------------------------------------------
if [ -n "${SPAWN_FCGI:-}" ] && [ -x "$SPAWN_FCGI" ]; then
	ssock="$tmp/spawn.sock"
	start_spawn_fcgi "$ssock"
	wait_until 10 count_children "$worker_pid" 2 || fail "spawn-fcgi: no 2 children"
	children=$(children_of "$worker_pid")
	serves "$ssock" || fail "spawn-fcgi: not serving"
	kill -TERM "$worker_pid"
	stopped_with "$worker_pid" 0
	# shellcheck disable=SC2086
	all_gone $children || fail "spawn-fcgi: children left after SIGTERM"
	# The socket is spawn-fcgi's; the worker leaves it, the next start
	# replaces it.
	[ -S "$ssock" ] || fail "spawn-fcgi: the socket was removed on stop"
	start_spawn_fcgi "$ssock"
	serves "$ssock" || fail "spawn-fcgi: restart on the old socket does not serve"
	kill -TERM "$worker_pid"
	stopped_with "$worker_pid" 0
	pass "under spawn-fcgi: SIGTERM exits 0 with the children; restart on the same socket works"
else
	echo "note: spawn-fcgi not found; its part skipped" >&2
	[ "${UPCASE_TESTS_NO_SKIP:-0}" = 1 ] && fail "spawn-fcgi missing under UPCASE_TESTS_NO_SKIP=1"
fi

# --- startup and usage errors --------------------------------------------
# shellcheck disable=SC2086
"$WORKER" -f $as_user </dev/null >"$tmp/nosock.out" 2>&1
st=$?
[ $st -eq 2 ] || fail "no socket: exit $st, want 2"
grep -q 'no listening socket' "$tmp/nosock.out" || fail "no socket: message: $(cat "$tmp/nosock.out")"
pass "neither fd 0 a socket nor -s: exit 2 with a message"

# A start refused for its user leaves no socket file: as root, no -u (or
# -u root); without root, -u naming another user.
if [ "$(id -u)" = 0 ]; then
	set -- "" "-u root"
else
	set -- "-u 0"
fi
for args; do
	# shellcheck disable=SC2086
	"$WORKER" -f -s "$tmp/refused.sock" $args -c 1 </dev/null >"$tmp/refused.out" 2>&1
	st=$?
	[ $st -eq 1 ] || fail "user '$args': exit $st, want 1"
	grep -q 'root' "$tmp/refused.out" || fail "user '$args': message: $(cat "$tmp/refused.out")"
	[ ! -e "$tmp/refused.sock" ] || fail "user '$args': refused, but left a socket file behind"
done
pass "a start refused for its user: exit 1, a message, no socket file"

for args in "-c 0" "-m 5x" "--no-such-option" "-c"; do
	# shellcheck disable=SC2086
	"$WORKER" $args -s "$tmp/never.sock" </dev/null >"$tmp/usage.out" 2>&1
	st=$?
	[ $st -eq 2 ] || fail "'$args': exit $st, want 2"
	[ -s "$tmp/usage.out" ] || fail "'$args': no message"
	[ ! -e "$tmp/never.sock" ] || fail "'$args': bound a socket anyway"
done
pass "usage errors (-c 0, -m 5x, unknown option, missing argument): exit 2"

"$WORKER" --help >"$tmp/help.out" 2>&1 || fail "--help: exit $?"
grep -q '^usage: upcase-fcgi' "$tmp/help.out" || fail "--help: no usage line"
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
[ -n "$version" ] || fail "no PACKAGE_VERSION in config.h"
"$WORKER" --version >"$tmp/version.out" 2>&1 || fail "--version: exit $?"
grep -q "^upcase-fcgi $version" "$tmp/version.out" ||
    fail "--version printed '$(cat "$tmp/version.out")', want upcase-fcgi $version"
pass "--help and --version exit 0; --version prints $version"
