#!/bin/sh
# shellcheck disable=SC2015,SC2317 # "A && B || fail"; cleanup runs from a trap
# README's two commands on a fresh Debian 12, for CI (not part of make
# check; .ci/run runs it after ./quickstart test, as root):
#
#   tests/fresh-machine.sh
#
# It builds a minimal Debian 12 root (debootstrap --variant=minbase
# bookworm) from this machine's own apt source, clones the committed tree
# (HEAD) into /usr/local/src/upcase-fcgi there, mounts the root onto
# itself (a mount point, as / is), proc, sys, dev, dev/pts, dev/shm and a
# tmpfs on /tmp, and runs, as root in that root,
# README's commands exactly as written:
#   ./quickstart test    in a clone in /root first: it must refuse at once,
#                        naming the cause (nobody cannot enter /root);
#   ./quickstart test    must exit 0 and leave nothing running;
#   ./quickstart serve   in the background, until nginx answers on
#                        127.0.0.1:8080; then curl: README's example, a
#                        multilingual body, 1 MiB (200) and 1 MiB + 1
#                        (413), an empty GET (200, empty body); then a
#                        Ctrl-C (SIGINT to its process group), after which
#                        it must exit 0 and leave nothing running.
# The wall time of each step is printed at the end.  Everything it made is
# unmounted and removed on exit, also on failure; the only processes it
# stops are those running inside its root (their /proc/PID/root), which
# only it starts.  The root shares this machine's network: port 8080 on
# 127.0.0.1 must be free.
#
# Exit status: 0 passed; 1 failed; 77 cannot run here (not root, no
# debootstrap and no way to install it, no Debian source in apt's lists).
# FRESH_MACHINE_DIR: where the root is made (default /var/tmp).
# FRESH_MACHINE_CACHE=FILE: a debootstrap tarball (--make-tarball) reused
# when it exists, made when it does not; unset (as in CI), every run
# downloads afresh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
suite=bookworm
# Where README's commands run in the root (README: not under /root).
tree=/usr/local/src/upcase-fcgi

say() { echo "fresh-machine: $*"; }
cannot() { say "cannot run: $*"; exit 77; }
failed=0
failure() { say "FAIL: $*"; failed=1; }

[ "$(id -u)" = 0 ] ||
    cannot "needs root (debootstrap, chroot and mounts); CI runs it as root"
[ "$(uname -s)" = Linux ] || cannot "needs Linux"
command -v git >/dev/null 2>&1 || cannot "git not found"
git -C "$srcdir" rev-parse -q --verify HEAD >/dev/null 2>&1 ||
    cannot "$srcdir is not a git work tree with a commit"

# --- step times --------------------------------------------------------------
t_start=$(date +%s)
steps=
step_t0=$t_start
# step_begin: start the clock of the next step.
step_begin() { step_t0=$(date +%s); }
# step_end NAME: record the wall time since step_begin.
step_end() {
	_s=$(( $(date +%s) - step_t0 ))
	steps="$steps$(printf '  %-38s %5d s' "$1" "$_s")
"
	say "$1: $_s s"
}

# --- this machine's apt source -----------------------------------------------
# apt_mirror: the first Debian archive URI of apt's lists for $suite (else
# for any suite that is not -security, -updates or -backports): one-line
# sources.list files and deb822 .sources files alike.
apt_mirror() {
	for _f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$_f" ] || continue
		awk -v suite="$suite" '
		    $1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			print $(i + 1), $i
		    }' "$_f"
	done
	for _f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$_f" ] || continue
		awk '
		    function flush() {
			if (types ~ /(^| )deb( |$)/ && enabled != "no")
				for (n = split(suites, s, " "); n > 0; n--)
					print s[n], uri
			types = uris = suites = enabled = ""
		    }
		    /^[ \t]*#/ { next }
		    /^[ \t]*$/ { flush(); next }
		    { v = $0; sub(/^[^:]*:[ \t]*/, "", v) }
		    tolower($1) == "types:" { types = v }
		    tolower($1) == "uris:" { split(v, u, " "); uri = u[1] }
		    tolower($1) == "suites:" { suites = v }
		    tolower($1) == "enabled:" { enabled = tolower(v) }
		    END { flush() }' "$_f"
	done | awk -v suite="$suite" '
	    $1 == suite && !exact { exact = $2 }
	    $1 !~ /-(security|updates|backports)$/ && !any { any = $2 }
	    END { if (exact) print exact; else if (any) print any }'
}

mirror=$(apt_mirror)
[ -n "$mirror" ] ||
    cannot "no Debian source in /etc/apt/sources.list or /etc/apt/sources.list.d"

if ! command -v debootstrap >/dev/null 2>&1; then
	say "installing debootstrap"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends debootstrap; } >/dev/null 2>&1
	command -v debootstrap >/dev/null 2>&1 ||
	    cannot "debootstrap not found and apt-get could not install it"
fi

# --- the root, and its removal ----------------------------------------------
work=$(mktemp -d "${FRESH_MACHINE_DIR:-/var/tmp}/upcase-fresh.XXXXXX") ||
    cannot "cannot make a directory in ${FRESH_MACHINE_DIR:-/var/tmp}"
