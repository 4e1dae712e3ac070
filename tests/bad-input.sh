#!/bin/sh
# Hostile and broken FastCGI input, sent raw on the worker's own socket
# with tests/fcgi-raw, plus a few client failures through nginx.
#
# Each case asserts what the worker answers (or that it answers nothing),
# then that the pool is healthy: the master is the same process, the pool
# has its 2 children, and 3 normal requests with fresh marker bodies each
# get exactly their own uppercased body back -- nothing of an earlier
# request.  At the end no child may have died: bad input is refused or
# dropped, never fatal (the known libfcgi crashes are in crash-respawn.sh).
#
# libfcgi waits up to 2 s for data after accepting a unix connection and up
# to 2 s for the peer to close after a response (LIBFCGI.md 2.3).  Our
# client always finishes or closes, but a case that stalls by mistake must
# not hold a child that long, so both polls are cut to 500 ms here.
. "$top_srcdir/tests/lib.sh"

RAW="$top_builddir/tests/fcgi-raw"
[ -x "$RAW" ] || fail "$RAW not built"
sock="$tmp/upcase.sock"
LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT=500
LIBFCGI_OS_CLOSE_POLL_TIMEOUT=500
export LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT LIBFCGI_OS_CLOSE_POLL_TIMEOUT
limit=65536
start_worker "$sock" -c 2 -m 64k
wait_until 10 count_children "$worker_pid" 2 || fail "pool did not reach 2 children"
children_before=$(children_of "$worker_pid" | sort | tr '\n' ' ')
seq_no=0

# raw NAME: run the fcgi-raw script on stdin; $tmp/NAME.out is what came
# back on FCGI_STDOUT, $tmp/NAME.rep the report (end/eof/... lines).
raw() {
	"$RAW" -t 10 -r "$tmp/$1.rep" "$sock" - >"$tmp/$1.out" ||
	    fail "$1: fcgi-raw failed or timed out: $(cat "$tmp/$1.rep")"
}

# response STATUS-LINE BODY: the exact bytes the worker sends.
response() {
	printf 'Status: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s' \
	    "$1" "${#2}" "$2"
}

# expect NAME STATUS-LINE BODY: NAME got exactly that, and END_REQUEST.
expect() {
	response "$2" "$3" >"$tmp/$1.expected"
	cmp -s "$tmp/$1.out" "$tmp/$1.expected" ||
	    fail "$1: expected '$2' with body '$3', got: $(head -c 300 "$tmp/$1.out")"
	grep -qx 'end 1 0 0' "$tmp/$1.rep" ||
	    fail "$1: no END_REQUEST(1, complete): $(cat "$tmp/$1.rep")"
}

# expect_no_answer NAME: the worker sent no response and the connection
# was closed.  (libfcgi itself may still end the request: END_REQUEST.)
expect_no_answer() {
	[ ! -s "$tmp/$1.out" ] || fail "$1: unexpected response: $(head -c 300 "$tmp/$1.out")"
	grep -qx 'eof\|reset' "$tmp/$1.rep" || fail "$1: connection not closed: $(cat "$tmp/$1.rep")"
}

# expect_dropped NAME: libfcgi dropped the connection before the request
# reached the worker: no response, not even END_REQUEST.
expect_dropped() {
	expect_no_answer "$1"
	! grep -q '^end ' "$tmp/$1.rep" || fail "$1: unexpected END_REQUEST: $(cat "$tmp/$1.rep")"
}

# healthy CASE: same master, 2 children, and normal requests answered
# with exactly their own body.
healthy() {
	kill -0 "$worker_pid" 2>/dev/null || fail "$1: the master (pid $worker_pid) is gone"
	wait_until 10 count_children "$worker_pid" 2 ||
	    fail "$1: the pool has $(children_of "$worker_pid" | wc -l) children, not 2"
	for _i in 1 2 3; do
		seq_no=$((seq_no + 1))
		_body="after-$1-$seq_no"
		printf 'begin 1\nparams 1 CONTENT_LENGTH=%d REQUEST_METHOD=POST\nparams-end 1\nstdin 1 %s\nstdin-end 1\n' \
		    "${#_body}" "$_body" | raw health
		expect health "200 OK" "$(echo "$_body" | tr a-z A-Z)"
	done
	pass "$1"
}

