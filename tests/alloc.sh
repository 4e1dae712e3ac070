#!/bin/sh
# Zero heap calls per request: the worker, behind a real nginx that sends
# the stock fastcgi_params and every request header, makes no call into the
# C library's heap (malloc, calloc, realloc, free, the aligned family) in
# any of its processes once warmed up.  tests/mcount.so counts the calls of
# the whole process tree.  The plain libfcgi responder is measured the same
# way in the same nginx and must show libfcgi's own calls (at least 12 per
# request): that proves the counter sees them, so this test can fail.
# A second worker on TCP, with an allowlist and -r recycling, is measured
# the same way while peers not on its list are refused: still 0 calls, so
# neither refusals nor the start of a recycled child allocate.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
require SPAWN_FCGI

MCOUNT="$top_builddir/tests/mcount.so"
PLAIN="$top_builddir/tests/plain-responder"
WARMUP=200		# requests before the first reading
POSTS=2000		# measured POSTs with a body
GETS=300		# measured GETs with 10 extra request headers
CHILDREN=2

[ -f "$MCOUNT" ] && [ -x "$PLAIN" ] && [ -x "$FCGI_RAW" ] ||
    fail "build tests/mcount.so and tests/plain-responder first (make check)"

# Sanitizers replace malloc themselves (gcc links them as libraries, clang
# statically, so ask the build); the arena can be configured out.
grep -q '^SANITIZE_CFLAGS = .*-fsanitize' "$top_builddir/Makefile" &&
    skip "worker built with --enable-sanitizers: they own malloc"
LD_TRACE_LOADED_OBJECTS=1 "$WORKER" 2>/dev/null | grep -q 'libfcgi\.so' &&
    skip "worker built with --disable-arena: libfcgi allocates per request by design"

# nginx's stock fastcgi_params, next to its configuration file.
find_fastcgi_params

# counters FILE: malloc calloc realloc free aligned free(NULL), one line.
counters() { od -An -v -t u8 -N 48 "$1" | tr -s ' \n' '  ' | sed 's/^ //;s/ $//'; }

# settle FILE: wait until the counters stop moving (a child may still be
# in FCGX_Finish_r after nginx answered curl), then print them.
settle() {
	_prev=$(counters "$1")
	for _ in $(seq 50); do
		sleep 0.1
		_now=$(counters "$1")
		[ "$_now" = "$_prev" ] && break
		_prev=$_now
	done
	echo "$_now"
}

# new_counter_file NAME: a zeroed counter file every process can write.
new_counter_file() {
	head -c 8192 /dev/zero >"$tmp/$1.mcount" && chmod 666 "$tmp/$1.mcount"
}

# The worker, as deployed, under the counter.
new_counter_file upcase
MCOUNT_FILE="$tmp/upcase.mcount" LD_PRELOAD="$MCOUNT"
export MCOUNT_FILE LD_PRELOAD
start_worker "$tmp/upcase.sock" -c "$CHILDREN" --status-path /upcase/status
unset LD_PRELOAD MCOUNT_FILE
for pid in $worker_pid $(children_of "$worker_pid"); do
	grep -q 'mcount\.so' "/proc/$pid/maps" ||
	    fail "process $pid of the worker does not have mcount.so loaded"
done

# The worker on TCP with an allowlist, recycling each child after 50
# requests, under the counter too.
new_counter_file tcp
tcp_port=$(free_port)
# shellcheck disable=SC2086
MCOUNT_FILE="$tmp/tcp.mcount" LD_PRELOAD="$MCOUNT" \
    "$WORKER" -f -c "$CHILDREN" -r 50 -s "127.0.0.1:$tcp_port" -A 127.0.0.1 \
    $as_user >"$tmp/tcp.log" 2>&1 &
tcp_pid=$!
track_pid "$tcp_pid"
wait_until 10 has_children "$tcp_pid" || {
	cat "$tmp/tcp.log" >&2; fail "the TCP worker did not start"; }

