#!/bin/sh
# The deployment as shipped: the worker started by spawn-fcgi through
# deploy/spawn-fcgi/upcase-fcgi.sh, behind nginx running
# deploy/nginx/upcase-fcgi.conf.  Small, 900 KiB, empty and binary bodies;
# the worker's own 413; no data leaking from one request into the next;
# 200 concurrent requests each answered with its own body.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
require SPAWN_FCGI

# The two deploy files must agree: the script's default socket is the
# one nginx connects to, its default -m is nginx's body limit.
script="$top_srcdir/deploy/spawn-fcgi/upcase-fcgi.sh"
conf="$top_srcdir/deploy/nginx/upcase-fcgi.conf"
default() { sed -n "s/^: \"\\\${$1=\(.*\)}\"\$/\1/p" "$script"; }
[ -n "$(default UPCASE_FCGI_SOCKET)" ] || fail "no default socket in $script"
grep -q "server unix:$(default UPCASE_FCGI_SOCKET);" "$conf" ||
    fail "deploy script socket $(default UPCASE_FCGI_SOCKET) is not nginx's upstream server"
[ "$(default UPCASE_FCGI_MAX_BODY | tr 'M' 'm')" = \
    "$(sed -n 's/^[[:space:]]*client_max_body_size \(.*\);$/\1/p' "$conf")" ] ||
    fail "deploy script -m $(default UPCASE_FCGI_MAX_BODY) differs from nginx's client_max_body_size"
pass "deploy files agree on the socket path and the body limit"

sock="$tmp/fcgi.sock"
UPCASE_FCGI_CHILDREN=3 UPCASE_FCGI_MAX_BODY=1M start_spawn_fcgi "$sock"
wait_until 10 count_children "$worker_pid" 3 ||
    fail "the master did not start 3 children"
[ "$(stat -c %a "$sock")" = 660 ] || fail "socket mode $(stat -c %a "$sock"), want 660"
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %U "$sock")" = "$run_user" ] ||
	    fail "socket owner $(stat -c %U "$sock"), want $run_user"
	for pid in $worker_pid $(children_of "$worker_pid"); do
		[ "$(ps -o user= -p "$pid")" = "$run_user" ] ||
		    fail "worker process $pid runs as $(ps -o user= -p "$pid")"
	done
	pass "spawn-fcgi: socket 0660 owned by $run_user, worker runs as $run_user"
fi

# The deploy conf caps bodies at 1m, like the worker's default -m, so
# nginx itself would answer 413 first.  To reach the worker's own 413,
# this copy lets nginx pass bodies of up to 2m.
deploy_server_conf "$sock"
grep -q 'client_max_body_size 1m;' "$tmp/server.conf" ||
    fail "deploy conf no longer sets client_max_body_size 1m"
sed -i 's/client_max_body_size 1m;/client_max_body_size 2m;/' "$tmp/server.conf"
# And one more location, /stream, where nginx passes the body on as it
# arrives (fastcgi_request_buffering off), for the SIGTERM test at the end.
[ "$(tail -n 1 "$tmp/server.conf")" = "}" ] || fail "deploy conf: server block does not end the file"
sed -i '$d' "$tmp/server.conf"
cat >>"$tmp/server.conf" <<NGINX
	location /stream {
		fastcgi_request_buffering off;
		fastcgi_pass unix:$sock;
		fastcgi_pass_request_headers off;
		fastcgi_param REQUEST_METHOD \$request_method;
		fastcgi_param CONTENT_LENGTH \$content_length;
	}
}
NGINX
render_nginx_conf "$tmp/server.conf"
start_nginx

upcased() { LC_ALL=C tr 'a-z' 'A-Z' <"$1"; }

# post NAME FILE: POST FILE; body to $tmp/NAME.out, headers to NAME.head.
post() {
	http -H "Expect:" --data-binary "@$2" -o "$tmp/$1.out" -D "$tmp/$1.head" \
	    http://localhost/ || fail "$1: curl failed"
}
status_is() {
	head -n 1 "$tmp/$1.head" | grep -q "^HTTP/1.1 $2 " ||
	    fail "$1: status $(head -n 1 "$tmp/$1.head"), want $2"
}
body_is() {
	cmp -s "$tmp/$1.out" "$2" || fail "$1: body differs from $2"
}