# A normal request's script; CONTENT_LENGTH and body as given.
post() {
	printf 'begin 1\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=%s\nparams-end 1\nstdin 1 %s\nstdin-end 1\n' "$1" "$2"
}

healthy baseline

# --- truncated records -------------------------------------------------
printf 'raw hex:0101\nshutdown\n' | raw trunc-header
expect_dropped trunc-header
healthy truncated-header

printf 'record 1 1 1 8 0 hex:000100\nshutdown\n' | raw trunc-begin
expect_dropped trunc-begin
healthy truncated-begin-record

printf 'begin 1\nrecord 1 4 1 100 0 hex:0e0243\nshutdown\n' | raw trunc-params
expect_dropped trunc-params
healthy truncated-params-record

# Mid-body: the stream ends early, so the worker answers nothing.
printf 'begin 1\nparams 1 CONTENT_LENGTH=100\nparams-end 1\nrecord 1 5 1 100 0 trunc-stdin-qqqq\nshutdown\n' |
    raw trunc-stdin
expect_no_answer trunc-stdin
healthy truncated-stdin-record

# --- wrong version -----------------------------------------------------
printf 'record 2 1 1 8 0 hex:0001000000000000\nparams 1 CONTENT_LENGTH=\nparams-end 1\nstdin-end 1\n' |
    raw version-begin
expect_dropped version-begin
healthy wrong-version-first

printf 'begin 1\nparams 1 CONTENT_LENGTH=4\nparams-end 1\nrecord 0 5 1 4 0 vvvv\nstdin-end 1\n' |
    raw version-stdin
expect_no_answer version-stdin
healthy wrong-version-in-body

# --- unknown record types ----------------------------------------------
# A management record (id 0) of unknown type and no content gets
# FCGI_UNKNOWN_TYPE; the request after it on the connection is served.
{ echo 'record 1 200 0 0 0'; post 6 unkn-a; } | raw unknown-mgmt
grep -qx 'record 11 0 8' "$tmp/unknown-mgmt.rep" ||
    fail "unknown management type: no FCGI_UNKNOWN_TYPE reply: $(cat "$tmp/unknown-mgmt.rep")"
expect unknown-mgmt "200 OK" "UNKN-A"
healthy unknown-management-type

# FCGI_GET_VALUES within bounds: libfcgi answers it itself (its fixed
# values) and the request after it is served.
{ echo 'get-values FCGI_MAX_CONNS FCGI_MAX_REQS FCGI_MPXS_CONNS NO_SUCH'; post 6 values; } |
    raw get-values
grep -qx 'value FCGI_MAX_CONNS=1' "$tmp/get-values.rep" &&
    grep -qx 'value FCGI_MPXS_CONNS=0' "$tmp/get-values.rep" ||
    fail "get-values: unexpected reply: $(cat "$tmp/get-values.rep")"
expect get-values "200 OK" "VALUES"
healthy get-values

# With content, libfcgi leaves the content unread and takes it for the
# next header: the connection is dropped, nothing is answered for it.
{ echo 'record 1 77 0 16 0 rep:16:x'; post 6 unkn-b; } |
    raw unknown-mgmt-content
expect_dropped unknown-mgmt-content
healthy unknown-management-type-with-content

# A stream type the request does not expect, in its body.
printf 'begin 1\nparams 1 CONTENT_LENGTH=8\nparams-end 1\nstdin 1 unkn\nrecord 1 8 1 4 0 data\nstdin-end 1\n' |
    raw wrong-type
expect_no_answer wrong-type
healthy unexpected-data-record

printf 'begin 1\nparams 1 CONTENT_LENGTH=4\nparams-end 1\nrecord 1 99 1 4 0 zzzz\nstdin 1 unkn\nstdin-end 1\n' |
    raw type-99
expect_no_answer type-99
healthy unknown-type-in-request

# --- request ids -------------------------------------------------------
printf 'begin 0\nparams 0 CONTENT_LENGTH=\nparams-end 0\nstdin-end 0\n' | raw id-zero
expect_dropped id-zero
healthy begin-with-request-id-0

