#!/bin/sh
# The worker on its own -s socket, driven by cgi-fcgi (and, for bodies that
# cgi-fcgi cannot send, by tests/fcgi-raw): exact 200 responses for
# text, empty and binary bodies; 400 for an invalid or lying CONTENT_LENGTH;
# 413 over -m, declared or not; one log line per refusal; and the same
# children still serving afterwards.
. "$top_srcdir/tests/lib.sh"
require CGI_FCGI
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"

sock="$tmp/fcgi.sock"
start_worker "$sock" -c 2 -m 64k
limit=65536
wait_until 10 sh -c "[ \$(ps -o pid= --ppid $worker_pid | wc -l) -eq 2 ]" ||
    fail "the master did not start 2 children"
children_before=$(children_of "$worker_pid" | sort)

# expect NAME STATUS-LINE BODY-FILE: $tmp/NAME.out must be exactly that
# status, our content type, the exact length, and then the body.
expect() {
	{
		printf '%s\r\n' "$2"
		printf 'Content-Type: text/plain; charset=utf-8\r\n'
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$3")"
		cat "$3"
	} >"$tmp/$1.want"
	cmp -s "$tmp/$1.out" "$tmp/$1.want" || {
		od -c "$tmp/$1.out" | head -20 >&2
		fail "$1: response differs from the expected one"
	}
}

# upcased FILE: the file with a-z mapped to A-Z, nothing else touched.
upcased() { LC_ALL=C tr 'a-z' 'A-Z' <"$1"; }

# log_grew NAME TEXT: exactly one new log line since the last call, and it
# names TEXT (the value that was refused).
log_lines=$(wc -l <"$tmp/worker.log")
log_grew() {
	_n=$(wc -l <"$tmp/worker.log")
	[ "$_n" -eq $((log_lines + 1)) ] || {
		cat "$tmp/worker.log" >&2
		fail "$1: expected one new log line, got $((_n - log_lines))"
	}
	log_lines=$_n
	tail -n 1 "$tmp/worker.log" | grep -qF -- "$2" ||
	    fail "$1: log line does not name '$2': $(tail -n 1 "$tmp/worker.log")"
}

# --- 200 ---------------------------------------------------------------
printf 'hello, World 123 ~{}' >"$tmp/small.in"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=20 \
    <"$tmp/small.in" >"$tmp/small.out" || fail "small: cgi-fcgi failed"
upcased "$tmp/small.in" >"$tmp/small.body"
expect small "Status: 200 OK" "$tmp/small.body"
pass "small body: exact 200 headers, body uppercased"

: >"$tmp/empty.body"
cgi_fcgi "$sock" REQUEST_METHOD=GET CONTENT_LENGTH= </dev/null \
    >"$tmp/empty.out" || fail "empty: cgi-fcgi failed"
expect empty "Status: 200 OK" "$tmp/empty.body"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=0 </dev/null \
    >"$tmp/empty0.out" || fail "CONTENT_LENGTH=0: cgi-fcgi failed"
expect empty0 "Status: 200 OK" "$tmp/empty.body"
cgi_fcgi "$sock" REQUEST_METHOD=GET </dev/null \
    >"$tmp/nocl.out" || fail "no CONTENT_LENGTH: cgi-fcgi failed"
expect nocl "Status: 200 OK" "$tmp/empty.body"
pass "empty body (CONTENT_LENGTH empty, 0, unset): 200, Content-Length: 0"

# Ascending and descending byte values never form a valid UTF-8 sequence
# (no lead byte is followed by a continuation byte), so only a-z change.
bytes_0_to_255 >"$tmp/up"
od -An -v -tu1 "$tmp/up" | tr -s ' ' '\n' | grep . | sort -rn |
    while read -r b; do
	# shellcheck disable=SC2059 # the format is the byte
	printf "\\$(printf %03o "$b")"
    done >"$tmp/down"
cat "$tmp/up" "$tmp/down" "$tmp/up" >"$tmp/binary.in"
[ "$(wc -c <"$tmp/binary.in")" -eq 768 ] || fail "could not build the binary body"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=768 \
    <"$tmp/binary.in" >"$tmp/binary.out" || fail "binary: cgi-fcgi failed"
upcased "$tmp/binary.in" >"$tmp/binary.body"
expect binary "Status: 200 OK" "$tmp/binary.body"
pass "binary body (NUL, 0x80-0xFF): unchanged except a-z"

head -c $limit /dev/zero | tr '\0' 'q' >"$tmp/atlimit.in"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=$limit \
    <"$tmp/atlimit.in" >"$tmp/atlimit.out" || fail "at limit: cgi-fcgi failed"
upcased "$tmp/atlimit.in" >"$tmp/atlimit.body"
expect atlimit "Status: 200 OK" "$tmp/atlimit.body"
fcgi_client "$sock" REQUEST_METHOD=POST CONTENT_LENGTH= \
    <"$tmp/atlimit.in" >"$tmp/atlimit.out" || fail "at limit, no CONTENT_LENGTH: client failed"
expect atlimit "Status: 200 OK" "$tmp/atlimit.body"
pass "a body of exactly -m bytes: 200, with or without CONTENT_LENGTH"
[ "$(wc -l <"$tmp/worker.log")" -eq "$log_lines" ] ||
    fail "successful requests wrote log lines: $(cat "$tmp/worker.log")"

