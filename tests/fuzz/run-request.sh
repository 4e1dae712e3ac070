#!/bin/sh
# Build and run the request-path fuzzer (tests/fuzz/request) for SECONDS.
#
#   tests/fuzz/run-request.sh [SECONDS [WORKDIR]]
#
# It configures a private build with clang, ASan and UBSan and without the
# allocation arena (so that ASan sees libfcgi's heap blocks; the arena
# would hide them, and libFuzzer's own mallocs must not go into it), builds
# the pure core from the project's own Makefile, links the harness with
# src/worker.c and the static libfcgi.a, seeds a corpus and fuzzes.
# WORKDIR (default: a new temp dir) keeps the build and corpus; reuse it
# to continue a corpus.  This run's findings (crash-*, leak-*, oom-*,
# timeout-*) go to WORKDIR/findings, emptied first (an earlier run's are
# moved to WORKDIR/findings.previous).  Exit status: 0 when the run ended
# without a finding, 1 when libFuzzer reported one or llvm-symbolizer is
# missing, 77 when clang's libFuzzer is missing.
set -eu

seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/fuzz-request.XXXXXX")}
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}
mkdir -p "$work"

if [ -z "$CLANG" ] || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
    "$CLANG" -x c -fsanitize=fuzzer -o "$work/probe" - 2>/dev/null; then
	echo "SKIP: clang with libFuzzer not found (Debian: clang)" >&2
	exit 77
fi
# The LeakSanitizer suppression of libfcgi's known leak names a function:
# without a symbolizer the frames have no names and the leak is reported.
# The one of clang's own LLVM first (Debian: /usr/lib/llvm-14/bin).
symbolizer=${ASAN_SYMBOLIZER_PATH:-$(dirname "$(readlink -f "$(command -v "$CLANG")")")/llvm-symbolizer}
[ -x "$symbolizer" ] || symbolizer=$(command -v llvm-symbolizer || true)
[ -x "$symbolizer" ] || {
	echo "FAIL: llvm-symbolizer not found (Debian: llvm-14); LeakSanitizer's suppressions need it" >&2
	exit 1; }
ASAN_SYMBOLIZER_PATH=$symbolizer
export ASAN_SYMBOLIZER_PATH

flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$work/build"
(cd "$work/build" &&
    { [ -f Makefile ] || "$top_srcdir/configure" -q CC="$CLANG" \
	CFLAGS="$flags -fsanitize=fuzzer-no-link" --disable-arena; } &&
    make -s src/libupcase.a) >"$work/build.log" 2>&1 || {
	cat "$work/build.log" >&2; exit 1; }
"$CLANG" $flags -fsanitize=fuzzer -I"$work/build" -I"$top_srcdir/src" \
    -o "$work/fuzz_request" "$here/request/fuzz_request.c" \
    "$top_srcdir/src/worker.c" "$top_srcdir/src/accept.c" \
    "$top_srcdir/src/conns.c" "$top_srcdir/src/sandbox.c" \
    "$top_srcdir/src/scoreboard.c" "$top_srcdir/src/status.c" \
    "$top_srcdir/src/queue.c" \
    "$work/build/src/libupcase.a" \
    -Wl,-Bstatic -lfcgi -Wl,-Bdynamic -lpthread \
    $(sed -n 's/^SECCOMP_LIBS = //p' "$work/build/Makefile")

# Seeds: valid requests of each kind, one mode byte first (see the harness).
corpus="$work/corpus"
mkdir -p "$corpus"
if [ -z "$(ls "$corpus")" ]; then
	begin='\001\001\000\001\000\010\000\000\000\001\000\000\000\000\000\000'
	keep='\001\001\000\001\000\010\000\000\000\001\001\000\000\000\000\000'
	p_cl5='\001\004\000\001\000\021\000\000\016\001CONTENT_LENGTH5'
	p_cl0='\001\004\000\001\000\020\000\000\016\000CONTENT_LENGTH'
	p_end='\001\004\000\001\000\000\000\000'
	body='\001\005\000\001\000\005\000\000hello'
	s_end='\001\005\000\001\000\000\000\000'
	gv='\001\011\000\000\000\041\000\000\016\000FCGI_MAX_CONNS\017\000FCGI_MPXS_CONNS'
	abort='\001\002\000\001\000\000\000\000'
	printf "\\000$begin$p_cl5$p_end$body$s_end" >"$corpus/post"
	printf "\\001$begin$p_cl0$p_end$s_end" >"$corpus/get-ascii"
	printf "\\006$begin$p_end$body$body$s_end" >"$corpus/over-limit"
	printf "\\000$keep$p_cl5$p_end$body$s_end$keep$p_end$s_end" >"$corpus/keep-conn"
	printf "\\000$gv$begin$p_end$s_end" >"$corpus/get-values"
	printf "\\000$begin$p_cl5$p_end\\001\\005\\000\\001\\000\\002\\000\\000he$abort" >"$corpus/abort"
	printf '\000\001\001\000\001\000\010\000\000\000\001\000\000\000\000\000\000\304\237\303\237' >"$corpus/junk"
	# A 12000-byte body: more than libfcgi's 8 KiB output buffer.
	{ printf "\\000$begin$p_end\\001\\005\\000\\001\\056\\340\\000\\000"
	  head -c 12000 /dev/zero | tr '\0' 'b'; printf "$s_end"; } >"$corpus/big"
fi

findings="$work/findings"
if [ -d "$findings" ]; then
	rm -rf "$findings.previous"
	mv "$findings" "$findings.previous"
fi
mkdir "$findings"
cd "$work"
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=16} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/request/lsan.supp:print_suppressions=0} \
    ./fuzz_request -max_total_time="$seconds" -max_len=65536 -timeout=10 \
	-rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 \
	-artifact_prefix="$findings/" \
	-dict="$here/request/request.dict" "$corpus" \
	>"$work/fuzz.log" 2>&1 || status=$?
tail -n 25 "$work/fuzz.log"
echo "work dir: $work"
if [ -n "$(ls "$findings")" ]; then
	echo "findings of this run:" >&2
	ls -l "$findings" >&2
	exit 1
fi
[ "$status" = 0 ] || exit 1
exit 0
