#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make race: the clear_refs/migration race on the stock and the patched
# kernel, same seeds and durations, one table.
#
#   RACE_RUNS (3)  RACE_SECONDS (10)  RACE_SEED (1; run i uses seed+i-1)
#   RACE_KERNELS ("stock patched"; "alternative" is the restore-side fix)
#   RACE_ARGS (extra sample options, e.g. --shmem or --thp)
#
# Fails if a patched or alternative kernel loses any write.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

runs=${RACE_RUNS:-3}
secs=${RACE_SECONDS:-10}
seed=${RACE_SEED:-1}
kernels=${RACE_KERNELS:-stock patched}
bin=$top/build/samples/clear_refs_race
out=$top/build/race
mkdir -p "$out"
[ -x "$bin" ] || die "sample not built; run 'make samples'"

rows=()
bad=0
for k in $kernels; do
	kdir=$(KERNEL_VARIANT=$k "$top/scripts/kernel.sh")
	for i in $(seq 1 "$runs"); do
		s=$((seed + i - 1))
		log=$out/$k-$i.log
		set +e
		KDIR=$kdir GUEST_NO_MODULE=1 GUEST_TIMEOUT=$((secs + 300)) "$top/scripts/guest.sh" run \
			"$bin" --seconds "$secs" --seed "$s" ${RACE_ARGS:-} > "$log" 2>&1
		set -e
		line=$(grep '^clear_refs_race:' "$log" || true)
		if [ -z "$line" ]; then
			echo "FAIL: $k run $i produced no result (see $log)"
			bad=1
			continue
		fi
		it=$(sed -n 's/.*: \([0-9]*\) iterations.*/\1/p' <<< "$line")
		ck=$(sed -n 's/.*, \([0-9]*\) pages checked.*/\1/p' <<< "$line")
		mg=$(sed -n 's/.*, \([0-9]*\) migrations.*/\1/p' <<< "$line")
		lw=$(sed -n 's/.*, \([0-9]*\) lost writes.*/\1/p' <<< "$line")
		rows+=("$(printf '%-12s %4s %6s %8ss %11s %14s %11s %12s' "$k" "$i" "$s" "$secs" "$it" "$ck" "$mg" "$lw")")
		if [ "$k" != stock ] && [ "$lw" != 0 ]; then
			bad=1
		fi
	done
done

printf '%-12s %4s %6s %9s %11s %14s %11s %12s\n' kernel run seed duration iterations "pages checked" migrations "writes lost"
printf '%s\n' "${rows[@]}"
[ "$bad" = 0 ] || echo "FAIL: a fixed kernel lost writes (logs in build/race/)"
exit $bad
