#!/bin/sh
# The lifecycle under load: wrk (1 thread, 8 connections) POSTs through a
# private nginx to the worker on 127.0.0.1 while
#   1. children recycle (-c 2 -r 50): child PIDs change, the master stays;
#   2. SIGUSR2 upgrades a replaced binary (new inode) in place: same
#      master PID, every old child retired and replaced, the log says so;
#   3. SIGUSR2 finds the binary not executable: the running image keeps
#      serving with the same children and logs why (and, without load,
#      the same when the binary is missing or crashes at start-up);
#   4. SIGHUP arrives every 100 ms for 10 s: the master survives;
# and, without load, 5. SIGUSR1 and SIGPIPE leave the master serving and
# its unix socket in place.  Under load, every scenario must have no
# failed request: no non-2xx, no socket error (connect, read, write,
# timeout), no 200 with a body other than the uppercased request, more
# than $MIN_REQUESTS requests, and no upstream error in nginx's error.log.
# The figures of each scenario are printed at the end.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
require WRK
need_ss
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"

MIN_REQUESTS=100
BODY='lifecycle under load: the quick brown fox jumps over the lazy dog'
EXPECT=$(printf %s "$BODY" | tr '[:lower:]' '[:upper:]')
UPGRADE_CHILDREN=4

# start_tcp_worker NAME BINARY [OPTIONS...]: run BINARY in the foreground
# on 127.0.0.1 and a free port; log in $tmp/NAME.log; wait until the master
# has a child and the port listens.  Sets NAME_pid and NAME_port.  A port
# taken between the check and the bind is retried with another.
start_tcp_worker() {
	_name=$1; _bin=$2; shift 2
	for _try in 1 2 3 4 5; do
		_port=$(free_port)
		# shellcheck disable=SC2086
		"$_bin" -f -s "127.0.0.1:$_port" $as_user "$@" \
		    >"$tmp/$_name.log" 2>&1 &
		_pid=$!
		track_pid "$_pid"
		if wait_until 10 has_children "$_pid" &&
		    wait_until 10 tcp_listening "$_port"; then
			eval "${_name}_pid=$_pid ${_name}_port=$_port"
			return 0
		fi
		wait_until 5 gone "$_pid"
		grep -q 'in use' "$tmp/$_name.log" || break
	done
	cat "$tmp/$_name.log" >&2
	fail "$_name: the worker did not start on 127.0.0.1"
}

# The load of load_start (lib.sh): POSTs of $BODY, each response checked.
load_script "$BODY"

# via_nginx PATH: one POST through nginx answered with its uppercase.
via_nginx() {
	[ "$("$CURL" -sS --max-time 10 --data-binary "$BODY" \
	    "http://127.0.0.1:$http_port$1")" = "$EXPECT" ]
}

# --- the workers and nginx ------------------------------------------------
# recycle: the built binary, recycling every 50 requests.  upgrade: a copy
# of it in a directory of its own, which the tests replace and chmod; as
# root the master runs as $run_user, who must be able to execute it.
start_tcp_worker recycle "$WORKER" -c 2 -r 50
mkdir "$tmp/bin"
chmod 755 "$tmp/bin"
bin="$tmp/bin/upcase-fcgi"
cp "$WORKER" "$bin"
chmod 755 "$bin"
start_tcp_worker upgrade "$bin" -c "$UPGRADE_CHILDREN"

cat >"$tmp/server.conf" <<NGINX
server {
	listen 127.0.0.1:@HTTP_PORT@;
	keepalive_requests 1000000;
	location / {
		fastcgi_pass_request_headers off;
		fastcgi_param REQUEST_METHOD \$request_method;
		fastcgi_param CONTENT_LENGTH \$content_length;
		location /recycle/ { fastcgi_pass 127.0.0.1:$recycle_port; }
		location /upgrade/ { fastcgi_pass 127.0.0.1:$upgrade_port; }
	}
}
NGINX
cp "$tmp/server.conf" "$tmp/server.conf.in"
render_nginx_conf "$tmp/server.conf"
# server_conf: the server block above for the port start_nginx_tcp found.
server_conf() {
	sed "s/@HTTP_PORT@/$http_port/" "$tmp/server.conf.in" >"$tmp/server.conf"
}
start_nginx_tcp server_conf
for path in /recycle/ /upgrade/; do
	via_nginx "$path" || fail "nginx does not answer $path with the uppercase body"
done

# --- 1. recycling: -c 2 -r 50 ----------------------------------------------
children_before=$(children_of "$recycle_pid")
load_start recycle 10 /recycle/
# Sample the children while the load lasts (bounded: 20 s at 0.1 s).
: >"$tmp/recycle.pids"
for _ in $(seq 200); do
	loading || break
	children_of "$recycle_pid" >>"$tmp/recycle.pids"
	sleep 0.1
done
load_check recycle
alive "$recycle_pid" || fail "recycle: the master died: $(cat "$tmp/recycle.log")"
seen=$(sort -u "$tmp/recycle.pids" | wc -l)
[ "$seen" -gt 2 ] || fail "recycle: only $seen child PIDs seen with -c 2 -r 50 (want > 2)"
wait_until 10 count_children "$recycle_pid" 2 ||
    fail "recycle: not 2 children after the load: $(children_of "$recycle_pid")"
disjoint "$children_before" "$(children_of "$recycle_pid")" ||
    fail "recycle: a child from before the load is still there"
! grep -E 'killed by signal|respawning' "$tmp/recycle.log" ||
    fail "recycle: a recycled child was logged as a crash (above)"
pass "-c 2 -r 50 under load: $seen child PIDs seen, master $recycle_pid the same, 0 failed"
kill -TERM "$recycle_pid"
wait_until 15 gone "$recycle_pid" || fail "recycle: the master did not stop"
wait "$recycle_pid" || fail "recycle: the master exited with $?: $(cat "$tmp/recycle.log")"

# --- 2. SIGUSR2 under load: upgrade in place ------------------------------
wait_until 10 count_children "$upgrade_pid" "$UPGRADE_CHILDREN" ||
    fail "upgrade: not $UPGRADE_CHILDREN children"
old=$(children_of "$upgrade_pid")
inode_before=$(stat -c %i "$bin")
log_mark=$(lines "$tmp/upgrade.log")
load_start upgrade 8 /upgrade/
sleep 2.5	# under load for a while before the upgrade
# The new binary arrives as package managers install one: a new file
# renamed over the old (a new inode; the running image keeps the old).
cp "$WORKER" "$bin.new"
chmod 755 "$bin.new"
mv -f "$bin.new" "$bin"
[ "$(stat -c %i "$bin")" != "$inode_before" ] || fail "upgrade: the copy kept its inode"
case $(readlink "/proc/$upgrade_pid/exe") in
*'(deleted)')	;;
*)	fail "upgrade: the master does not run the replaced file: $(readlink "/proc/$upgrade_pid/exe")" ;;
esac
kill -USR2 "$upgrade_pid"
# upgraded: as many children as before, none of the old ones left.
# shellcheck disable=SC2086 # $old is a list of PIDs
upgraded() {
	_now=$(children_of "$upgrade_pid")
	[ "$(echo "$_now" | wc -l)" -eq "$UPGRADE_CHILDREN" ] &&
	    disjoint "$old" "$_now" && all_gone $old
}
wait_until 10 upgraded ||
    fail "upgrade: old children $old not all replaced within 10 s: now $(children_of "$upgrade_pid"); $(since "$tmp/upgrade.log" "$log_mark")"
