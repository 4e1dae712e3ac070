# Shared helpers for the shell tests; source it first:  . "$top_srcdir/tests/lib.sh"
#
# Each test gets a private temp dir ($tmp), starts real programs, records
# their PIDs with track_pid, and on exit stops exactly those PIDs.  Every
# wait is bounded.  A missing tool makes the test skip (exit 77), except
# under UPCASE_TESTS_NO_SKIP=1 (CI), where a skip is a failure (exit 99).

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
WORKER="$top_builddir/src/upcase-fcgi"
test_name=$(basename "$0" .sh)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/upcase-$test_name.XXXXXX") || exit 99
# Unprivileged workers and nginx workers must reach sockets in here.
chmod 755 "$tmp"
tracked_pids=

track_pid() { tracked_pids="$tracked_pids $1"; }

cleanup() {
	for pid in $tracked_pids; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $tracked_pids; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 99' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

skip() {
	if [ "${UPCASE_TESTS_NO_SKIP:-0}" = 1 ]; then
		echo "ERROR: would skip, but skips are not allowed here: $*" >&2
		exit 99
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# require VAR-NAME: the tool that configure found in $VAR must exist.
require() {
	eval "_tool=\${$1:-}"
	[ -n "$_tool" ] && [ -x "$_tool" ] || skip "$1 not found (install it and rerun configure)"
}

# need_cmd COMMAND PACKAGE: fail, naming both, when COMMAND is not in PATH.
# Call it before the first use: inside wait_until a missing command only
# looks like a process or socket that never came.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || fail "$1 not found (Debian: $2)"
}
# The process helpers below (has_children, children_of, is_worker, and so
# start_worker, start_spawn_fcgi ...) look at processes with ps.
need_cmd ps procps

# wait_until SECONDS COMMAND...: poll COMMAND every 0.05 s for SECONDS.
wait_until() {
	_limit=$(( $1 * 20 )); shift
	for _ in $(seq "$_limit"); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

is_socket() { [ -S "$1" ]; }

# As root, programs under test drop to this user (and nginx workers too).
if [ "$(id -u)" = 0 ]; then
	run_user=nobody
	run_group=$(id -gn nobody 2>/dev/null || echo nogroup)
	as_user="-u $run_user -g $run_group"
else
	run_user=$(id -un)
	run_group=$(id -gn)
	as_user=
fi

# start_worker SOCKET [OPTIONS...]: run the worker in the foreground on its
# own unix socket; log in $tmp/worker.log; sets $worker_pid.
start_worker() {
	_sock=$1; shift
	# shellcheck disable=SC2086
	"$WORKER" -f -s "$_sock" $as_user "$@" >"$tmp/worker.log" 2>&1 &
	worker_pid=$!
	track_pid "$worker_pid"
	# A stale socket file may already be there: also wait for the first
	# child, which the master forks only once it listens.
	wait_until 10 is_socket "$_sock" &&
	    wait_until 10 has_children "$worker_pid" || {
		cat "$tmp/worker.log" >&2; fail "worker did not bind $_sock"; }
}

# has_children PID: PID has at least one child process.
has_children() { [ -n "$(ps -o pid= --ppid "$1")" ]; }

# children_of PID: the PIDs of PID's children, one per line.
children_of() { ps -o pid= --ppid "$1" | tr -d ' '; }

# render_nginx_conf SERVER-SNIPPET: write $tmp/nginx.conf that includes the
# given server block file, with nginx's state kept under $tmp.
render_nginx_conf() {
	mkdir -p "$tmp/nginx"
	chmod 777 "$tmp/nginx"
	cat >"$tmp/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log info;
$( [ "$(id -u)" = 0 ] && echo "user $run_user $run_group;" )
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	proxy_temp_path $tmp/nginx/proxy;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	include $1;
}
NGINX
}

# start_nginx: run nginx with $tmp/nginx.conf; wait until it listens.
start_nginx() {
	# nginx reads inherited listening sockets from $NGINX (binary
	# upgrade), so the configure variable of that name must not reach it.
	_nginx=$NGINX
	(unset NGINX; exec "$_nginx" -p "$tmp/nginx" -c "$tmp/nginx.conf" \
		-e "$tmp/nginx/error.log") >"$tmp/nginx/stdout.log" 2>&1 &
	nginx_pid=$!
	track_pid "$nginx_pid"
	wait_until 10 nginx_listening || {
		cat "$tmp/nginx/error.log" >&2; fail "nginx did not start"; }
}

nginx_listening() {
	case $HTTP_LISTEN in
	unix:*)	is_socket "$HTTP_SOCKET" ;;
	*)	kill -0 "$nginx_pid" && "$CURL" -s -o /dev/null "http://$HTTP_LISTEN/" ;;
	esac
}

