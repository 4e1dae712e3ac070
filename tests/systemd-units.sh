#!/bin/sh
# The systemd units of deploy/systemd, as shipped:
#   1. systemd-analyze verify finds nothing to say about any of them (and
#      does find a broken copy, so its silence means something);
#   2. systemd-analyze security --offline=yes rates upcase-fcgi.service's
#      exposure at 2.0 or less;
#   3. the service's own ExecStart line (only the binary's path and, as
#      root, the user rendered) under systemd-socket-activate at the TCP
#      unit's ListenStream (port rendered) answers;
#   4. the same ExecStart on the socket unit's ListenStream (rendered into
#      $tmp, given the unit's SocketMode) behind a real nginx with the
#      deploy file: a round trip, then 3 restarts of the worker while wrk
#      keeps sending requests, with no failed request.
#
# What 4 proves about restarts.  systemd-socket-activate executes its
# program in its own process and cannot restart it, so a small shell
# (manager.sh below) plays the part of systemd: it is that program, holds
# the listening socket on fd 3 as the .socket unit does, and starts the
# ExecStart again each time the worker exits, handing it fd 3 with
# LISTEN_PID set to the new process, as "systemctl restart" does.  The
# test stops the worker with SIGTERM, as systemd does (KillMode=mixed).
# So this proves the worker's half: it leaves a passed socket open and in
# place when it stops (no unlink, no shutdown), and the next worker
# serves what queued meanwhile.  That the .socket unit keeps the socket
# across a restart is systemd's documented behaviour; deploy/README.md
# says how it was checked under a real systemd.
. "$top_srcdir/tests/lib.sh"
require SYSTEMD_ANALYZE
require SYSTEMD_SOCKET_ACTIVATE
require NGINX
require CURL
require WRK
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss
find_fastcgi_params

units="$top_srcdir/deploy/systemd"
service="$units/upcase-fcgi.service"
socket="$units/upcase-fcgi.socket"
tcp_socket="$units/upcase-fcgi-tcp.socket"
SHIPPED_BINARY=/usr/sbin/upcase-fcgi
MAX_EXPOSURE=2.0

# --- what the test relies on, from the shipped files ----------------------
# setting FILE NAME: the value of the one NAME= line in FILE.
setting() {
	[ "$(grep -c "^$2=" "$1")" -eq 1 ] ||
	    fail "$(basename "$1"): expected exactly one $2= line"
	sed -n "s/^$2=//p" "$1"
}
exec_start=$(setting "$service" ExecStart)
listen_unix=$(setting "$socket" ListenStream)
listen_tcp=$(setting "$tcp_socket" ListenStream)
socket_mode=$(setting "$socket" SocketMode)
# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
{ [ "$(setting "$service" Type)" = simple ] &&
    [ "$(setting "$service" KillMode)" = mixed ] &&
    [ "$(setting "$service" ExecReload)" = '/bin/kill -HUP $MAINPID' ]; } ||
    fail "upcase-fcgi.service: Type=simple, KillMode=mixed and ExecReload=/bin/kill -HUP \$MAINPID expected"
[ "$(setting "$tcp_socket" Service)" = upcase-fcgi.service ] ||
    fail "upcase-fcgi-tcp.socket must start upcase-fcgi.service"
# The same path as deploy/nginx/upcase-fcgi.conf and deploy/spawn-fcgi.
[ "$listen_unix" = /run/upcase-fcgi/upcase-fcgi.sock ] ||
    fail "upcase-fcgi.socket: ListenStream=$listen_unix, not the deploy path"
case $listen_tcp in
127.0.0.1:[0-9]*) ;;
*)	fail "upcase-fcgi-tcp.socket: ListenStream=$listen_tcp, not 127.0.0.1:PORT" ;;
esac
# ExecStart: the binary, -f (stderr, the journal), no -s (the socket comes
# from the unit), nothing systemd would expand or unquote.
case $exec_start in
*[\"\'\\%\$]*)	fail "ExecStart has quotes, escapes or specifiers; the test splits it as words: $exec_start" ;;
"$SHIPPED_BINARY "*) ;;
*)	fail "ExecStart does not start with $SHIPPED_BINARY: $exec_start" ;;
esac
# shellcheck disable=SC2086 # split as systemd does (checked above)
set -- $exec_start
shift
has_f=0
for a; do
	case $a in
	-f|--foreground) has_f=1 ;;
	-s*|--socket*) fail "ExecStart has $a: the socket must come from the socket unit" ;;
	esac
done
[ "$has_f" = 1 ] || fail "ExecStart has no -f: the log would not reach the journal"
# The rendered command: our binary, and as root the user of the other
# tests (systemd's DynamicUser= starts it unprivileged; root needs -u).
# shellcheck disable=SC2086 # $as_user is a list of words
set -- "$WORKER" "$@" $as_user
command="$*"
echo "ExecStart rendered: $command"

# The man page's systemd example shows lines of these files, verbatim.
sed -n '/^The essential lines of$/,/^\.Ed$/p' "$top_srcdir/man/upcase-fcgi.8" |
    grep -E '^[A-Za-z]+=' >"$tmp/man-lines"
