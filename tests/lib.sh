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

# is_worker PID: PID runs the worker (spawn-fcgi has executed it).
is_worker() { [ "$(ps -o comm= -p "$1")" = upcase-fcgi ]; }

# count_children PID N: true when PID has exactly N children.
count_children() { [ "$(children_of "$1" | wc -l)" -eq "$2" ]; }

# open_fds PID...: how many fds these processes hold in all (Linux /proc).
# A worker child holds one more while it has a connection.
open_fds() { for _p; do ls "/proc/$_p/fd"; done | wc -l; }
# fds_above N PID...: together they hold more than N fds.
fds_above() { _n=$1; shift; [ "$(open_fds "$@")" -gt "$_n" ]; }

# free_port: print a TCP port that nothing listens on, on any address
# (checked with ss; the caller binds it at once).
free_port() {
	for _ in $(seq 50); do
		_port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		[ -z "$(ss -Hltn "sport = :$_port")" ] && { echo "$_port"; return 0; }
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
