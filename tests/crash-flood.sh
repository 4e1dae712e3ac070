# A flood of crash payloads is no outage: libfcgi's known crash (an
# FCGI_GET_VALUES naming a variable 4 times smashes its stack) kills the
# child that reads it, but a child that was serving is replaced at once --
# back-off is for children that cannot start.  4 clients send payloads
# for 10 s without waiting for an answer, as fast as they can, so the
# listen queue fills with them; requests through nginx are then answered
# within 1 s of the attack's end, and the master logs the deaths at most
# 10 lines per 10 s, then how many it did not log.  (With back-off for
# every death, the queue was full -- 1,025 -- at the end of such an
# attack and no request was answered in the next 5 s.)
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
need_ss
ATTACK_SECONDS=10

sock="$tmp/upcase.sock"
start_worker "$sock" -c 2
deploy_server_conf "$sock"
render_nginx_conf "$tmp/server.conf"
start_nginx
# Not through nginx: a connection nginx keeps from before the attack would
# reach a child without the listen queue, and hide what the queue does.
[ "$(fcgi_post "$sock" before)" = BEFORE ] || fail "no answer before the attack"

printf 'get-values FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS FCGI_MPXS_CONNS\nbegin 1\nparams-end 1\nstdin-end 1\n' >"$tmp/crash.script"
# attacker N: a payload every 20 ms, each on its own connection that
# waits 2 s at most (3 s if its connect blocks on a full queue), until the
# attack time is over; count them.
end=$(( $(date +%s) + ATTACK_SECONDS ))
attacker() {
	_n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		timeout 3 "$FCGI_RAW" -t 2 "$sock" "$tmp/crash.script" >/dev/null 2>&1 &
		_n=$((_n + 1))
		sleep 0.02
	done
	wait
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
# The socket was born as "s" in a private directory and renamed (listen.c).
queued=$(ss -Hxl src "$tmp/*" | awk '$5 ~ /\/s$/ { print $3 }')
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
pass "$sent crash payloads in $ATTACK_SECONDS s, ${queued:-?} still queued at its end: answered $first_ms ms after the attack, $deaths death lines logged"
