#!/bin/sh
# What one request costs in system calls: upcase-fcgi against the plain
# libfcgi echo responder (tests/plain-responder), both behind one private
# nginx, counted with strace -c on the serving child.
#
#   tests/bench/syscalls.sh [-b BUILDDIR] [-n REQUESTS]
#
# BUILDDIR (default: the current directory) must hold src/upcase-fcgi and
# tests/plain-responder (make check builds the latter); nothing is built
# here.  Each responder runs with one child (so one strace sees every
# request), started like in tests/bench/run.sh: spawn-fcgi -n on a unix
# socket, nginx in front with its stock fastcgi_params.  For a GET and
# POST bodies of 128 B, 64 KiB and 1 MiB, REQUESTS (default 200; 50 for
# 1 MiB) sequential requests go through one curl after a warm-up, while
# strace -c -f is attached to the child; every call the child made is
# divided by the number of requests.  Prints a Markdown table: one row per
# system call, one column per responder and size, and the total.
#
# Not part of make check (needs strace, and ptrace may be forbidden in a
# container).  Loopback only; only the processes started here are stopped.
set -u

builddir=.
count=200
while [ $# -gt 0 ]; do
	case $1 in
	-b) builddir=${2:?-b needs a directory}; shift ;;
	-n) count=${2:?-n needs a number}; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [-b BUILDDIR] [-n REQUESTS]" >&2; exit 2 ;;
	esac
	shift
done

. "$(dirname "$0")/common.sh"
require NGINX
require SPAWN_FCGI
require CURL
require STRACE

PLAIN="$top_builddir/tests/plain-responder"
need_built "$WORKER" "$PLAIN"
sizes="0 128 65536 1048576"

find_fastcgi_params
bench_server "unix:$HTTP_SOCKET" >"$tmp/server.conf"
render_nginx_conf "$tmp/server.conf"
start_nginx

for name in upcase plain; do
	case $name in
	upcase) prog=$WORKER; opts="-f -c 1" ;;
	plain) prog=$PLAIN; opts="-c 1" ;;
	esac
	# shellcheck disable=SC2086
	"$SPAWN_FCGI" -n -s "$tmp/$name.sock" -M 0666 $spawn_user -- \
	    "$prog" $opts >"$tmp/$name.log" 2>&1 &
	eval "${name}_pid=$!"
	track_pid "$!"
	wait_until 10 is_socket "$tmp/$name.sock" &&
	    wait_until 10 has_children "$!" || {
		cat "$tmp/$name.log" >&2; fail "$name did not start"; }
done

# shellcheck disable=SC2086 # the list of sizes
make_bodies $sizes

# requests NAME SIZE COUNT: COUNT sequential requests through one curl.
requests() {
	{
		echo 'silent'
		echo 'show-error'
		echo 'max-time = 30'
		echo "unix-socket = \"$HTTP_SOCKET\""
		echo 'write-out = "%{http_code}\n"'
		[ "$2" != 0 ] && echo "data-binary = \"@$tmp/body.$2\""
		seq "$3" | sed "s|.*|url = \"http://localhost/$1/&\"\\
output = \"/dev/null\"|"
	} >"$tmp/curl.cfg"
	_ok=$(timeout 300 "$CURL" -K "$tmp/curl.cfg" 2>/dev/null | grep -c '^200$')
	[ "$_ok" = "$3" ] || fail "$1 size $2: $_ok of $3 requests got 200"
}

# count NAME SIZE: strace the child over COUNT requests; appends
# "name size syscall calls" rows (calls per request) to $tmp/rows.
count() {
	eval "_master=\$${1}_pid"
	_child=$(children_of "$_master" | head -1)
	_n=$count
	[ "$2" = 1048576 ] && [ "$_n" -gt 50 ] && _n=50
	requests "$1" "$2" 5	# warm-up
	rm -f "$tmp/strace.out"
	"$STRACE" -f -c -o "$tmp/strace.out" -p "$_child" 2>"$tmp/strace.err" &
	_st=$!
	track_pid "$_st"
	# strace prints "Process N attached" once it is in.
	wait_until 10 grep -q attached "$tmp/strace.err" ||
	    fail "strace could not attach to $_child: $(cat "$tmp/strace.err")"
	requests "$1" "$2" "$_n"
	sleep 0.3	# the last FCGX_Finish_r
	kill -INT "$_st"
	wait "$_st" 2>/dev/null
	[ -s "$tmp/strace.out" ] || fail "strace wrote no summary"
	awk -v name="$1" -v size="$2" -v n="$_n" '
	    $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
		printf "%s %s %s %.2f\n", name, size, $NF, $4 / n }' \
	    "$tmp/strace.out" >>"$tmp/rows"
}

: >"$tmp/rows"
for size in $sizes; do
	for name in upcase plain; do
		count "$name" "$size"
	done
done

{
	printf '| syscall |'
	for size in $sizes; do
		printf ' upcase %s | plain %s |' "$(size_name "$size")" "$(size_name "$size")"
	done
	echo
	printf '|---|'
	for size in $sizes; do printf -- '---|---|'; done
	echo
	awk '{ print $3 }' "$tmp/rows" | sort -u | while read -r sc; do
		printf '| %s |' "$sc"
		for size in $sizes; do
			for name in upcase plain; do
				v=$(awk -v a="$name" -v b="$size" -v c="$sc" \
				    '$1 == a && $2 == b && $3 == c { print $4 }' "$tmp/rows")
				printf ' %s |' "${v:-0}"
			done
		done
		echo
	done
	printf '| **total** |'
	for size in $sizes; do
		for name in upcase plain; do
			awk -v a="$name" -v b="$size" '$1 == a && $2 == b { t += $4 }
			    END { printf " **%.2f** |", t }' "$tmp/rows"
		done
	done
	echo
}
echo
echo "System calls per request of the serving child (strace -c -f; $count requests, 50 for 1 MiB; one child each)."
