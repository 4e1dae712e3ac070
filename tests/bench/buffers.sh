#!/bin/sh
# What the buffer sizing of deploy/nginx/upcase-fcgi.conf changes: the
# file as shipped (client_body_buffer_size 1m, fastcgi_buffer_size 32k,
# fastcgi_buffers 48 32k: bodies and answers up to 1.5 x -m stay in
# memory) against the same file without those three lines (nginx's
# defaults: 8k/16k body buffer, 4k/8k answer buffers, the rest in
# temporary files), in one nginx, in front of one pool, in the same run.
#
#   tests/bench/buffers.sh [-b BUILDDIR] [-d SECONDS] [-r ROUNDS] [-c CONNS]
#
# BUILDDIR (default: the current directory) holds src/upcase-fcgi.  POSTs
# of 64 KiB and 1 MiB of ASCII text (answers of the same size) with wrk
# (1 thread, CONNS connections, default 8, keep-alive), SECONDS per run
# (default 3), ROUNDS interleaved rounds (default 3: shipped, default,
# shipped, ...).  Prints a Markdown table: median requests/s and p99 of
# each, the ratio, nginx's CPU time per request, and how many requests
# nginx wrote to a temporary file ("a client request body is buffered to
# a temporary file", "an upstream response is buffered to a temporary
# file" in each server's own error log).  About 45 s with the defaults.
# Needs nginx, wrk and curl.  Loopback only; stops only what it started.
# shellcheck disable=SC2015 # "A && B || fail": fail if either is false
set -u

builddir=.
duration=3
rounds=3
conns=8
while [ $# -gt 0 ]; do
	case $1 in
	-b) builddir=${2:?-b needs a directory}; shift ;;
	-d) duration=${2:?-d needs seconds}; shift ;;
	-r) rounds=${2:?-r needs a count}; shift ;;
	-c) conns=${2:?-c needs a count}; shift ;;
	-h|--help) sed -n '2,/^# shellcheck/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [-b BUILDDIR] [-d SECONDS] [-r ROUNDS] [-c CONNS]" >&2; exit 2 ;;
	esac
	shift
done

HTTP_LISTEN=127.0.0.1:0		# each server gets its own port below
. "$(dirname "$0")/common.sh"
require NGINX
require WRK
require CURL
need_built "$WORKER"

conf="$top_srcdir/deploy/nginx/upcase-fcgi.conf"
sizes="65536 1048576"
sized="client_body_buffer_size|fastcgi_buffer_size|fastcgi_buffers"
[ "$(grep -Ec "^[[:space:]]*($sized) " "$conf")" -eq 3 ] ||
    fail "$conf: expected the three buffer lines ($sized)"

# server VARIANT PORT: the deploy file for VARIANT (shipped: as it is;
# default: without the buffer lines), on PORT, with its own upstream name
# and error log, passing to the one pool.
server() {
	{
		printf 's|listen 127.0.0.1:8080;|listen 127.0.0.1:%s;\\\n\terror_log %s warn;|\n' \
		    "$2" "$tmp/nginx/$1.err"
		printf '%s\n' "s|unix:/run/upcase-fcgi/upcase-fcgi.sock|unix:$tmp/fcgi.sock|"
		printf '%s\n' "s/upcase_fcgi\\([ ;]\\)/upcase_fcgi_$1\\1/"
		[ "$1" = shipped ] || printf '%s\n' \
		    "/^[[:space:]]*\\($(echo "$sized" | sed 's/|/\\|/g')\\)[[:space:]]/d"
	} >"$tmp/$1.sed"
	sed -f "$tmp/$1.sed" "$conf"
}
port_shipped=$(free_port) || fail "no free port"
port_default=$(free_port) || fail "no free port"
[ "$port_shipped" != "$port_default" ] || port_default=$((port_shipped + 1))
{
	server shipped "$port_shipped"
	server default "$port_default"
} >"$tmp/server.conf"
[ "$(grep -Ec "^[[:space:]]*($sized) " "$tmp/server.conf")" -eq 3 ] ||
    fail "rendering: the default server still has buffer lines"
grep -q "error_log $tmp/nginx/default.err warn;" "$tmp/server.conf" &&
    grep -q "fastcgi_pass upcase_fcgi_default;" "$tmp/server.conf" ||
    fail "rendering: $(cat "$tmp/server.conf")"

start_worker "$tmp/fcgi.sock" -c "$(nproc)"
render_nginx_conf "$tmp/server.conf"
sed -i 's/^error_log \(.*\) info;/error_log \1 warn;/' "$tmp/nginx.conf"
# shellcheck disable=SC2034 # start_nginx (lib.sh) waits on this address
HTTP_LISTEN=127.0.0.1:$port_shipped
start_nginx
for v in shipped default; do
	eval "_p=\$port_$v"
	_got=$("$CURL" -sS --max-time 10 --data-binary 'abc def' "http://127.0.0.1:$_p/")
	[ "$_got" = "ABC DEF" ] || fail "$v: wrong answer '$_got'"