# find_fastcgi_params: set $params to nginx's stock fastcgi_params, next to
# nginx's configuration file (its --conf-path), or to $FASTCGI_PARAMS when
# that is set; skip the test when the file cannot be read.
find_fastcgi_params() {
	params=${FASTCGI_PARAMS:-}
	if [ -z "$params" ]; then
		_conf=$("$NGINX" -V 2>&1 | tr ' ' '\n' | sed -n 's/^--conf-path=//p')
		params="$(dirname "${_conf:-/nonexistent/nginx.conf}")/fastcgi_params"
	fi
	[ -r "$params" ] ||
	    skip "nginx's fastcgi_params not found (tried $params; set FASTCGI_PARAMS)"
}

# deploy_server_conf FCGI-SOCKET: the real deploy/nginx file, with its
# listen address (HTTP_LISTEN, default a unix socket in $tmp) and its
# socket path pointed into $tmp.
HTTP_SOCKET="$tmp/http.sock"
: "${HTTP_LISTEN:=unix:$HTTP_SOCKET}"
deploy_server_conf() {
	sed -e "s|listen 127.0.0.1:8080;|listen $HTTP_LISTEN;|" \
	    -e "s|unix:/run/upcase-fcgi/upcase-fcgi.sock|unix:$1|" \
	    "$top_srcdir/deploy/nginx/upcase-fcgi.conf" >"$tmp/server.conf"
	grep -q "listen $HTTP_LISTEN;" "$tmp/server.conf" &&
	    grep -q "server unix:$1;" "$tmp/server.conf" ||
	    fail "deploy/nginx/upcase-fcgi.conf no longer has the expected listen/upstream server lines"
}

# http [CURL-ARGS...]: a request to the test nginx; body to stdout.
http() { "$CURL" -sS --max-time 20 --unix-socket "$HTTP_SOCKET" "$@"; }

# cgi_fcgi SOCKET [NAME=VALUE...] <BODY: one request through cgi-fcgi; the
# response (CGI headers and body) to stdout.  cgi-fcgi sends its whole
# environment as the params, hence env -i; and it sends only as many bytes
# of stdin as its CONTENT_LENGTH says (none when that is empty or unset).
cgi_fcgi() {
	_sock=$1; shift
	timeout 20 env -i "$@" "$CGI_FCGI" -bind -connect "$_sock"
}

# fcgi_script FILE [NAME=VALUE...]: write FILE, a tests/fcgi-raw script
# for one request with these params (NAME without blanks; any VALUE, sent
# as \xHH escapes) and stdin, streamed as it arrives, as the body.
FCGI_RAW="$top_builddir/tests/fcgi-raw"
fcgi_script() {
	_fs_file=$1; shift
	_fs_params=
	for _fs_pair; do
		case $_fs_pair in
		*=*)	;;
		*)	echo "fcgi_script: not NAME=VALUE: $_fs_pair" >&2
			return 2 ;;
		esac
		_fs_params="$_fs_params ${_fs_pair%%=*}=$(printf %s "${_fs_pair#*=}" |
		    od -An -v -tx1 | tr -d ' \n' | sed 's/../\\x&/g')"
	done
	printf 'begin 1\nparams 1%s\nparams-end 1\nstdin-stream 1\nexpect-end 1\n' \
	    "$_fs_params" >"$_fs_file"
}

# fcgi_client SOCKET [NAME=VALUE...] <BODY: the same as cgi_fcgi through
# tests/fcgi-raw, which sends all of stdin as it arrives, whatever
# CONTENT_LENGTH says; its report (end, eof, ...) goes to stderr.  Exit 0:
# complete response; 3: closed without one; 4: no end within 20 s.
fcgi_client() {
	_fc_sock=$1; shift
	_fc_script=$(mktemp "$tmp/fcgi-client.XXXXXX") || return 1
	fcgi_script "$_fc_script" "$@" || return
	# The outer timeout only guards a connect that blocks (full backlog).
	timeout 25 "$FCGI_RAW" -t 20 "$_fc_sock" "$_fc_script"
	_fc_st=$?
	rm -f "$_fc_script"
	return $_fc_st
}

