#!/bin/sh
# Build the libFuzzer target of the uppercase transform with clang:
#   tests/fuzz/build-upper.sh [SRCDIR [OUTPUT]]
# SRCDIR is the top of the source tree (default: two levels above this
# script); OUTPUT defaults to ./fuzz-upper.  Exit 77 if clang cannot build
# fuzzers here (Debian: clang, libclang-rt-dev).
set -eu
srcdir=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${2:-fuzz-upper}
cc=${CLANG:-clang}
command -v "$cc" >/dev/null 2>&1 || { echo "build-upper.sh: $cc not found" >&2; exit 77; }
mkdir -p "$(dirname "$out")"
"$cc" -g -O2 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$srcdir/src" \
    "$srcdir/tests/fuzz/fuzz-upper.c" \
    "$srcdir/src/upper.c" "$srcdir/src/upper_simd.c" \
    "$srcdir/src/upper_ref.c" "$srcdir/src/upper_table.c" \
    -o "$out" || { echo "build-upper.sh: $cc cannot build the fuzzer" >&2; exit 77; }
echo "built $out"
