#!/bin/sh
# A flood of crash payloads is no outage: libfcgi's known crash (an
# FCGI_GET_VALUES naming a variable 4 times smashes its stack) kills the
# child that reads it, but a
# child that was serving is replaced at once -- back-off is for children
# that cannot start -- so after 10 s of payloads from 4 clients, requests
# through nginx are answered within 1 s of the attack's end; and the
# master logs the deaths at most 10 lines per 10 s, then how many it did
# not log.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
ATTACK_SECONDS=10

sock="$tmp/upcase.sock"
start_worker "$sock" -c 2
deploy_server_conf "$sock"
render_nginx_conf "$tmp/server.conf"
start_nginx
[ "$(http --data 'before' http://localhost/)" = BEFORE ] || fail "no answer before the attack"

printf 'get-values FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS\nbegin 1\nparams-end 1\nstdin-end 1\n' >"$tmp/crash.script"
# attacker N: send payloads until the attack time is over; count them.
attacker() {
	_end=$(( $(date +%s) + ATTACK_SECONDS ))
	_n=0
	while [ "$(date +%s)" -lt "$_end" ]; do
		"$FCGI_RAW" -t 2 "$sock" "$tmp/crash.script" >/dev/null 2>&1
		_n=$((_n + 1))
	done
	echo "$_n" >"$tmp/attacker.$1"
}
attackers=
for i in 1 2 3 4; do
	attacker "$i" &
	attackers="$attackers $!"
	track_pid "$!"
done
# shellcheck disable=SC2086
wait $attackers
end_ns=$(date +%s%N)
sent=$(cat "$tmp"/attacker.* | awk '{ s += $1 } END { print s }')

# Twenty requests right after: each answered, the first within 1 s.
first_ms=
for i in $(seq 20); do
	got=$(http --max-time 5 --data "after $i" http://localhost/) ||
	    fail "request $i after the attack failed: $(tail -3 "$tmp/nginx/error.log")"
	[ "$got" = "AFTER $i" ] || fail "request $i after the attack answered '$got'"
	[ -n "$first_ms" ] || first_ms=$(( ($(date +%s%N) - end_ns) / 1000000 ))
done
[ "$first_ms" -le 1000 ] || fail "the first request after the attack took $first_ms ms"

deaths=$(grep -c 'killed by signal 6' "$tmp/worker.log")
[ "$deaths" -ge 1 ] || fail "no child died: the payload no longer crashes libfcgi, so this test proves nothing"
[ "$deaths" -le $(( (ATTACK_SECONDS / 10 + 2) * 10 )) ] ||
    fail "$deaths death lines for $sent payloads: the log is not rate-limited"
if [ "$sent" -gt "$deaths" ]; then
	wait_until 12 grep -q 'more child deaths in 10 s were not logged' "$tmp/worker.log" ||
	    fail "$sent payloads, $deaths death lines, and no count of the rest"
fi
kill -0 "$worker_pid" || fail "the master died"
pass "$sent crash payloads in $ATTACK_SECONDS s: answered $first_ms ms after the attack, $deaths death lines logged"
