#!/bin/sh
# deploy/lighttpd/ as shipped, each file included by a private lighttpd:
# upcase-fcgi-socket.conf with the worker started by
# deploy/spawn-fcgi/upcase-fcgi.sh, and upcase-fcgi-spawn.conf with
# lighttpd starting the worker itself.  For both: ASCII and multilingual
# round trips with the content type, an empty GET, a body of exactly the
# limit served and one byte more refused by lighttpd itself (the worker
# never sees it), an answer 1.5 times the limit, 200 concurrent requests
# each answered with its own body.
# For the spawn file also: one worker as lighttpd's user on fd 0 with
# PHP_FCGI_CHILDREN children, PHP_FCGI_MAX_REQUESTS obeyed, none of
# lighttpd's environment passed on, a new worker after a reload, nothing
# left once lighttpd stops; and, as root, a lighttpd without
# server.username (the worker refuses root) and the -u the file's header
# gives for that case.
. "$top_srcdir/tests/lib.sh"
require LIGHTTPD
require CURL
require SPAWN_FCGI

socket_conf="$top_srcdir/deploy/lighttpd/upcase-fcgi-socket.conf"
spawn_conf="$top_srcdir/deploy/lighttpd/upcase-fcgi-spawn.conf"
spawn_script="$top_srcdir/deploy/spawn-fcgi/upcase-fcgi.sh"
nginx_conf="$top_srcdir/deploy/nginx/upcase-fcgi.conf"

# --- the deploy files agree with each other --------------------------------
# conf_value FILE KEY: the quoted value of '"KEY" => "VALUE",' in FILE.
conf_value() { sed -n "s/^[[:space:]]*\"$2\" => \"\(.*\)\",\$/\1/p" "$1"; }
# max_request_size FILE: its server.max-request-size, in KiB.
max_request_size() { sed -n 's/^server\.max-request-size :\{0,1\}= \([0-9]*\)$/\1/p' "$1"; }
# kib SIZE: a -m SIZE (N, Nk, NM) in KiB.
kib() {
	case $1 in
	*[kK])	echo "${1%?}" ;;
	*M)	echo $(( ${1%M} * 1024 )) ;;
	*)	echo $(( $1 / 1024 )) ;;
	esac
}
script_default() { sed -n "s/^: \"\\\${$1=\(.*\)}\"\$/\1/p" "$spawn_script"; }

sock_path=$(conf_value "$socket_conf" socket)
[ "$sock_path" = "$(script_default UPCASE_FCGI_SOCKET)" ] ||
    fail "socket conf's socket '$sock_path' is not the spawn-fcgi script's"
grep -q "server unix:$sock_path;" "$nginx_conf" ||
    fail "socket conf's socket '$sock_path' is not nginx's upstream server"
[ "$(max_request_size "$socket_conf")" = \
    "$(kib "$(script_default UPCASE_FCGI_MAX_BODY)")" ] ||
    fail "socket conf's max-request-size differs from the spawn-fcgi script's -m"
bin_path=$(conf_value "$spawn_conf" bin-path)
spawn_m=$(printf '%s\n' "$bin_path" | sed -n 's/.* -m \([^ ]*\).*/\1/p')
[ -n "$spawn_m" ] || fail "spawn conf: no -m in bin-path ($bin_path)"
[ "$(max_request_size "$spawn_conf")" = "$(kib "$spawn_m")" ] ||
    fail "spawn conf's max-request-size differs from bin-path's -m ($bin_path)"
case " $bin_path " in
*" -s "*|*" -f "*) fail "spawn conf's bin-path has -s or -f: $bin_path" ;;
esac
grep -q '^[[:space:]]*"max-procs" => 1,$' "$spawn_conf" ||
    fail "spawn conf: no max-procs 1"
for f in "$socket_conf" "$spawn_conf"; do
	grep -q '^[[:space:]]*"check-local" => "disable",$' "$f" ||
	    fail "$f: no check-local disable"
done
children=$(conf_value "$spawn_conf" PHP_FCGI_CHILDREN)
[ -n "$children" ] || fail "spawn conf: no PHP_FCGI_CHILDREN"
pass "deploy files agree: socket $sock_path, max-request-size = -m, max-procs 1"

