#!/bin/sh
# The framing of kept connections is exact: 1,000 requests of mixed sizes
# -- GETs, and POSTs of about 128 B, 4 KiB, 64 KiB and 500 KiB, ASCII or
# multilingual UTF-8 whose uppercase is longer or shorter -- go 16 at a
# time through nginx with the deploy file's upstream keep-alive to a pool
# of 2 children.  Every response is 200 and exactly its own uppercased
# body (each body repeats its request number throughout, so bytes of
# another request anywhere would show), with a Content-Length equal to
# its size; nginx logs no upstream error; and the connections are kept:
# afterwards the children still hold nginx's idle connections.
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL
need_ss
need_cmd md5sum coreutils

REQUESTS=1000
PARALLEL=16

start_worker "$tmp/fcgi.sock" -c 2
wait_until 10 count_children "$worker_pid" 2 || fail "not 2 children"
# The fds of the 2 children before they have a connection.
# shellcheck disable=SC2046 # a list of PIDs
idle_fds=$(open_fds $(children_of "$worker_pid"))
deploy_server_conf "$tmp/fcgi.sock"
for want in "keepalive [0-9]*;" "fastcgi_keep_conn on;"; do
	grep -q "^[[:space:]]*$want\$" "$tmp/server.conf" ||
	    fail "deploy/nginx/upcase-fcgi.conf: no '$want'"
done
render_nginx_conf "$tmp/server.conf"
start_nginx

# The requests: in/N the body (none for a GET), want/N the expected
# response body; $tmp/sizes "N method expected-bytes"; $tmp/requests.cfg
# curl's config, one transfer per request ("next" between them).  Every
# tenth is a GET, every 50th (from the 25th) about 500 KiB; of the rest
# 4 in 9 are about 128 B, 3 in 9 about 4 KiB and 2 in 9 about 64 KiB; odd
# ones multilingual (ß stays, ɐ grows, ı and ſ shrink), even ones ASCII.
mkdir "$tmp/in" "$tmp/want" "$tmp/out"
awk -v n="$REQUESTS" -v dir="$tmp" -v sock="$HTTP_SOCKET" '
BEGIN {
	ascii = "the quick brown fox jumps over the lazy dog. "
	ASCII = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG. "
	utf8 = "Straße größer, Съешь ещё, Λόγος σοφός, ılık ɐ ſ ǆ 中文字. "
	UTF8 = "STRAßE GRÖßER, СЪЕШЬ ЕЩЁ, ΛΌΓΟΣ ΣΟΦΌΣ, ILIK Ɐ S Ǆ 中文字. "
	for (i = 1; i <= n; i++) {
		id = sprintf("%04d", i)
		k = i % 9
		if (i % 10 == 0)
			size = 0
		else if (i % 50 == 25)
			size = 500 * 1024
		else if (k < 4)
			size = 128
		else if (k < 7)
			size = 4096
		else
			size = 65536
		if (i % 2) { u = id ":" utf8; U = id ":" UTF8 }
		else { u = id ":" ascii; U = id ":" ASCII }
		body = ""; want = ""
		if (size > 0) {
			body = "request " id " of " size " bytes: "
			want = toupper(body)
			reps = int((size - length(body)) / length(u)) + 1
			# Doubling: a 500 KiB string in a few steps.
			bu = u; bU = U
			for (r = reps; r > 0; r = int(r / 2)) {
				if (r % 2) { body = body bu; want = want bU }
				bu = bu bu; bU = bU bU
			}
			printf "%s", body >(dir "/in/" id)
			close(dir "/in/" id)
		}
		printf "%s", want >(dir "/want/" id)
		close(dir "/want/" id)
		print id, (size > 0 ? "POST" : "GET"), length(want) >(dir "/sizes")
		cfg = dir "/requests.cfg"
		if (i > 1)
			print "next" >cfg
		print "silent\nshow-error\nmax-time = 60" >cfg
		print "unix-socket = \"" sock "\"" >cfg
		print "url = \"http://localhost/" id "\"" >cfg
		print "output = \"" dir "/out/" id "\"" >cfg
		print "write-out = \"" id " %{http_code} %{size_download} %header{content-length}\\n\"" >cfg
		if (size > 0)
			print "data-binary = \"@" dir "/in/" id "\"" >cfg
	}
}' || fail "could not write the requests"
[ "$(wc -l <"$tmp/sizes")" -eq "$REQUESTS" ] || fail "not $REQUESTS requests written"
# The multilingual bodies change length: Content-Length is not the input's.
[ "$(wc -c <"$tmp/in/0001")" != "$(wc -c <"$tmp/want/0001")" ] ||
    fail "request 0001 should change length"

t0=$(date +%s%N)
timeout 120 "$CURL" --parallel --parallel-max "$PARALLEL" \
    -K "$tmp/requests.cfg" >"$tmp/results" 2>"$tmp/curl.err" ||
    fail "curl: $(head -n 5 "$tmp/curl.err")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(wc -l <"$tmp/results")" -eq "$REQUESTS" ] ||
    fail "$(wc -l <"$tmp/results") results for $REQUESTS requests"

# Status, size and Content-Length of each response against its own
# expected size.
awk 'NR == FNR { size[$1] = $3; method[$1] = $2; next }
	$2 != 200 || $3 != size[$1] || $4 != size[$1] {
		printf "request %s (%s): status %s, %s bytes, Content-Length %s; want 200, %s bytes\n",
		    $1, method[$1], $2, $3, ($4 == "" ? "none" : $4), size[$1]
		bad++
	}
	END { exit bad > 0 }' "$tmp/sizes" "$tmp/results" >"$tmp/bad" || {
	head -n 20 "$tmp/bad" >&2
	fail "$(wc -l <"$tmp/bad") of $REQUESTS responses with a wrong status, size or Content-Length (first ones above)"
}
# Each body byte for byte.
(cd "$tmp/want" && md5sum -- *) >"$tmp/want.md5"
(cd "$tmp/out" && md5sum -- *) >"$tmp/out.md5"
if ! cmp -s "$tmp/want.md5" "$tmp/out.md5"; then
	diff "$tmp/want.md5" "$tmp/out.md5" | grep '^>' | head -n 5 >&2
	fail "$(diff "$tmp/want.md5" "$tmp/out.md5" | grep -c '^>') response bodies differ from their own uppercased request (first ones above)"
fi

! grep -E '\[(error|crit|alert|emerg)\]|upstream (prematurely|timed out|sent)' "$tmp/nginx/error.log" ||
    fail "nginx logged upstream errors (above)"
! grep -E 'killed by signal|respawning' "$tmp/worker.log" ||
    fail "children crashed (above)"
kids=$(children_of "$worker_pid")
kept=$(ss -Hx state connected src "$tmp/*" | wc -l)
# shellcheck disable=SC2086 # $kids is a list of PIDs
[ "$kept" -ge 2 ] && fds_above "$idle_fds" $kids ||
    fail "keep-alive not in effect: $kept connections to the worker, children hold $(open_fds $kids) fds (idle: $idle_fds)"
in_bytes=$(cat "$tmp"/in/* | wc -c)
out_bytes=$(cat "$tmp"/want/* | wc -c)
pass "$REQUESTS mixed requests ($(grep -c ' GET ' "$tmp/sizes") GET; $in_bytes bytes in, $out_bytes out), $PARALLEL at a time in $ms ms: each 200 with its own uppercased body and an exact Content-Length; $kept connections still kept afterwards"
