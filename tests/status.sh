#!/bin/sh
# The status page (--status-path) behind a real nginx: after N requests
# of each outcome -- 200 with mixed sizes, 400 (a CONTENT_LENGTH that is
# no number), 413 (over -m), 403 (an authorizer request) and aborted
# bodies -- every counter moved by exactly N and the byte counters by the
# exact sums; idle + busy = children; ?openmetrics passes the reference
# OpenMetrics parser (python3-prometheus-client) with the same figures as
# the text page; ?json parses; a SIGKILLed child is counted as a crash and
# its slot goes to its successor; SIGHUP replaces and keeps the counters;
# a response nobody reads counts as not delivered; a backed-up listen
# queue is seen by the master's sampling; without the option (or on
# another path) a status request is an ordinary uppercase.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_cmd jq jq
# The Debian interpreter: python3 elsewhere on PATH may lack the module.
python=
for p in /usr/bin/python3 python3; do
	"$p" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null &&
	    { python=$p; break; }
done
[ -n "$python" ] ||
    fail "python3 with prometheus_client not found (Debian: python3-prometheus-client)"
find_fastcgi_params

N=50
sock="$tmp/fcgi.sock"
start_worker "$sock" -c 2 -m 4k --io-timeout 2 --status-path /status

cat >"$tmp/server.conf" <<EOF
server {
	listen unix:$HTTP_SOCKET;
	client_max_body_size 1m;
	location / {
		include $params;
		fastcgi_pass unix:$sock;
	}
	location /bad/ {
		# First: libfcgi finds the first of two params of one name.
		fastcgi_param CONTENT_LENGTH "12x";
		include $params;
		fastcgi_pass unix:$sock;
	}
	location = /status {
		include $params;
		fastcgi_pass unix:$sock;
	}
}
EOF
render_nginx_conf "$tmp/server.conf"
start_nginx

# page QUERY: the status page through nginx, headers dropped.
page() { http "http://localhost/status?$1"; }
# figure NAME FILE: one figure of a text page.
figure() { sed -n "s/^$1: //p" "$2" | head -1; }
moved() { echo $(( $(figure "$1" "$tmp/after") - $(figure "$1" "$tmp/before") )); }
expect_moved() {
	[ "$(moved "$1")" = "$2" ] ||
	    fail "$1 moved by $(moved "$1"), want $2 ($3): before $(figure "$1" "$tmp/before"), after $(figure "$1" "$tmp/after")"
}

page '' >"$tmp/before" || fail "no status page"
grep -q '^children_configured: 2$' "$tmp/before" ||
    fail "not the status page: $(head -5 "$tmp/before")"
before_bytes=$(wc -c <"$tmp/before")

# N of each outcome.  200s: bodies of 1 to 4000 bytes, a curl each (and
# a new connection to the worker for each request: nginx has no upstream
# keep-alive here).
sum_ok=0
i=0
while [ "$i" -lt "$N" ]; do
	size=$(( (i * 997) % 4000 + 1 ))
	head -c "$size" /dev/zero | tr '\0' 'a' >"$tmp/body"
	code=$(http -o "$tmp/answer" -w '%{http_code}' --data-binary "@$tmp/body" \
	    "http://localhost/ok/$i")
	[ "$code" = 200 ] && [ "$(tr -d A <"$tmp/answer" | wc -c)" = 0 ] &&
	    [ "$(wc -c <"$tmp/answer")" = "$size" ] ||
	    fail "200 number $i ($size bytes): status $code, $(wc -c <"$tmp/answer") bytes"
	sum_ok=$((sum_ok + size))
	i=$((i + 1))