# --- 400: CONTENT_LENGTH not a length ------------------------------------
printf 'ten bytes!' >"$tmp/ten.in"
for cl in abc -1 123456789012345678901234567890; do
	cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=$cl \
	    <"$tmp/ten.in" >"$tmp/bad.out" || fail "CONTENT_LENGTH=$cl: cgi-fcgi failed"
	printf '400 Bad Request\n' >"$tmp/bad.body"
	expect bad "Status: 400 Bad Request" "$tmp/bad.body"
	log_grew "CONTENT_LENGTH=$cl" "$cl"
done
pass "CONTENT_LENGTH abc, -1, 30 digits: 400, each logged"

# --- 413 -----------------------------------------------------------------
printf '413 Payload Too Large\n' >"$tmp/large.body"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=$((limit + 1)) \
    <"$tmp/ten.in" >"$tmp/large.out" || fail "declared too large: cgi-fcgi failed"
expect large "Status: 413 Payload Too Large" "$tmp/large.body"
log_grew "declared too large" "$((limit + 1))"
pass "CONTENT_LENGTH -m + 1: 413 at once, logged"

{ cat "$tmp/atlimit.in"; printf 'x'; } >"$tmp/over.in"
fcgi_client "$sock" REQUEST_METHOD=POST CONTENT_LENGTH= \
    <"$tmp/over.in" >"$tmp/large.out" || fail "undeclared too large: client failed"
expect large "Status: 413 Payload Too Large" "$tmp/large.body"
log_grew "undeclared too large" "$((limit + 1))"
head -c 300000 /dev/zero | fcgi_client "$sock" REQUEST_METHOD=POST \
    CONTENT_LENGTH= >"$tmp/large.out" || fail "undeclared 300000: client failed"
expect large "Status: 413 Payload Too Large" "$tmp/large.body"
log_grew "undeclared 300000" "300000"
pass "bodies of -m + 1 and 300000 bytes with empty CONTENT_LENGTH: 413 after draining, logged"

# --- 400: CONTENT_LENGTH disagrees with the body --------------------------
printf '400 Bad Request\n' >"$tmp/bad.body"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=5 \
    <"$tmp/ten.in" >"$tmp/bad.out" || fail "CONTENT_LENGTH 5, body 10: cgi-fcgi failed"
# cgi-fcgi reads in blocks of up to 8 KiB, so it did send all 10 bytes;
# the raw client makes sure of it.
expect bad "Status: 400 Bad Request" "$tmp/bad.body"
log_grew "says 5, body 10 (cgi-fcgi)" "10"
fcgi_client "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=5 \
    <"$tmp/ten.in" >"$tmp/bad.out" || fail "CONTENT_LENGTH 5, body 10: client failed"
expect bad "Status: 400 Bad Request" "$tmp/bad.body"
log_grew "says 5, body 10" "5"
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=100 \
    <"$tmp/ten.in" >"$tmp/bad.out" || fail "CONTENT_LENGTH 100, body 10: cgi-fcgi failed"
expect bad "Status: 400 Bad Request" "$tmp/bad.body"
log_grew "says 100, body 10" "100"
pass "CONTENT_LENGTH 5 or 100 with a 10-byte body: 400, logged"

# --- the peer goes away in the middle of the body -------------------------
# The client sends half the body and is then killed: no answer can be
# sent, the child logs the abort and goes on serving.  (fcgi-raw itself,
# not fcgi_client: $! must be the client, not a subshell.)
fcgi_script "$tmp/abort.script" REQUEST_METHOD=POST CONTENT_LENGTH=100
# shellcheck disable=SC2086
idle_fds=$(open_fds $children_before)
{
	printf 'only the first part'
	wait_until 20 test -e "$tmp/abort.go"
} | "$FCGI_RAW" -t 20 "$sock" "$tmp/abort.script" >"$tmp/abort.out" 2>&1 &
abort_pid=$!
# shellcheck disable=SC2086
wait_until 10 fds_above "$idle_fds" $children_before ||
    fail "abort: no child accepted the request"
kill -KILL "$abort_pid"
touch "$tmp/abort.go"
wait "$abort_pid"
wait_until 10 sh -c "[ \$(wc -l <'$tmp/worker.log') -gt $log_lines ]" ||
    fail "abort: no log line"
log_grew "abort" "abort"
pass "client gone in the middle of the body: logged, no crash"

# --- still the same, healthy pool ----------------------------------------
cgi_fcgi "$sock" REQUEST_METHOD=POST CONTENT_LENGTH=20 \
    <"$tmp/small.in" >"$tmp/small.out" || fail "after refusals: cgi-fcgi failed"
expect small "Status: 200 OK" "$tmp/small.body"
kill -0 "$worker_pid" || fail "the master died"
[ "$(children_of "$worker_pid" | sort)" = "$children_before" ] ||
    fail "children changed (one died?): before $children_before, now $(children_of "$worker_pid")"
[ "$(wc -l <"$tmp/worker.log")" -eq "$log_lines" ] ||
    fail "unexpected log lines: $(cat "$tmp/worker.log")"
pass "after all refusals: same master and children, still answering"