# A second request on the connection is refused (no multiplexing); the
# first is served, and request 2's body does not leak into it.
{ echo 'begin 1'; echo 'params 1 CONTENT_LENGTH=7'; echo 'params-end 1'
  echo 'begin 2'; echo 'stdin 2 second-xx'; echo 'stdin 1 first-a'
  echo 'stdin-end 1'; } | raw mpx
grep -qx 'end 2 0 1' "$tmp/mpx.rep" ||
    fail "multiplexing: request 2 not refused with FCGI_CANT_MPX_CONN: $(cat "$tmp/mpx.rep")"
expect mpx "200 OK" "FIRST-A"
healthy second-request-id

# libfcgi bug: an empty record of another request id leaves its "skip"
# flag set, and the next record of the current request is dropped
# (LIBFCGI.md 2.11).  CONTENT_LENGTH catches the loss: 400, not a short
# 200.  (With CONTENT_LENGTH empty the loss goes unnoticed: only a peer
# that multiplexes can cause it, and nginx never does.)
printf 'begin 1\nparams 1 CONTENT_LENGTH=6\nparams-end 1\nstdin-end 2\nstdin 1 abc\nstdin 1 def\nstdin-end 1\n' |
    raw skip-bug
expect skip-bug "400 Bad Request" "400 Bad Request
"
healthy empty-record-of-another-id

# --- oversized and numerous params ------------------------------------
# The params of a request are bounded (64 KiB on the wire, 1024 pairs):
# past that, 431 before the pair is read or allocated.  A build without
# the private libfcgi copy has no bound: there libfcgi takes them all.
if grep -q '^#define HAVE_ARENA 1' "$top_builddir/config.h" 2>/dev/null; then
	too_big="431 Request Header Fields Too Large"
	too_big_body="431 Request Header Fields Too Large
"
	hv=$too_big hv_body=$too_big_body
else
	echo "note: no arena: the params are not bounded (man page, BUGS)"
fi
# within_bound NAME BODY: the answer of a request whose params fit.
{ echo 'begin 1'; echo 'param 1 HTTP_X_BIG rep:60000:h'
  echo 'params 1 CONTENT_LENGTH=8'; echo 'params-end 1'
  echo 'stdin 1 bigparam'; echo 'stdin-end 1'; } | raw big-value
expect big-value "200 OK" "BIGPARAM"
healthy one-param-of-60-KB

{ echo 'begin 1'; echo 'param 1 HTTP_X_HUGE rep:1048576:h'
  echo 'params 1 CONTENT_LENGTH=8'; echo 'params-end 1'
  echo 'stdin 1 hugepar1'; echo 'stdin-end 1'; } | raw huge-value
expect huge-value "${hv:-200 OK}" "${hv_body:-HUGEPAR1}"
healthy one-param-of-1-MiB

# A name of 200,000 bytes: refused from its length (four bytes, then the
# value's length, one byte), before the name is sent.
if [ -n "${hv:-}" ]; then
	printf 'begin 1\nrecord 1 4 1 5 0 hex:80030d4001\nsleep 200\n' |
	    raw huge-name
	expect huge-name "$too_big" "$too_big_body"
	healthy one-param-name-of-200-KB
fi

{ echo 'begin 1'; echo 'params-rep 1 1000 HTTP_X_MANY_ value'
  echo 'params 1 CONTENT_LENGTH=8'; echo 'params-end 1'
  echo 'stdin 1 manypars'; echo 'stdin-end 1'; } | raw some-params
expect some-params "200 OK" "MANYPARS"
healthy 1000-params

{ echo 'begin 1'; echo 'params-rep 1 5000 HTTP_X_MANY_ value'
  echo 'params 1 CONTENT_LENGTH=8'; echo 'params-end 1'
  echo 'stdin 1 manypars'; echo 'stdin-end 1'; } | raw many-params
expect many-params "${hv:-200 OK}" "${hv_body:-MANYPARS}"
healthy 5000-params