done
seq "$N" | sed "s|.*|url = \"http://localhost/bad/&\"\\
output = \"/dev/null\"\\
data-binary = \"hello\"|" >"$tmp/bad.cfg"
out=$(http -K "$tmp/bad.cfg" -w '%{http_code}\n' | sort | uniq -c | tr -s ' ')
[ "$out" = " $N 400" ] || fail "400s: $out"
head -c 5000 /dev/zero | tr '\0' 'b' >"$tmp/big"
seq "$N" | sed "s|.*|url = \"http://localhost/big/&\"\\
output = \"/dev/null\"\\
data-binary = \"@$tmp/big\"|" >"$tmp/big.cfg"
out=$(http -K "$tmp/big.cfg" -w '%{http_code}\n' | sort | uniq -c | tr -s ' ')
[ "$out" = " $N 413" ] || fail "413s: $out"
for i in $(seq "$N"); do
	printf 'begin 1 2\nparams 1 CONTENT_LENGTH=0\nparams-end 1\nstdin-end 1\nexpect-end 1\n' |
	    "$FCGI_RAW" -t 10 "$sock" >"$tmp/raw.out" 2>/dev/null ||
	    fail "authorizer request $i: no answer"
	grep -q '^Status: 403' "$tmp/raw.out" || fail "authorizer request $i: $(head -1 "$tmp/raw.out")"
	# A body that stops after 3 of its 10 bytes: the connection closes.
	printf 'begin 1\nparams 1 CONTENT_LENGTH=10\nparams-end 1\nstdin 1 abc\nsleep 50\nclose\n' |
	    "$FCGI_RAW" -t 10 "$sock" >/dev/null 2>&1
done
# The aborted ones end when the worker sees the close: wait for the last.
wait_until 10 sh -c "[ \$(grep -c 'request aborted' '$tmp/worker.log') -ge $N ]" ||
    fail "$(grep -c 'request aborted' "$tmp/worker.log") aborted bodies logged, want $N"

page '' >"$tmp/after"
expect_moved requests_ok "$N" "200s"
expect_moved requests_bad_request "$N" "400s"
expect_moved requests_too_large "$N" "413s"
expect_moved requests_forbidden "$N" "403s"
expect_moved requests_aborted "$N" "aborted bodies"
expect_moved requests_not_delivered 0 "none yet"
expect_moved requests_status 1 "the first page"
expect_moved requests $((5 * N + 1)) "all of them"
expect_moved connections_accepted $((5 * N + 1)) "a connection per request"
expect_moved request_body_bytes $((sum_ok + 3 * N)) "the 200s' bodies and 3 bytes of each aborted one"
# Refusal bodies: "400 Bad Request\n" 16, "403 Forbidden\n" 14,
# "413 Payload Too Large\n" 22 bytes.
expect_moved response_body_bytes $((sum_ok + N * (16 + 14 + 22) + before_bytes)) \
    "the 200s' bodies, the refusals' and the first page"
[ "$(figure children_busy "$tmp/after")" = 1 ] ||
    fail "children_busy $(figure children_busy "$tmp/after"), want 1: the child serving the page"
[ $(( $(figure children_idle "$tmp/after") + $(figure children_busy "$tmp/after") )) = 2 ] ||
    fail "idle + busy is not the 2 children: $(grep children_ "$tmp/after")"
[ "$(figure heap_fallbacks "$tmp/after")" = 0 ] || fail "heap fallbacks: $(figure heap_fallbacks "$tmp/after")"
pass "$N requests of each outcome moved each counter by $N, bytes exact, idle + busy = 2"

# OpenMetrics: the reference parser, and the same figures as the text.
page 'openmetrics&full' >"$tmp/om" || fail "no openmetrics page"
page '' >"$tmp/text"
"$python" - "$tmp/om" "$tmp/text" <<'EOF' || fail "openmetrics page rejected or not matching the text page"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
text = dict(l.split(': ', 1) for l in open(sys.argv[2]).read().splitlines() if ': ' in l)
def sample(fam, **labels):
    for s in fams['upcase_fcgi_' + fam].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise SystemExit('no sample %s %s' % (fam, labels))
for outcome in ('ok', 'bad_request', 'forbidden', 'too_large', 'aborted'):
    # The text page is one status request later: only "status" differs.
    if sample('requests', outcome=outcome) != int(text['requests_' + outcome]):
        raise SystemExit('requests %s: %s vs %s' % (outcome, sample('requests', outcome=outcome), text['requests_' + outcome]))
