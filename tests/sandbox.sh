#!/bin/sh
# The children's seccomp sandbox (src/sandbox.c).  Every child runs with a
# filter (Seccomp: 2 in /proc/PID/status), the master without.  A
# forbidden system call made from inside a child's request path -- by
# tests/sandbox-probe.so, a wrapper of read() preloaded into the worker,
# when a request body holds its marker -- kills that child with SIGSYS;
# the master logs it as the sandbox's doing and replaces it, and the
# worker keeps serving.  Calls a child needs pass: syslog's unix datagram
# socket, abort()'s signal to itself (the child then dies of SIGABRT, not
# SIGSYS).  A child in syslog mode logs and survives, even where there is
# no /dev/log (glibc's syslog then makes a socket for every line).  In a
# sanitizer build, a sanitizer's report made by a child under the filter
# reaches its log file, symbolized, and the child lives on.  With
# --no-sandbox no child has a filter and the forbidden calls are harmless.
. "$top_srcdir/tests/lib.sh"

PROBE="$top_builddir/tests/sandbox-probe.so"
[ -f "$PROBE" ] && [ -x "$FCGI_RAW" ] ||
    fail "build tests/sandbox-probe.so and tests/fcgi-raw first (make check)"
grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" ||
    skip "built without libseccomp (Debian: libseccomp-dev): no sandbox"
CHILDREN=2
sock="$tmp/upcase.sock"
FORBIDDEN="OPEN EXEC KILL INET"
# Children killed by SIGSYS or SIGABRT leave no core file behind.
ulimit -c 0
# In a sanitizer build ASan wants its runtime first among the libraries;
# the probe, preloaded, comes before it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