# 400 MiB declared in one pair: refused from the lengths alone, before a
# byte of it is sent, and the child's memory does not grow.
if [ -n "${hv:-}" ]; then
	child=$(children_of "$worker_pid" | head -1)
	printf 'begin 1\nrecord 1 4 1 8 0 hex:8000000a 99000000\nsleep 200\n' |
	    raw declared-400-MiB
	expect declared-400-MiB "$too_big" "$too_big_body"
	grep -q 'a pair of 419430418 bytes' "$tmp/worker.log" ||
	    fail "declared-400-MiB: no log line with the declared size"
	healthy pair-declaring-400-MiB
fi

# --- legal padding (FastCGI 1.0, section 3.3) --------------------------
# libfcgi loses the request when BEGIN_REQUEST or the empty PARAMS record
# is padded; the worker takes such padding out (src/record.c).
printf 'record 1 1 1 8 8 hex:00010000000000000000000000000000\nparams 1 CONTENT_LENGTH=6\nparams-end 1\nstdin 1 padded\nstdin-end 1\n' |
    raw padded-begin
printf 'begin 1\nparams 1 CONTENT_LENGTH=6\nrecord 1 4 1 0 7 hex:00000000000000\nstdin 1 padded\nstdin-end 1\n' |
    raw padded-params-end
printf 'begin 1\nrecord 1 4 1 17 7 hex:0e01434f4e54454e545f4c454e4754483600000000000000\nparams-end 1\nstdin 1 padded\nstdin-end 1\n' |
    raw padded-params
if grep -q '^#define HAVE_ARENA 1' "$top_builddir/config.h" 2>/dev/null; then
	expect padded-begin "200 OK" "PADDED"
	expect padded-params-end "200 OK" "PADDED"
fi
expect padded-params "200 OK" "PADDED"
healthy padded-records

# A param whose lengths point past the record: the request is dropped.
printf 'begin 1\nrecord 1 4 1 6 0 hex:80001000 0141\nparams-end 1\nstdin-end 1\n' |
    raw param-overrun
expect_dropped param-overrun
healthy param-length-past-the-record

# --- FCGI_ABORT_REQUEST mid-body ---------------------------------------
# libfcgi reports the abort as a stream error: the worker answers
# nothing, logs it, and libfcgi still ends the request.
printf 'begin 1\nparams 1 CONTENT_LENGTH=20\nparams-end 1\nstdin 1 abort-body\nabort 1\nstdin 1 abort-more\nstdin-end 1\n' |
    raw abort
expect_no_answer abort
grep -q 'request aborted: the body ended after 10 bytes' "$tmp/worker.log" ||
    fail "abort: no log line for the 10 bytes read before FCGI_ABORT_REQUEST"
healthy abort-request-mid-body

# --- CONTENT_LENGTH ----------------------------------------------------
post 100 ten-bytes! | raw cl-larger
expect cl-larger "400 Bad Request" "400 Bad Request
"
healthy content-length-larger-than-body

post 5 ten-bytes! | raw cl-smaller
expect cl-smaller "400 Bad Request" "400 Bad Request
"
healthy content-length-smaller-than-body

for cl in -1 -0 +5 abc 5x '\s5' 5\\s 0x10 123456789012345678901234567890 \
    99999999999999999999; do
	post "$cl" hello | raw cl-bad
	expect cl-bad "400 Bad Request" "400 Bad Request
"
done
healthy content-length-invalid

# A NUL inside the value: "5\0junk" is no decimal number, though a C
# string of it reads "5" (and the body has 5 bytes).
printf 'begin 1\nparam 1 CONTENT_LENGTH hex:35006a756e6b\nparams-end 1\nstdin 1 hello\nstdin-end 1\n' |
    raw cl-nul
if grep -q '^#define HAVE_ARENA 1' "$top_builddir/config.h" 2>/dev/null; then
	expect cl-nul "400 Bad Request" "400 Bad Request
"
	grep -q 'CONTENT_LENGTH "5" and a NUL byte is not a decimal number' "$tmp/worker.log" ||
	    fail "cl-nul: no log line naming the NUL byte"
else
	echo "note: no arena: a NUL inside CONTENT_LENGTH cannot be seen (man page, BUGS)"
fi
healthy content-length-with-nul

