#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make race: the clear_refs/migration race on the stock and the patched
# kernel, same seeds and durations, one table.
#
#   RACE_RUNS (3)  RACE_SECONDS (10)  RACE_SEED (1; run i uses seed+i-1)
#   RACE_KERNELS ("stock patched"; "alternative" is the restore-side fix;
#                 "hooked" is the hooked kernel with migentry loaded, its
#                 typed restore registered as the restore hook; "hooked-c"
#                 the same with hook=0, so C's restore)
#   RACE_ARGS (extra sample options, e.g. --shmem or --thp)
#   RACE_NOAD=1 boots every run on a CPU model on which migration entries
#   carry no young/dirty bits (README, "Migration entries without A/D"):
#   GUEST_CPU (core2duo), GUEST_PHYS_BITS (36), GUEST_APPEND (l1tf=flush).
#   Each run then checks in the guest that the model has the L1TF bug and
#   the mitigation is on, and where migentry is loaded, that it reports
#   "mig-ad no"; stock and hooked-c must lose writes there.
#
# Fails if a patched, alternative or hooked kernel loses any write, if a
# hooked --thp run's THP restores did not go through the hook, or if a run's
# checks fail. Logs: build/race/ (RACE_OUT=dir for another directory).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

runs=${RACE_RUNS:-3}
secs=${RACE_SECONDS:-10}
seed=${RACE_SEED:-1}
kernels=${RACE_KERNELS:-stock patched}
noad=${RACE_NOAD:-0}
sdir=$top/build/samples
bin=$sdir/clear_refs_race
out=${RACE_OUT:-$top/build/race}
mkdir -p "$out"
[ -x "$bin" ] || die "sample not built; run 'make samples'"
[[ $runs =~ ^[1-9][0-9]*$ && $secs =~ ^[1-9][0-9]*$ && $seed =~ ^[1-9][0-9]*$ ]] ||
	die "RACE_RUNS, RACE_SECONDS and RACE_SEED must be positive numbers"

genv=()
if [ "$noad" = 1 ]; then
	genv=(GUEST_CPU="${GUEST_CPU:-core2duo}" GUEST_PHYS_BITS="${GUEST_PHYS_BITS:-36}"
		GUEST_APPEND="${GUEST_APPEND:-l1tf=flush}")
fi

# What runs in the guest: the platform facts the table relies on, then the
# race, then (migentry loaded) migentry_info. Statuses on lines of their own;
# the host judges them.
gscript=$out/guest-race.sh
cat > "$gscript" << 'EOF2'
#!/bin/sh
echo "race: l1tf $(cat /sys/devices/system/cpu/vulnerabilities/l1tf 2> /dev/null || echo unknown)"
echo "race: cmdline $(cat /proc/cmdline)"
"$@"
echo "race: program exit $?"
if [ -e /dev/migentry ]; then
	migentry_info
	echo "race: migentry_info exit $?"
fi
exit 0
EOF2
chmod 755 "$gscript"

rows=()
bad=0
for k in $kernels; do
	v=$k
	menv=(GUEST_NO_MODULE=1)
	case "$k" in
	stock | patched | alternative) ;;
	hooked) menv=() ;;
	hooked-c)
		v=hooked
		menv=(GUEST_MODULE_ARGS=hook=0)
		;;
	*) die "RACE_KERNELS: unknown entry '$k'" ;;
	esac
	KERNEL_VARIANT=$v "$top/scripts/kernel.sh" > /dev/null
	extra=$bin
	if [ "${#menv[@]}" = 0 ] || [ "${menv[0]}" != GUEST_NO_MODULE=1 ]; then
		KERNEL_VARIANT=$v "$top/scripts/build-module.sh" > "$out/module-$v.build" 2>&1 ||
			die "module build for $v failed (see $out/module-$v.build)"
		extra="$extra $sdir/migentry_info"
	fi
	for i in $(seq 1 "$runs"); do
		s=$((seed + i - 1))
		log=$out/$k-$i.log
		set +e
		env KERNEL_VARIANT="$v" GUEST_OUT="$out/guest" GUEST_EXTRA="$extra" \
			GUEST_TIMEOUT=$((secs + 300)) "${genv[@]}" "${menv[@]}" \
			"$top/scripts/guest.sh" run "$gscript" clear_refs_race \
			--seconds "$secs" --seed "$s" ${RACE_ARGS:-} > "$log" 2>&1
		grc=$?
		set -e
		cp "$out/guest/console.log" "$out/$k-$i.console.log" 2> /dev/null || true
		why=()
		[ "$grc" = 0 ] || why+=("guest failed")
		line=$(grep '^clear_refs_race:' "$log" || true)
		it=$(sed -n 's/.*: \([0-9]*\) iterations.*/\1/p' <<< "$line")
		ck=$(sed -n 's/.*, \([0-9]*\) pages checked.*/\1/p' <<< "$line")
		mg=$(sed -n 's/.*, \([0-9]*\) migrations.*/\1/p' <<< "$line")
		lw=$(sed -n 's/.*, \([0-9]*\) lost writes.*/\1/p' <<< "$line")
		[ -n "$lw" ] || why+=("no result")
		if [ -n "$lw" ] && [ "$k" != stock ] && [ "$k" != hooked-c ] && [ "$lw" != 0 ]; then
			why+=("a fixed kernel lost writes")
		fi
		case "$k" in
		hooked)
			grep -q '^restore hook: registered' "$log" || why+=("hook not registered")
			# A THP run must have gone through the typed PMD restore, and the
			# kernel must never have refused one of its PMDs.
			case " ${RACE_ARGS:-} " in
			*" --thp "*)
				pl=$(grep "^restore hook, THP PMDs:" "$log" || true)
				pc=$(sed -n 's/.*consulted it \([0-9]*\) times.*/\1/p' <<< "$pl")
				pk=$(sed -n "s/.*kept C's PMD \([0-9]*\) times.*/\1/p" <<< "$pl")
				[ "${pc:-0}" -gt 0 ] || why+=("the kernel never asked the hook about a PMD")
				[ "${pk:-x}" = 0 ] || why+=("the kernel kept C's PMD ${pk:-?} times")
				;;
			esac
			;;
		hooked-c) grep -q '^restore hook: not registered' "$log" || why+=("hook registered despite hook=0") ;;
		esac
		if [ "$noad" = 1 ]; then
			grep -q '^race: l1tf Mitigation' "$log" || why+=("the CPU model has no L1TF mitigation on")
			grep -q '^race: cmdline .*l1tf=flush' "$log" || why+=("no l1tf=flush")
			if [ "${extra#* }" != "$extra" ] && ! grep -q '^  mig-ad *no ' "$log"; then
				why+=("migentry does not report mig-ad no")
			fi
			if [ "$k" = stock ] || [ "$k" = hooked-c ]; then
				[ "${lw:-0}" -gt 0 ] || why+=("no write lost")
			fi
		fi
		if [ "${#why[@]}" != 0 ]; then
			echo "FAIL: $k run $i: ${why[*]} (see $log)"
			bad=1
		fi
		[ -n "$lw" ] || continue
		rows+=("$(printf '%-12s %4s %6s %8ss %11s %14s %11s %12s' "$k" "$i" "$s" "$secs" "$it" "$ck" "$mg" "$lw")")
	done
done

printf '%-12s %4s %6s %9s %11s %14s %11s %12s\n' kernel run seed duration iterations "pages checked" migrations "writes lost"
printf '%s\n' "${rows[@]}"
[ "$bad" = 0 ] || echo "FAIL: see the lines above (logs in ${out#"$top"/}/)"
exit $bad