done
# shellcheck disable=SC2086 # the list of sizes
make_bodies $sizes

# ticks PID...: user + system clock ticks of these processes and their
# children (nginx's master and worker).
ticks() {
	for _tp; do echo "$_tp"; children_of "$_tp"; done |
	    while read -r _q; do cat "/proc/$_q/stat" 2>/dev/null; done |
	    awk '{ sub(/.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
# warnings VARIANT: "body answer" temporary-file lines in VARIANT's log.
warnings() {
	_b=$(grep -c 'client request body is buffered to a temporary file' "$tmp/nginx/$1.err")
	_a=$(grep -c 'upstream response is buffered to a temporary file' "$tmp/nginx/$1.err")
	echo "$_b $_a"
}

log "nginx 1 worker, shipped on :$port_shipped, default on :$port_default; $(nproc) children; wrk -c $conns, ${duration}s x $rounds rounds"
: >"$tmp/rows"
for size in $sizes; do
	for v in shipped default; do	# warm-up, not recorded
		eval "_p=\$port_$v"
		BENCH_BODY="$tmp/body.$size" timeout 60 "$WRK" -t1 -c "$conns" -d 1s \
		    -s "$top_srcdir/tests/bench/wrk.lua" "http://127.0.0.1:$_p/" >/dev/null 2>&1
	done
	for round in $(seq "$rounds"); do
		for v in shipped default; do
			eval "_p=\$port_$v"
			# shellcheck disable=SC2046 # two counts
			set -- $(warnings "$v")
			# shellcheck disable=SC2154 # nginx_pid: set by start_nginx
			_w0b=$1 _w0a=$2 _t0=$(ticks "$nginx_pid")
			_out=$(BENCH_BODY="$tmp/body.$size" timeout $((duration + 30)) \
			    "$WRK" -t1 -c "$conns" -d "${duration}s" --timeout 10s \
			    -s "$top_srcdir/tests/bench/wrk.lua" "http://127.0.0.1:$_p/" 2>&1)
			_t1=$(ticks "$nginx_pid")
			# shellcheck disable=SC2046
			set -- $(warnings "$v")
			_line=$(echo "$_out" | grep '^BENCH ') || fail "wrk: $_out"
			# BENCH requests= duration_us= non2xx= sockerr= p50_us= p99_us=
			echo "$size $v $round $(echo "${_line#BENCH }" | sed 's/[a-z0-9_]*=//g') $((_t1 - _t0)) $(($1 - _w0b)) $(($2 - _w0a))" >>"$tmp/rows"
			log "$(size_name "$size") $v round $round: $(tail -n 1 "$tmp/rows")"
		done
	done
done

tck=$(getconf CLK_TCK)
echo "# nginx buffers: deploy/nginx/upcase-fcgi.conf as shipped vs nginx's defaults"
echo
echo "- Run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), load average $(cut -d' ' -f1-3 /proc/loadavg); $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); temporary files in $(df -P "$tmp" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$tmp"))"
echo "- wrk 1 thread, $conns connections, ${duration} s per run, $rounds interleaved rounds, medians; one nginx worker; one pool of $(nproc) children on a unix socket; POSTs of ASCII text"
echo
echo "| body | shipped req/s | default req/s | shipped/default | p99 ms shipped / default | nginx CPU µs/req shipped / default | temp files per request, shipped: body / answer | default: body / answer | errors |"
echo "|---|---:|---:|---:|---|---|---|---|---|"
for size in $sizes; do
	awk -v s="$size" -v name="$(size_name "$size")" -v tck="$tck" "$awk_median"'
	$1 == s {
		v = $2
		rps[v] = rps[v] " " $4 / ($5 / 1e6)
		p99[v] = p99[v] " " $9 / 1000
		n[v] += $4; cpu[v] += $10; wb[v] += $11; wa[v] += $12
		err += $6 + $7
	}
	END {
		rs = median(rps["shipped"]); rd = median(rps["default"])
		printf "| %s | %.0f | %.0f | **%.2f** | %.2f / %.2f | %.0f / %.0f | %.2f / %.2f | %.2f / %.2f | %d |\n",
		    name, rs, rd, (rd > 0 ? rs / rd : 0),
		    median(p99["shipped"]), median(p99["default"]),
		    cpu["shipped"] * 1e6 / tck / n["shipped"],
		    cpu["default"] * 1e6 / tck / n["default"],
		    wb["shipped"] / n["shipped"], wa["shipped"] / n["shipped"],
		    wb["default"] / n["default"], wa["default"] / n["default"], err
	}' "$tmp/rows"
done