# The man page's lighttpd example shows the spawn file's settings.
man_page="$top_srcdir/man/upcase-fcgi.8"
for key in bin-path socket max-procs bin-copy-environment check-local; do
	line=$(sed -n "s/^[[:space:]]*\(\"$key\" => .*\)\$/\1/p" "$spawn_conf")
	[ -n "$line" ] || fail "spawn conf: no $key"
	grep -qF -- "$line" "$man_page" ||
	    fail "man page's lighttpd example lacks the spawn file's: $line"
done
grep -qxF 'server.max-request-size := 1024' "$man_page" ||
    fail "man page's lighttpd example lacks server.max-request-size := 1024"
pass "the man page's lighttpd example matches upcase-fcgi-spawn.conf"

# Both files claim "/": lighttpd must refuse them together, as they say.
printf 'server.document-root = "%s"\ninclude "%s"\ninclude "%s"\n' \
    "$tmp" "$socket_conf" "$spawn_conf" >"$tmp/both.conf"
! "$LIGHTTPD" -tt -f "$tmp/both.conf" >"$tmp/both.log" 2>&1 ||
    fail "lighttpd accepted both deploy files at once"
grep -q "Duplicate array-key '/'" "$tmp/both.log" ||
    fail "both files: not refused for the duplicate \"/\": $(cat "$tmp/both.log")"
pass "lighttpd refuses both files at once (duplicate \"/\")"

# --- a private lighttpd ------------------------------------------------------
# render FILE OUT OLD NEW [OLD NEW...]: OUT is FILE with the text OLD
# replaced by NEW; each OLD must be in FILE exactly once, so that a change
# of the deploy file cannot silently make this test run something else.
render() {
	_src=$1; _out=$2; shift 2
	cp "$_src" "$_out"
	while [ $# -ge 2 ]; do
		[ "$(grep -cF -- "$1" "$_out")" = 1 ] ||
		    fail "$(basename "$_src"): not exactly one line with: $1"
		awk -v old="$1" -v new="$2" '{
			i = index($0, old)
			if (i) $0 = substr($0, 1, i - 1) new substr($0, i + length(old))
			print }' "$_out" >"$_out.new" && mv "$_out.new" "$_out"
		shift 2
	done
}

# launch_lighttpd NAME SNIPPET [root]: lighttpd in the foreground, state in
# $tmp/NAME, HTTP on the unix socket $tmp/NAME/http.sock, including
# SNIPPET.  As root it drops to $run_user, unless "root" is given.  The
# environment carries a broken FCGI_WEB_SERVER_ADDRS, which the worker
# refuses to start with: it must not reach a worker lighttpd starts.  Sets
# lt_dir, lt_pid.
launch_lighttpd() {
	lt_dir="$tmp/$1"
	lt_port=$(free_port)
	mkdir -p "$lt_dir/docroot" "$lt_dir/uploads" "$lt_dir/run"
	{
		printf 'server.document-root = "%s"\n' "$lt_dir/docroot"
		printf 'server.bind = "%s"\n' "$lt_dir/http.sock"
		printf 'server.errorlog = "%s"\n' "$lt_dir/error.log"
		printf 'server.pid-file = "%s"\n' "$lt_dir/lighttpd.pid"
		printf 'server.upload-dirs = ( "%s" )\n' "$lt_dir/uploads"
		if [ "$(id -u)" = 0 ] && [ "${3:-}" != root ]; then
			printf 'server.username = "%s"\n' "$run_user"
			printf 'server.groupname = "%s"\n' "$run_group"
		fi
		# And TCP on loopback, where the status page's restriction
		# to 127.0.0.1 can be seen (check_status).
		printf '$SERVER["socket"] == "127.0.0.1:%s" { }\n' "$lt_port"
		printf 'include "%s"\n' "$2"
	} >"$lt_dir/lighttpd.conf"
	# lighttpd opens its error log and binds the worker's socket after
	# dropping root.
	[ "$(id -u)" = 0 ] && chown -R "$run_user:$run_group" "$lt_dir"
	FCGI_WEB_SERVER_ADDRS=not-an-address \
	    "$LIGHTTPD" -D -f "$lt_dir/lighttpd.conf" >"$lt_dir/stderr.log" 2>&1 &
	lt_pid=$!
	track_pid "$lt_pid"
}
# start_lighttpd NAME SNIPPET [root]: launch_lighttpd, then wait until it
# answers HTTP.
start_lighttpd() {
	launch_lighttpd "$@"
	wait_until 10 lighttpd_up || {
		cat "$lt_dir/stderr.log" "$lt_dir/error.log" >&2
		fail "$1: lighttpd did not start"; }
}
lighttpd_up() {
	kill -0 "$lt_pid" && is_socket "$lt_dir/http.sock" &&
	    "$CURL" -s -o /dev/null --max-time 5 --unix-socket "$lt_dir/http.sock" \
	    http://localhost/
}

