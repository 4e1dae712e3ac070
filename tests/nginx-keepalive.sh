#!/bin/sh
# nginx upstream keep-alive (keepalive K, fastcgi_keep_conn on), as the
# disabled block of deploy/nginx/upcase-fcgi.conf sets it up, with a pool
# sized by the rule in that file and the man page's CAVEATS: more children
# than nginx worker processes x K.  A child waits on its kept connection
# instead of the listening socket, so with children <= workers x K nginx
# can hold every child on an idle connection while it opens a new one for
# the next request, which then waits in the listen backlog until a kept
# connection times out.  nginx's fastcgi_read_timeout is cut to 5 s so that such a
# request shows up as a 504 (or a curl timeout) in seconds, not after 60.
#
# Light traffic: sequential requests with pauses, then bursts of more
# concurrent requests than there are children, all at once from one curl
# (so nginx opens new connections while others sit idle in its cache),
# then sequential again.
# Every request must get 200 and its uppercased body within 4 s.  Also
# checked: the connections are really kept (a child holds one between
# requests).
#
# KEEPALIVE_WORKERS, KEEPALIVE_K and KEEPALIVE_CHILDREN override the
# defaults (2, 2, and workers x K + 1); with KEEPALIVE_CHILDREN at or below
# workers x K this test is expected to fail (see tests/bench/README.md).
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL

workers=${KEEPALIVE_WORKERS:-2}
k=${KEEPALIVE_K:-2}
children=${KEEPALIVE_CHILDREN:-$((workers * k + 1))}
burst=$((children * 2))
bursts=3

start_worker "$tmp/fcgi.sock" -c "$children"
wait_until 10 count_children "$worker_pid" "$children" ||
    fail "pool did not reach $children children"
kids=$(children_of "$worker_pid")
# shellcheck disable=SC2086
idle_fds=$(open_fds $kids)

# The disabled keep-alive block of deploy/nginx/upcase-fcgi.conf, enabled
# as its comment says: code is commented out with "#" and no space, prose
# with "# ".  Then keepalive K, and a short fastcgi_read_timeout.
deploy_server_conf "$tmp/fcgi.sock"
sed -i -e 's/^\([[:space:]]*\)#\([^ ]\)/\1\2/' \
    -e '/^[[:space:]]*fastcgi_pass unix:/d' \
    -e "s/^\([[:space:]]*keepalive\) [0-9]*;/\1 $k;/" \
    -e 's/^\([[:space:]]*\)fastcgi_keep_conn on;/&\
\1fastcgi_read_timeout 5s;/' "$tmp/server.conf"
for want in "upstream upcase_fcgi {" "server unix:$tmp/fcgi.sock;" \
    "keepalive $k;" "fastcgi_pass upcase_fcgi;" "fastcgi_keep_conn on;" \
    "fastcgi_read_timeout 5s;"; do
	grep -q "^[[:space:]]*$want\$" "$tmp/server.conf" ||
	    fail "deploy/nginx/upcase-fcgi.conf: no '$want' once its keep-alive block is enabled"
done
[ "$(grep -c '^[[:space:]]*fastcgi_pass ' "$tmp/server.conf")" = 1 ] ||
    fail "deploy/nginx/upcase-fcgi.conf: not exactly one fastcgi_pass with keep-alive enabled"
render_nginx_conf "$tmp/server.conf"
sed -i "s/^worker_processes 1;/worker_processes $workers;/" "$tmp/nginx.conf"
grep -q "^worker_processes $workers;" "$tmp/nginx.conf" ||
    fail "could not set worker_processes in the rendered nginx.conf"
start_nginx
echo "nginx: $workers worker processes, keepalive $k; worker: $children children"

# one ID: a request with body ID; prints "ID CODE SECONDS BODY".
one() {
	"$CURL" -sS --max-time 4 --unix-socket "$HTTP_SOCKET" \
	    --data-binary "req-$1" -o "$tmp/r.$1" \
	    -w "$1 %{http_code} %{time_total} " http://localhost/ 2>/dev/null
	cat "$tmp/r.$1" 2>/dev/null
	echo
}

# check ID...: each of these requests got 200 and its own body back.
check() {
	for _id; do
		read -r _i _code _time _body <"$tmp/line.$_id" ||
		    fail "request $_id: no result"
		[ "$_code" = 200 ] && [ "$_body" = "REQ-$_id" ] ||
		    fail "request $_id: status $_code after ${_time}s, body '$_body' (a starved request times out: 000, or 504 from nginx)"
	done
}

n=0
sequential() {
	for _ in $(seq "$1"); do
		n=$((n + 1))
		one "$n" >"$tmp/line.$n"
		check "$n"
		sleep 0.3
	done
}

sequential 8
pass "8 sequential requests with pauses: all 200 within 4 s"

# The connections are kept: between requests a child still holds one.
# shellcheck disable=SC2086
fds_above "$idle_fds" $kids ||
    fail "no child holds a kept connection: keep-alive is not in effect"
pass "a child holds a kept connection between requests"

# burst ID-FROM COUNT: COUNT requests at once from one curl, each on its
# own new connection (--parallel-immediate), bodies and results checked.
burst() {
	{
		echo 'silent'
		echo 'max-time = 4'
		echo "unix-socket = \"$HTTP_SOCKET\""
		echo 'write-out = "%{http_code} %{time_total}\n"'
		echo "data-binary = \"burst-$1\""
		for _i in $(seq "$1" $(($1 + $2 - 1))); do
			echo "url = \"http://localhost/$_i\""
			echo "output = \"$tmp/b.$_i\""
		done
	} >"$tmp/burst.cfg"
	"$CURL" --parallel --parallel-immediate --parallel-max "$2" \
	    -K "$tmp/burst.cfg" >"$tmp/burst.out" 2>/dev/null
	_ok=$(grep -c '^200 ' "$tmp/burst.out")
	[ "$_ok" = "$2" ] ||
	    fail "burst of $2: $_ok got 200; status and seconds: $(sort "$tmp/burst.out" | uniq -c | tr '\n' ';') (a starved request times out: 000, or 504 from nginx)"
	for _i in $(seq "$1" $(($1 + $2 - 1))); do
		[ "$(cat "$tmp/b.$_i")" = "BURST-$1" ] ||
		    fail "burst request $_i: body '$(cat "$tmp/b.$_i")'"
	done
}

for b in $(seq "$bursts"); do
	burst $((n + 1)) "$burst"
	n=$((n + burst))
	sleep 0.5
done
pass "$bursts bursts of $burst concurrent requests: all 200 within 4 s"

sequential 5
pass "5 more sequential requests: all 200 within 4 s"

grep -q ' 504 \|upstream timed out' "$tmp/nginx/error.log" &&
    fail "nginx logged an upstream timeout: $(grep -m1 'timed out' "$tmp/nginx/error.log")"
pass "$n requests, no upstream timeout (children $children > workers $workers x keepalive $k)"
