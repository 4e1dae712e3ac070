#!/bin/sh
# Benchmark upcase-fcgi against a plain libfcgi echo responder
# (tests/plain-responder), both behind one private nginx, driven by wrk.
#
#   tests/bench/run.sh [--quick | --long | --keepalive] [-b BUILDDIR] [-o OUTDIR]
#
# BUILDDIR (default: the current directory) must hold a build with
# src/upcase-fcgi, tests/plain-responder and tests/mcount.so (make check
# builds the last two); nothing is built here.  Results go to
# OUTDIR/results.md (default: the current directory), with the raw rows in
# results.tsv, wrk's own output in wrk.log and, if gnuplot is installed, a
# chart in results.png.
#
# What it does: nginx (1 worker, 127.0.0.1 on a free port, stock
# fastcgi_params, request headers passed) in front of both responders,
# each started the same way (spawn-fcgi -n on a unix socket, -c children).
# For every body size (GET, 128 B, 4 KiB, 64 KiB, 1 MiB) and connection
# count it runs wrk on upcase, plain, upcase, plain... and reports medians
# of requests/s and latency, non-2xx responses, the ratio, and CPU time
# per request of each responder's process tree and of nginx.  Before that,
# each child's VmRSS after 1,000 and after 200,000 requests of 128 B
# (--long: 2,000,000; --quick: 1,000 only), and after the throughput runs.
# Then requests/s for 1, 2 and 4 children (up to twice the CPUs), and heap
# calls per request of both (mcount.so, at least 10,000 requests).
#
# --keepalive measures something else instead (OUTDIR/keepalive.md and
# keepalive.png): one pool of upcase-fcgi reached as usual (a new
# connection per request) and through an nginx upstream with "keepalive
# 16" and "fastcgi_keep_conn on" as deploy/nginx has it, and the plain
# responder with a new connection per request; POSTs of 128 B, 4 KiB and
# 64 KiB at 8 and 32 connections, with 1, 2 and 4 children, 3 interleaved
# rounds: requests/s and CPU time per request of the pool and of nginx.
# ~9 minutes.
#
# Default ~5 minutes, --quick ~1 minute, --long ~8 minutes.  Every
# wrk run is bounded in time, every loop in count; only the processes
# started here are stopped.  Loopback only.
set -u

mode=default
builddir=.
outdir=.
while [ $# -gt 0 ]; do
	case $1 in
	--quick) mode=quick ;;
	--long) mode=long ;;
	--keepalive) mode=keepalive ;;
	-b) builddir=${2:?-b needs a directory}; shift ;;
	-o) outdir=${2:?-o needs a directory}; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [--quick | --long | --keepalive] [-b BUILDDIR] [-o OUTDIR]" >&2; exit 2 ;;
	esac
	shift
done

HTTP_PORT=
HTTP_LISTEN=127.0.0.1:0		# set below, before nginx starts
. "$(dirname "$0")/common.sh"
mkdir -p "$outdir" && outdir=$(cd "$outdir" && pwd) || exit 2
require NGINX
require SPAWN_FCGI
require CURL
require WRK

PLAIN="$top_builddir/tests/plain-responder"
MCOUNT="$top_builddir/tests/mcount.so"
need_built "$WORKER" "$PLAIN" "$MCOUNT"

ncpu=$(nproc)
case $mode in
quick)	duration=1; rounds=3; conns_list="8"; alloc_min=10000
	rss_target=0 ;;
long)	duration=3; rounds=3; conns_list="8 32"; alloc_min=10000
	rss_target=2000000 ;;
keepalive)
	duration=2; rounds=3; ka_k=16; ka_children_list="1 2 4"
	ka_sizes="128 4096 65536"; conns_list="8 32"; alloc_min=0
	rss_target=0 ;;
*)	duration=3; rounds=3; conns_list="8 32"; alloc_min=10000
	rss_target=200000 ;;
esac
sizes="0 128 4096 65536 1048576"
children=$ncpu
scale_list=
for n in 1 2 4 8 16; do
	[ "$n" -le $((2 * ncpu)) ] && scale_list="$scale_list $n"
