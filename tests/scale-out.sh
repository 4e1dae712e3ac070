#!/bin/sh
# Scale-out with failover, across network namespaces (root only):
#
#   ucf-front-PID: nginx with deploy/nginx/upcase-fcgi-upstream.conf as
#   shipped (its example hosts are the addresses below), wrk
#     f1 198.18.1.254/24 ---- b1 198.18.1.1/24      ucf-b1-PID: -s 198.18.1.1:9000 -A 198.18.1.254
#     f2 198.18.2.254/24 ---- b2 198.18.2.1/24      ucf-b2-PID: -s 198.18.2.1:9000 -A 198.18.2.254
#     f3 2001:2:0:3::fe/64 -- b3 2001:2:0:3::1/64   ucf-b3-PID: -s [2001:2:0:3::1]:9000 -A 2001:2:0:3::fe
#
# veth pairs, no default route: nothing leaves the namespaces.  Under 20 s
# of wrk POSTs from the front, backend 1's whole pool (master and
# children) is killed with SIGKILL at 5 s and started again at 12 s.
# Asserted: no request failed (non-2xx, wrong body, socket error); all
# three backends served before the kill; the dead one served nothing
# while it was down; it served again before the end.  Reported (from
# nginx's access log, $msec and $upstream_addr): each backend's share
# before, during and after, the retries, and how long the returning
# backend took to get traffic.  Then a connection to backends 2 and 3
# from a second address of the front, not on their allowlist, is refused
# and logged.  Every namespace (and so every veth) and process is removed
# on exit, also on failure.
# shellcheck disable=SC2015 # "A && B || fail": fail if either is false
. "$top_srcdir/tests/lib.sh"
require NGINX
require WRK
require CURL
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
[ "$(id -u)" = 0 ] || skip "network namespaces need root (run make check as root)"
need_cmd ip iproute2

front=ucf-front-$$
backends="ucf-b1-$$ ucf-b2-$$ ucf-b3-$$"
made_ns=
netns_cleanup() {
	for _ns in $made_ns; do
		ip netns del "$_ns" 2>/dev/null
	done
	for _ns in $made_ns; do
		! ip netns list | grep -q "^$_ns\\b" ||
		    echo "cleanup: namespace $_ns is still there" >&2
	done
}
# lib.sh's cleanup stops the tracked processes first (the namespaces go
# away only once nothing runs in them), then the namespaces go.
trap 'cleanup; netns_cleanup' EXIT

ip netns add "$front" 2>"$tmp/netns.err" ||
    skip "cannot create a network namespace: $(cat "$tmp/netns.err")"
made_ns=$front
for ns in $backends; do
	ip netns add "$ns" || fail "ip netns add $ns"
	made_ns="$made_ns $ns"
done

# Without IPv6 in the kernel the third link is IPv4 too.
if [ -e /proc/net/if_inet6 ]; then
	v6=yes; f3addr=2001:2:0:3::fe; b3addr=2001:2:0:3::1; b3plen=64
	b3listen="[$b3addr]:9000"; f3extra=2001:2:0:3::fd
else
	v6=no; f3addr=198.18.3.254; b3addr=198.18.3.1; b3plen=24
	b3listen="$b3addr:9000"; f3extra=198.18.3.253
fi

# addr_add NAMESPACE ADDRESS/PREFIX DEVICE: an IPv6 address without
# duplicate address detection, so that it is usable at once.
addr_add() {
	case $2 in
	*:*)	ip -n "$1" addr add "$2" dev "$3" nodad ;;
	*)	ip -n "$1" addr add "$2" dev "$3" ;;
	esac
}
# add_link K FRONT-ADDRESS BACKEND-ADDRESS PREFIX: the veth pair fK (in
# the front) -- bK (in backend K's namespace).  Made inside the
# namespaces: deleting them deletes the pair.
add_link() {
	ip -n "$front" link add "f$1" type veth peer name "b$1" netns "ucf-b$1-$$" &&
	    addr_add "$front" "$2/$4" "f$1" &&
	    addr_add "ucf-b$1-$$" "$3/$4" "b$1" &&
	    ip -n "$front" link set "f$1" up &&
	    ip -n "ucf-b$1-$$" link set "b$1" up &&
	    ip -n "ucf-b$1-$$" link set lo up || fail "could not set up link $1"
}
ip -n "$front" link set lo up || fail "lo up in $front"
add_link 1 198.18.1.254 198.18.1.1 24
add_link 2 198.18.2.254 198.18.2.1 24
add_link 3 "$f3addr" "$b3addr" "$b3plen"
for ns in $made_ns; do
	ip -n "$ns" route show default | grep -q . && fail "$ns has a default route"
	ip -n "$ns" -6 route show default | grep -q . && fail "$ns has an IPv6 default route"
