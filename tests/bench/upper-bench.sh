#!/bin/sh
# Run the uppercase benchmark and print its Markdown table:
#   tests/bench/upper-bench.sh [UPPER-BENCH-PROGRAM [ROUNDS]]
# (`make bench-upper` in the build directory does this.)  With Go
# installed (Debian: golang-go), a column for Go's bytes.ToUpper on the
# same texts is added; UPPER_BENCH_NO_GO=1 leaves it out.  On Linux the
# run is pinned to one CPU when taskset is there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-./tests/bench/upper-bench}
rounds=${2:-11}
pin=
if command -v taskset >/dev/null 2>&1; then
	pin="taskset -c $(( $(getconf _NPROCESSORS_ONLN) - 1 ))"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/upcase-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
goargs=
if [ "${UPPER_BENCH_NO_GO:-0}" != 1 ] && command -v go >/dev/null 2>&1; then
	"$bench" -w "$work"
	cp "$here/upper-bench.go" "$work/"
	if (cd "$work" && GO111MODULE=off GOFLAGS= $pin go run upper-bench.go \
	    "$work" "$rounds") >"$work/go.txt"; then
		goargs="-g $work/go.txt"
	else
		echo "upper-bench.sh: the Go benchmark failed; no Go column" >&2
	fi
fi
# shellcheck disable=SC2086
$pin "$bench" -r "$rounds" $goargs