done
clk_tck=$(getconf CLK_TCK)
wrk_bound=$((duration + 30))

# --- processes ----------------------------------------------------------

find_fastcgi_params

# Bodies stay in memory on both sides (no temp files to time).
start_bench_nginx() {
	HTTP_PORT=$(free_port) || fail "no free port found"
	HTTP_LISTEN=127.0.0.1:$HTTP_PORT
	: >"$tmp/server.conf"
	_keep=
	if [ "$mode" = keepalive ]; then
		cat >"$tmp/server.conf" <<EOF
upstream keep_pool {
	server unix:$tmp/upcase.sock;
	keepalive $ka_k;
}
EOF
		_keep=$(bench_location keep keep_pool "fastcgi_keep_conn on; fastcgi_next_upstream error timeout non_idempotent;")
	fi
	bench_server "$HTTP_LISTEN" "	keepalive_requests 1000000;" "$_keep" \
	    >>"$tmp/server.conf"
	render_nginx_conf "$tmp/server.conf"
	sed -i 's/^error_log \(.*\) info;/error_log \1 warn;/' "$tmp/nginx.conf"
	start_nginx
}

# start_responder NAME CHILDREN [PRELOAD]: spawn-fcgi -n on $tmp/NAME.sock.
start_responder() {
	case $1 in
	upcase|keep) _prog=$WORKER; _opts="-f -c $2" ;;
	plain) _prog=$PLAIN; _opts="-c $2" ;;
	esac
	rm -f "$tmp/$1.sock"
	if [ "${3:-}" = preload ]; then
		head -c 8192 /dev/zero >"$tmp/$1.mcount"
		chmod 666 "$tmp/$1.mcount"
		set -- "$1" "$2" env "MCOUNT_FILE=$tmp/$1.mcount" "LD_PRELOAD=$MCOUNT"
	else
		set -- "$1" "$2" env
	fi
	# shellcheck disable=SC2086
	"$3" ${4:+"$4"} ${5:+"$5"} "$SPAWN_FCGI" -n -s "$tmp/$1.sock" -M 0666 \
	    $spawn_user -- "$_prog" $_opts >>"$tmp/$1.log" 2>&1 &
	eval "${1}_pid=$!"
	track_pid "$!"
	wait_until 10 is_socket "$tmp/$1.sock" &&
	    wait_until 10 has_children "$!" "$2" || {
		cat "$tmp/$1.log" >&2; fail "$1 did not start"; }
}

has_children() { [ "$(children_of "$1" | wc -l)" -eq "$2" ]; }

# is_gone PID: PID has exited (a zombie counts: we reap it next).
is_gone() {
	_s=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	case $_s in Z*|'') return 0 ;; esac
	return 1
}

stop_responder() {
	eval "_pid=\$${1}_pid"
	kill -TERM "$_pid" 2>/dev/null
	wait_until 15 is_gone "$_pid" || kill -KILL "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	# Reaped: forget it, lest the final cleanup signal a reused PID.
	tracked_pids=$(echo " $tracked_pids " | sed "s/ $_pid / /")
}

# tree_ticks PID: CPU clock ticks (user + system) of PID, of its reaped
# children, and of its live children.
tree_ticks() {
	for _p in "$1" $(children_of "$1"); do
		sed 's/^.*) //' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}

# vmrss PID: VmRSS of each child of PID in KiB, space-separated, with the
# anonymous part (heap, stack, buffers), where a leak would show; the rest
# is file pages such as code run for the first time.
vmrss() {
	for _p in $(children_of "$1"); do
		awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 }
		    END { printf "%s (anon %s)\n", r, a }' "/proc/$_p/status"
	done | tr '\n' ' ' | sed 's/ $//'
}

# --- load ---------------------------------------------------------------

# shellcheck disable=SC2086 # the list of sizes
make_bodies $sizes