# seccomp PID: the Seccomp: field of PID's status (0 none, 2 filter).
seccomp() { sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$1/status"; }

# children_filtered MODE: the worker has its children, each in MODE.
children_filtered() {
	count_children "$worker_pid" "$CHILDREN" || return 1
	for _c in $(children_of "$worker_pid"); do
		[ "$(seccomp "$_c")" = "$1" ] || return 1
	done
}

# probe WHAT: one POST whose body holds the probe's marker for WHAT (see
# tests/sandbox-probe.c); true when the body came back uppercased.
probe() {
	_body="probe-SANDBOX-PROBE-$1"
	_out=$(fcgi_post "$sock" "$_body" 2>/dev/null) &&
	    [ "$_out" = "$(echo "$_body" | tr a-z A-Z)" ]
}

# one_replaced BEFORE: exactly one of the PIDs in BEFORE is gone, and the
# worker has its children again.
one_replaced() {
	count_children "$worker_pid" "$CHILDREN" || return 1
	_gone=0
	for _c in $1; do
		children_of "$worker_pid" | grep -qx "$_c" || _gone=$((_gone + 1))
	done
	[ "$_gone" = 1 ]
}

# gone_child BEFORE: the PID in BEFORE that is no longer a child.
gone_child() {
	for _c in $1; do
		children_of "$worker_pid" | grep -qx "$_c" || echo "$_c"
	done
}

# start WORKER-OPTIONS...: the worker, -f, with the probe preloaded.
start() {
	LD_PRELOAD=$PROBE
	export LD_PRELOAD
	start_worker "$sock" -c "$CHILDREN" "$@"
	unset LD_PRELOAD
	grep -q 'sandbox-probe\.so' "/proc/$worker_pid/maps" ||
	    fail "the worker does not have sandbox-probe.so loaded"
}

# --- with the sandbox (the default) ---
start
wait_until 10 children_filtered 2 ||
    fail "children without a seccomp filter: $(for c in $(children_of "$worker_pid"); do echo "$c: Seccomp $(seccomp "$c")"; done)"
[ "$(seccomp "$worker_pid")" = 0 ] ||
    fail "the master has a seccomp filter (Seccomp: $(seccomp "$worker_pid"))"
pass "every child has the filter (Seccomp: 2), the master none"

probe NONE || fail "a plain request was not answered under the sandbox"
before=$(children_of "$worker_pid")
probe SYSLOG || fail "a unix datagram socket (syslog's) killed the child"
[ "$(children_of "$worker_pid")" = "$before" ] ||
    fail "a child was replaced after an allowed call: $(cat "$tmp/worker.log")"
pass "allowed: a request, and syslog's unix datagram socket"

for what in $FORBIDDEN; do
	before=$(children_of "$worker_pid")
	! probe "$what" || fail "$what: the forbidden call was made and the request answered"
	wait_until 10 one_replaced "$before" ||
	    fail "$what: the child was not replaced: $(cat "$tmp/worker.log")"
	c=$(gone_child "$before")
	wait_until 5 grep -q "child $c killed by the sandbox" "$tmp/worker.log" ||
	    fail "$what: no 'child $c killed by the sandbox' line: $(cat "$tmp/worker.log")"
	grep "child $c killed" "$tmp/worker.log"
	wait_until 10 children_filtered 2 || fail "$what: a new child has no filter"
	probe NONE || fail "$what: not serving after the child was replaced"
done
pass "forbidden, each killed its child with SIGSYS, logged and replaced: $FORBIDDEN"

before=$(children_of "$worker_pid")
! probe ABORT || fail "ABORT: the request was answered"
wait_until 10 one_replaced "$before" || fail "ABORT: the child was not replaced"
c=$(gone_child "$before")
wait_until 5 grep -q "child $c killed by signal 6 " "$tmp/worker.log" ||
    fail "abort() in child $c did not end in SIGABRT: $(cat "$tmp/worker.log")"
grep "child $c killed" "$tmp/worker.log"
probe NONE || fail "not serving after abort()"
pass "abort() signals the child itself (SIGABRT, not SIGSYS)"
stop_worker

# --- a sanitizer build: a report from inside the filter is not lost ---
if grep -q '^SANITIZE_CFLAGS = .*sanitize=address' "$top_builddir/Makefile"; then
	# This worker's reports go here, not to sanitizers.sh's directory:
	# the one made on purpose is checked below.
	mkdir -m 1777 "$tmp/asan"
	saved_asan=$ASAN_OPTIONS
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$tmp/asan/asan"
	start
	ASAN_OPTIONS=$saved_asan
	wait_until 10 children_filtered 2 || fail "sanitizer build: no filter"
	before=$(children_of "$worker_pid")
	probe REPORT || fail "sanitizer build: the request with a report was not answered: $(cat "$tmp/worker.log")"
	[ "$(children_of "$worker_pid")" = "$before" ] ||
	    fail "sanitizer build: the child died making its report: $(cat "$tmp/worker.log")"
	wait_until 10 grep -q 'in worker_request.*worker\.c' "$tmp"/asan/asan.* ||
	    fail "sanitizer build: no symbolized report: $(cat "$tmp"/asan/* 2>/dev/null)"
	stop_worker
	[ "$(grep -l 'sanitizer_print_stack_trace' "$tmp"/asan/asan.* | wc -l)" = 1 ] ||
	    fail "sanitizer build: expected one report: $(head -n 20 "$tmp"/asan/*)"
	for f in "$tmp"/asan/asan.*; do
		grep -q 'sanitizer_print_stack_trace' "$f" ||
		    fail "sanitizer build: an unexpected report: $(head -n 40 "$f")"
	done
	pass "sanitizer build: a child's report under the filter reached its log file, symbolized"
fi

# --- syslog mode: a child logs, with or without a syslog daemon ---
CHILDREN=1
# shellcheck disable=SC2086
"$WORKER" -s "$sock" -c 1 $as_user >"$tmp/syslog.log" 2>&1 &
worker_pid=$!
track_pid "$worker_pid"
wait_until 10 is_socket "$sock" && wait_until 10 children_filtered 2 ||
    fail "syslog mode: no child with the filter: $(cat "$tmp/syslog.log")"
before=$(children_of "$worker_pid")
for i in 1 2 3; do
	printf 'begin 1\nparams 1 CONTENT_LENGTH=abc%d\nparams-end 1\nstdin-end 1\nexpect-end 1\n' "$i" |
	    "$FCGI_RAW" -t 10 "$sock" >"$tmp/syslog.out" 2>&1 ||
	    fail "syslog mode: request $i not answered: $(cat "$tmp/syslog.log")"
	grep -q '400 Bad Request' "$tmp/syslog.out" || fail "syslog mode: no 400"
done
[ "$(children_of "$worker_pid")" = "$before" ] ||
    fail "syslog mode: the child was replaced after logging: $(cat "$tmp/syslog.log")"
pass "syslog mode: a child logged 3 lines under the filter and still serves ($( [ -S /dev/log ] && echo "/dev/log present" || echo "no /dev/log: syslog reconnected each time"))"
kill -TERM "$worker_pid"
wait "$worker_pid" || fail "syslog mode: the worker did not exit 0"

# --- --no-sandbox ---
CHILDREN=2
start --no-sandbox
wait_until 10 children_filtered 0 || fail "--no-sandbox: a child has a filter"
before=$(children_of "$worker_pid")
for what in $FORBIDDEN; do
	probe "$what" || fail "--no-sandbox: $what: the request was not answered: $(cat "$tmp/worker.log")"
done
[ "$(children_of "$worker_pid")" = "$before" ] ||
    fail "--no-sandbox: a child was replaced: $(cat "$tmp/worker.log")"
! grep -q 'killed' "$tmp/worker.log" || fail "--no-sandbox: $(cat "$tmp/worker.log")"
pass "--no-sandbox: no filter (Seccomp: 0), the same calls made and answered"
stop_worker