# The plain responder, started by spawn-fcgi in the foreground (it execs).
new_counter_file plain
spawn_user=
[ "$(id -u)" = 0 ] && spawn_user="-u $run_user -g $run_group"
# shellcheck disable=SC2086
MCOUNT_FILE="$tmp/plain.mcount" LD_PRELOAD="$MCOUNT" \
    "$SPAWN_FCGI" -n -s "$tmp/plain.sock" -M 0666 $spawn_user -- \
    "$PLAIN" -c "$CHILDREN" >"$tmp/plain.log" 2>&1 &
plain_pid=$!
track_pid "$plain_pid"
wait_until 10 is_socket "$tmp/plain.sock" || {
	cat "$tmp/plain.log" >&2; fail "plain responder did not bind"; }

cat >"$tmp/server.conf" <<EOF
upstream upcase_kept {
	server unix:$tmp/upcase.sock;
	keepalive 8;
}
server {
	listen unix:$HTTP_SOCKET;
	client_max_body_size 1m;
	location /upcase/ {
		include $params;
		fastcgi_pass unix:$tmp/upcase.sock;
	}
	location /plain/ {
		include $params;
		fastcgi_pass unix:$tmp/plain.sock;
	}
	location /tcp/ {
		include $params;
		fastcgi_pass 127.0.0.1:$tcp_port;
	}
	location /kept/ {
		include $params;
		fastcgi_pass upcase_kept;
		fastcgi_keep_conn on;
	}
}
EOF
render_nginx_conf "$tmp/server.conf"
start_nginx

# The request body: one line, so each response is one line in the output.
body='hello, world: a request body of some length, to be uppercased.'
printf '%s\n' "$body" >"$tmp/body"
upper=$(printf '%s' "$body" | tr 'a-z' 'A-Z')

# curl_config FILE PATH COUNT KIND: COUNT requests in one curl config;
# KIND post sends the body, get sends 10 extra request headers.
curl_config() {
	{
		echo 'silent'
		echo 'show-error'
		echo 'max-time = 20'
		echo "unix-socket = \"$HTTP_SOCKET\""
		echo 'write-out = "%{http_code}\n"'
		if [ "$4" = post ]; then
			echo "data-binary = \"@$tmp/body\""
		else
			for h in 1 2 3 4 5 6 7 8 9 10; do
				echo "header = \"X-Extra-$h: value $h\""
			done
		fi
		seq "$3" | sed "s|.*|url = \"http://localhost/$2/&\"|"
	} >"$1"
}

# batch NAME KIND COUNT: send COUNT requests in one curl process, check
# every status and (for POSTs) every body.
batch() {
	curl_config "$tmp/curl.cfg" "$1" "$3" "$2"
	timeout 120 "$CURL" -K "$tmp/curl.cfg" >"$tmp/out" 2>"$tmp/curl.err" ||
	    { head -5 "$tmp/curl.err" >&2; fail "$1: curl failed"; }
	n=$(grep -c '^200$' "$tmp/out")
	[ "$n" = "$3" ] || fail "$1 $2: $n of $3 requests got 200"
	if [ "$2" = post ]; then
		want=$upper
		[ "$1" = plain ] && want=$body
		[ "$1" = tcp-refusing ] && want=$upper
		[ "$1" = kept ] && want=$upper
		n=$(grep -cxF "$want" "$tmp/out")
		[ "$n" = "$3" ] || fail "$1 post: $n of $3 bodies as expected"
	fi
}

# measure NAME KIND COUNT: print per-request calls for one batch.
measure() {
	before=$(settle "$tmp/$1.mcount")
	batch "$1" "$2" "$3"
	after=$(settle "$tmp/$1.mcount")
	echo "$before $after" | awk -v n="$3" -v name="$1" -v kind="$2" '{
		split("malloc calloc realloc free aligned free(NULL)", k, " ")
		total = 0
		line = ""
		for (i = 1; i <= 6; i++) {
			d = $(i + 6) - $i
			if (i <= 5)
				total += d
			line = line sprintf(" %s %.2f", k[i], d / n)
		}
		printf "%s %s: %d requests, %.2f heap calls per request (%s)\n",
		    name, kind, n, total / n, substr(line, 2)
		printf "%d %d\n", total, $7 - $1 > "/dev/stderr"
	}' 2>"$tmp/$1.$2.totals"
}

