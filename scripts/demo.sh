#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot the guest, show what the module reports, the seed scenarios
# table, and the clear_refs race sample's result. The table is also written
# as markdown to build/demo/seed_scenarios.md. Then the real-migration table:
# uffd-wp pages really migrated on the stock, pre62 and hooked kernels, with
# migentry's restore hook off and on (scripts/realpath.sh rows 7, 1-3, 8, 9);
# DEMO_REALPATH=0 leaves it out.
#
# DEMO_ARGS: extra arguments for seed_scenarios (e.g. --raw).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

s=$top/build/samples
out=$top/build/demo
mkdir -p "$out"
log=$out/demo.log
set +e
GUEST_EXTRA="$s/migentry_info $s/seed_scenarios $s/clear_refs_race" \
	"$top/scripts/guest.sh" run "$top/samples/demo.sh" ${DEMO_ARGS:-} > "$log"
rc=$?
set -e
sed '/^<<<markdown$/,/^>>>markdown$/d' "$log"
sed -n '/^<<<markdown$/,/^>>>markdown$/p' "$log" | sed '1d;$d' > "$out/seed_scenarios.md"
if [ -s "$out/seed_scenarios.md" ]; then
	echo
	echo "markdown table: build/demo/seed_scenarios.md"
fi
[ "$rc" = 0 ] || exit $rc
[ "${DEMO_REALPATH:-1}" = 1 ] || exit 0
echo
echo "Real migrations (move_pages(2)) of uffd-wp pages, then one write each:"
REALPATH_ROWS="7 1 2 3 8 9" "$top/scripts/realpath.sh"