printf 'hello, nginx and spawn-fcgi' >"$tmp/small.in"
upcased "$tmp/small.in" >"$tmp/small.want"
post small "$tmp/small.in"
status_is small 200
body_is small "$tmp/small.want"
grep -qi '^Content-Type: text/plain; charset=utf-8' "$tmp/small.head" ||
    fail "small: content type"
grep -qi "^Content-Length: 27" "$tmp/small.head" || fail "small: Content-Length"
pass "small body uppercased"

head -c 921600 /dev/urandom | od -An -v -tx1 | tr -d ' \n' |
    head -c 921600 >"$tmp/big.in"
upcased "$tmp/big.in" >"$tmp/big.want"
post big "$tmp/big.in"
status_is big 200
body_is big "$tmp/big.want"
grep -qi '^Content-Length: 921600' "$tmp/big.head" || fail "big: Content-Length"
pass "900 KiB body uppercased"

http -o "$tmp/get.out" -D "$tmp/get.head" http://localhost/ || fail "GET failed"
status_is get 200
[ ! -s "$tmp/get.out" ] || fail "GET: body not empty"
pass "empty GET: 200, empty body"

bytes_0_to_255 >"$tmp/binary.in"
bytes_0_to_255 >>"$tmp/binary.in"
upcased "$tmp/binary.in" >"$tmp/binary.want"
post binary "$tmp/binary.in"
status_is binary 200
body_is binary "$tmp/binary.want"
pass "all 256 byte values: only a-z changed"

# No leak: a small request served right after a large one (by whichever
# child) gets exactly its own body back, nothing of the previous one.
printf 'tiny' >"$tmp/tiny.in"
for i in 1 2 3 4 5 6; do
	post big "$tmp/big.in"
	body_is big "$tmp/big.want"
	post tiny "$tmp/tiny.in"
	[ "$(cat "$tmp/tiny.out")" = TINY ] && [ "$(wc -c <"$tmp/tiny.out")" -eq 4 ] ||
	    fail "round $i: small request after a large one got $(wc -c <"$tmp/tiny.out") bytes: $(head -c 60 "$tmp/tiny.out")"
done
pass "a small request after a large one gets exactly its own 4 bytes (6 rounds)"

# Over the worker's 1M: nginx (at 2m here) passes it, the worker refuses
# it.  Declared length (curl sends Content-Length) and chunked alike.
head -c 1048577 /dev/zero | tr '\0' 'a' >"$tmp/over.in"
printf '413 Payload Too Large\n' >"$tmp/over.want"
post over "$tmp/over.in"
status_is over 413
body_is over "$tmp/over.want"
grep -q 'CONTENT_LENGTH 1048577 is over the limit' "$tmp/worker.log" ||
    fail "413 (declared): no worker log line"
http -H "Expect:" --data-binary "@$tmp/over.in" -H "Transfer-Encoding: chunked" \
    -o "$tmp/chunked.out" -D "$tmp/chunked.head" http://localhost/ ||
    fail "chunked: curl failed"
status_is chunked 413
body_is chunked "$tmp/over.want"
pass "body of 1M + 1 (declared, chunked): the worker's 413, logged"
post small "$tmp/small.in"
body_is small "$tmp/small.want"

# 200 concurrent requests, each with its own body, each bounded by curl's
# --max-time: every answer must be its own body uppercased.
mkdir "$tmp/c"
i=0
while [ $i -lt 200 ]; do
	printf 'request %d of 200, from client %d: abcdefghijklmnopqrstuvwxyz\n' \
	    $i $i >"$tmp/c/$i.in"
	i=$((i + 1))
done
post_concurrently "$tmp/c" 200 --unix-socket "$HTTP_SOCKET" http://localhost/
i=0
while [ $i -lt 200 ]; do
	upcased "$tmp/c/$i.in" | cmp -s - "$tmp/c/$i.out" ||
	    fail "concurrent request $i got: $(head -c 80 "$tmp/c/$i.out")"
	i=$((i + 1))
done
pass "200 concurrent requests: each got its own body uppercased"

kill -0 "$worker_pid" || fail "the master died"
if grep -Eq 'killed by signal|exited with status' "$tmp/worker.log"; then
	fail "a child died: $(cat "$tmp/worker.log")"