# bytes_0_to_255: all 256 byte values in ascending order, to stdout.
bytes_0_to_255() {
	for _i in $(seq 0 255); do
		# shellcheck disable=SC2059 # the format is the byte
		printf "\\$(printf %03o "$_i")"
	done
}

# start_spawn_fcgi SOCKET [WORKER-OPTIONS...]: start the worker the way
# deploy/spawn-fcgi/upcase-fcgi.sh does, with that script's settings
# pointed into $tmp.  As root the socket belongs to $run_user (nginx's
# workers run as that user) and spawn-fcgi drops the worker to it.
# UPCASE_FCGI_CHILDREN (default 2) and UPCASE_FCGI_MAX_BODY (default 1M)
# pass through.  Log in $tmp/worker.log; sets $worker_pid, the master
# (spawn-fcgi -n executes the worker in its own process).
start_spawn_fcgi() {
	_sock=$1; shift
	_u=; _g=
	[ "$(id -u)" = 0 ] && { _u=$run_user; _g=$run_group; }
	SPAWN_FCGI=$SPAWN_FCGI UPCASE_FCGI=$WORKER \
	    UPCASE_FCGI_SOCKET=$_sock UPCASE_FCGI_SOCKET_MODE=0660 \
	    UPCASE_FCGI_SOCKET_USER=$_u UPCASE_FCGI_SOCKET_GROUP=$_g \
	    UPCASE_FCGI_USER=$_u UPCASE_FCGI_GROUP=$_g \
	    UPCASE_FCGI_CHILDREN=${UPCASE_FCGI_CHILDREN:-2} \
	    UPCASE_FCGI_MAX_BODY=${UPCASE_FCGI_MAX_BODY:-1M} \
	    UPCASE_FCGI_OPTIONS="$*" UPCASE_FCGI_SYSLOG=0 \
	    sh "$top_srcdir/deploy/spawn-fcgi/upcase-fcgi.sh" \
	    >"$tmp/worker.log" 2>&1 &
	worker_pid=$!
	track_pid "$worker_pid"
	wait_until 10 is_socket "$_sock" &&
	    wait_until 10 is_worker "$worker_pid" || {
		cat "$tmp/worker.log" >&2
		fail "spawn-fcgi did not start the worker on $_sock"; }
}

# post_concurrently DIR N CURL-ARGS...: N POSTs at once, the body of
# request I (0 to N-1) from DIR/I.in and its answer to DIR/I.out, each
# bounded by curl's --max-time; CURL-ARGS name the server and URL.  Fails
# unless every curl succeeded.
post_concurrently() {
	_dir=$1; _n=$2; shift 2
	_pids=
	_i=0
	while [ "$_i" -lt "$_n" ]; do
		"$CURL" -sS --max-time 25 --data-binary "@$_dir/$_i.in" \
		    -o "$_dir/$_i.out" "$@" 2>"$_dir/$_i.err" &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	_failed=0
	for _p in $_pids; do
		wait "$_p" || _failed=$((_failed + 1))
	done
	[ "$_failed" -eq 0 ] ||
	    fail "$_failed of $_n concurrent curls failed: $(sort "$_dir"/*.err | uniq -c | head -5)"
}

# is_worker PID: PID runs the worker (spawn-fcgi has executed it).
is_worker() { [ "$(ps -o comm= -p "$1")" = upcase-fcgi ]; }

# count_children PID N: true when PID has exactly N children.
count_children() { [ "$(children_of "$1" | wc -l)" -eq "$2" ]; }

# open_fds PID...: how many fds these processes hold in all (Linux /proc).
# A worker child holds one more while it has a connection.
open_fds() { for _p; do ls "/proc/$_p/fd"; done | wc -l; }
# fds_above N PID...: together they hold more than N fds.
fds_above() { _n=$1; shift; [ "$(open_fds "$@")" -gt "$_n" ]; }

# busy_children PID N: at least N children of PID are busy, that is, not
# waiting in epoll.  (Taking a connection is not enough: a child may park
# one that has sent nothing yet and go on waiting.)
busy_children() {
	_busy=0
	for _c in $(children_of "$1"); do
		case $(cat "/proc/$_c/wchan" 2>/dev/null) in
		''|*epoll*) ;;
		*) _busy=$((_busy + 1)) ;;
		esac
	done
	[ "$_busy" -ge "$2" ]
}