for name in upcase plain; do
	batch "$name" post $((WARMUP / 2))
	batch "$name" get $((WARMUP / 2))
done
pass "warm-up: $WARMUP requests to each responder answered"

for name in upcase plain; do
	measure "$name" post "$POSTS"
	measure "$name" get "$GETS"
done

read -r plain_calls plain_mallocs <"$tmp/plain.post.totals"
[ "$plain_mallocs" -ge $((12 * POSTS)) ] ||
    fail "plain responder: $plain_mallocs mallocs for $POSTS requests; libfcgi makes at least 12 per request, so mcount.so does not see them"
pass "the counter sees libfcgi's calls in the plain responder ($plain_calls heap calls for $POSTS POSTs)"

for kind in post get; do
	read -r calls _ <"$tmp/upcase.$kind.totals"
	[ "$calls" -eq 0 ] || {
		echo "the last 256 calls of the worker's processes, grouped:" >&2
		od -An -v -t u8 -j 64 -N 4096 "$tmp/upcase.mcount" |
		    tr -s ' ' '\n' | sed '/^$/d' | paste - - | awk '
			BEGIN { split("malloc calloc realloc free aligned", k, " ") }
			$1 > 0 { printf "  %s of %d bytes in pid %d\n",
			    k[int($1 / 4294967296) + 1], $2, $1 % 4294967296 }' |
		    sort | uniq -c | sort -rn | head -20 >&2
		fail "upcase-fcgi made $calls heap calls in $kind requests; want 0"
	}
done
pass "upcase-fcgi made 0 heap calls in $POSTS POSTs and $GETS GETs with extra headers"

# The status page (--status-path), 50 times in each format, with and
# without a row per child.
{
	echo 'silent'
	echo 'show-error'
	echo 'max-time = 20'
	echo "unix-socket = \"$HTTP_SOCKET\""
	echo 'write-out = "%{http_code} %{size_download}\n"'
	for q in '' json openmetrics full 'json&full' 'openmetrics&full'; do
		for _ in $(seq 50); do
			echo "url = \"http://localhost/upcase/status?$q\""
			echo 'output = "/dev/null"'
		done
	done
} >"$tmp/status.cfg"
before=$(settle "$tmp/upcase.mcount")
timeout 120 "$CURL" -K "$tmp/status.cfg" >"$tmp/out" 2>"$tmp/curl.err" ||
    fail "status pages: curl failed: $(head -3 "$tmp/curl.err")"
after=$(settle "$tmp/upcase.mcount")
[ "$(grep -c '^200 [1-9]' "$tmp/out")" = 300 ] ||
    fail "status pages: $(grep -c '^200 [1-9]' "$tmp/out") of 300 answered 200 with a page"
calls=$(echo "$before $after" | awk '{ t = 0; for (i = 1; i <= 5; i++) t += $(i + 6) - $i; print t }')
[ "$calls" -eq 0 ] || fail "upcase-fcgi: $calls heap calls in 300 status pages; want 0"
pass "upcase-fcgi made 0 heap calls in 300 status pages (text, json, openmetrics, each also with full)"

# Upstream keep-alive: requests on kept connections, served from the
# children's wait sets (conns.c), counted on the same worker. What the
# children hold between requests without keep-alive is the baseline (it
# depends on what the test harness left open as fds 0-2).
# shellcheck disable=SC2046
idle_fds=$(open_fds $(children_of "$worker_pid"))
batch kept post "$WARMUP"
before=$(settle "$tmp/upcase.mcount")
batch kept post "$POSTS"
after=$(settle "$tmp/upcase.mcount")
calls=$(echo "$before $after" | awk '{ t = 0; for (i = 1; i <= 5; i++) t += $(i + 6) - $i; print t }')
[ "$calls" -eq 0 ] || fail "upcase-fcgi with upstream keep-alive: $calls heap calls in $POSTS POSTs; want 0"
kids=$(children_of "$worker_pid")
# shellcheck disable=SC2086
fds_above "$idle_fds" $kids || {
	for k in $kids; do echo "child $k:"; ls -l "/proc/$k/fd"; done >&2
	tail -5 "$tmp/worker.log" >&2
	fail "keep-alive: the children hold $(open_fds $kids) fds, as many as without keep-alive ($idle_fds); nothing was measured"
}
# shellcheck disable=SC2086
pass "upcase-fcgi with upstream keep-alive: 0 heap calls in $POSTS POSTs on kept connections (children hold $(open_fds $kids) fds, $idle_fds without)"

