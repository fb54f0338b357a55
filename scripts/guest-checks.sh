#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of 'make check'. migentry's own selftests and KUnit suites
# run twice: on the stock kernel, where a round trip that takes rights away
# from a page must be refused, and on the hooked kernel variant, which lets
# the module flush the TLB, where it must work. Then the kernel's own mm
# selftests run on the hooked kernel (scripts/upstream-mm.sh, reused when
# nothing they depend on changed: MIGENTRY_UPSTREAM defaults to auto here),
# unless migentry's own tests already failed. Last comes migentry's summary
# line, the sum over both kernels.
#
# With KDIR set (your own tree) the suite runs once, on that tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

mkdir -p "$top/build"
if [ -n "${KDIR:-}" ]; then
	variants=(own)
else
	variants=(stock hooked)
fi

own=0
total=(0 0 0)
for v in "${variants[@]}"; do
	out=$top/build/guest-checks-$v.out
	set +e
	if [ "$v" = own ]; then
		"$top/scripts/guest.sh" check > "$out" 2>&1
	else
		KERNEL_VARIANT=$v "$top/scripts/guest.sh" check > "$out" 2>&1
	fi
	rc=$?
	set -e
	cp "$top/build/guest/console.log" "$top/build/guest/console-$v.log" 2> /dev/null || true
	cp "$top/build/guest/results.log" "$top/build/guest/results-$v.log" 2> /dev/null || true
	sed '$d' "$out" | sed "s/^/[$v] /"
	last=$(tail -n 1 "$out")
	echo "$v kernel: $last"
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		total=($((total[0] + BASH_REMATCH[1])) $((total[1] + BASH_REMATCH[2]))
			$((total[2] + BASH_REMATCH[3])))
	else
		total[1]=$((total[1] + 1))
	fi
	[ "$rc" = 0 ] || own=1
done

if [ "$own" = 0 ]; then
	set +e
	if [ -n "${KDIR:-}" ]; then
		MIGENTRY_UPSTREAM=${MIGENTRY_UPSTREAM:-auto} "$top/scripts/upstream-mm.sh"
	else
		KERNEL_VARIANT=hooked MIGENTRY_UPSTREAM=${MIGENTRY_UPSTREAM:-auto} \
			"$top/scripts/upstream-mm.sh"
	fi
	up=$?
	set -e
else
	echo "upstream mm selftests: not run, migentry's own tests failed"
	up=1
fi
echo "${total[0]} passed, ${total[1]} failed, ${total[2]} skipped"
[ "$own" = 0 ] && [ "$up" = 0 ]