done

# start_backend K: upcase-fcgi in namespace K on its address, port 9000,
# admitting only the front's address on that link; sets backend_pid.
start_backend() {
	case $1 in
	1)	_ba=198.18.1.1:9000 _fa=198.18.1.254 ;;
	2)	_ba=198.18.2.1:9000 _fa=198.18.2.254 ;;
	3)	_ba=$b3listen _fa=$f3addr ;;
	esac
	# ip netns exec executes the worker in its own process: the PID is
	# the master's.
	# shellcheck disable=SC2086
	ip netns exec "ucf-b$1-$$" "$WORKER" -f -c 2 -s "$_ba" -A "$_fa" \
	    $as_user >>"$tmp/b$1.log" 2>&1 &
	backend_pid=$!
	track_pid "$!"
	wait_until 10 has_children "$!" || {
		cat "$tmp/b$1.log" >&2; fail "backend $1 did not start on $_ba"; }
	is_worker "$!" || fail "PID $! is not the worker"
}
start_backend 1; pid1=$backend_pid
start_backend 2
start_backend 3

# nginx in the front: the shipped file, the example hosts as they are.
conf="$top_srcdir/deploy/nginx/upcase-fcgi-upstream.conf"
cp "$conf" "$tmp/server.conf"
[ "$v6" = yes ] ||
    sed -i "s|server \[2001:2:0:3::1\]:9000 |server $b3addr:9000 |" "$tmp/server.conf"
for want in "server 198.18.1.1:9000 max_fails=3 fail_timeout=5s;" \
    "server 198.18.2.1:9000 max_fails=3 fail_timeout=5s;" \
    "server $b3listen max_fails=3 fail_timeout=5s;" \
    "listen 127.0.0.1:8080;" "fastcgi_pass upcase_fcgi_pool;" \
    "keepalive 16;" "fastcgi_keep_conn on;" "fastcgi_connect_timeout 1s;" \
    "fastcgi_next_upstream error timeout non_idempotent;"; do
	grep -qF "$want" "$tmp/server.conf" || fail "$conf: no '$want'"
done
render_nginx_conf "$tmp/server.conf"
sed -i "s|^\([[:space:]]*\)access_log off;|\1log_format ucf '\$msec\|\$status\|\$upstream_addr\|\$upstream_status';\\
\1access_log $tmp/nginx/access.log ucf;|" "$tmp/nginx.conf"
grep -q "access_log $tmp/nginx/access.log ucf;" "$tmp/nginx.conf" ||
    fail "could not add the access log to nginx.conf"
# nginx reads inherited sockets from $NGINX: keep the variable from it.
env -u NGINX ip netns exec "$front" "$NGINX" -p "$tmp/nginx" \
    -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log" >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
track_pid "$nginx_pid"
in_front() { ip netns exec "$front" "$@"; }
answers() {
	[ "$(in_front "$CURL" -sS --max-time 5 --data-binary 'ping' http://127.0.0.1:8080/)" = PING ]
}
wait_until 10 answers || {
	cat "$tmp/nginx/error.log" "$tmp/nginx/stdout.log" >&2; fail "nginx in $front does not answer"; }
pass "3 backends (IPv6: $v6) behind nginx in $front"

# The load: 20 s, 1 thread, 4 connections, a POST body checked in wrk.
body="scale out over three hosts, one of them killed and restarted"
load_script "$body"
now() { date +%s.%N; }
# at T0 SECONDS: sleep until SECONDS after T0.
at() {
	_s=$(awk -v t0="$1" -v s="$2" -v n="$(now)" 'BEGIN { d = t0 + s - n; printf "%.3f", (d > 0 ? d : 0) }')
	sleep "$_s"
}
mark=$(lines "$tmp/nginx/access.log")
emark=$(lines "$tmp/nginx/error.log")
t0=$(now)
ip netns exec "$front" timeout 50 "$WRK" -t1 -c4 -d20s --timeout 5s -s "$tmp/load.lua" \
    http://127.0.0.1:8080/ >"$tmp/load.wrk" 2>&1 &
wrk_pid=$!
track_pid "$wrk_pid"

