#!/bin/sh
# Being written (issue 2).
. "$top_srcdir/tests/lib.sh"
skip "not written yet"