assert fams['upcase_fcgi_requests'].type == 'counter'
assert fams['upcase_fcgi_child_state'].type == 'stateset'
assert sample('children_configured') == 2
assert len([s for s in fams['upcase_fcgi_child_requests'].samples]) == 2
print('openmetrics: %d families' % len(fams))
EOF
http -o /dev/null -w '%{content_type}\n' "http://localhost/status?openmetrics" >"$tmp/ct"
grep -qx 'application/openmetrics-text; version=1.0.0; charset=utf-8' "$tmp/ct" ||
    fail "openmetrics content type: $(cat "$tmp/ct")"
tail -1 "$tmp/om" | grep -qx '# EOF' || fail "openmetrics page does not end with # EOF"
pass "?openmetrics&full accepted by prometheus_client's OpenMetrics parser, figures as on the text page"

page 'json&full' >"$tmp/json" || fail "no json page"
jq -e '.children | length == 2' "$tmp/json" >/dev/null ||
    fail "?json&full: not JSON with 2 children: $(head -c 300 "$tmp/json")"
for pid in $(children_of "$worker_pid"); do
	jq -e --argjson p "$pid" '[.children[] | select(.pid == $p)] | length == 1' \
	    "$tmp/json" >/dev/null || fail "?json&full: child $pid not listed"
done
pass "?json&full parses and lists both children by PID"

# A child killed with SIGKILL: a crash, and its successor takes its slot.
cp "$tmp/text" "$tmp/before"
victim=$(children_of "$worker_pid" | head -1)
slot=$(jq --argjson p "$victim" '.children[] | select(.pid == $p) | .slot' "$tmp/json")
kill -KILL "$victim"
wait_until 10 sh -c "[ \$(ps -o pid= --ppid $worker_pid | wc -l) -eq 2 ] && ! ps -o pid= --ppid $worker_pid | grep -qw $victim"
sleep 0.2
page 'json&full' >"$tmp/json"
page '' >"$tmp/after"
expect_moved child_exits_crashed 1 "one SIGKILL"
expect_moved child_starts 1 "its successor"
expect_moved requests_ok 0 "counters survive a child's death"
heir=$(jq --argjson s "$slot" '.children[] | select(.slot == $s) | .pid' "$tmp/json")
[ -n "$heir" ] && [ "$heir" != "$victim" ] && ps -o pid= --ppid "$worker_pid" | grep -qw "$heir" ||
    fail "slot $slot: pid '$heir' after the SIGKILL of $victim"
pass "SIGKILL of child $victim: counted as a crash; its slot $slot now has child $heir"

# SIGHUP replaces both; the counters stay.
cp "$tmp/after" "$tmp/before"
old=$(children_of "$worker_pid")
kill -HUP "$worker_pid"
wait_until 10 sh -c "[ \$(ps -o pid= --ppid $worker_pid | wc -l) -eq 2 ] && ! ps -o pid= --ppid $worker_pid | grep -qw '$(echo "$old" | head -1)' && ! ps -o pid= --ppid $worker_pid | grep -qw '$(echo "$old" | tail -1)'" ||
    fail "SIGHUP did not replace the children"
sleep 0.2
page '' >"$tmp/after"
expect_moved child_exits_replaced 2 "SIGHUP"
expect_moved requests_ok 0 "counters survive SIGHUP"
expect_moved requests_forbidden 0 "counters survive SIGHUP"
pass "SIGHUP: 2 children replaced, counters kept"

# Not delivered: a client that reads none of a 1 MB answer for longer
# than --io-timeout, on a second worker (-m 1m, --io-timeout 1).
cp "$tmp/after" "$tmp/before"
start_worker_nd() {
	"$WORKER" -f -s "$tmp/nd.sock" $as_user -c 1 -m 1m --io-timeout 1 \
	    --status-path /status >"$tmp/nd.log" 2>&1 &
	nd_pid=$!
	track_pid "$nd_pid"
	wait_until 10 is_socket "$tmp/nd.sock" && wait_until 10 has_children "$nd_pid" ||
	    fail "second worker did not start: $(cat "$tmp/nd.log")"
}
start_worker_nd
head -c 1000000 /dev/zero | tr '\0' 'c' >"$tmp/mb"
printf 'begin 1\nparams 1 CONTENT_LENGTH=1000000\nparams-end 1\nstdin 1 @%s\nstdin-end 1\npause 2500\nclose\n' "$tmp/mb" |
    "$FCGI_RAW" -t 10 "$tmp/nd.sock" >/dev/null 2>&1