at "$t0" 5
victims="$pid1 $(children_of "$pid1")"
t_kill=$(now)
# shellcheck disable=SC2086 # a list of PIDs
kill -KILL $victims
# shellcheck disable=SC2086
wait_until 5 all_gone $victims || fail "backend 1 ($victims) did not die"
wait "$pid1" 2>/dev/null
at "$t0" 12
t_restart=$(now)
start_backend 1; pid1=$backend_pid
t_ready=$(now)
wait_until 40 gone "$wrk_pid" || fail "wrk did not finish"
wait "$wrk_pid" || fail "wrk failed: $(cat "$tmp/load.wrk")"
t_end=$(now)

grep -q '^LOAD ' "$tmp/load.wrk" || fail "no summary from wrk: $(cat "$tmp/load.wrk")"
# w NAME: a count of the summary line of load_script's wrk script.
w() { sed -n "s/^LOAD.* $1=\([0-9]*\).*/\1/p" "$tmp/load.wrk"; }
requests=$(w requests)
non2xx=$(w non2xx)
bad_status=$(w bad_status)
wrong_body=$(w wrong_body)
sockerr=$(($(w connect) + $(w read) + $(w write) + $(w timeout)))
# bad_status counts every status but 200, the non-2xx ones too.
failed=$((bad_status + wrong_body + sockerr))

since "$tmp/nginx/access.log" "$mark" >"$tmp/load.log"
since "$tmp/nginx/error.log" "$emark" >"$tmp/load.err"
a1=198.18.1.1:9000; a2=198.18.2.1:9000
[ "$v6" = yes ] && a3="[$b3addr]:9000" || a3=$b3addr:9000
# One report line per phase: requests each backend answered (the last
# address of $upstream_addr), the retried requests (more than one), the
# statuses but 200 other than 499 (nginx's "client closed the request":
# wrk closes its connections when its time is up, requests in flight).
# "returned" overlaps "after": from backend 1's first answer after its
# restart to the end.
awk -F'|' -v t0="$t0" -v tk="$t_kill" -v tr="$t_restart" \
    -v a1="$a1" -v a2="$a2" -v a3="$a3" '
	{
		p = $1 < tk ? 1 : ($1 < tr ? 2 : 3)
		n = split($3, t, ", ")
		b = t[n] == a1 ? 1 : (t[n] == a2 ? 2 : (t[n] == a3 ? 3 : 0))
		c[p, b]++; tot[p]++
		if (n > 1) retry[p]++
		if ($2 != 200 && $2 != 499) bad[p]++
		if ($2 == 499) closed++
		if (p == 2 && b == 1 && $1 > tk + 0.5) late++
		if (p == 3 && b == 1 && back == "") back = $1 - tr
		if (back != "") { c[4, b]++; tot[4]++; if (n > 1) retry[4]++ }
	}
	END {
		split("before during after returned", name, " ")
		for (p = 1; p <= 4; p++)
			printf "%s %d %d %d %d %d %d %d\n", name[p], tot[p],
			    c[p, 1], c[p, 2], c[p, 3], c[p, 0], retry[p], bad[p]
		printf "late %d\nclosed %d\n", late, closed
		printf "back %s\n", back == "" ? "never" : sprintf("%.2f", back)
	}' "$tmp/load.log" >"$tmp/phases"
share() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f%%", t ? 100 * n / t : 0 }'; }
{
	echo "failover run: $requests requests in $(awk -v us="$(w duration_us)" 'BEGIN { printf "%.1f", us / 1e6 }') s; failed $failed (non-2xx $non2xx, other non-200 $((bad_status - non2xx)), wrong body $wrong_body, socket errors $sockerr)"
	echo "killed backend 1 at $(awk -v a="$t_kill" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s, restarted at $(awk -v a="$t_restart" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s (listening $(awk -v a="$t_ready" -v b="$t_restart" 'BEGIN { printf "%.2f", a - b }') s later), load ended at $(awk -v a="$t_end" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
	while read -r ph tot c1 c2 c3 c0 rt bd; do
		case $ph in before|during|after|returned) ;; *) continue ;; esac
		echo "$ph: $tot requests; backend 1 $c1 ($(share "$c1" "$tot")), backend 2 $c2 ($(share "$c2" "$tot")), backend 3 $c3 ($(share "$c3" "$tot")); unknown $c0; retried $rt; logged with a status but 200 (and 499) $bd"
	done <"$tmp/phases"
	echo "backend 1 served again $(sed -n 's/^back \([0-9.]*\|never\)$/\1/p' "$tmp/phases") s after its restart began"
	echo "499 (wrk closed the connection, at its end) $(sed -n 's/^closed //p' "$tmp/phases")"
	echo "nginx: $(grep -c 'Connection refused' "$tmp/load.err") refused connects, $(grep -c 'prematurely closed\|reset by peer' "$tmp/load.err") connections lost mid-request, $(grep -c 'no live upstreams' "$tmp/load.err") 'no live upstreams'"
} >"$tmp/figures"
cat "$tmp/figures"