root="$work/root"

# in_root: the PIDs of the processes whose root is $root.
in_root() {
	for _p in /proc/[0-9]*; do
		[ "$(readlink "$_p/root" 2>/dev/null)" = "$root" ] && echo "${_p#/proc/}"
	done
}

# describe PID...: "PID command line" for each.
describe() {
	for _p; do
		printf '%s %s\n' "$_p" "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)"
	done
}

# stop_in_root: TERM, then KILL, every process inside the root.
stop_in_root() {
	_pids=$(in_root)
	[ -n "$_pids" ] || return 0
	# shellcheck disable=SC2086 # one PID per word
	kill -TERM $_pids 2>/dev/null
	for _ in $(seq 50); do
		[ -n "$(in_root)" ] || return 0
		sleep 0.1
	done
	_pids=$(in_root)
	# shellcheck disable=SC2086
	[ -z "$_pids" ] || kill -KILL $_pids 2>/dev/null
	sleep 0.5
}

# mounted_under DIR: the mount points at or under DIR, deepest first.
mounted_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' \
	    /proc/self/mountinfo | sort -r
}

cleanup() {
	_status=$?
	trap - EXIT INT TERM HUP
	step_begin
	stop_in_root
	for _m in $(mounted_under "$work"); do
		umount "$_m" 2>/dev/null || umount -l "$_m"
	done
	if [ -n "$(mounted_under "$work")" ]; then
		say "still mounted, $work left in place: $(mounted_under "$work")"
		_status=1
	else
		rm -rf --one-file-system "$work"
	fi
	step_end "cleanup"
	say "step times (wall clock):"
	printf '%s' "$steps"
	printf '  %-38s %5d s\n' total $(( $(date +%s) - t_start ))
	[ "$_status" = 0 ] && [ "$failed" = 0 ] && { say "passed"; exit 0; }
	[ "$_status" = 77 ] && exit 77
	say "failed"
	exit 1
}
trap cleanup EXIT
trap 'failure "interrupted"; exit 1' INT TERM HUP

# mount_in TYPE SOURCE DIR [OPTIONS]: mount in the root, private, recorded.
mount_in() {
	mkdir -p "$root/$3"
	if [ "$1" = bind ]; then
		mount --bind "$2" "$root/$3"
	else
		mount -t "$1" ${4:+-o "$4"} "$2" "$root/$3"
	fi || { failure "cannot mount $2 on /$3 in the root"; exit 1; }
	mount --make-private "$root/$3"
}

# --- steps -------------------------------------------------------------------
say "Debian $suite minbase from $mirror into $root"
step_begin
include=
case $mirror in https:*) include=--include=ca-certificates ;; esac
cache=${FRESH_MACHINE_CACHE:-}
if [ -n "$cache" ] && [ ! -f "$cache" ]; then
	mkdir -p "$(dirname "$cache")"
	debootstrap --variant=minbase $include --make-tarball="$cache" \
	    "$suite" "$work/tarball" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -n 30 "$work/debootstrap.log"
		rm -f "$cache"; failure "debootstrap --make-tarball failed"; exit 1; }
	rm -rf "$work/tarball"
fi
debootstrap --variant=minbase $include ${cache:+--unpack-tarball="$cache"} \
    "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log"
	failure "debootstrap failed"; exit 1; }
step_end "debootstrap${cache:+ (cached .debs)}"

step_begin
git clone -q "$srcdir" "$root$tree" && git clone -q "$srcdir" "$root/root/upcase-fcgi" ||
    { failure "git clone of $srcdir failed"; exit 1; }
say "cloned $(git -C "$root$tree" log -1 --format='%h %s') into $tree and /root/upcase-fcgi"
[ -s "$root/etc/resolv.conf" ] || cp /etc/resolv.conf "$root/etc/resolv.conf"
# The root a mount point of its own, as / is on a real machine: ip netns
# exec (tests/scale-out.sh) remounts / as a slave, which fails with
# EINVAL on a directory that is not a mount point.
mount --bind "$root" "$root" && mount --make-private "$root" ||
    { failure "cannot bind-mount the root onto itself"; exit 1; }
mount_in proc proc proc
mount_in sysfs sysfs sys
mount_in bind /dev dev
mount_in bind /dev/pts dev/pts
mount_in tmpfs shm dev/shm mode=1777
mount_in tmpfs tmp tmp mode=1777
step_end "clone and mounts"

# in_chroot COMMAND [DIR]: a login-like root shell in the root, in DIR
# (default: the clone in $tree).
chroot_env="HOME=/root USER=root LOGNAME=root SHELL=/bin/sh TERM=${TERM:-dumb}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
in_chroot() {
	# shellcheck disable=SC2086 # one NAME=VALUE per word
	chroot "$root" /usr/bin/env -i $chroot_env /bin/sh -c "cd ${2:-$tree} && $1"
}

# left_running WHEN: fail if any process is still running in the root.
left_running() {
	_pids=$(in_root)
	[ -z "$_pids" ] && return 0
	# shellcheck disable=SC2086
	failure "still running in the root $1: $(describe $_pids)"
	stop_in_root
}

