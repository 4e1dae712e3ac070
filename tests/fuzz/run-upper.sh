#!/bin/sh
# Build and run the uppercase fuzzer for SECONDS (default 30), for CI:
#   tests/fuzz/run-upper.sh SECONDS
# The corpus is kept in $UPPER_FUZZ_CORPUS if set, else in a temp dir
# seeded with a few UTF-8 edge cases.  Exit status: 0 = no finding, 77 =
# clang cannot build fuzzers here, else the fuzzer's (crash input left in
# the current directory as crash-*).
set -u
secs=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/upcase-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
sh "$here/build-upper.sh" "$srcdir" "$work/fuzz-upper" || exit $?
corpus=${UPPER_FUZZ_CORPUS:-$work/corpus}
mkdir -p "$corpus"
i=0
for seed in 'hello, world' 'stra\303\237e \316\273\317\214\316\263\316\277\317\202' \
    '\304\261\305\277\311\220\342\261\245\341\262\200' '\340\200\257\355\240\200\364\220\200\200\377' \
    'a\342\202' '\320\277\321\200\320\270\320\262\320\265\321\202 \344\270\255' \
    '\360\220\220\250\360\237\230\200'; do
	i=$((i + 1))
	printf "$seed" >"$corpus/seed$i"
done
"$work/fuzz-upper" -max_total_time="$secs" -max_len=4096 \
    -print_final_stats=1 "$corpus"
