#!/bin/sh
# Framing on a kept connection (FCGI_KEEP_CONN) is exact for any client:
# requests pipelined in one write are all answered, in order, each with
# its own body (padded records among them); and a request refused before
# its body was read (413 from CONTENT_LENGTH, 400, 403) does not swallow
# the request that follows it on the same connection.
. "$top_srcdir/tests/lib.sh"
[ -x "$FCGI_RAW" ] || fail "$FCGI_RAW not built (make check builds it)"
grep -q '^#define HAVE_ARENA 1' "$top_builddir/config.h" 2>/dev/null ||
    skip "built without the private libfcgi copy: pipelined requests are not kept (man page, BUGS)"

sock="$tmp/upcase.sock"
start_worker "$sock" -c 1 -m 16

# kept N SCRIPT-LINES: run one connection's script (requests with the
# keep-conn flag), expecting N answers; bodies alone, one per line.
kept() {
	_n=$1; shift
	{ printf '%s\n' "$@"; printf 'expect-end %d\nclose\n' "$_n"; } |
	    "$FCGI_RAW" -t 10 -r "$tmp/kept.rep" "$sock" >"$tmp/kept.out" ||
	    fail "connection ended before $_n answers: $(cat "$tmp/kept.rep")"
	[ "$(grep -c '^end 1 0 0$' "$tmp/kept.rep")" -eq "$_n" ] ||
	    fail "not $_n END_REQUESTs: $(cat "$tmp/kept.rep")"
	# The body follows the blank line of each answer's headers, and
	# runs up to the next answer's Status line.
	tr -d '\r' <"$tmp/kept.out" | sed 's/Status: /\n&/g' | awk '
		/^Status:/ { if (seen) print body; seen = 1; body = ""; head = 1; next }
		!seen { next }
		head && /^$/ { head = 0; next }
		!head { body = body $0 }
		END { if (seen) print body }' >"$tmp/kept.bodies"
}
req() {
	printf 'begin 1 1 1\nparams 1 CONTENT_LENGTH=%d\nparams-end 1\nstdin 1 %s\nstdin-end 1\n' "${#1}" "$1"
}

kept 3 "$(req first)" "$(req second)" "$(req third)"
[ "$(cat "$tmp/kept.bodies")" = "FIRST
SECOND
THIRD" ] || fail "pipelined: $(cat "$tmp/kept.bodies")"
pass "three requests pipelined in one write: three answers, in order"

kept 2 'begin 1 1 1' 'params 1 CONTENT_LENGTH=5' 'params-end 1' 'stdin 1 one' \
    'record 1 5 1 2 6 hex:6f6e000000000000' 'record 1 5 1 0 5 hex:0000000000' \
    "$(req padded)"
[ "$(cat "$tmp/kept.bodies")" = "ONEON
PADDED" ] || fail "padded: $(cat "$tmp/kept.bodies")"
pass "padded stdin records and a padded end, then a pipelined request"

kept 2 'begin 1 1 1' 'params 1 CONTENT_LENGTH=100' 'params-end 1' \
    'stdin 1 rep:100:x' 'stdin-end 1' "$(req after413)"
[ "$(cat "$tmp/kept.bodies")" = "413 Payload Too Large
AFTER413" ] || fail "after 413: $(cat "$tmp/kept.bodies")"
kept 2 'begin 1 1 1' 'params 1 CONTENT_LENGTH=abc' 'params-end 1' \
    'stdin 1 abc' 'stdin-end 1' "$(req after400)"
[ "$(cat "$tmp/kept.bodies")" = "400 Bad Request
AFTER400" ] || fail "after 400: $(cat "$tmp/kept.bodies")"
kept 2 'begin 1 2 1' 'params-end 1' 'stdin 1 secret' 'stdin-end 1' \
    "$(req after403)"
[ "$(cat "$tmp/kept.bodies")" = "403 Forbidden
AFTER403" ] || fail "after 403: $(cat "$tmp/kept.bodies")"
pass "a request after an early 413, 400 or 403 on the same kept connection is answered"