# free_port: print a TCP port that no socket uses, on any address and in
# any state (checked with ss; the caller binds it at once).  It is taken
# below the kernel's ephemeral range (ip_local_port_range), where the
# client side of another test's connections cannot take it first: a
# connected socket on the port makes bind fail even with SO_REUSEADDR.
free_port() {
	read -r _lo _hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
	    _lo=32768 _hi=60999
	if [ "$_lo" -gt 12000 ]; then
		_base=10000 _span=$((_lo - 10000))
	else
		_base=$((_hi + 1)) _span=$((65535 - _hi))
	fi
	for _ in $(seq 50); do
		_port=$(( _base + $(od -An -N2 -tu2 /dev/urandom) % _span ))
		[ -z "$(ss -Htan "sport = :$_port")" ] && { echo "$_port"; return 0; }
	done
	fail "no free TCP port found"
}

# fcgi_post ADDRESS BODY [FCGI-RAW-OPTIONS...]: one POST of BODY through
# tests/fcgi-raw to ADDRESS (a unix path, HOST:PORT or [IPV6]:PORT); the
# response body alone to stdout; the report in $tmp/post.rep.  Fails
# (status 3) when no complete response came.
fcgi_post() {
	_fp_addr=$1; _fp_body=$2; shift 2
	printf 'begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 %s\nstdin-end 1\nexpect-end 1\n' \
	    "${#_fp_body}" "$_fp_body" |
	    "$FCGI_RAW" -t 10 -r "$tmp/post.rep" "$@" "$_fp_addr" >"$tmp/post.out" ||
	    return $?
	sed '1,/^\r$/d' "$tmp/post.out"
}

# need_ss: the tests that look at sockets use ss (Debian: iproute2).
need_ss() {
	command -v ss >/dev/null 2>&1 || fail "ss not found: install iproute2"
}

# tcp_listening PORT: something listens on that TCP port.
tcp_listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

# start_worker_on ADDRESS [OPTIONS...]: run the worker in the foreground on
# any -s ADDRESS (a path, HOST:PORT, [IPV6]:PORT, :PORT); log in
# $tmp/worker.log; wait until the master has a child; sets $worker_pid.
start_worker_on() {
	_addr=$1; shift
	# shellcheck disable=SC2086
	"$WORKER" -f -s "$_addr" $as_user "$@" >"$tmp/worker.log" 2>&1 &
	worker_pid=$!
	track_pid "$worker_pid"
	wait_until 10 has_children "$worker_pid" || {
		cat "$tmp/worker.log" >&2; fail "worker did not start on $_addr"; }
}

# stop_worker: SIGTERM the worker of start_worker(_on); it must exit 0.
stop_worker() {
	kill -TERM "$worker_pid"
	wait "$worker_pid" || fail "worker $worker_pid did not exit 0: $(cat "$tmp/worker.log")"
}

# --- a bounded wrk load through nginx (lifecycle-load.sh, keepalive-load.sh)
# gone PID: no such process any more (a zombie nobody reaped yet counts).
gone() {
	case $(ps -o stat= -p "$1") in
	''|Z*)	return 0 ;;
	esac
	return 1
}
all_gone() { for _p; do gone "$_p" || return 1; done; }
# alive PID: the process is still there (and not a zombie).
alive() { ! gone "$1"; }
# disjoint "A B ..." "C D ...": no PID in both lists.
disjoint() {
	for _a in $1; do
		for _b in $2; do [ "$_a" != "$_b" ] || return 1; done
	done
}
# same_set "A B ..." "C D ...": the same PIDs, in any order.
same_set() {
	# shellcheck disable=SC2086 # split the lists into PIDs
	[ "$(printf '%s\n' $1 | sort)" = "$(printf '%s\n' $2 | sort)" ]
}
# lines FILE: how many lines FILE has now (0 if it is not there yet).
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# since FILE MARK: the lines of FILE after the first MARK.
since() { tail -n +"$(($2 + 1))" "$1"; }

