#!/bin/sh
# Soak: a million requests of mixed sizes through nginx, then the figures
# that would show a slow failure -- errors, wrong bodies, growing memory,
# heap calls.
#
#   tests/bench/soak.sh [-b BUILDDIR] [-n REQUESTS] [-c CHILDREN]
#
# BUILDDIR (default: the current directory) must hold src/upcase-fcgi and
# tests/mcount.so (make check builds it); nothing is built here.  The
# worker runs under mcount.so with CHILDREN children (default: the number
# of CPUs) behind nginx configured with deploy/nginx/upcase-fcgi.conf
# itself (one nginx worker, TCP on 127.0.0.1 on a free port, for wrk).
# wrk (2 threads, 8 connections; tests/bench/soak.lua) rotates a GET and
# POSTs of 128 B, 4 KiB and 64 KiB, checks every status and body, and
# stops by itself after REQUESTS (default 1,000,000) responses, in two
# halves; each half is also bounded in time (wrk -d 900 s and timeout).
#
# Prints: requests, responses that were not 200 or had a wrong body,
# socket errors, requests/s, each child's VmRSS and RssAnon after a
# warm-up, at the middle and at the end, heap calls per request of the
# worker's whole process tree (0 is the goal), whether any child was
# replaced, and the worker's warnings.  Not part of make check.  Loopback
# only; only the processes started here are stopped.
set -u

builddir=.
total=1000000
children=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	-b) builddir=${2:?-b needs a directory}; shift ;;
	-n) total=${2:?-n needs a number}; shift ;;
	-c) children=${2:?-c needs a number}; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [-b BUILDDIR] [-n REQUESTS] [-c CHILDREN]" >&2; exit 2 ;;
	esac
	shift
done

HTTP_LISTEN=127.0.0.1:0		# set below, before nginx starts
. "$(dirname "$0")/common.sh"
require NGINX
require CURL
require WRK

MCOUNT="$top_builddir/tests/mcount.so"
need_built "$WORKER" "$MCOUNT"
threads=2
conns=8
half_seconds=${SOAK_SECONDS:-900}

# The worker as deployed, under the heap-call counter.
head -c 8192 /dev/zero >"$tmp/mcount" && chmod 666 "$tmp/mcount"
MCOUNT_FILE="$tmp/mcount" LD_PRELOAD="$MCOUNT"
export MCOUNT_FILE LD_PRELOAD
start_worker "$tmp/fcgi.sock" -c "$children"
unset LD_PRELOAD MCOUNT_FILE
wait_until 10 count_children "$worker_pid" "$children" ||
    fail "the worker did not start $children children"
kids_start=$(children_of "$worker_pid" | sort | tr '\n' ' ')

HTTP_LISTEN=127.0.0.1:$(free_port) || fail "no free port found"
deploy_server_conf "$tmp/fcgi.sock"
render_nginx_conf "$tmp/server.conf"
sed -i 's/^error_log \(.*\) info;/error_log \1 warn;/' "$tmp/nginx.conf"
start_nginx

# counters: malloc calloc realloc free aligned, summed.
heap_calls() {
	od -An -v -t u8 -N 40 "$tmp/mcount" | tr -s ' \n' '  ' |
	    awk '{ print $1 + $2 + $3 + $4 + $5 }'
}

# vmrss: "pid VmRSS (anon RssAnon)" of each child, in KiB.
vmrss() {
	for _p in $(children_of "$worker_pid"); do
		awk -v p="$_p" '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
		    END { printf "%s: %s (anon %s); ", p, r, a }' "/proc/$_p/status"
	done | sed 's/; $//'
}

# soak COUNT: one bounded wrk run of COUNT responses; prints its SOAK line.
# Each wrk thread stops after its share and says so with a file; wrk then
# gets SIGINT, which ends its -d early and makes it print its summary.
soak() {
	rm -rf "$tmp/done" && mkdir "$tmp/done"
	SOAK_PER_THREAD=$(($1 / threads)) SOAK_DONE_DIR=$tmp/done \
	    timeout $((half_seconds + 60)) \
	    "$WRK" -t"$threads" -c"$conns" -d"${half_seconds}s" --timeout 10s \
	    -s "$top_srcdir/tests/bench/soak.lua" "http://$HTTP_LISTEN/" \
	    >"$tmp/wrk.out" 2>&1 &
	_wrk=$!
	track_pid "$_wrk"
	wait_until "$half_seconds" all_done ||
	    log "wrk threads not done after ${half_seconds}s; wrk stops by itself"
	kill -INT "$_wrk" 2>/dev/null
	wait "$_wrk"
	_line=$(sed -n 's/^SOAK //p' "$tmp/wrk.out")
	[ -n "$_line" ] || fail "wrk failed: $(head -5 "$tmp/wrk.out")"
	grep -i error "$tmp/wrk.out" >&2
	echo "$_line"
}

all_done() { [ "$(ls "$tmp/done" | wc -l)" -ge "$threads" ]; }

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
warm=$(soak 4000)
sleep 0.5
rss_start=$(vmrss)
heap0=$(heap_calls)
log "warm-up: $(field "$warm" responses) responses; VmRSS $rss_start"

half=$((total / 2))
first=$(soak "$half")
rss_mid=$(vmrss)
log "first half: $first"
second=$(soak "$((total - half))")
sleep 0.5	# let the last FCGX_Finish_r run
rss_end=$(vmrss)
heap1=$(heap_calls)
log "second half: $second"
finished=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
kids_end=$(children_of "$worker_pid" | sort | tr '\n' ' ')

sum() { echo $(($(field "$first" "$1") + $(field "$second" "$1"))); }
requests=$(sum requests)
responses=$(sum responses)
bad=$(($(sum bad_status) + $(sum bad_body)))
seconds=$(echo "$(sum duration_us)" | awk '{ printf "%.1f", $1 / 1e6 }')
replaced=no
[ "$kids_start" = "$kids_end" ] || replaced="yes ($kids_start -> $kids_end)"

cat <<EOF
# upcase-fcgi soak

- Run: $started to $finished; load average at start $load_start, at end $load_end ($(nproc) CPUs, shared)
- Setup: deploy/nginx/upcase-fcgi.conf, nginx 1 worker process; upcase-fcgi -c $children under mcount.so; wrk $threads threads, $conns connections, rotating GET / 128 B / 4 KiB / 64 KiB POSTs, every status and body checked
- Requests: $requests sent, $responses responses checked, in ${seconds} s ($(awk -v n="$responses" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }') req/s)
- Not 200 or wrong body: $bad (status $(sum bad_status), body $(sum bad_body)); wrk non-2xx $(sum non2xx); socket errors $(sum sockerr)
- p99 latency: $(field "$first" p99_us) / $(field "$second" p99_us) µs (first / second half)
- VmRSS of each child, KiB: after warm-up $rss_start; middle $rss_mid; end $rss_end
- Heap calls per request (whole worker process tree): $(awk -v a="$heap0" -v b="$heap1" -v n="$responses" 'BEGIN { printf "%d in %d requests = %.4f", b - a, n, (b - a) / n }')
- Children replaced during the run: $replaced
- Worker log: $(grep -c . "$tmp/worker.log") lines$(grep -m3 . "$tmp/worker.log" | sed 's/^/; /' | tr -d '\n')
EOF
