#!/bin/sh
# deploy/nginx/upcase-fcgi-upstream.conf itself, its example hosts pointed
# at two workers on 127.0.0.1 TCP ports and a third port where nothing
# listens (a host that is down).  200 requests, 8 at a time: each gets 200
# and its own body uppercased; nginx's access log ($upstream_addr, added
# by this test's outer config) shows that both workers served a fair share
# (round robin), and that the down host was tried and every request it
# failed was retried on a live one.  Then a 1 MiB body whose answer is
# 1.5 MiB, read by a slow client: no temporary file, neither for the body
# nor for the answer (the buffer sizing of the file).
# shellcheck disable=SC2015 # "A && B || fail": fail if either is false
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
need_ss

conf="$top_srcdir/deploy/nginx/upcase-fcgi-upstream.conf"
p1=$(free_port)
start_worker_on "127.0.0.1:$p1" -c 2 -A 127.0.0.1
# (start_worker_on logs to worker.log; the worker keeps writing to the
# renamed file.)
mv "$tmp/worker.log" "$tmp/worker1.log"
pid1=$worker_pid
p2=$(free_port)
start_worker_on "127.0.0.1:$p2" -c 2 -A 127.0.0.1
mv "$tmp/worker.log" "$tmp/worker2.log"
pid2=$worker_pid
p3=$(free_port)
[ "$p3" != "$p1" ] && [ "$p3" != "$p2" ] || p3=$(free_port)
tcp_listening "$p3" && fail "port $p3 of the down host is in use"

# The file as shipped; only the listen address and the three hosts change.
sed -e "s|listen 127.0.0.1:8080;|listen $HTTP_LISTEN;|" \
    -e "s|server 198\.18\.1\.1:9000 |server 127.0.0.1:$p1 |" \
    -e "s|server 198\.18\.2\.1:9000 |server 127.0.0.1:$p2 |" \
    -e "s|server \[2001:2:0:3::1\]:9000 |server 127.0.0.1:$p3 |" \
    "$conf" >"$tmp/server.conf"
for want in "listen $HTTP_LISTEN;" \
    "server 127.0.0.1:$p1 max_fails=3 fail_timeout=5s;" \
    "server 127.0.0.1:$p2 max_fails=3 fail_timeout=5s;" \
    "server 127.0.0.1:$p3 max_fails=3 fail_timeout=5s;" \
    "keepalive 16;" "fastcgi_pass upcase_fcgi_pool;" "fastcgi_keep_conn on;" \
    "fastcgi_connect_timeout 1s;" \
    "fastcgi_next_upstream error timeout non_idempotent;" \
    "client_max_body_size 1m;" "client_body_buffer_size 1m;" \
    "fastcgi_buffer_size 32k;" "fastcgi_buffers 48 32k;"; do
	grep -q "^[[:space:]]*$want\$" "$tmp/server.conf" ||
	    fail "$conf: no '$want' (after rendering)"
done
[ "$(grep -c '^[[:space:]]*server [^ ]*:[0-9]* ' "$tmp/server.conf")" -eq 3 ] ||
    fail "$conf: expected exactly the 3 example server lines"

render_nginx_conf "$tmp/server.conf"
# The outer config logs which upstream served each request (a retried
# request lists every address it tried, the last one answered).
sed -i "s|^\([[:space:]]*\)access_log off;|\1log_format ucf '\$msec\|\$status\|\$upstream_addr\|\$upstream_status';\\
\1access_log $tmp/nginx/access.log ucf;|" "$tmp/nginx.conf"
grep -q "access_log $tmp/nginx/access.log ucf;" "$tmp/nginx.conf" ||
    fail "could not add the access log to nginx.conf"
start_nginx
mark=$(lines "$tmp/nginx/access.log")

# 200 POSTs, 8 at a time, each on its own client connection, each with
# its own body.
for i in $(seq 200); do
	[ "$i" = 1 ] || echo 'next'
	echo 'silent'
	echo 'max-time = 10'
	echo "unix-socket = \"$HTTP_SOCKET\""
	printf 'write-out = "%%{http_code}\\n"\n'
	echo "url = \"http://localhost/$i\""
	echo "data-binary = \"request-$i\""
	echo "output = \"$tmp/r.$i\""
done >"$tmp/many.cfg"
"$CURL" --parallel --parallel-immediate --parallel-max 8 -K "$tmp/many.cfg" \
    >"$tmp/many.codes" 2>/dev/null
[ "$(grep -cx 200 "$tmp/many.codes")" -eq 200 ] ||
    fail "not 200 x 200: $(sort "$tmp/many.codes" | uniq -c | tr '\n' ';')"
