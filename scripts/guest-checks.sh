#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of 'make check': migentry's own selftests and KUnit suites,
# then the kernel's own mm selftests (scripts/upstream-mm.sh, reused when
# nothing they depend on changed: MIGENTRY_UPSTREAM defaults to auto here),
# then migentry's summary line, last. The upstream run is skipped when
# migentry's own tests already failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

own_out=$top/build/guest-checks.out
mkdir -p "$top/build"
set +e
"$top/scripts/guest.sh" check > "$own_out" 2>&1
own=$?
set -e
sed '$d' "$own_out"
if [ "$own" = 0 ]; then
	set +e
	MIGENTRY_UPSTREAM=${MIGENTRY_UPSTREAM:-auto} "$top/scripts/upstream-mm.sh"
	up=$?
	set -e
else
	echo "upstream mm selftests: not run, migentry's own tests failed"
	up=1
fi
tail -n 1 "$own_out"
[ "$own" = 0 ] && [ "$up" = 0 ]