# stop_lighttpd: SIGTERM; lighttpd must exit 0 within 15 s.
stop_lighttpd() {
	kill -TERM "$lt_pid"
	wait_until 15 gone "$lt_pid" || fail "lighttpd did not stop"
	wait "$lt_pid" || fail "lighttpd exited with $?"
}

# req NAME [CURL-ARGS...]: a request; body to $tmp/NAME.out, headers (CR
# removed) to $tmp/NAME.head.
req() {
	_n=$1; shift
	"$CURL" -sS --max-time 20 --unix-socket "$lt_dir/http.sock" -H 'Expect:' \
	    -o "$tmp/$_n.out" -D "$tmp/$_n.raw" "$@" http://localhost/some/path ||
	    fail "$_n: curl failed"
	tr -d '\r' <"$tmp/$_n.raw" >"$tmp/$_n.head"
}
status_is() {
	head -n 1 "$tmp/$1.head" | grep -q "^HTTP/1.1 $2 " ||
	    fail "$1: status $(head -n 1 "$tmp/$1.head"), want $2"
}
header_is() {
	grep -qix "$2" "$tmp/$1.head" ||
	    fail "$1: no header '$2' in: $(cat "$tmp/$1.head")"
}
upcased() { LC_ALL=C tr '[:lower:]' '[:upper:]' <"$1"; }

# check_serving NAME LIMIT-BYTES: what both setups must do.
check_serving() {
	printf 'hello, lighttpd' >"$tmp/ascii.in"
	req ascii --data-binary "@$tmp/ascii.in"
	status_is ascii 200
	header_is ascii 'Content-Type: text/plain; charset=utf-8'
	header_is ascii 'Content-Length: 15'
	[ "$(cat "$tmp/ascii.out")" = 'HELLO, LIGHTTPD' ] ||
	    fail "$1: ascii: got $(cat "$tmp/ascii.out")"

	printf '%s' 'héllo wörld ß straße ǆ' >"$tmp/utf8.in"
	printf '%s' 'HÉLLO WÖRLD ß STRAßE Ǆ' >"$tmp/utf8.want"
	req utf8 --data-binary "@$tmp/utf8.in"
	status_is utf8 200
	header_is utf8 'Content-Type: text/plain; charset=utf-8'
	cmp -s "$tmp/utf8.out" "$tmp/utf8.want" ||
	    fail "$1: multilingual: got $(cat "$tmp/utf8.out")"
	pass "$1: ASCII and multilingual bodies uppercased, text/plain; charset=utf-8"

	req get
	status_is get 200
	header_is get 'Content-Type: text/plain; charset=utf-8'
	[ ! -s "$tmp/get.out" ] || fail "$1: empty GET: body not empty"
	pass "$1: empty GET: 200, empty body"

	# Exactly the limit passes both lighttpd and the worker; one byte more
	# gets lighttpd's own 413 (its HTML page, not the worker's text/plain
	# one), logged by lighttpd, declared or chunked.
	head -c "$2" /dev/zero | tr '\0' 'x' >"$tmp/limit.in"
	req limit --data-binary "@$tmp/limit.in"
	status_is limit 200
	upcased "$tmp/limit.in" | cmp -s - "$tmp/limit.out" ||
	    fail "$1: a body of exactly $2 bytes did not come back uppercased"
	printf 'x' >>"$tmp/limit.in"
	req over --data-binary "@$tmp/limit.in"
	status_is over 413
	header_is over 'Content-Type: text/html'
	grep -q '413 Payload Too Large' "$tmp/over.out" ||
	    fail "$1: 413 body: $(cat "$tmp/over.out")"
	req chunked -H 'Transfer-Encoding: chunked' --data-binary "@$tmp/limit.in"
	status_is chunked 413
	header_is chunked 'Content-Type: text/html'
	[ "$(grep -c "request-size too long: $(( $2 + 1 ))" "$lt_dir/error.log")" -ge 2 ] ||
	    fail "$1: lighttpd did not log both 413s: $(cat "$lt_dir/error.log")"
	pass "$1: $2 bytes served; $(( $2 + 1 )) (declared, chunked): lighttpd's own 413"

	# The answer may be longer than the limit: the limit's worth of
	# U+0250 (2 bytes) comes back as U+2C6F (3 bytes), 1.5 times as long.
	head -c "$(( $2 / 2 ))" /dev/zero | tr '\0' 'a' >"$tmp/grow.a"
	sed 's/a/ɐ/g' "$tmp/grow.a" >"$tmp/grow.in"
	sed 's/a/Ɐ/g' "$tmp/grow.a" >"$tmp/grow.want"
	req grow --data-binary "@$tmp/grow.in"
	status_is grow 200
	header_is grow "Content-Length: $(( $2 * 3 / 2 ))"
	cmp -s "$tmp/grow.out" "$tmp/grow.want" ||
	    fail "$1: $2 bytes of U+0250 did not come back as U+2C6F"
	pass "$1: $2 bytes of U+0250 answered with $(( $2 * 3 / 2 )) bytes of U+2C6F"

	# 200 concurrent requests, each with its own body.
	rm -rf "$tmp/c"; mkdir "$tmp/c"
	i=0
	while [ $i -lt 200 ]; do
		printf 'request %d of 200 to %s: abcdefghijklmnopqrstuvwxyz ü\n' \
		    $i "$1" >"$tmp/c/$i.in"
		i=$((i + 1))
	done
	post_concurrently "$tmp/c" 200 --unix-socket "$lt_dir/http.sock" \
	    http://localhost/
	i=0
	while [ $i -lt 200 ]; do
		sed 's/ü/Ü/' "$tmp/c/$i.in" | upcased /dev/stdin |
		    cmp -s - "$tmp/c/$i.out" ||
		    fail "$1: concurrent request $i got: $(head -c 80 "$tmp/c/$i.out")"
		i=$((i + 1))
	done
	pass "$1: 200 concurrent requests each got its own body uppercased"
}