fi

# SIGTERM to the master while a client uploads slowly (48 KiB at 16 KiB/s)
# and nginx streams it to a child: the upload still gets its full answer,
# then the master exits 0.
head -c 49152 /dev/urandom | od -An -v -tx1 | tr -d ' \n' | head -c 49152 >"$tmp/slow.in"
upcased "$tmp/slow.in" >"$tmp/slow.want"
children=$(children_of "$worker_pid")
# shellcheck disable=SC2086
idle_fds=$(open_fds $children)
http -H "Expect:" --limit-rate 16k --data-binary "@$tmp/slow.in" \
    -o "$tmp/slow.out" -D "$tmp/slow.head" http://localhost/stream \
    2>"$tmp/slow.err" &
curl_pid=$!
# shellcheck disable=SC2086
wait_until 10 fds_above "$idle_fds" $children || fail "slow upload: no child accepted it"
kill -TERM "$worker_pid"
wait_until 10 grep -q stopping "$tmp/worker.log" ||
    fail "slow upload: the master did not start stopping"
# gone PID: no such process, or a zombie not yet reaped.
gone() { ! ps -o stat= -p "$1" | grep -q '^[^Z]'; }
wait_until 15 gone "$curl_pid" || fail "slow upload: curl still running after 15 s"
wait "$curl_pid" || fail "slow upload: curl failed: $(cat "$tmp/slow.err")"
status_is slow 200
body_is slow "$tmp/slow.want"
wait_until 15 gone "$worker_pid" || fail "the master did not exit after SIGTERM"
wait "$worker_pid"
st=$?
[ $st -eq 0 ] || fail "the master exited with $st after SIGTERM"
pass "SIGTERM during a slow streamed upload: it gets its full answer, the master exits 0"

# The one-line invocation in deploy/spawn-fcgi/README, as written there
# but for the socket's path, the binary and (not as root) the users:
# spawn-fcgi without -n starts the worker in the background, says its PID
# and exits; the worker serves and stops on SIGTERM.
line=$(sed -n 's/^ *\(spawn-fcgi -s .*\)$/\1/p' "$top_srcdir/deploy/spawn-fcgi/README")
[ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] ||
    fail "deploy/spawn-fcgi/README: not exactly one 'spawn-fcgi -s' line"
users="-U www-data -G www-data -u www-data -g www-data"
case $line in
*" -s /run/upcase-fcgi/upcase-fcgi.sock "*"$users -- /usr/sbin/upcase-fcgi "*) ;;
*) fail "deploy/spawn-fcgi/README's one-liner changed shape: $line" ;;
esac
mine=
[ "$(id -u)" = 0 ] && mine="-U $run_user -G $run_group -u $run_user -g $run_group"
line=$(printf '%s\n' "$line" | sed -e "s|^spawn-fcgi |$SPAWN_FCGI |" \
    -e "s|/run/upcase-fcgi/upcase-fcgi.sock|$tmp/one.sock|" \
    -e "s|$users|$mine|" -e "s| /usr/sbin/upcase-fcgi | $WORKER |")
# shellcheck disable=SC2086 # the README's words
$line >"$tmp/one.out" 2>&1 || fail "the README's one-liner failed: $(cat "$tmp/one.out")"
one=$(sed -n 's/.*child spawned successfully: PID: \([0-9]*\).*/\1/p' "$tmp/one.out")
[ -n "$one" ] || fail "spawn-fcgi said no PID: $(cat "$tmp/one.out")"
track_pid "$one"
is_worker "$one" || fail "PID $one from spawn-fcgi is not the worker"
out=$(printf 'begin 1\nparams 1 CONTENT_LENGTH=5\nparams-end 1\nstdin 1 hello\nstdin-end 1\nexpect-end 1\n' |
    "$FCGI_RAW" -t 10 -r "$tmp/one.rep" "$tmp/one.sock" | sed '1,/^\r*$/d')
[ "$out" = HELLO ] || fail "the one-liner's worker answered '$out'"
kill -TERM "$one"
wait_until 15 gone "$one" || fail "the one-liner's worker did not stop on SIGTERM"
pass "deploy/spawn-fcgi/README's one-liner: a background worker that serves and stops on SIGTERM"
