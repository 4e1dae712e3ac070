#!/bin/sh
# The worker behind a real nginx configured with deploy/nginx/upcase-fcgi.conf
# itself: small and 900 KiB bodies come back uppercased, GET is empty.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL

start_worker "$tmp/fcgi.sock" -c 2
deploy_server_conf "$tmp/fcgi.sock"
render_nginx_conf "$tmp/server.conf"
start_nginx

out=$(http --data-binary 'hello, world' http://localhost/) || fail "curl failed"
[ "$out" = "HELLO, WORLD" ] || fail "small body: got '$out'"
pass "small body uppercased"

http -o "$tmp/get.out" -D "$tmp/get.head" http://localhost/ || fail "GET failed"
grep -q '^HTTP/1.1 200' "$tmp/get.head" || fail "GET status: $(head -1 "$tmp/get.head")"
grep -qi '^Content-Type: text/plain; charset=utf-8' "$tmp/get.head" || fail "GET content type"
[ ! -s "$tmp/get.out" ] || fail "GET body not empty"
pass "GET gets 200 with an empty body"

head -c 921600 /dev/urandom | od -An -v -tx1 | tr -d ' \n' | head -c 921600 >"$tmp/big.in"
tr 'a-z' 'A-Z' <"$tmp/big.in" >"$tmp/big.want"
http --data-binary "@$tmp/big.in" -o "$tmp/big.out" -D "$tmp/big.head" http://localhost/ || fail "900 KiB POST failed"
cmp -s "$tmp/big.out" "$tmp/big.want" || fail "900 KiB body differs"
grep -qi '^Content-Length: 921600' "$tmp/big.head" || fail "900 KiB Content-Length: $(grep -i content-length "$tmp/big.head")"
pass "900 KiB body uppercased with exact Content-Length"