# start_nginx_tcp RENDER-COMMAND...: start_nginx on 127.0.0.1 and a free
# port, $http_port.  Before each try HTTP_LISTEN is set to that address
# and RENDER-COMMAND writes $tmp/server.conf for it (render_nginx_conf
# must have included that file already).  A port taken between free_port
# and nginx's bind is retried with another.
start_nginx_tcp() {
	for _try in 1 2 3 4 5; do
		http_port=$(free_port)
		HTTP_LISTEN="127.0.0.1:$http_port"
		"$@"
		_nginx=$NGINX
		(unset NGINX; exec "$_nginx" -p "$tmp/nginx" -c "$tmp/nginx.conf" \
			-e "$tmp/nginx/error.log") >"$tmp/nginx/stdout.log" 2>&1 &
		nginx_pid=$!
		track_pid "$nginx_pid"
		wait_until 10 nginx_listening && return 0
		grep -q 'in use' "$tmp/nginx/error.log" "$tmp/nginx/stdout.log" ||
		    { cat "$tmp/nginx/error.log" >&2; fail "nginx did not start"; }
		kill -TERM "$nginx_pid" 2>/dev/null
		wait_until 10 gone "$nginx_pid"
	done
	fail "nginx: no free port after 5 tries"
}

# load_script BODY: write $tmp/load.lua, wrk's script for load_start: it
# POSTs BODY and checks each response in wrk's thread; done() prints one
# line with every count.  wrk counts only statuses >= 400 as errors, so
# any status but 200 is counted here too.  BODY: no " or \.
load_script() {
	cat >"$tmp/load.lua" <<LUA
wrk.method = "POST"
wrk.body = "$1"
wrk.headers["Content-Type"] = "text/plain"
local expect = "$(printf %s "$1" | tr '[:lower:]' '[:upper:]')"
bad_status = 0
wrong_body = 0
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function response(status, headers, body)
	if status ~= 200 then
		bad_status = bad_status + 1
	elseif body ~= expect then
		wrong_body = wrong_body + 1
	end
end

function done(summary, latency, requests)
	local bad, wrong = 0, 0
	for _, t in ipairs(threads) do
		bad = bad + t:get("bad_status")
		wrong = wrong + t:get("wrong_body")
	end
	local e = summary.errors
	io.write(string.format("LOAD requests=%d duration_us=%d non2xx=%d " ..
	    "connect=%d read=%d write=%d timeout=%d bad_status=%d " ..
	    "wrong_body=%d\n", summary.requests, summary.duration, e.status,
	    e.connect, e.read, e.write, e.timeout, bad, wrong))
end
LUA
}

# load_start NAME SECONDS PATH: wrk -t1 -c8 with $tmp/load.lua against
# nginx's PATH on $http_port in the background for SECONDS; output in
# $tmp/NAME.wrk (NAME: letters, digits and _).  Sets load_pid; marks
# nginx's error.log so that load_check sees only this scenario's lines.
load_start() {
	eval "mark_$1=$(lines "$tmp/nginx/error.log")"
	timeout $(($2 + 30)) "$WRK" -t1 -c8 -d "${2}s" --timeout 5s \
	    -s "$tmp/load.lua" "http://127.0.0.1:$http_port$3" \
	    >"$tmp/$1.wrk" 2>&1 &
	load_pid=$!
	track_pid "$load_pid"
	# (wrk's own output is buffered until it ends: look at its sockets.)
	wait_until 10 wrk_connected ||
	    fail "$1: wrk did not connect: $(cat "$tmp/$1.wrk")"
}
wrk_connected() {
	[ -n "$(ss -Htn state established "dport = :$http_port")" ]
}
# loading: the load of load_start still runs.  No fork (a SIGHUP loop
# calls it every 100 ms): the state field of /proc/PID/stat, read by the
# shell itself; Z is a load that has ended.
loading() {
	read -r _lp _lc _ls _lrest 2>/dev/null <"/proc/$load_pid/stat" &&
	    [ "$_ls" != Z ]
}