loading || fail "upgrade: the load ended before the upgrade did (machine too slow?)"
new=$(children_of "$upgrade_pid")
load_check upgrade
alive "$upgrade_pid" || fail "upgrade: the master died: $(cat "$tmp/upgrade.log")"
[ "$(readlink "/proc/$upgrade_pid/exe")" = "$bin" ] ||
    fail "upgrade: master $upgrade_pid runs $(readlink "/proc/$upgrade_pid/exe"), not the new $bin"
same_set "$new" "$(children_of "$upgrade_pid")" ||
    fail "upgrade: the new children changed after the upgrade: $new, now $(children_of "$upgrade_pid")"
since "$tmp/upgrade.log" "$log_mark" >"$tmp/upgrade.part"
for line in "upgrade: executing $bin" \
    "upgrade: took over the listening socket and $UPGRADE_CHILDREN children" \
    "upgrade: $UPGRADE_CHILDREN new children serve; retiring $UPGRADE_CHILDREN old ones"; do
	grep -qF "$line" "$tmp/upgrade.part" ||
	    fail "upgrade: no log line '$line': $(cat "$tmp/upgrade.part")"
done
! grep -E 'killed by signal|respawning|cannot|does not start' "$tmp/upgrade.part" ||
    fail "upgrade: unexpected log lines (above)"
pass "SIGUSR2 under load: master $upgrade_pid kept, now runs the new file; children $(echo "$old" | tr '\n' ' ')retired, $(echo "$new" | tr '\n' ' ')serve; 0 failed"

# --- 3. SIGUSR2 with the binary not executable ----------------------------
chmod a-x "$bin"
before=$(children_of "$upgrade_pid")
log_mark=$(lines "$tmp/upgrade.log")
load_start refused_upgrade 5 /upgrade/
sleep 1
kill -USR2 "$upgrade_pid"
wait_until 10 grep -qF "upgrade: $bin does not start; still serving with the running image" "$tmp/upgrade.log" ||
    fail "refused upgrade: no 'does not start' line: $(since "$tmp/upgrade.log" "$log_mark")"
load_check refused_upgrade
chmod 755 "$bin"
since "$tmp/upgrade.log" "$log_mark" >"$tmp/refused.part"
grep -qF "upgrade: cannot execute $bin: Permission denied" "$tmp/refused.part" ||
    fail "refused upgrade: no 'cannot execute ... Permission denied' line: $(cat "$tmp/refused.part")"
! grep -F 'upgrade: executing' "$tmp/refused.part" ||
    fail "refused upgrade: it executed anyway (above)"