printf 'begin 1\nparams 1 SCRIPT_NAME=/status CONTENT_LENGTH=0\nparams-end 1\nstdin-end 1\nexpect-end 1\n' |
    "$FCGI_RAW" -t 10 -r "$tmp/nd.rep" "$tmp/nd.sock" | sed '1,/^\r*$/d' >"$tmp/nd.page"
[ "$(figure requests_not_delivered "$tmp/nd.page")" = 1 ] && [ "$(figure requests_ok "$tmp/nd.page")" = 0 ] ||
    fail "a response nobody read: $(grep '^requests_' "$tmp/nd.page" | tr '\n' ' ')"
pass "a 1 MB answer nobody read for --io-timeout counts as not delivered, not ok"

# The listen queue: both children of the main worker held by bodies that
# stall (--io-timeout 2), 5 more connections queue behind them; the
# master samples the queue each second.
clients=
for i in 1 2; do
	printf 'begin 1\nparams 1 CONTENT_LENGTH=10\nparams-end 1\nstdin 1 ab\npause 2600\nclose\n' |
	    "$FCGI_RAW" -t 10 "$sock" >/dev/null 2>&1 &
	clients="$clients $!"
	# One at a time, so that each goes to a child of its own.
	wait_until 5 busy_children "$worker_pid" "$i" ||
	    fail "stalling body $i: not $i busy children"
done
for i in 1 2 3 4 5; do
	printf 'begin 1\nparams 1 CONTENT_LENGTH=2\nparams-end 1\nstdin 1 ok\nstdin-end 1\nexpect-end 1\n' |
	    "$FCGI_RAW" -t 10 -r "$tmp/queued.$i.rep" "$sock" >"$tmp/queued.$i" &
	clients="$clients $!"
done
track_pid "$clients"
sleep 1.5
for c in $clients; do wait "$c"; done
page '' >"$tmp/after"
[ "$(figure listen_queue_max "$tmp/after")" -ge 5 ] ||
    fail "listen_queue_max $(figure listen_queue_max "$tmp/after") after 5 connections queued behind 2 busy children"
[ "$(figure listen_queue "$tmp/after")" = 0 ] || fail "listen_queue $(figure listen_queue "$tmp/after") once served"
[ "$(figure listen_queue_length "$tmp/after")" -gt 0 ] || fail "no listen_queue_length"
for i in 1 2 3 4 5; do
	[ "$(sed '1,/^\r*$/d' "$tmp/queued.$i")" = OK ] ||
	    fail "queued request $i: $(cat "$tmp/queued.$i" "$tmp/queued.$i.rep")"
done
pass "listen queue: 5 connections behind busy children seen (max $(figure listen_queue_max "$tmp/after")), 0 now"

# Without the option, or on another path, /status is an ordinary request.
status_req() {
	printf 'begin 1\nparams 1 SCRIPT_NAME=%s REQUEST_URI=%s?json CONTENT_LENGTH=5\nparams-end 1\nstdin 1 hello\nstdin-end 1\nexpect-end 1\n' "$2" "$2" |
	    "$FCGI_RAW" -t 10 -r "$tmp/status_req.rep" "$1" | sed '1,/^\r*$/d'
}
[ "$(status_req "$sock" /statusx)" = HELLO ] || fail "/statusx was not uppercased"
stop_worker
start_worker "$sock" -c 1
[ "$(status_req "$sock" /status)" = HELLO ] ||
    fail "without --status-path, /status was not uppercased: $(status_req "$sock" /status)"
pass "without --status-path (or on another path) /status is uppercased like any request"