# TCP, allowlist, recycling: warm up, then count a measured batch during
# which peers not on the list (127.0.0.2) keep connecting.
batch tcp post "$WARMUP"
before_pids=$(children_of "$tcp_pid")
refuse_loop() {
	for _ in $(seq 100); do
		printf 'begin 1\nparams-end 1\nstdin-end 1\nexpect-end 1\n' |
		    "$FCGI_RAW" -t 5 -b 127.0.0.2:0 "127.0.0.1:$tcp_port" \
		    >/dev/null 2>&1
	done
}
refuse_loop &
refuser=$!
track_pid "$refuser"
before=$(settle "$tmp/tcp.mcount")
batch tcp post "$POSTS"
wait "$refuser"
after=$(settle "$tmp/tcp.mcount")
calls=$(echo "$before $after" | awk '{ t = 0; for (i = 1; i <= 5; i++) t += $(i + 6) - $i; print t }')
after_pids=$(children_of "$tcp_pid")
for p in $before_pids; do
	case " $(echo $after_pids) " in
	*" $p "*) fail "TCP worker: child $p still serves after $POSTS requests with -r 50" ;;
	esac
done
grep -q 'refused a connection from 127.0.0.2' "$tmp/tcp.log" ||
    fail "TCP worker: no refusal logged: $(cat "$tmp/tcp.log")"
[ "$calls" -eq 0 ] || fail "TCP worker with -A and -r 50: $calls heap calls in $POSTS POSTs and 100 refused peers; want 0"
pass "TCP worker with -A and -r 50: 0 heap calls in $POSTS POSTs, 100 refused peers and about $((POSTS / 50)) recycled children"

# The load above exercises the success path; a malloc on a path it does
# not take (a refusal, an error) would go unseen.  So the per-request code
# must not name the allocator at all.  (The arena only receives libfcgi's
# calls: any allocation of ours on the measured path is counted above.)
objs=$(ls "$top_builddir"/src/*worker.o "$top_builddir"/src/*upper.o \
    "$top_builddir"/src/*policy.o "$top_builddir"/src/*accept.o \
    "$top_builddir"/src/*conns.o "$top_builddir"/src/*record.o 2>/dev/null)
[ "$(echo "$objs" | wc -w)" -ge 6 ] ||
    fail "objects of worker.c, upper.c, policy.c, accept.c, conns.c and record.c not found in $top_builddir/src"
for o in $objs; do
	bad=$(nm -u "$o" | awk '{ print $NF }' | grep -E \
	    '^(malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc)$' |
	    tr '\n' ' ')
	[ -z "$bad" ] || fail "$(basename "$o") calls $bad: the per-request code must not allocate"
done
pass "worker.c, upper.c, policy.c, accept.c, conns.c and record.c name no allocator function"

# The arena's high-water mark, when gdb can attach (best effort).
if command -v gdb >/dev/null 2>&1; then
	for child in $(children_of "$worker_pid"); do
		timeout 30 gdb -p "$child" -batch -nx \
		    -ex 'print arena_counters' </dev/null 2>/dev/null |
		    sed -n 's/^\$1 = //p'
	done >"$tmp/arena"
	if [ -s "$tmp/arena" ]; then
		sed 's/^/arena of a child: /' "$tmp/arena"
		hw=$(sed -n 's/.*high_water = \([0-9]*\).*/\1/p' "$tmp/arena" |
		    sort -n | tail -1)
		[ -n "$hw" ] && [ "$hw" -gt 0 ] && [ "$hw" -lt 65536 ] ||
		    fail "arena high-water mark '$hw' not in (0, 64 KiB)"
		! grep -qv 'overflows = 0,' "$tmp/arena" ||
		    fail "arena overflowed to the heap"
		pass "arena high-water $hw bytes of 131072, no overflow"
	else
		echo "arena high-water: not measured (gdb could not attach)"
	fi
fi