[ "$failed" -eq 0 ] && [ "$non2xx" -eq 0 ] || fail "$failed failed requests: $(cat "$tmp/load.wrk")"
! grep -Eq 'Non-2xx|Socket errors' "$tmp/load.wrk" ||
    fail "wrk reports errors: $(cat "$tmp/load.wrk")"
[ "$requests" -gt 1000 ] || fail "only $requests requests in 20 s"
awk '$1 ~ /^(before|during|after)$/ && $8 != 0 { bad = 1 } END { exit bad }' "$tmp/phases" ||
    fail "nginx logged statuses but 200 and 499 (the last column): $(cat "$tmp/phases")"
pass "no failed request of $requests while backend 1 was killed and restarted"
read -r _ _ c1 c2 c3 c0 _ <<EOF
$(grep '^before ' "$tmp/phases")
EOF
[ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] && [ "$c3" -gt 0 ] ||
    fail "before the kill not every backend served: $c1, $c2, $c3"
[ "$c0" -eq 0 ] || fail "$c0 requests answered by an unknown upstream"
pass "before the kill all three backends served (IPv4, IPv4, IPv6: $v6)"
[ "$(sed -n 's/^late //p' "$tmp/phases")" -eq 0 ] ||
    fail "backend 1 answered requests while it was dead"
read -r _ _ _ c2 c3 _ <<EOF
$(grep '^during ' "$tmp/phases")
EOF
[ "$c2" -gt 0 ] && [ "$c3" -gt 0 ] || fail "while backend 1 was down: backends 2 and 3 served $c2 and $c3"
pass "while backend 1 was down backends 2 and 3 served everything"
back=$(sed -n 's/^back \([0-9.]*\|never\)$/\1/p' "$tmp/phases")
[ "$back" != never ] || fail "backend 1 got no traffic after its restart"
pass "backend 1 served again $back s after its restart (fail_timeout=5s)"

# A second address of the front, not on the allowlists of backends 2 and
# 3: its connections are refused, and logged; the front's own address is
# admitted.
addr_add "$front" 198.18.2.253/24 f2 &&
    addr_add "$front" "$f3extra/$b3plen" f3 ||
    fail "could not add the second front addresses"
# from SOURCE TARGET: one POST from the front to TARGET, bound to SOURCE.
from() {
	printf 'begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=8\nparams-end 1\nstdin 1 admitted\nstdin-end 1\nexpect-end 1\n' |
	    in_front "$FCGI_RAW" -t 5 -r "$tmp/from.rep" -b "$1:0" "$2" - >"$tmp/from.out" 2>&1
}
[ "$v6" = yes ] && b3target="[$b3addr]:9000" b3src="[$f3extra]" b3own="[$f3addr]" ||
    b3target=$b3addr:9000 b3src=$f3extra b3own=$f3addr
from 198.18.2.254 198.18.2.1:9000 && grep -q 'ADMITTED' "$tmp/from.out" ||
    fail "the front's own address was not answered by backend 2: $(cat "$tmp/from.rep")"
from "$b3own" "$b3target" && grep -q 'ADMITTED' "$tmp/from.out" ||
    fail "the front's own address was not answered by backend 3: $(cat "$tmp/from.rep")"
for target in 2 3; do
	if [ "$target" = 2 ]; then src=198.18.2.253 addr=198.18.2.1:9000 shown=198.18.2.253
	else src=$b3src addr=$b3target shown=$f3extra; fi
	from "$src" "$addr" && fail "backend $target answered $shown"
	grep -q 'ADMITTED' "$tmp/from.out" && fail "backend $target sent an answer to $shown"
	wait_until 5 grep -q "refused a connection from $shown: not on the allowlist" "$tmp/b$target.log" ||
	    fail "backend $target logged no refusal of $shown: $(cat "$tmp/b$target.log")"
done
pass "a second front address ($shown, 198.18.2.253) is refused by the allowlists and logged"