# check_status NAME: the worker's status page (--status-path /status, as
# the spawn-fcgi script and the spawn file start it) answers a client on
# 127.0.0.1 in OpenMetrics; a client on 127.0.0.2 gets lighttpd's 403 and
# the worker never sees it.
check_status() {
	_url="http://127.0.0.1:$lt_port/status?openmetrics"
	"$CURL" -sS --max-time 10 -o "$tmp/status.out" -w '%{http_code} %{content_type}' \
	    "$_url" >"$tmp/status.code" || fail "$1: status page: curl failed"
	[ "$(cat "$tmp/status.code")" = "200 application/openmetrics-text; version=1.0.0; charset=utf-8" ] &&
	    tail -n 1 "$tmp/status.out" | grep -qx '# EOF' &&
	    grep -q '^upcase_fcgi_requests_total{outcome="ok"} [1-9]' "$tmp/status.out" ||
	    fail "$1: status page from 127.0.0.1: $(cat "$tmp/status.code") $(head -c 200 "$tmp/status.out")"
	_served=$(sed -n 's/^upcase_fcgi_requests_total{outcome="status"} //p' "$tmp/status.out")
	[ "$("$CURL" -sS --max-time 10 --interface 127.0.0.2 -o /dev/null \
	    -w '%{http_code}' "$_url")" = 403 ] ||
	    fail "$1: status page from 127.0.0.2 not refused"
	"$CURL" -sS --max-time 10 -o "$tmp/status.out" "$_url" ||
	    fail "$1: status page: curl failed"
	[ "$(sed -n 's/^upcase_fcgi_requests_total{outcome="status"} //p' "$tmp/status.out")" = \
	    $((_served + 1)) ] || fail "$1: the refused status request reached the worker"
	pass "$1: status page for 127.0.0.1 (OpenMetrics), lighttpd's 403 for 127.0.0.2"
}

# --- 1. upcase-fcgi-socket.conf: the worker started by spawn-fcgi ----------
sock="$tmp/fcgi.sock"
render "$socket_conf" "$tmp/socket.conf" \
    "\"socket\" => \"$sock_path\"," "\"socket\" => \"$sock\"," \
    'server.max-request-size := 1024' 'server.max-request-size := 64'