# load_check NAME: wait for the load of load_start; assert that no request
# failed (no non-2xx, no other non-200, no wrong body, no socket error)
# and that more than $MIN_REQUESTS were served; append the figures to
# $tmp/figures.  nginx's error.log must have no upstream error in the
# meantime, except the lines that match LOAD_RETRY_RE (an extended regular
# expression; unset: none) at [error] level: those are counted as retries
# and reported, and any request they failed shows up as failed above.
load_check() {
	wait_until 60 gone "$load_pid" || fail "$1: wrk did not finish"
	wait "$load_pid" || fail "$1: wrk failed: $(cat "$tmp/$1.wrk")"
	_line=$(grep '^LOAD ' "$tmp/$1.wrk") ||
	    fail "$1: no summary from wrk: $(cat "$tmp/$1.wrk")"
	for _kv in ${_line#LOAD }; do
		case ${_kv%%=*} in
		requests|duration_us|non2xx|connect|read|write|timeout|bad_status|wrong_body)
			eval "_${_kv%%=*}=${_kv#*=}" ;;
		esac
	done
	# shellcheck disable=SC2154 # _connect ... are set by the eval above
	_sockerr=$((_connect + _read + _write + _timeout))
	_failed=$((_bad_status + _wrong_body + _sockerr))
	_rps=$(awk -v n="$_requests" -v us="$_duration_us" \
	    'BEGIN { printf "%.0f", (us > 0 ? n / (us / 1e6) : 0) }')
	_secs=$(awk -v us="$_duration_us" 'BEGIN { printf "%.1f", us / 1e6 }')
	eval "_mark=\$mark_$1"
	since "$tmp/nginx/error.log" "$_mark" |
	    grep -E '\[(warn|error|crit|alert|emerg)\]|upstream (prematurely|timed out|sent)|connect\(\) failed|no live upstreams' \
	    >"$tmp/$1.nginx-lines"
	: >"$tmp/$1.nginx-retries"
	if [ -n "${LOAD_RETRY_RE:-}" ]; then
		grep -E "\[error\] .*($LOAD_RETRY_RE)" "$tmp/$1.nginx-lines" \
		    >"$tmp/$1.nginx-retries"
	fi
	grep -vxF -f "$tmp/$1.nginx-retries" "$tmp/$1.nginx-lines" \
	    >"$tmp/$1.nginx-errors"
	_retries=$(wc -l <"$tmp/$1.nginx-retries")
	printf '%-22s %8d requests in %4s s, %6d req/s; failed %d (non-2xx %d, other non-200 %d, wrong body %d, socket errors %d: connect %d read %d write %d timeout %d); nginx retry lines %d\n' \
	    "$1" "$_requests" "$_secs" "$_rps" "$_failed" "$_non2xx" \
	    "$((_bad_status - _non2xx))" "$_wrong_body" "$_sockerr" \
	    "$_connect" "$_read" "$_write" "$_timeout" "$_retries" \
	    >>"$tmp/figures"
	tail -n 1 "$tmp/figures"
	if [ -s "$tmp/$1.nginx-errors" ]; then
		head -n 20 "$tmp/$1.nginx-errors" >&2
		fail "$1: nginx logged $(wc -l <"$tmp/$1.nginx-errors") upstream errors (first ones above)"
	fi
	[ "$((_failed + _non2xx))" -eq 0 ] ||
	    fail "$1: $_failed failed requests: $(cat "$tmp/$1.wrk")"
	! grep -Eq 'Non-2xx|Socket errors' "$tmp/$1.wrk" ||
	    fail "$1: wrk reports errors: $(cat "$tmp/$1.wrk")"
	[ "$_requests" -gt "$MIN_REQUESTS" ] ||
	    fail "$1: only $_requests requests in ${_secs} s (want > $MIN_REQUESTS)"
}

# hup_storm PID COUNT: send COUNT SIGHUPs to PID, 100 ms apart, while the
# load of load_start runs; sets $hups (sent) and $hups_loaded (sent while
# the load still ran).  Fails if PID is gone.
hup_storm() {
	hups=0
	hups_loaded=0
	for _ in $(seq "$2"); do
		kill -HUP "$1" || fail "SIGHUP storm: the master is gone after $hups signals"
		hups=$((hups + 1))
		loading && hups_loaded=$hups
		sleep 0.1
	done
}

# hup_storm_survived PID LOG MARK MIN CHILDREN BEFORE: after hup_storm on
# PID under a load: the master alive, at least MIN signals landed under
# the load, CHILDREN children again and none of BEFORE among them, and no
# crash or respawn in LOG after its line MARK.
hup_storm_survived() {
	alive "$1" || fail "SIGHUP storm: the master died: $(since "$2" "$3")"
	[ "$hups_loaded" -ge "$4" ] ||
	    fail "SIGHUP storm: only $hups_loaded SIGHUPs landed under load (want >= $4)"
	wait_until 10 count_children "$1" "$5" ||
	    fail "SIGHUP storm: not $5 children afterwards: $(children_of "$1")"
	disjoint "$6" "$(children_of "$1")" ||
	    fail "SIGHUP storm: children from before the storm remain"
	! since "$2" "$3" | grep -E 'killed by signal|respawning' ||
	    fail "SIGHUP storm: children crashed (above)"
}