# wrk_run NAME SIZE CONNS SECONDS: one bounded wrk run; prints the BENCH
# fields "requests duration_us non2xx sockerr p50_us p99_us".
wrk_run() {
	_body=
	[ "$2" != 0 ] && _body="$tmp/body.$2"
	echo "== $1 size=$2 conns=$3 ${4}s" >>"$outdir/wrk.log"
	BENCH_BODY=$_body timeout "$wrk_bound" "$WRK" -t1 -c"$3" -d"${4}s" \
	    --timeout 10s --latency -s "$top_srcdir/tests/bench/wrk.lua" \
	    "http://$HTTP_LISTEN/$1/" >"$tmp/wrk.out" 2>&1
	cat "$tmp/wrk.out" >>"$outdir/wrk.log"
	sed -n 's/^BENCH //p' "$tmp/wrk.out" | tr ' ' '\n' | cut -d= -f2 |
	    tr '\n' ' ' | sed 's/ $//'
}

# wrk_ok RESULT: fail unless wrk_run produced its summary line.
wrk_ok() {
	[ -n "$1" ] || fail "wrk failed: $(head -3 "$tmp/wrk.out")"
}

# measure PHASE CHILDREN CONNS SIZE NAME ROUND: one wrk run with CPU
# accounting; appends a row to results.tsv.
measure() {
	eval "_pid=\$${5}_pid"
	_w0=$(tree_ticks "$_pid"); _n0=$(tree_ticks "$nginx_pid")
	_r=$(wrk_run "$5" "$4" "$3" "$duration")
	wrk_ok "$_r"
	_w1=$(tree_ticks "$_pid"); _n1=$(tree_ticks "$nginx_pid")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
	    "$5" "$6" "$(echo "$_r" | tr ' ' '\t')" $((_w1 - _w0)) \
	    $((_n1 - _n0)) >>"$outdir/results.tsv"
	echo "$_r" | awk -v n="$5" -v s="$4" -v c="$3" '{
		printf "  %-6s size %-7s conns %-3s %8.0f req/s  p99 %.1f ms  non-2xx %d\n",
		    n, s, c, $1 / ($2 / 1e6), $6 / 1000, $3 }' >&2
}

# requests NAME COUNT: COUNT sequential 128-byte POSTs through one curl.
requests() {
	{
		echo 'silent'
		echo 'show-error'
		echo 'max-time = 20'
		echo 'write-out = "%{http_code}\n"'
		echo "data-binary = \"@$tmp/body.128\""
		seq "$2" | sed "s|.*|url = \"http://$HTTP_LISTEN/$1/&\"\\
output = \"/dev/null\"|"
	} >"$tmp/curl.cfg"
	_ok=$(timeout 300 "$CURL" -K "$tmp/curl.cfg" 2>/dev/null | grep -c '^200$')
	[ "$_ok" = "$2" ] || fail "$1: $_ok of $2 requests got 200"
}

# Both responders must answer correctly before anything is timed.
check_answers() {
	_u=$("$CURL" -sS --max-time 10 --data-binary 'abc def' "http://$HTTP_LISTEN/upcase/x")
	_p=$("$CURL" -sS --max-time 10 --data-binary 'abc def' "http://$HTTP_LISTEN/plain/x")
	[ "$_u" = "ABC DEF" ] && [ "$_p" = "abc def" ] ||
	    fail "wrong answers: upcase '$_u', plain '$_p'"
}

# --- the run ------------------------------------------------------------

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$outdir/wrk.log"
printf 'phase\tchildren\tconns\tsize\tresponder\tround\trequests\tduration_us\tnon2xx\tsockerr\tp50_us\tp99_us\tworker_ticks\tnginx_ticks\n' \
    >"$outdir/results.tsv"
log "mode $mode: ${duration}s per wrk run, $rounds rounds, connections $conns_list, children $children"

