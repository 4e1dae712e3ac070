#!/bin/sh
# The man page is clean under mandoc -Tlint and documents every option that
# --help lists, in both its short and long form.
. "$top_srcdir/tests/lib.sh"
require MANDOC

page="$top_srcdir/man/upcase-fcgi.8"
lint=$("$MANDOC" -Tlint -W warning "$page" 2>&1)
[ -z "$lint" ] || fail "mandoc -Tlint: $lint"
pass "mandoc -Tlint is clean"

"$WORKER" --help >"$tmp/help" 2>&1 || fail "--help exited non-zero"
longs=$(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u)
[ -n "$longs" ] || fail "--help lists no long options"
for opt in $longs; do
	grep -qE -- "^\.It .*Fl -${opt#--}([^a-z-]|$)" "$page" ||
	    fail "--help lists $opt but the man page has no .It for it"
done
shorts=$(grep -o -- '^ *-[a-zA-Z],' "$tmp/help" | tr -d ' ,-')
for opt in $shorts; do
	grep -qE -- "^\.It Fl $opt([^a-z-]|$)" "$page" ||
	    fail "--help lists -$opt but the man page has no .It for it"
done
pass "every option of --help is in the man page ($(echo $longs | wc -w) long, $(echo $shorts | wc -w) short)"

"$MANDOC" -Tmarkdown "$page" | grep -q "^# EXIT STATUS" || fail "no EXIT STATUS section"
pass "renders with an EXIT STATUS section"