alive "$upgrade_pid" || fail "refused upgrade: the master died"
same_set "$before" "$(children_of "$upgrade_pid")" ||
    fail "refused upgrade: children changed: $before, now $(children_of "$upgrade_pid")"
via_nginx /upgrade/ || fail "refused upgrade: not serving afterwards"
pass "SIGUSR2 with the binary not executable: logged, same children, still serving, 0 failed"

# --- 3b. SIGUSR2 with the binary missing, or crashing at start-up --------
# usr2_refused CASE LINE: SIGUSR2 logs LINE and "does not start", and the
# same children go on serving.
usr2_refused() {
	_before=$(children_of "$upgrade_pid")
	_mark=$(lines "$tmp/upgrade.log")
	kill -USR2 "$upgrade_pid"
	wait_until 10 sh -c "tail -n +$((_mark + 1)) '$tmp/upgrade.log' |
	    grep -qF 'upgrade: $bin does not start; still serving with the running image'" ||
	    fail "$1: no 'does not start' line: $(since "$tmp/upgrade.log" "$_mark")"
	since "$tmp/upgrade.log" "$_mark" | grep -qF "$2" ||
	    fail "$1: no line '$2': $(since "$tmp/upgrade.log" "$_mark")"
	alive "$upgrade_pid" || fail "$1: the master died"
	same_set "$_before" "$(children_of "$upgrade_pid")" ||
	    fail "$1: children changed: $_before, now $(children_of "$upgrade_pid")"
	via_nginx /upgrade/ || fail "$1: not serving afterwards"
}
mv "$bin" "$bin.kept"
usr2_refused "missing binary" "upgrade: cannot execute $bin: No such file or directory"
printf '#!/bin/sh\nkill -SEGV $$\n' >"$bin"
chmod 755 "$bin"
usr2_refused "binary that crashes" "upgrade: $bin --test was killed by signal 11"
mv -f "$bin.kept" "$bin"
pass "SIGUSR2 with the binary missing, or crashing at start-up: logged why, same children, still serving"

# --- 4. SIGHUP every 100 ms for 10 s under load ---------------------------
before=$(children_of "$upgrade_pid")
log_mark=$(lines "$tmp/upgrade.log")
# The load outlasts the storm's 10 s, as in keepalive-load.sh.
load_start hup_storm 14 /upgrade/
hup_storm "$upgrade_pid" 100
load_check hup_storm
hup_storm_survived "$upgrade_pid" "$tmp/upgrade.log" "$log_mark" 50 \
    "$UPGRADE_CHILDREN" "$before"
via_nginx /upgrade/ || fail "SIGHUP storm: not serving afterwards"
pass "$hups SIGHUPs every 100 ms ($hups_loaded under load): master alive, children replaced, 0 failed"

# --- 5. SIGUSR1 and SIGPIPE are ignored by the master ---------------------
# On the TCP master behind nginx, and on one with a unix socket file.
mkdir "$tmp/run"
[ "$(id -u)" = 0 ] && chown "$run_user:$run_group" "$tmp/run"
sock="$tmp/run/fcgi.sock"
start_worker "$sock" -c 2
wait_until 10 count_children "$worker_pid" 2 || fail "unix: no 2 children"
for m in "$upgrade_pid" "$worker_pid"; do
	eval "before_$m=\"\$(children_of $m)\""
	kill -USR1 "$m" || fail "SIGUSR1: master $m gone"
	kill -PIPE "$m" || fail "SIGPIPE: master $m gone"
done
# Let a lethal signal act (delivery is immediate; the exit is not).
sleep 0.5
for m in "$upgrade_pid" "$worker_pid"; do
	alive "$m" || fail "SIGUSR1/SIGPIPE killed master $m: $(cat "$tmp/upgrade.log" "$tmp/worker.log")"
	eval "_b=\$before_$m"
	same_set "$_b" "$(children_of "$m")" ||
	    fail "SIGUSR1/SIGPIPE: master $m's children changed: $_b, now $(children_of "$m")"
done
[ -S "$sock" ] || fail "SIGUSR1/SIGPIPE: the socket file $sock is gone"
[ "$(fcgi_post "$sock" "$BODY")" = "$EXPECT" ] ||
    fail "SIGUSR1/SIGPIPE: the unix worker does not answer: $(cat "$tmp/post.rep")"
via_nginx /upgrade/ || fail "SIGUSR1/SIGPIPE: the TCP worker does not answer through nginx"
tcp_listening "$upgrade_port" || fail "SIGUSR1/SIGPIPE: port $upgrade_port no longer listens"
pass "SIGUSR1 and SIGPIPE: both masters alive, same children, socket file there, still serving"

# After all that, SIGTERM still stops the upgraded master with status 0.
kill -TERM "$upgrade_pid"
wait_until 15 gone "$upgrade_pid" || fail "the upgraded master did not stop on SIGTERM"
wait "$upgrade_pid" || fail "the upgraded master exited with $?: $(tail -n 20 "$tmp/upgrade.log")"
stop_worker
pass "the upgraded master stops on SIGTERM with status 0"

echo "figures (wrk -t1 -c8 through nginx, ${#BODY}-byte POSTs):"
cat "$tmp/figures"