# --keepalive: one pool reached two ways (a new connection per request, and
# through an upstream with keep-alive), and the plain responder beside it.
if [ "$mode" = keepalive ]; then
	start_bench_nginx
	for kids in $ka_children_list; do
		start_responder upcase "$kids"
		keep_pid=$upcase_pid
		start_responder plain "$kids"
		check_answers
		_k=$("$CURL" -sS --max-time 10 --data-binary 'abc def' "http://$HTTP_LISTEN/keep/x")
		[ "$_k" = "ABC DEF" ] || fail "wrong answer through keep-alive: '$_k'"
		log "nginx on $HTTP_LISTEN, keepalive $ka_k, $kids children in each pool"
		for name in upcase keep plain; do
			wrk_run "$name" 128 8 1 >/dev/null	# warm-up
		done
		for size in $ka_sizes; do
			for conns in $conns_list; do
				for round in $(seq "$rounds"); do
					for name in upcase keep plain; do
						measure keepalive "$kids" "$conns" "$size" "$name" "$round"
					done
				done
			done
		done
		stop_responder upcase
		stop_responder plain
	done
	finished=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
	# One row per children, size and connections: medians of each way.
	awk -F'\t' -v tck="$clk_tck" "$awk_median"'
	$1 == "keepalive" {
		c = $2 "\t" $4 "\t" $3
		if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
		k = c SUBSEP $5
		rps[k] = rps[k] " " ($7 / ($8 / 1e6))
		n[k] += $7; wt[k] += $13; nt[k] += $14; bad[k] += $9 + $10
	}
	END {
		for (i = 1; i <= nc; i++) {
			c = order[i]; u = c SUBSEP "upcase"; k = c SUBSEP "keep"
			p = c SUBSEP "plain"
			printf "%s\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\n", c,
			    median(rps[u]), median(rps[k]), median(rps[p]),
			    wt[u] * 1e6 / tck / n[u], wt[k] * 1e6 / tck / n[k],
			    nt[u] * 1e6 / tck / n[u], nt[k] * 1e6 / tck / n[k],
			    bad[u], bad[k], bad[p]
		}
	}' "$outdir/results.tsv" >"$tmp/ka.tsv"
	{
		echo "# upcase-fcgi behind nginx, without and with upstream keep-alive"
		echo
		echo "- Run: $started to $finished (\`tests/bench/run.sh --keepalive\`); load average at start $load_start, at end $load_end"
		echo "- Machine: $ncpu CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), kernel $(uname -r); $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $("$WORKER" -V 2>&1 | head -1)"
		echo "- Setup: nginx with 1 worker process, stock \`fastcgi_params\`. One pool of upcase-fcgi (\`spawn-fcgi -n\`, \`-c\` children) reached two ways: **new**, \`fastcgi_pass unix:...\`, a new connection per request; **keep**, an upstream with \`keepalive $ka_k\`, \`fastcgi_keep_conn on\` and \`fastcgi_next_upstream error timeout non_idempotent\`, as \`deploy/nginx/upcase-fcgi.conf\` has it. **plain**: the plain libfcgi responder (no transform), a new connection per request, same children: the floor libfcgi costs. POSTs, wrk 1 thread, ${duration} s per run, $rounds interleaved rounds (new, keep, plain, new, ...), medians."
		echo
		echo "| children | body | conns | new req/s | keep req/s | plain req/s | keep/new | keep/plain | pool CPU µs/req new / keep | nginx CPU µs/req new / keep | non-2xx+errors new / keep / plain |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|"
		while IFS='	' read -r kids size conns u k p wu wk nu nk bu bk bp; do
			echo "$kids $(size_name "$size" | tr ' ' '_') $conns $u $k $p $wu $wk $nu $nk $bu $bk $bp"
		done <"$tmp/ka.tsv" | awk '{
			gsub("_", " ", $2)
			printf "| %s | %s | %s | %d | %d | %d | **%.2f** | **%.2f** | %.1f / %.1f | %.1f / %.1f | %d / %d / %d |\n",
			    $1, $2, $3, $4, $5, $6, $5 / $4, $5 / $6, $7, $8, $9, $10,
			    $11, $12, $13
		}'
		echo
		echo "CPU µs/req: user + system time of the pool's process tree and of nginx over all rounds, divided by the requests served (clock ticks of $((1000 / clk_tck)) ms)."
		echo
		echo "Raw rows: \`results.tsv\`; wrk's output: \`wrk.log\`."
	} >"$outdir/keepalive.md"
	# The chart: 128-byte requests/s of the three ways, per children and
	# connections.
	if command -v gnuplot >/dev/null 2>&1; then
		awk -F'\t' '$2 == 128 { printf "\"-c %s, %s\" %s %s %s\n", $1, $3, $5, $4, $6 }' \
		    "$tmp/ka.tsv" >"$tmp/ka-chart.dat"
		gnuplot <<EOF 2>"$tmp/gnuplot.err" || log "gnuplot failed: $(cat "$tmp/gnuplot.err")"