for i in $(seq 200); do
	[ "$(cat "$tmp/r.$i")" = "REQUEST-$i" ] ||
	    fail "request $i: body '$(cat "$tmp/r.$i")'"
done
pass "200 requests through the upstream file: all 200, each its own body uppercased"

since "$tmp/nginx/access.log" "$mark" >"$tmp/load.log"
[ "$(wc -l <"$tmp/load.log")" -eq 200 ] ||
    fail "access log: $(wc -l <"$tmp/load.log") lines for 200 requests"
# served ADDRESS: requests that ADDRESS answered (the last address tried).
served() {
	awk -F'|' -v a="$1" '{ n = split($3, t, ", "); if (t[n] == a) c++ }
	    END { print c + 0 }' "$tmp/load.log"
}
# tried ADDRESS: requests for which nginx tried ADDRESS at all.
tried() {
	awk -F'|' -v a="$1" '{ n = split($3, t, ", ")
	    for (i = 1; i <= n; i++) if (t[i] == a) { c++; break } }
	    END { print c + 0 }' "$tmp/load.log"
}
s1=$(served "127.0.0.1:$p1")
s2=$(served "127.0.0.1:$p2")
s3=$(served "127.0.0.1:$p3")
t3=$(tried "127.0.0.1:$p3")
echo "served: 127.0.0.1:$p1 $s1, 127.0.0.1:$p2 $s2, down host $s3 (tried for $t3 requests)"
[ $((s1 + s2)) -eq 200 ] || fail "only $((s1 + s2)) of 200 served by the two workers: $(head -5 "$tmp/load.log")"
# Round robin over the live hosts: about 100 each; 60 leaves room for the
# down host's probes, whose requests go to whichever host is next.
[ "$s1" -ge 60 ] && [ "$s2" -ge 60 ] ||
    fail "uneven: $s1 and $s2 requests (want >= 60 each)"
pass "both backends served: $s1 and $s2 of 200"
[ "$s3" -eq 0 ] || fail "the down host 'served' $s3 requests"
[ "$t3" -ge 1 ] || fail "nginx never tried the down host (is it in the upstream?)"
grep -q "connect() failed (111: Connection refused) while connecting to upstream.*127.0.0.1:$p3" \
    "$tmp/nginx/error.log" || fail "no refused connect to the down host logged"
# After max_fails=3 failures it is left out for fail_timeout=5s, then
# probed by one request per 5 s.  Requests already on their way to it
# when the third failure is counted -- up to the 7 others of a batch of 8
# -- are tried there too (seen: 5 in 0 s).
span=$(awk -F'|' 'NR == 1 { f = $1 } END { printf "%d", $1 - f }' "$tmp/load.log")
[ "$t3" -le $((3 + 7 + span / 5 + 1)) ] ||
    fail "the down host was tried for $t3 requests in $span s (max_fails=3 fail_timeout=5s)"
pass "down host: tried for $t3 requests (max_fails 3), each retried on a live one; none failed"

# Buffer sizing: a body of 1 MiB (-m) whose answer is 1.5 MiB (U+023F,
# 2 bytes, uppercases to U+2C7E, 3 bytes), read by a client at 4 MB/s so
# that nginx must hold the answer: neither goes to a temporary file.
yes "$(printf '\310\277')" | head -n 524288 | tr -d '\n' >"$tmp/grow.in"
[ "$(wc -c <"$tmp/grow.in")" -eq 1048576 ] || fail "could not make the 1 MiB body"
yes "$(printf '\342\261\276')" | head -n 524288 | tr -d '\n' >"$tmp/grow.want"
http --limit-rate 4M --data-binary "@$tmp/grow.in" -o "$tmp/grow.out" \
    http://localhost/ || fail "1 MiB POST failed"
cmp -s "$tmp/grow.out" "$tmp/grow.want" ||
    fail "1 MiB body: answer of $(wc -c <"$tmp/grow.out") bytes differs from the 1.5 MiB expected"
if grep 'buffered to a temporary file' "$tmp/nginx/error.log" >&2; then
	fail "nginx used a temporary file (lines above)"
fi
pass "1 MiB body, 1.5 MiB answer to a slow client: both kept in memory"

kill -TERM "$nginx_pid"
wait "$nginx_pid" || fail "nginx did not exit 0"
for pid in "$pid1" "$pid2"; do
	kill -TERM "$pid"
	wait "$pid" || fail "worker $pid did not exit 0"
done
grep -h 'refused' "$tmp/worker1.log" "$tmp/worker2.log" >&2 &&
    fail "a worker refused nginx's connection"
pass "both workers stop cleanly"