# Leading zeros are still a decimal number; empty means unknown.
post 000000000000000000000000000005 zeros | raw cl-zeros
expect cl-zeros "200 OK" "ZEROS"
post '' unknown | raw cl-empty
expect cl-empty "200 OK" "UNKNOWN"
healthy content-length-zeros-and-empty

# --- roles other than RESPONDER ----------------------------------------
# A web server that used the worker as an authorizer must not be told
# "200, granted": AUTHORIZER (2) and FILTER (3) get 403 and a log line.
for role in 2 3; do
	printf 'begin 1 %s\nparams 1 REQUEST_METHOD=POST CONTENT_LENGTH=5\nparams-end 1\nstdin 1 hello\nstdin-end 1\n' \
	    "$role" | raw role-$role
	expect role-$role "403 Forbidden" "403 Forbidden
"
done
[ "$(grep -c 'request refused: FCGI_ROLE \(AUTHORIZER\|FILTER\)' "$tmp/worker.log")" -eq 2 ] ||
    fail "no log line for each foreign role: $(tail -n 5 "$tmp/worker.log")"
healthy foreign-roles-refused

# --- the body limit: exactly -m, one byte over -------------------------
printf 'begin 1\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 rep:%d:b\nstdin-end 1\n' \
    "$limit" "$limit" | raw at-limit
head -c "$limit" /dev/zero | tr '\0' B >"$tmp/at-limit.body"
{ printf 'Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n' "$limit"
  cat "$tmp/at-limit.body"; } >"$tmp/at-limit.expected"
cmp -s "$tmp/at-limit.out" "$tmp/at-limit.expected" ||
    fail "body of exactly $limit bytes: not a 200 with it uppercased: $(head -c 200 "$tmp/at-limit.out")"
healthy body-at-limit

printf 'begin 1\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 rep:%d:c\nstdin-end 1\n' \
    $((limit + 1)) $((limit + 1)) | raw over-limit
expect over-limit "413 Payload Too Large" "413 Payload Too Large
"
healthy body-one-byte-over-limit-declared

# Undeclared length: the worker reads past the limit, drains, refuses.
printf 'begin 1\nparams 1 CONTENT_LENGTH=\nparams-end 1\nstdin 1 rep:%d:d\nstdin-end 1\n' \
    $((limit + 1)) | raw over-limit-unknown
expect over-limit-unknown "413 Payload Too Large" "413 Payload Too Large
"
healthy body-one-byte-over-limit-undeclared

# --- clients that go away ---------------------------------------------
printf 'begin 1\nparams 1 CONTENT_LENGTH=60000\nparams-end 1\nstdin 1 rep:1000:u\nclose\n' |
    raw gone-upload
wait_until 10 grep -q 'request aborted' "$tmp/worker.log" ||
    fail "disconnect mid-upload: no 'request aborted' log line"
healthy disconnect-mid-upload

printf 'begin 1\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 rep:%d:r\nstdin-end 1\nread-bytes 100\nclose\n' \
    "$limit" "$limit" | raw gone-response
healthy disconnect-mid-response

# The client leaves right after sending, before the worker answers: its
# write fails and it logs that the response was not delivered.  The
# children are stopped meanwhile, so the client surely closes first.
kids=$(children_of "$worker_pid")
# shellcheck disable=SC2086
kill -STOP $kids
printf 'begin 1\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 rep:%d:w\nstdin-end 1\nclose\n' \
    "$limit" "$limit" | raw gone-early
# shellcheck disable=SC2086
kill -CONT $kids
wait_until 10 grep -q 'not delivered' "$tmp/worker.log" ||
    fail "disconnect before the response: no 'not delivered' log line"
healthy disconnect-before-response

printf 'begin 1\nparams 1 CONTENT_LENGTH=5\nparams-end 1\nsleep 300\nstdin 1 slow\nsleep 300\nstdin 1 !\nstdin-end 1\n' |
    raw slow
expect slow "200 OK" "SLOW!"
healthy slow-body