set terminal png size 900,540
set output "$outdir/keepalive.png"
set title "Median requests/s, 128-byte POSTs through nginx ($started)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set ylabel "requests/s"
set key outside bottom center horizontal
set xlabel "children (-c), concurrent wrk connections"
set grid ytics
plot "$tmp/ka-chart.dat" using 2:xtic(1) title "upcase-fcgi, upstream keep-alive", "" using 3 title "upcase-fcgi, new connection per request", "" using 4 title "plain libfcgi responder, new connection"
EOF
		[ -s "$outdir/keepalive.png" ] &&
		    printf '\n![requests/s with and without keep-alive](keepalive.png)\n' >>"$outdir/keepalive.md"
	fi
	log "done: $outdir/keepalive.md"
	cat "$outdir/keepalive.md"
	exit 0
fi

start_bench_nginx
start_responder upcase "$children"
start_responder plain "$children"
check_answers
log "nginx on $HTTP_LISTEN, $children children each"

# Resident memory after 1,000 requests, then after $rss_target (128 B):
# the same requests again and again, so growth would be a leak.
for name in upcase plain; do
	requests "$name" 1000
	eval "rss_1k_$name=\"\$(vmrss \"\$${name}_pid\")\""
	served=1000
	for _ in $(seq 400); do
		[ "$served" -ge "$rss_target" ] && break
		r=$(wrk_run "$name" 128 8 5)
		wrk_ok "$r"
		served=$((served + ${r%% *}))
	done
	if [ "$rss_target" -gt 0 ]; then
		eval "rss_many_$name=\"\$(vmrss \"\$${name}_pid\")\""
		eval "rss_many_n_$name=$served"
		log "$name: VmRSS $(eval "echo \$rss_1k_$name") KiB after 1000 requests, $(eval "echo \$rss_many_$name") after $served"
	fi
done

# Throughput matrix: interleaved rounds, each size and connection count.
for name in upcase plain; do
	wrk_run "$name" 128 8 1 >/dev/null	# warm-up, not recorded
done
for conns in $conns_list; do
	for size in $sizes; do
		for round in $(seq "$rounds"); do
			for name in upcase plain; do
				measure main "$children" "$conns" "$size" "$name" "$round"
			done
		done
	done
done
for name in upcase plain; do
	eval "rss_end_$name=\"\$(vmrss \"\$${name}_pid\")\""
done
stop_responder upcase
stop_responder plain

# Throughput against the number of children (128-byte body).
for n in $scale_list; do
	start_responder upcase "$n"
	start_responder plain "$n"
	check_answers
	for round in $(seq "$rounds"); do
		for name in upcase plain; do
			measure children "$n" 8 128 "$name" "$round"
		done
	done
	stop_responder upcase
	stop_responder plain
done

# Heap calls per request, under mcount.so, at least $alloc_min requests.
for name in upcase plain; do
	start_responder "$name" "$children" preload