say "./quickstart test in /root/upcase-fcgi: must refuse, naming the cause"
step_begin
in_chroot './quickstart test' /root/upcase-fcgi </dev/null >"$work/in-root.log" 2>&1
in_root_status=$?
sed 's/^/  /' "$work/in-root.log"
[ "$in_root_status" = 1 ] && grep -q 'nobody, who cannot enter /root/upcase-fcgi' "$work/in-root.log" ||
    failure "./quickstart test in /root: exit $in_root_status, not the refusal"
rm -rf "$root/root/upcase-fcgi"
step_end "./quickstart test in /root (refused)"

say "./quickstart test in $tree"
step_begin
in_chroot './quickstart test' </dev/null 2>&1
test_status=$?
step_end "./quickstart test"
if [ "$test_status" != 0 ]; then
	failure "./quickstart test exited $test_status"
	# What failed, from the logs of make check and the sanitizer run,
	# before cleanup removes the root with them.
	for trs in "$root$tree"/build/tests/*.trs "$root$tree"/build/asan/tests/*.trs; do
		grep -q '^:test-result: \(FAIL\|ERROR\)' "$trs" 2>/dev/null || continue
		say "the end of ${trs%.trs}.log:"
		tail -n 25 "${trs%.trs}.log" | sed 's/^/  /'
	done
fi
left_running "after ./quickstart test"

# --- serve -----------------------------------------------------------------------
# curl_in ARGS...: curl inside the root (quickstart installed it).
curl_in() { chroot "$root" /usr/bin/curl -sS --max-time 30 "$@"; }
serving() { curl_in -o /dev/null 127.0.0.1:8080/ 2>/dev/null; }

if serving; then
	failure "something already answers on 127.0.0.1:8080; serve cannot be tried"
	exit 1
fi
say "./quickstart serve, in the background"
step_begin
# Its own session, as a terminal's foreground job: Ctrl-C is SIGINT to the
# process group.  A background job of a script ignores SIGINT unless told.
# shellcheck disable=SC2086
setsid chroot "$root" /usr/bin/env --default-signal=INT -i $chroot_env \
    /bin/sh -c "cd $tree && exec ./quickstart serve" \
    >"$work/serve.log" 2>&1 &
serve_pid=$!
up=0
for _ in $(seq 1200); do
	kill -0 "$serve_pid" 2>/dev/null || break
	serving && { up=1; break; }
	sleep 0.5
done
step_end "./quickstart serve, until it answers"
if [ "$up" = 0 ]; then
	cat "$work/serve.log"
	failure "./quickstart serve did not answer on 127.0.0.1:8080"
	exit 1
fi
sed 's/^/  serve: /' "$work/serve.log"

step_begin
# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		say "ok: $1: $2"
	else
		failure "$1: got '$2', want '$3'"
	fi
}
expect "README's example" "$(curl_in --data 'hello' 127.0.0.1:8080)" HELLO
expect "multilingual body" \
    "$(curl_in --data-binary 'café привет αβγ' 127.0.0.1:8080)" 'CAFÉ ПРИВЕТ ΑΒΓ'
head -c 1048576 /dev/zero | tr '\0' a >"$root/tmp/1m"
printf b >>"$root/tmp/1m"
head -c 1048576 "$root/tmp/1m" >"$root/tmp/1m-exact"
expect "1 MiB body" "$(curl_in -o /tmp/1m.out -w '%{http_code} %{size_download}' \
    --data-binary @/tmp/1m-exact 127.0.0.1:8080)" "200 1048576"
expect "1 MiB + 1 byte body" "$(curl_in -o /dev/null -w '%{http_code}' \
    --data-binary @/tmp/1m 127.0.0.1:8080)" 413
expect "empty GET" "$(curl_in -o /tmp/get.out -w '%{http_code} %{size_download}' \
    127.0.0.1:8080/)" "200 0"
step_end "curl round trips"

say "Ctrl-C"
step_begin
pgid=$(awk '{ print $5 }' "/proc/$serve_pid/stat" 2>/dev/null)
if [ -n "$pgid" ] && [ "$pgid" -gt 1 ]; then
	kill -INT -"$pgid"
else
	failure "./quickstart serve is gone before Ctrl-C"
fi
stopped=0
for _ in $(seq 300); do
	kill -0 "$serve_pid" 2>/dev/null || { stopped=1; break; }
	sleep 0.1
done
if [ "$stopped" = 1 ]; then
	wait "$serve_pid"
	serve_status=$?
	[ "$serve_status" = 0 ] || failure "./quickstart serve exited $serve_status after Ctrl-C"
	say "serve exited $serve_status after Ctrl-C"
else
	failure "./quickstart serve still runs 30 s after Ctrl-C"
fi
sed -n '/is serving behind nginx/,$p' "$work/serve.log" | tail -n +6 | sed 's/^/  serve: /'
left_running "after Ctrl-C"
serving && failure "127.0.0.1:8080 still answers after Ctrl-C"
step_end "Ctrl-C stop"
exit 0