UPCASE_FCGI_CHILDREN=2 UPCASE_FCGI_MAX_BODY=64k start_spawn_fcgi "$sock"
start_lighttpd socket "$tmp/socket.conf"
check_serving socket 65536
check_status socket
! grep -q 'over the limit' "$tmp/worker.log" ||
    fail "socket: the worker saw the body over the limit: $(cat "$tmp/worker.log")"
pass "socket: the worker never saw the bodies over the limit"
# lighttpd only connects to this worker: its stop leaves the worker alone.
stop_lighttpd
alive "$worker_pid" || fail "socket: lighttpd's stop took the worker with it"
count_children "$worker_pid" 2 || fail "socket: the worker lost children"
stop_worker
pass "socket: lighttpd's stop leaves the worker serving; the worker exits 0 on SIGTERM"

# --- 2. upcase-fcgi-spawn.conf: lighttpd starts the worker ----------------
# PHP_FCGI_MAX_REQUESTS 0 (never) would show nothing; at 25, the children
# (PHP_FCGI_CHILDREN of them) can serve 25 each, fewer than the requests
# below, so every one of them must have been replaced by the end.
render_spawn() {
	render "$spawn_conf" "$tmp/$1.conf" \
	    "\"bin-path\" => \"$bin_path\"," "\"bin-path\" => \"$WORKER -m 64k --status-path /status$2\"," \
	    '"socket" => "/run/lighttpd/upcase-fcgi.socket",' \
	    "\"socket\" => \"$tmp/$1/run/upcase-fcgi.socket\"," \
	    'server.max-request-size := 1024' 'server.max-request-size := 64' \
	    '"PHP_FCGI_MAX_REQUESTS" => "0",' '"PHP_FCGI_MAX_REQUESTS" => "25",'
}
[ $((children * 25)) -lt 200 ] ||
    fail "PHP_FCGI_CHILDREN $children: too many for the recycling check"
# master_of_lighttpd: the one child of lighttpd, the worker's master.
master_of_lighttpd() {
	_kids=$(children_of "$lt_pid")
	[ "$(printf '%s\n' "$_kids" | grep -c .)" = 1 ] && is_worker "$_kids" &&
	    master=$_kids
}
# run_as USER PID...: every PID runs as USER.
run_as() {
	_u=$1; shift
	for _p; do
		[ "$(ps -o user= -p "$_p")" = "$_u" ] ||
		    fail "process $_p runs as $(ps -o user= -p "$_p"), want $_u"
	done
}

render_spawn spawn ""
start_lighttpd spawn "$tmp/spawn.conf"
wait_until 10 master_of_lighttpd ||
    fail "spawn: lighttpd has not exactly one worker child: $(ps -o pid=,args= --ppid "$lt_pid")"
track_pid "$master"
wait_until 10 count_children "$master" "$children" ||
    fail "spawn: the worker has $(children_of "$master" | wc -l) children, want PHP_FCGI_CHILDREN=$children"
first_children=$(children_of "$master" | tr '\n' ' ')
# shellcheck disable=SC2086 # a list of PIDs
run_as "$run_user" "$master" $first_children
case $(readlink "/proc/$master/fd/0") in
socket:*) ;;
*) fail "spawn: the worker's fd 0 is $(readlink "/proc/$master/fd/0"), not a socket" ;;
esac
is_socket "$tmp/spawn/run/upcase-fcgi.socket-0" ||
    fail "spawn: no socket $tmp/spawn/run/upcase-fcgi.socket-0"
tr '\0' '\n' <"/proc/$master/environ" >"$tmp/environ"
! grep -q '^FCGI_WEB_SERVER_ADDRS=' "$tmp/environ" ||
    fail "spawn: lighttpd's FCGI_WEB_SERVER_ADDRS reached the worker"
grep -qx "PHP_FCGI_CHILDREN=$children" "$tmp/environ" ||
    fail "spawn: no PHP_FCGI_CHILDREN=$children in the worker's environment"
pass "spawn: one worker on fd 0 as $run_user, $children children, none of lighttpd's environment"

check_serving spawn 65536
check_status spawn
wait_until 10 count_children "$master" "$children" ||
    fail "spawn: $(children_of "$master" | wc -l) children after the load, want $children"
disjoint "$first_children" "$(children_of "$master" | tr '\n' ' ')" ||
    fail "spawn: children not replaced after 25 requests (PHP_FCGI_MAX_REQUESTS)"