done
check_answers
for name in upcase plain; do
	wrk_run "$name" 128 8 1 >/dev/null	# warm-up
	sleep 0.5
	before=$(od -An -v -t u8 -N 40 "$tmp/$name.mcount" | tr -s ' \n' '  ')
	served=0
	for _ in $(seq 20); do
		[ "$served" -ge "$alloc_min" ] && break
		r=$(wrk_run "$name" 128 8 "$duration")
		wrk_ok "$r"
		served=$((served + ${r%% *}))
	done
	sleep 0.5	# let the last FCGX_Finish_r run
	after=$(od -An -v -t u8 -N 40 "$tmp/$name.mcount" | tr -s ' \n' '  ')
	echo "$before $after" | awk -v n="$served" -v name="$name" '{
		printf "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", name, n,
		    ($6 + $7 + $8 + $9 + $10 - $1 - $2 - $3 - $4 - $5) / n,
		    ($6 - $1) / n, ($7 - $2) / n, ($8 - $3) / n, ($9 - $4) / n,
		    ($10 - $5) / n }' >>"$tmp/alloc.tsv"
done
for name in upcase plain; do
	stop_responder "$name"
done
finished=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ---------------------------------------------------------

# Medians per (phase, children, conns, size, responder).
awk -F'\t' -v tck="$clk_tck" "$awk_median"'
NR > 1 {
	k = $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5
	if (!(k in req)) order[++nk] = k
	req[k] = req[k] " " $7
	rps[k] = rps[k] " " ($7 / ($8 / 1e6))
	p50[k] = p50[k] " " $11
	p99[k] = p99[k] " " $12
	bad[k] += $9 + $10
	wt[k] += $13; nt[k] += $14; n[k] += $7
}
END {
	for (i = 1; i <= nk; i++) {
		k = order[i]
		printf "%s\t%.0f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t%d\n", k,
		    median(rps[k]), median(p50[k]) / 1000, median(p99[k]) / 1000,
		    bad[k], n[k] ? wt[k] * 1e6 / tck / n[k] : 0,
		    n[k] ? nt[k] * 1e6 / tck / n[k] : 0, n[k]
	}
}' "$outdir/results.tsv" >"$tmp/medians.tsv"

# row PHASE CHILDREN CONNS SIZE: the Markdown row comparing both.
row() {
	_u=$(awk -F'\t' -v k="$1	$2	$3	$4	upcase" 'index($0, k "\t") == 1' "$tmp/medians.tsv")
	_p=$(awk -F'\t' -v k="$1	$2	$3	$4	plain" 'index($0, k "\t") == 1' "$tmp/medians.tsv")
	printf '%s\t%s\n' "$_u" "$_p" | awk -F'\t' -v sz="$(size_name "$4")" -v c="$3" -v ch="$2" -v ph="$1" '{
		ratio = $18 > 0 ? $6 / $18 : 0
		if (ph == "main")
			printf "| %s | %s | %s | %s | **%.2f** | %s / %s | %s / %s | %d / %d | %s / %s | %s / %s |\n",
			    sz, c, $6, $18, ratio, $7, $8, $19, $20, $9, $21,
			    $10, $22, $11, $23
		else
			printf "| %s | %s | %s | **%.2f** | %s / %s | %d / %d |\n",
			    ch, $6, $18, ratio, $8, $20, $9, $21
	}'
}

rss_row() {
	eval "_a=\${rss_1k_$1:-}; _b=\${rss_end_$1:-}; _c=\${rss_many_$1:-}; _cn=\${rss_many_n_$1:-}"
	_n=$(awk -F'\t' -v n="$1" '$1 == "main" && $5 == n { s += $7 } END { printf "%d", s }' \
	    "$outdir/results.tsv")
	printf '| %s | %s |' "$1" "$_a"
	if [ -n "$_c" ]; then printf ' %s (%s requests) |' "$_c" "$_cn"
	else printf ' not measured (--quick) |'; fi
	printf ' %s (%s more) |\n' "$_b" "$_n"
}

