#!/bin/sh
# The Unicode transform end to end, behind nginx configured with
# deploy/nginx/upcase-fcgi.conf: a multilingual body with invalid bytes
# comes back with the simple uppercase mapping (ß stays, final sigma and
# Turkish dotless i map, ɐ grows, ı and ſ shrink, CJK and invalid bytes
# unchanged) and an exact Content-Length; so does a body of exactly the
# size limit made only of a growing letter (1.5 times as long).
. "$top_srcdir/tests/lib.sh"
require NGINX
require CURL

start_worker "$tmp/fcgi.sock" -c 1 -m 64k
deploy_server_conf "$tmp/fcgi.sock"
render_nginx_conf "$tmp/server.conf"
start_nginx

# Input and expected output, byte for byte (\351 is Latin-1 é: not UTF-8;
# \200 a lone continuation byte; \342\202 a sequence cut short).
printf '%s\351%s\200%s\342\202' \
	'Ça va? Où est la bibliothèque, élève? café ' \
	' Straße, größer. Съешь ещё этих мягких булок. Λόγος, σοφός. ılık ırmak. ɐɑ ſ ⱥ ǆ 中文字 ' \
	' end' >"$tmp/in"
printf '%s\351%s\200%s\342\202' \
	'ÇA VA? OÙ EST LA BIBLIOTHÈQUE, ÉLÈVE? CAFÉ ' \
	' STRAßE, GRÖßER. СЪЕШЬ ЕЩЁ ЭТИХ МЯГКИХ БУЛОК. ΛΌΓΟΣ, ΣΟΦΌΣ. ILIK IRMAK. ⱯⱭ S Ⱥ Ǆ 中文字 ' \
	' END' >"$tmp/want"

http --data-binary "@$tmp/in" -o "$tmp/out" -D "$tmp/head" http://localhost/ ||
	fail "multilingual POST failed"
grep -q '^HTTP/1.1 200' "$tmp/head" || fail "status: $(head -1 "$tmp/head")"
cmp "$tmp/out" "$tmp/want" >&2 || {
	od -An -c "$tmp/out" >&2; fail "multilingual body differs"; }
want_len=$(wc -c <"$tmp/want" | tr -d ' ')
[ "$want_len" != "$(wc -c <"$tmp/in" | tr -d ' ')" ] ||
	fail "test body should change length"
grep -qi "^Content-Length: $want_len" "$tmp/head" ||
	fail "Content-Length: $(grep -i content-length "$tmp/head"), want $want_len"
pass "multilingual body uppercased with exact Content-Length $want_len"

# 64 KiB (the -m limit) of ɐ, 2 bytes each, becomes 96 KiB of Ɐ.
i=0
: >"$tmp/grow.in"
: >"$tmp/grow.want"
printf 'ɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐɐ' >"$tmp/g64"
printf 'ⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯⱯ' >"$tmp/G96"
while [ $i -lt 1024 ]; do
	cat "$tmp/g64" >>"$tmp/grow.in"
	cat "$tmp/G96" >>"$tmp/grow.want"
	i=$((i + 1))
done
[ "$(wc -c <"$tmp/grow.in" | tr -d ' ')" = 65536 ] || fail "grow body is not 64 KiB"
http --data-binary "@$tmp/grow.in" -o "$tmp/grow.out" -D "$tmp/grow.head" \
	http://localhost/ || fail "64 KiB POST failed"
grep -q '^HTTP/1.1 200' "$tmp/grow.head" || fail "grow status: $(head -1 "$tmp/grow.head")"
cmp -s "$tmp/grow.out" "$tmp/grow.want" || fail "64 KiB of ɐ: body differs"
grep -qi '^Content-Length: 98304' "$tmp/grow.head" ||
	fail "grow Content-Length: $(grep -i content-length "$tmp/grow.head")"
pass "64 KiB of a growing letter at the size limit comes back as 96 KiB"