[ "$(wc -l <"$tmp/man-lines")" -ge 10 ] ||
    fail "man/upcase-fcgi.8: the systemd example (\"The essential lines of\") not found"
cat "$socket" "$service" >"$tmp/shipped-lines"
while read -r line; do
	grep -qxF "$line" "$tmp/shipped-lines" ||
	    fail "man/upcase-fcgi.8's systemd example has '$line', the units do not"
done <"$tmp/man-lines"
pass "the man page's systemd example: $(wc -l <"$tmp/man-lines") lines, all in the units"

# --- 1. systemd-analyze verify --------------------------------------------
# verify checks that ExecStart's binary exists: copies of the units, with
# only that path rendered, under their own names (Service= names one).
mkdir "$tmp/units" "$tmp/broken"
for u in "$service" "$socket" "$tcp_socket"; do
	sed "s|^ExecStart=$SHIPPED_BINARY |ExecStart=$WORKER |" "$u" \
	    >"$tmp/units/$(basename "$u")"
done
grep -q "^ExecStart=$WORKER " "$tmp/units/upcase-fcgi.service" ||
    fail "ExecStart not rendered for verify"
# analyze_verify OUT UNIT...: verify's status; all its output in OUT.
# --man=no: Documentation= names a page that is not installed here.
analyze_verify() {
	_out=$1; shift
	"$SYSTEMD_ANALYZE" verify --man=no "$@" >"$_out" 2>&1
}
# about_ours OUT: print the lines of OUT that are not shown to be about
# another unit: a line is ignored only when it starts with the name or
# path of a unit (FILE: or UNIT:) that is not one of ours.
about_ours() {
	grep -Ev '^(/[^:]*/)?[-A-Za-z0-9@_.\\]+\.(service|socket|target|slice|mount|automount|path|timer|scope|swap|device):' "$1" |
	    grep -v '^$'
	grep -E '^(/[^:]*/)?[-A-Za-z0-9@_.\\]+\.(service|socket|target|slice|mount|automount|path|timer|scope|swap|device):' "$1" |
	    grep 'upcase-fcgi'
}
analyze_verify "$tmp/verify.out" "$tmp/units/upcase-fcgi.socket" \
    "$tmp/units/upcase-fcgi.service" "$tmp/units/upcase-fcgi-tcp.socket"
st=$?
if about_ours "$tmp/verify.out" >"$tmp/verify.ours"; then
	cat "$tmp/verify.out" >&2
	fail "systemd-analyze verify (status $st) has something to say about our units (above)"
fi
if [ "$st" -ne 0 ] || [ -s "$tmp/verify.out" ]; then
	echo "systemd-analyze verify: status $st, output about other units only (ignored):"
	cat "$tmp/verify.out"
fi
# The control: one wrong line in a copy must be reported, naming the file.
sed 's/^Type=simple$/Type=no-such-type/' "$tmp/units/upcase-fcgi.service" \
    >"$tmp/broken/upcase-fcgi.service"
analyze_verify "$tmp/broken.out" "$tmp/broken/upcase-fcgi.service"
about_ours "$tmp/broken.out" | grep -q 'no-such-type' ||
    fail "systemd-analyze verify did not report a broken copy: $(cat "$tmp/broken.out")"
pass "systemd-analyze verify: nothing about the three units (and a broken copy is reported)"

# --- 2. systemd-analyze security ------------------------------------------
# The shipped file itself: --offline reads only the file.
"$SYSTEMD_ANALYZE" security --offline=yes --no-pager "$service" \
    >"$tmp/security.out" 2>&1 ||
    fail "systemd-analyze security failed: $(cat "$tmp/security.out")"
exposure=$(sed -n 's/.*Overall exposure level for upcase-fcgi\.service: \([0-9.]*\) .*/\1/p' \
    "$tmp/security.out")
[ -n "$exposure" ] || fail "no exposure figure: $(cat "$tmp/security.out")"
grep '^✗' "$tmp/security.out" || :
awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }' ||
    fail "exposure $exposure > $MAX_EXPOSURE: $(cat "$tmp/security.out")"
pass "systemd-analyze security: exposure $exposure (at most $MAX_EXPOSURE)"

# --- 3. the TCP socket unit's address -------------------------------------
port=$(free_port)
addr="${listen_tcp%:*}:$port"
# shellcheck disable=SC2086 # the rendered ExecStart, split as systemd does
"$SYSTEMD_SOCKET_ACTIVATE" -l "$addr" $command >"$tmp/tcp.log" 2>&1 &
tcp_pid=$!
track_pid "$tcp_pid"
wait_until 10 tcp_listening "$port" || fail "launcher did not listen on $addr"
got=$(fcgi_post "$addr" 'tcp unit') ||
    fail "$addr: no answer: $(cat "$tmp/post.rep" "$tmp/tcp.log")"
