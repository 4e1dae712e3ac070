#!/bin/sh
# make check in a build with AddressSanitizer and UndefinedBehaviorSanitizer
# (configure --enable-sanitizers), for CI.
#
#   tests/sanitizers.sh [BUILDDIR]
#
# BUILDDIR (default: a new temp dir) is configured if it has no Makefile
# yet.  Every sanitizer report of every process -- the worker's children
# included, whose stderr ends up in test temp dirs that are removed --
# goes to BUILDDIR/sanitizer-logs, and any file there fails the run, as
# does any failed test.  The worker keeps its arena (its heap fallback
# reaches ASan's malloc; src/arena.c poisons what it has not handed out).
# alloc.sh and valgrind.sh are not run in such a build, since ASan owns
# malloc; a skip fails the run when UPCASE_TESTS_NO_SKIP=1.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
build=${1:-$(mktemp -d "${TMPDIR:-/tmp}/upcase-sanitizers.XXXXXX")}
no_skip=${UPCASE_TESTS_NO_SKIP:-0}
mkdir -p "$build"
build=$(cd "$build" && pwd)
cd "$build"
if [ ! -f Makefile ]; then
	"$top_srcdir/configure" --enable-sanitizers >configure.log 2>&1 || {
		cat configure.log >&2; exit 1; }
fi
grep -q '^SANITIZE_CFLAGS = .*sanitize=address' Makefile || {
	echo "$build is not configured with --enable-sanitizers" >&2; exit 1; }
make -j2 >make.log 2>&1 || { tail -n 40 make.log >&2; exit 1; }

logs="$build/sanitizer-logs"
rm -rf "$logs"
# Unprivileged worker children write their reports in here too.
mkdir -m 1777 "$logs"
status=0
# alloc.sh and valgrind.sh measure the C library's heap, which ASan
# replaces: they are not scheduled here (they run in the normal build).
tests=$(printf 'print-tests:\n\t@echo $(TESTS)\n' |
    make -s -f Makefile -f - print-tests | tr ' ' '\n' |
    grep -v '^tests/alloc\.sh$' | grep -v '^tests/valgrind\.sh$' | tr '\n' ' ')
ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1" \
UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1" \
UPCASE_TESTS_NO_SKIP=$no_skip \
    make -j2 check TESTS="$tests" >check.log 2>&1 || status=$?
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS|# )' check.log

# crash-respawn.sh's param of two 0x7ffffffe lengths makes libfcgi ask for
# (size_t)-2 bytes on purpose; with allocator_may_return_null ASan only
# warns about it.  Such a report, and nothing else, is expected.
for f in "$logs"/*; do
	[ -f "$f" ] || continue
	grep -v '^==[0-9]*==WARNING: AddressSanitizer failed to allocate 0xfffffffffffffffe bytes$' "$f" |
	    grep -q . || { rm -f "$f"; continue; }
	echo "sanitizer report $f:" >&2
	head -n 60 "$f" >&2
	status=1
done
[ "$status" = 0 ] && echo "sanitizers: make check clean in $build"
exit "$status"