# keep-conn: two requests on one connection, each gets only its own body.
{ echo 'begin 1 1 1'; echo 'params 1 CONTENT_LENGTH=5'; echo 'params-end 1'
  echo 'stdin 1 kept1'; echo 'stdin-end 1'; echo 'expect-end 1'
  echo 'begin 1 1 1'; echo 'params 1 CONTENT_LENGTH=6'; echo 'params-end 1'
  echo 'stdin 1 second'; echo 'stdin-end 1'; echo 'expect-end 2'; echo close; } |
    raw keep
{ response "200 OK" KEPT1; response "200 OK" SECOND; } >"$tmp/keep.expected"
cmp -s "$tmp/keep.out" "$tmp/keep.expected" ||
    fail "keep-conn: responses are not exactly KEPT1 then SECOND: $(cat "$tmp/keep.out")"
healthy keep-conn-two-requests

# --- no child died, none was replaced ---------------------------------
children_after=$(children_of "$worker_pid" | sort | tr '\n' ' ')
[ "$children_before" = "$children_after" ] ||
    fail "children changed from $children_before to $children_after: $(cat "$tmp/worker.log")"
! grep -q 'killed by signal\|exited with status' "$tmp/worker.log" ||
    fail "a child died: $(grep 'killed by signal\|exited with status' "$tmp/worker.log")"
pass "raw cases: same master, same 2 children"

# --- through nginx, request bodies streamed (request buffering off) ----
if [ -z "${NGINX:-}" ] || [ ! -x "$NGINX" ] || [ -z "${CURL:-}" ]; then
	[ "${UPCASE_TESTS_NO_SKIP:-0}" = 1 ] && fail "nginx or curl not found"
	echo "note: nginx or curl not found; nginx cases not run" >&2
	exit 0
fi
cat >"$tmp/server.conf" <<EOF
server {
	listen unix:$HTTP_SOCKET;
	client_max_body_size 10m;
	location / {
		fastcgi_pass unix:$sock;
		fastcgi_request_buffering off;
		fastcgi_param REQUEST_METHOD \$request_method;
		fastcgi_param CONTENT_LENGTH \$content_length;
	}
}
EOF
render_nginx_conf "$tmp/server.conf"
start_nginx

out=$(http --data-binary 'via-nginx' http://localhost/) || fail "nginx: request failed"
[ "$out" = VIA-NGINX ] || fail "nginx: got '$out'"

# The client promises 60000 bytes, sends 1000, and gives up: nginx has
# streamed part of the body and closes the upstream connection.
more_aborts() { [ "$(grep -c 'request aborted' "$tmp/worker.log")" -gt "$1" ]; }
aborted_before=$(grep -c 'request aborted' "$tmp/worker.log")
head -c 1000 /dev/zero | tr '\0' n |
    "$CURL" -sS --max-time 1 --unix-socket "$HTTP_SOCKET" \
    -H 'Content-Length: 60000' --data-binary @- http://localhost/ \
    >/dev/null 2>&1 && fail "nginx: the truncated upload succeeded"
wait_until 10 more_aborts "$aborted_before" ||
    fail "nginx: the worker did not log the aborted upload"
out=$(http --data-binary 'after-abort' http://localhost/) || fail "nginx: request after abort failed"
[ "$out" = AFTER-ABORT ] || fail "nginx: after abort got '$out'"
healthy nginx-disconnect-mid-upload

code=$(head -c "$limit" /dev/zero | tr '\0' e |
    http -o "$tmp/nginx-limit.out" -w '%{http_code}' --data-binary @- http://localhost/)
[ "$code" = 200 ] && [ "$(wc -c <"$tmp/nginx-limit.out")" -eq "$limit" ] ||
    fail "nginx: body of exactly $limit bytes got $code"
code=$(head -c $((limit + 1)) /dev/zero | tr '\0' e |
    http -o /dev/null -w '%{http_code}' --data-binary @- http://localhost/)
[ "$code" = 413 ] || fail "nginx: body of $((limit + 1)) bytes got $code, not 413"
healthy nginx-body-limit

children_after=$(children_of "$worker_pid" | sort | tr '\n' ' ')
[ "$children_before" = "$children_after" ] ||
    fail "children changed from $children_before to $children_after"
pass "nginx cases: same master, same 2 children"
