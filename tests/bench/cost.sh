#!/bin/sh
# What a feature costs per request: two pools of upcase-fcgi alike behind
# one private nginx, "on" with the feature and "off" without it, driven
# by wrk in interleaved rounds; prints the medians of requests/s and of
# the pools' CPU time per request, and their ratios.  A benchmark that
# prints figures, not a test.
#
#   tests/bench/cost.sh sandbox|status|build OTHER-BUILDDIR [-b BUILDDIR]
#                       [-r ROUNDS] [-d SECONDS] [-c CONNS] [-s BYTES]
#                       [-n CHILDREN]
#
# sandbox: the children's seccomp filter, on as deployed, off with
# --no-sandbox.  status: the shared scoreboard that --status-path turns
# on (every request counted; the page itself is not requested), off
# without the option.  build: a change, "on" the binary of BUILDDIR and
# "off" that of OTHER-BUILDDIR (say, a build of the commit before it).
#
# Defaults: the current directory, 5 rounds of 3 s, 8 connections,
# 128-byte POSTs, as many children per pool as CPUs.  Each round runs
# both pools, in turn first.  nginx: 1 worker process, 127.0.0.1 on a free
# port, the stock fastcgi_params (tests/bench/common.sh); as root, nginx's
# workers and the pools run as nobody.  Needs nginx, curl and wrk.  Every
# wrk run is bounded in time; only the processes started here are
# stopped.  Loopback only.
set -u

feature=${1:-}
case $feature in
sandbox) on_opts=; off_opts=--no-sandbox ;;
status) on_opts="--status-path /status"; off_opts= ;;
build) other=${2:?build needs the other build directory}; shift
	on_opts=; off_opts= ;;
*) echo "usage: $0 sandbox|status|build OTHER-BUILDDIR [options]; see --help" >&2; exit 2 ;;
esac
shift
builddir=.
rounds=5
duration=3
conns=8
size=128
children=
while [ $# -gt 0 ]; do
	case $1 in
	-b) builddir=${2:?-b needs a directory}; shift ;;
	-r) rounds=${2:?-r needs a number}; shift ;;
	-d) duration=${2:?-d needs seconds}; shift ;;
	-c) conns=${2:?-c needs a number}; shift ;;
	-s) size=${2:?-s needs bytes}; shift ;;
	-n) children=${2:?-n needs a number}; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 sandbox|status|build OTHER-BUILDDIR [-b BUILDDIR] [-r ROUNDS] [-d SECONDS] [-c CONNS] [-s BYTES] [-n CHILDREN]" >&2
	   exit 2 ;;
	esac
	shift
done

HTTP_PORT=
HTTP_LISTEN=127.0.0.1:0		# set below, before nginx starts
. "$(dirname "$0")/common.sh"
require NGINX
require CURL
require WRK
need_built "$WORKER"
off_worker=$WORKER
if [ "$feature" = build ]; then
	off_worker=$(cd "$other" && pwd)/src/upcase-fcgi
	need_built "$off_worker"
	off_opts="the build in $other"
fi
[ "$feature" != sandbox ] || grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" ||
    fail "$top_builddir is built without libseccomp: there is no sandbox to measure"
: "${children:=$(nproc)}"
clk_tck=$(getconf CLK_TCK)
find_fastcgi_params
make_bodies "$size"

# The two pools: "on" with the feature, "off" without.
start_pool() {
	_bin=$WORKER _extra=$on_opts
	[ "$1" = on ] || _bin=$off_worker _extra=$off_opts
	[ "$feature" != build ] || _extra=
	# shellcheck disable=SC2086
	"$_bin" -f -c "$children" -s "$tmp/$1.sock" -M 0666 $as_user $_extra \
	    >"$tmp/$1.log" 2>&1 &
	eval "pool_$1=$!"
	track_pid "$!"
	wait_until 10 is_socket "$tmp/$1.sock" &&
	    wait_until 10 count_children "$!" "$children" || {
		cat "$tmp/$1.log" >&2; fail "pool $1 did not start"; }
}