{
	echo "# upcase-fcgi benchmark: upcase-fcgi vs a plain libfcgi responder"
	echo
	flag=; [ "$mode" != default ] && flag=" --$mode"
	echo "- Run: $started to $finished, mode \`$mode\` (\`tests/bench/run.sh$flag\`)"
	echo "- Machine: $ncpu CPUs ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), kernel $(uname -r), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- Load average (1/5/15 min) at start: $load_start; at end: $load_end. The machine may be shared: figures are noisy; rounds are interleaved (upcase, plain, upcase, ...) and medians reported."
	echo "- Software: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $("$WRK" -v 2>&1 | head -1 | cut -d' ' -f1-2), $("$WORKER" -V 2>&1 | head -1)"
	echo "- Setup: nginx, 1 worker process, TCP 127.0.0.1, stock \`fastcgi_params\` (request headers passed), \`fastcgi_buffers 64 32k\`, no temp files; each responder started by \`spawn-fcgi -n\` on a unix socket with \`-c $children\` (upcase-fcgi: the allocation arena build, UTF-8 mode, \`-m 1M\`). wrk: 1 thread, keep-alive, ${duration} s per run, $rounds rounds; body: ASCII text (lowercase), echoed back uppercased (upcase) or unchanged (plain)."
	echo
	echo "## Throughput and latency (medians of $rounds rounds)"
	echo
	echo "| body | conns | upcase req/s | plain req/s | ratio upcase/plain | upcase p50 / p99 ms | plain p50 / p99 ms | non-2xx+errors upcase / plain | worker CPU µs/req upcase / plain | nginx CPU µs/req upcase / plain |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for conns in $conns_list; do
		for size in $sizes; do
			row main "$children" "$conns" "$size"
		done
	done
	echo
	echo "CPU µs/req: user + system time of the responder's process tree (master and children) and of nginx (master and worker) over all rounds, divided by the requests served (clock ticks of $((1000 / clk_tck)) ms, so small per-request figures are approximate)."
	echo
	echo "## Children (128-byte POST, 8 connections, medians of $rounds rounds)"
	echo
	echo "| children | upcase req/s | plain req/s | ratio | p99 ms upcase / plain | non-2xx+errors upcase / plain |"
	echo "|---|---|---|---|---|---|"
	for n in $scale_list; do
		row children "$n" 8 128
	done
	echo
	echo "## Heap calls per request (mcount.so, 128-byte POST, whole process tree)"
	echo
	echo "| responder | requests | heap calls/req | malloc | calloc | realloc | free | aligned |"
	echo "|---|---|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "| %s | %d | **%s** | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$tmp/alloc.tsv"
	echo
	echo "## Resident memory of each child (VmRSS, KiB; in parentheses RssAnon, where a leak would show)"
	echo
	echo "| responder | after 1,000 requests (128 B) | after $([ "$rss_target" -gt 0 ] && echo "$rss_target" || echo 200000) requests (128 B) | after the throughput runs (all sizes) |"
	echo "|---|---|---|---|"
	rss_row upcase
	rss_row plain
	echo
	echo "Raw rows: \`results.tsv\`; wrk's output: \`wrk.log\`."
} >"$outdir/results.md"

# A chart of the headline: median requests/s per body size.
if command -v gnuplot >/dev/null 2>&1; then
	first_conns=${conns_list%% *}
	for size in $sizes; do
		u=$(awk -F'\t' -v s="$size" -v c="$first_conns" '$1 == "main" && $3 == c && $4 == s && $5 == "upcase" { print $6 }' "$tmp/medians.tsv")
		p=$(awk -F'\t' -v s="$size" -v c="$first_conns" '$1 == "main" && $3 == c && $4 == s && $5 == "plain" { print $6 }' "$tmp/medians.tsv")
		printf '"%s" %s %s\n' "$(size_name "$size")" "${u:-0}" "${p:-0}"
	done >"$tmp/chart.dat"
	gnuplot <<EOF 2>"$tmp/gnuplot.err" || log "gnuplot failed: $(cat "$tmp/gnuplot.err")"
set terminal png size 900,500
set output "$outdir/results.png"
set title "Median requests/s, $first_conns connections, $children children ($started)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "requests/s (log scale)"
set xlabel "request body"
set key top right
set grid ytics
plot "$tmp/chart.dat" using 2:xtic(1) title "upcase-fcgi", "" using 3 title "plain libfcgi responder"
EOF
	[ -s "$outdir/results.png" ] && echo "![requests/s](results.png)" >>"$outdir/results.md"
fi

log "done: $outdir/results.md"
cat "$outdir/results.md"