[ "$got" = 'TCP UNIT' ] || fail "$addr answered '$got'"
kill -TERM "$tcp_pid"
wait "$tcp_pid" || fail "the worker on $addr did not exit 0: $(cat "$tmp/tcp.log")"
pass "ExecStart on the TCP unit's address ($addr, port rendered): answered, exit 0 on SIGTERM"

# --- 4. the unix socket unit behind nginx, restarts under load -------------
sock="$tmp${listen_unix}"
mkdir -p "$(dirname "$sock")"
# manager.sh COMMAND...: started by systemd-socket-activate with the
# socket on fd 3 (LISTEN_FDS=1); runs COMMAND as the service, each time
# with LISTEN_PID its own PID, and again when it exits, until
# $tmp/manager.stop exists or it has started it $MAX_STARTS times.
# Each worker's PID goes to $tmp/worker.pid.
MAX_STARTS=10
cat >"$tmp/manager.sh" <<EOF
n=0
while [ ! -e '$tmp/manager.stop' ] && [ \$n -lt $MAX_STARTS ]; do
	n=\$((n + 1))
	sh -c 'LISTEN_PID=\$\$; export LISTEN_PID; exec "\$@"' sh "\$@" \
	    >>'$tmp/worker.log' 2>&1 &
	echo \$! >'$tmp/worker.pid.new'
	mv '$tmp/worker.pid.new' '$tmp/worker.pid'
	wait \$!
	echo "manager: worker \$! exited with status \$?" >>'$tmp/worker.log'
done
EOF
# shellcheck disable=SC2086 # the rendered ExecStart
"$SYSTEMD_SOCKET_ACTIVATE" -l "$sock" sh "$tmp/manager.sh" $command \
    >"$tmp/manager.log" 2>&1 &
manager_pid=$!
track_pid "$manager_pid"
wait_until 10 is_socket "$sock" || fail "launcher did not bind $sock"
# The socket unit's SocketMode, and its SocketUser/Group rendered to the
# user nginx's workers run as.
{ chown "$run_user:$run_group" "$sock" && chmod "$socket_mode" "$sock"; } ||
    fail "cannot give $sock the socket unit's owner and mode"
inode=$(stat -c %i "$sock")

render_nginx_conf "$tmp/server.conf"
start_nginx_tcp deploy_server_conf "$sock"
BODY='socket activation: the quick brown fox jumps over the lazy dog'
EXPECT=$(printf %s "$BODY" | tr '[:lower:]' '[:upper:]')
got=$("$CURL" -sS --max-time 10 --data-binary "$BODY" "http://127.0.0.1:$http_port/") ||
    fail "no answer through nginx: $(cat "$tmp/nginx/error.log" "$tmp/worker.log")"
[ "$got" = "$EXPECT" ] || fail "through nginx: '$got'"
# (The manager writes the PID just after it starts the worker, which may
# already have answered.)
wait_until 10 test -s "$tmp/worker.pid" ||
    fail "the first connection did not start the worker"
pass "first request through nginx started the worker and was answered"

# current_worker: the worker's PID, once it serves (it has children).
current_worker() {
	_w=$(cat "$tmp/worker.pid" 2>/dev/null) && [ -n "$_w" ] &&
	    has_children "$_w" && echo "$_w"
}
new_worker_serves() {
	_n=$(current_worker) && [ "$_n" != "$1" ]
}

MIN_REQUESTS=100
RESTARTS=3
# What nginx logs when a kept connection closes under a request (the
# deploy file keeps connections, and a stopping worker closes them):
# nginx sends the request again on a new connection; see
# tests/keepalive-load.sh.  A resent request that failed would be a
# failed request in load_check.
LOAD_RETRY_RE='(writev|readv|recv|send)\(\) failed \((32: Broken pipe|104: Connection reset by peer)\) while (sending request to|reading response header from) upstream|upstream prematurely closed connection while reading response header from upstream'
load_script "$BODY"
load_start restarts 8 /
restarted=0
for _ in $(seq "$RESTARTS"); do
	sleep 1
	old=$(current_worker) || fail "no worker serving: $(cat "$tmp/worker.log")"
	track_pid "$old"
	kill -TERM "$old"
	wait_until 15 new_worker_serves "$old" ||
	    fail "no new worker after stopping $old: $(cat "$tmp/worker.log")"
	wait_until 15 gone "$old" || fail "worker $old did not stop"
	loading && restarted=$((restarted + 1))
	track_pid "$(current_worker)"
done
load_check restarts
[ "$restarted" -eq "$RESTARTS" ] ||
    fail "only $restarted of $RESTARTS restarts happened while wrk ran"
[ "$(grep -c 'exited with status 0$' "$tmp/worker.log")" -eq "$RESTARTS" ] ||
    fail "a stopped worker did not exit 0: $(cat "$tmp/worker.log")"
{ [ -S "$sock" ] && [ "$(stat -c %i "$sock")" = "$inode" ]; } ||
    fail "$sock is not the socket file the launcher made"
pass "$RESTARTS restarts on the same socket during the load, no failed request"

touch "$tmp/manager.stop"
kill -TERM "$(current_worker)"
wait "$manager_pid" || fail "manager: $(cat "$tmp/manager.log")"