# seccomp_modes PID: the Seccomp: field of each child of PID.
seccomp_modes() {
	for _c in $(children_of "$1"); do
		sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$_c/status"
	done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# tree_ticks PID: CPU clock ticks of PID and of its children, live and
# reaped.
tree_ticks() {
	for _p in "$1" $(children_of "$1"); do
		sed 's/^.*) //' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}

# run POOL SECONDS: one bounded wrk run on POOL; prints "requests
# duration_us bad ticks" (bad: non-2xx and socket errors).
run() {
	eval "_pid=\$pool_$1"
	_t0=$(tree_ticks "$_pid")
	BENCH_BODY="$tmp/body.$size" timeout $(($2 + 30)) "$WRK" -t1 \
	    -c"$conns" -d"${2}s" --timeout 10s -s "$top_srcdir/tests/bench/wrk.lua" \
	    "http://$HTTP_LISTEN/$1/" >"$tmp/wrk.out" 2>&1
	_t1=$(tree_ticks "$_pid")
	sed -n 's/^BENCH //p' "$tmp/wrk.out" | tr ' ' '\n' | cut -d= -f2 |
	    tr '\n' ' ' | awk -v t=$((_t1 - _t0)) 'NF >= 4 { print $1, $2, $3 + $4, t }'
}

HTTP_PORT=$(free_port) || fail "no free port found"
HTTP_LISTEN=127.0.0.1:$HTTP_PORT
{
	echo "server {"
	echo "	listen $HTTP_LISTEN;"
	echo "	keepalive_requests 1000000;"
	echo "	client_max_body_size 2m;"
	echo "	client_body_buffer_size 2m;"
	bench_location on "unix:$tmp/on.sock"
	bench_location off "unix:$tmp/off.sock"
	echo "}"
} >"$tmp/server.conf"
render_nginx_conf "$tmp/server.conf"
sed -i 's/^error_log \(.*\) info;/error_log \1 warn;/' "$tmp/nginx.conf"
start_nginx
start_pool on
start_pool off
[ "$feature" != sandbox ] ||
    { [ "$(seccomp_modes "$pool_on")" = 2 ] && [ "$(seccomp_modes "$pool_off")" = 0 ]; } ||
    fail "Seccomp: of the children: on '$(seccomp_modes "$pool_on")', off '$(seccomp_modes "$pool_off")'; want 2 and 0"
for pool in on off; do
	_a=$("$CURL" -sS --max-time 10 --data-binary 'abc def' "http://$HTTP_LISTEN/$pool/x")
	[ "$_a" = "ABC DEF" ] || fail "pool $pool answered '$_a'"
	run "$pool" 1 >/dev/null	# warm-up
done
log "nginx on $HTTP_LISTEN; 2 pools of $children children; $(size_name "$size") POSTs, $conns connections, $rounds rounds of ${duration} s"

: >"$tmp/rows"
for round in $(seq "$rounds"); do
	order="on off"
	[ $((round % 2)) = 0 ] && order="off on"
	for pool in $order; do
		r=$(run "$pool" "$duration")
		[ -n "$r" ] || fail "wrk failed: $(head -3 "$tmp/wrk.out")"
		echo "$pool $r" >>"$tmp/rows"
		echo "$r" | awk -v p="$pool" -v rd="$round" -v tck="$clk_tck" '{
			printf "  round %d  %-3s %8.0f req/s  %5.1f us CPU/req  bad %d\n",
			    rd, p, $1 / ($2 / 1e6), $4 * 1e6 / tck / $1, $3 }' >&2
	done
done

awk -v tck="$clk_tck" -v size="$(size_name "$size")" -v conns="$conns" \
    -v rounds="$rounds" -v children="$children" -v what="$feature" \
    -v off="${off_opts:-without --status-path}" "$awk_median"'
{
	rps[$1] = rps[$1] " " $2 / ($3 / 1e6)
	cpu[$1] = cpu[$1] " " $5 * 1e6 / tck / $2
	bad[$1] += $4
}
END {
	printf "\n%s POSTs, %s connections, %d children per pool, median of %d rounds\n",
	    size, conns, children, rounds
	printf "| %s | req/s | pool CPU us/req | non-2xx + errors |\n", what
	printf "|---|---:|---:|---:|\n"
	printf "| on | %.0f | %.1f | %d |\n", median(rps["on"]), median(cpu["on"]), bad["on"]
	printf "| off (%s) | %.0f | %.1f | %d |\n", off, median(rps["off"]), median(cpu["off"]), bad["off"]
	printf "ratio on/off: req/s %.3f, CPU per request %.3f\n",
	    median(rps["on"]) / median(rps["off"]), median(cpu["on"]) / median(cpu["off"])
}' "$tmp/rows"
