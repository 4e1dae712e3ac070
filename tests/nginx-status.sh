#!/bin/sh
# The status location of deploy/nginx/upcase-fcgi.conf, with the worker
# started as deploy/ starts it (--status-path /status): a client on
# 127.0.0.1 gets the page in each format; one on 127.0.0.2 gets nginx's
# 403 and never reaches the worker; any other path is still uppercased.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
need_cmd jq jq
need_ss

port=$(free_port)
HTTP_LISTEN=127.0.0.1:$port
start_worker "$tmp/fcgi.sock" -c 2 --status-path /status
deploy_server_conf "$tmp/fcgi.sock"
for want in 'location = /status {' 'allow 127.0.0.1;' 'deny all;' \
    'fastcgi_param SCRIPT_NAME $uri;' 'fastcgi_param QUERY_STRING $query_string;'; do
	sed 's/^[[:space:]]*//' "$tmp/server.conf" | grep -qxF "$want" ||
	    fail "deploy/nginx/upcase-fcgi.conf: no '$want'"
done
# The man page's nginx example shows the same location.
sed -n '/^\tlocation = \/status {$/,/^\t}$/p' "$tmp/server.conf" |
    sed 's/^[[:space:]]*//' | grep -v '^#' >"$tmp/location"
[ "$(wc -l <"$tmp/location")" -ge 8 ] || fail "no location = /status block in the deploy file"
sed 's/^[[:space:]]*//' "$top_srcdir/man/upcase-fcgi.8" >"$tmp/man"
while IFS= read -r line; do
	grep -qxF -- "$line" "$tmp/man" || fail "the man page's nginx example lacks: $line"
done <"$tmp/location"
render_nginx_conf "$tmp/server.conf"
start_nginx
url="http://127.0.0.1:$port"
get() { "$CURL" -sS --max-time 10 "$@"; }

[ "$(get --data-binary 'hello' "$url/")" = HELLO ] || fail "POST / not uppercased"
[ "$(get --data-binary 'hello' "$url/statusx")" = HELLO ] || fail "POST /statusx not uppercased"

get -o "$tmp/text" -w '%{http_code} %{content_type}\n' "$url/status" >"$tmp/code"
[ "$(cat "$tmp/code")" = "200 text/plain; charset=utf-8" ] &&
    grep -qx 'children_configured: 2' "$tmp/text" ||
    fail "text page: $(cat "$tmp/code") $(head -3 "$tmp/text")"
get "$url/status?json&full" | jq -e '.children_configured == 2 and (.children | length) == 2' >/dev/null ||
    fail "?json&full: $(get "$url/status?json&full" | head -c 300)"
get -o "$tmp/om" -w '%{content_type}\n' "$url/status?openmetrics" >"$tmp/ct"
grep -qx 'application/openmetrics-text; version=1.0.0; charset=utf-8' "$tmp/ct" &&
    tail -n 1 "$tmp/om" | grep -qx '# EOF' ||
    fail "?openmetrics: $(cat "$tmp/ct") $(tail -n 1 "$tmp/om")"
pass "from 127.0.0.1: the page as text, JSON and OpenMetrics; /statusx uppercased"

served() { get "$url/status" | sed -n 's/^requests_status: //p'; }
before=$(served)
code=$(get --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$url/status?json")
[ "$code" = 403 ] || fail "from 127.0.0.2: status $code, want 403"
after=$(served)
[ "$after" = $((before + 1)) ] ||
    fail "the refused request reached the worker: requests_status $before, then $after"
grep -q 'access forbidden by rule' "$tmp/nginx/error.log" ||
    fail "nginx did not log the refusal"
pass "from 127.0.0.2: nginx's 403, logged; the worker never saw it"
