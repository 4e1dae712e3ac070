# What the benchmark scripts (run.sh, syscalls.sh, soak.sh) share.  Each
# sources it after its own option parsing, with $builddir set (and
# HTTP_LISTEN, when nginx is to listen on TCP):
#
#	. "$(dirname "$0")/common.sh"
#
# It finds the source and build trees, the tools (a variable already set,
# such as NGINX=..., wins), sources tests/lib.sh, and defines log,
# awk_median, need_built, make_bodies, size_name, and bench_location and
# bench_server, the nginx configuration in front of the responders.

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "$builddir" && pwd)
export top_srcdir top_builddir

: "${NGINX:=$(PATH=$PATH:/usr/sbin:/sbin command -v nginx)}"
: "${SPAWN_FCGI:=$(command -v spawn-fcgi)}"
: "${CURL:=$(command -v curl)}"
: "${WRK:=$(command -v wrk)}"
: "${STRACE:=$(command -v strace)}"
. "$top_srcdir/tests/lib.sh"

# As root, spawn-fcgi drops the responders to the unprivileged user.
spawn_user=
[ "$(id -u)" = 0 ] && spawn_user="-u $run_user -g $run_group"

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# awk_median: an awk function, median(LIST), of a space-separated list,
# for the reports' awk programs: awk "$awk_median"'...'.
awk_median='
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
'


# need_built FILE...: these files of the build must be there (programs
# executable); nothing is built here.
need_built() {
	for _f; do
		case $_f in
		*.so)	[ -f "$_f" ] ;;
		*)	[ -x "$_f" ] ;;
		esac || fail "$_f not found: build first (make && make check), or give -b BUILDDIR"
	done
}

# make_bodies SIZE...: $tmp/body.SIZE, SIZE bytes of lowercase ASCII text,
# for each SIZE but 0 (a GET).
make_bodies() {
	for _s; do
		[ "$_s" = 0 ] && continue
		yes 'the quick brown fox jumps over the lazy dog; ' |
		    head -c "$_s" >"$tmp/body.$_s"
	done
}

# size_name SIZE: how a body size is called in the reports.
size_name() {
	case $1 in
	0) echo "GET" ;;
	128) echo "128 B" ;;
	4096) echo "4 KiB" ;;
	65536) echo "64 KiB" ;;
	1048576) echo "1 MiB" ;;
	*) echo "$1 B" ;;
	esac
}

# bench_location NAME PASS [DIRECTIVE]: an nginx location /NAME/ handing
# requests to fastcgi_pass PASS with the stock fastcgi_params ($params, see
# find_fastcgi_params), with DIRECTIVE too; responses stay in memory.
bench_location() {
	echo "	location /$1/ {"
	echo "		include $params;"
	echo "		fastcgi_pass $2;"
	[ -z "${3:-}" ] || echo "		$3"
	echo "		fastcgi_buffers 64 32k;"
	echo "		fastcgi_max_temp_file_size 0;"
	echo "	}"
}

# bench_server LISTEN [DIRECTIVES [LOCATIONS]]: an nginx server block
# listening on LISTEN with /upcase/ and /plain/ passed to $tmp/upcase.sock
# and $tmp/plain.sock and request bodies up to 2 MiB kept in memory; more
# DIRECTIVES and LOCATIONS (lines, tab-indented) go in the block too.
bench_server() {
	echo "server {"
	echo "	listen $1;"
	[ -z "${2:-}" ] || echo "$2"
	echo "	client_max_body_size 2m;"
	echo "	client_body_buffer_size 2m;"
	bench_location upcase "unix:$tmp/upcase.sock"
	bench_location plain "unix:$tmp/plain.sock"
	[ -z "${3:-}" ] || echo "$3"
	echo "}"
}