pass "spawn: every first child replaced after its 25 requests (PHP_FCGI_MAX_REQUESTS)"

# Debian's reload, lighttpd's graceful restart (SIGUSR1): lighttpd stops
# the worker it started and starts a new one, with its own children.
old_master=$master
old_children=$(children_of "$master" | tr '\n' ' ')
new_master() { master_of_lighttpd && [ "$master" != "$old_master" ]; }
kill -USR1 "$lt_pid"
wait_until 15 new_master || fail "reload: lighttpd did not start a new worker"
track_pid "$master"
# shellcheck disable=SC2086 # a list of PIDs
wait_until 15 all_gone "$old_master" $old_children ||
    fail "reload: the old worker is still there"
wait_until 10 count_children "$master" "$children" ||
    fail "reload: the new worker has $(children_of "$master" | wc -l) children"
req reload --data-binary "@$tmp/ascii.in"
status_is reload 200
[ "$(cat "$tmp/reload.out")" = 'HELLO, LIGHTTPD' ] || fail "reload: got $(cat "$tmp/reload.out")"
pass "reload (SIGUSR1): the old worker gone, a new one with $children children serves"

# lighttpd's stop: it sends the worker SIGTERM and does not wait for it;
# the worker and its children must be gone soon after all the same.
all_children=$(children_of "$master" | tr '\n' ' ')
stop_lighttpd
# shellcheck disable=SC2086 # a list of PIDs
wait_until 15 all_gone "$master" $all_children ||
    fail "spawn: worker processes left after lighttpd stopped: $(ps -o pid=,args= -p "$master" 2>&1) $(children_of "$master")"
[ ! -e "$tmp/spawn/run/upcase-fcgi.socket-0" ] ||
    fail "spawn: lighttpd left its socket file behind"
pass "spawn: lighttpd's stop leaves no worker process and no socket file"

# --- 3. as root: lighttpd that keeps root ------------------------------------
[ "$(id -u)" = 0 ] || exit 0
# The file as shipped: the worker refuses root.  lighttpd waits 1 ms for a
# backend it starts to fail: if it saw the exit, it stops at once;
# otherwise it runs on, starts the worker again every second, and answers
# 503.  Either way nothing is served as root.
refused() {
	[ "$(grep -c 'refusing to serve requests as root' "$lt_dir/stderr.log")" -ge "$1" ]
}
refused_or_gone() { refused 2 || gone "$lt_pid"; }
render_spawn rootspawn ""
launch_lighttpd rootspawn "$tmp/rootspawn.conf" root
wait_until 10 refused_or_gone ||
    fail "root: the worker was not refused twice: $(cat "$lt_dir/stderr.log")"
if alive "$lt_pid"; then
	wait_until 10 lighttpd_up ||
	    fail "root: lighttpd runs but does not answer: $(cat "$lt_dir/error.log")"
	req root503 --data-binary "@$tmp/ascii.in"
	status_is root503 503
	stop_lighttpd
	pass "root, no server.username: the worker refuses root (again each second), lighttpd answers 503"
else
	refused 1 || fail "root: lighttpd did not start: $(cat "$lt_dir/stderr.log")"
	cat "$lt_dir/stderr.log" "$lt_dir/error.log" 2>/dev/null |
	    grep -q 'gw-backend failed to start' ||
	    fail "root: lighttpd stopped, but not for the worker: $(cat "$lt_dir/stderr.log")"
	pass "root, no server.username: the worker refuses root, lighttpd does not start"
fi

# With the -u the file's header gives for this case.
render_spawn rootu " -u $run_user -g $run_group"
start_lighttpd rootu "$tmp/rootu.conf" root
wait_until 10 master_of_lighttpd || fail "root -u: no worker under lighttpd"
track_pid "$master"
wait_until 10 count_children "$master" "$children" || fail "root -u: no children"
# shellcheck disable=SC2046 # a list of PIDs
run_as "$run_user" "$master" $(children_of "$master")
req rootu --data-binary "@$tmp/ascii.in"
status_is rootu 200
[ "$(cat "$tmp/rootu.out")" = 'HELLO, LIGHTTPD' ] || fail "root -u: got $(cat "$tmp/rootu.out")"
stop_lighttpd
wait_until 15 gone "$master" || fail "root -u: the worker outlived lighttpd"
pass "root, no server.username, bin-path with -u $run_user: serves as $run_user"
