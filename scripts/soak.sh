#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: migentry on the debug kernel (KERNEL_VARIANT=debug, the hooked
# variant plus patches/debug/config: KASAN, KFENCE, page_table_check
# enforced, DEBUG_PAGEALLOC, lockdep...). Each part is one boot of the guest:
#
#   suite   migentry's whole selftest suite and its KUnit suite
#           (guest.sh check), every migentry_* selftest at its own length
#   fuzz    selftests' migentry_fuzz at soak length (SOAK_FUZZ_ITERS
#           iterations, in rounds with successive seeds, bounded by
#           SOAK_FUZZ_SECONDS)
#   stress  selftests' migentry_stress at soak length (SOAK_STRESS_SECONDS)
#   reload  samples/reload_stress: SOAK_CYCLES unloads and loads of migentry
#           (the restore hook unregistered and registered each time) while
#           two threads migrate their pages and check every byte, and an
#           unload refused while /dev/migentry is open
#
# Then the kernel console of every boot is scanned once more for any report
# (scripts/parse_results.py --scan: KASAN, KFENCE, UBSAN, SLUB, lockdep,
# BUG, WARNING, Oops...); guest.sh already fails a part on one, and the guest
# runs with panic_on_warn=1, so the first report ends that boot.
#
# Prints one line per part, "soak: <part> on <variant>: ...", then the
# console line and "soak: ok (...)" or "soak: FAIL: ...". Exits 0 only if
# every part passed.
#
# Environment (the soak's length and shape):
#   SOAK_PARTS           parts to run ("suite fuzz stress reload")
#   SOAK_CYCLES          load/unload cycles of reload (100)
#   SOAK_FUZZ_ITERS      fuzzer iterations (1000000); SOAK_FUZZ_SECONDS their
#                        time bound (7200). The fuzzer runs in rounds of at
#                        most SOAK_FUZZ_ROUND_SECONDS (480; its harness stops
#                        a run after 600 s), seeds SOAK_SEED, SOAK_SEED+1...
#   SOAK_STRESS_SECONDS  stress run time over all its variants (600)
#   SOAK_SEED            seed of the fuzzer's first round (1) and of the
#                        stress (default: its own, from the clock, printed)
#   SOAK_VARIANT         kernel variant (debug); hooked gives a baseline
#   SOAK_SMP             vCPUs (4); SOAK_MEM_MB guest memory per NUMA node
#                        (1536: KASAN's shadow takes an eighth of it)
#   SOAK_SUITE_TIMEOUT   seconds for the suite's boot (5400); the other
#                        parts' timeouts follow from their lengths
#   GUEST_OUT            the guest's directory (build/soak/guest)
#
# Builds what it needs: the kernel (a full rebuild the first time), the
# module for it, the selftests and the samples. Logs: build/soak/ (<part>.log,
# the host's view; <part>.console.log and <part>.results.log, the guest's
# serial ports).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

[ -z "${KDIR:-}" ] || die "make soak builds and boots its own debug kernel variant; unset KDIR"
parts=${SOAK_PARTS:-suite fuzz stress reload}
cycles=${SOAK_CYCLES:-100}
fuzz_iters=${SOAK_FUZZ_ITERS:-1000000}
fuzz_secs=${SOAK_FUZZ_SECONDS:-7200}
fuzz_round=${SOAK_FUZZ_ROUND_SECONDS:-480}
stress_secs=${SOAK_STRESS_SECONDS:-600}
seed=${SOAK_SEED:-}
variant=${SOAK_VARIANT:-debug}
smp=${SOAK_SMP:-4}
mem=${SOAK_MEM_MB:-1536}
suite_timeout=${SOAK_SUITE_TIMEOUT:-5400}
out=$top/build/soak
export KERNEL_VARIANT=$variant
export GUEST_OUT=${GUEST_OUT:-$out/guest}
export GUEST_SMP=$smp GUEST_MEM_MB=$mem
for p in $parts; do
	case "$p" in
	suite | fuzz | stress | reload) ;;
	*) die "SOAK_PARTS: unknown part '$p' (known: suite fuzz stress reload)" ;;
	esac
done

t_start=$(date +%s)
mkdir -p "$out"
rm -f "$out"/*.log
t0=$(date +%s)
kdir=$("$top/scripts/kernel.sh")
t_kernel=$(($(date +%s) - t0))
"$top/scripts/build-module.sh" > "$out/module.build" 2>&1 ||
	die "module build for $variant failed (build/soak/module.build)"
"$top/scripts/build-selftests.sh"
"$top/scripts/build-samples.sh"
st=$top/build/selftests
s=$top/build/samples
note "soak on $variant ($kdir), $smp vCPUs, $((2 * mem)) MiB; parts: $parts"

# What runs in the guest for fuzz, stress and reload: the program (with its
# environment, through env), its exit status on a line of its own, then
# migentry_info, which shows what the restore hook did in this boot.
gscript=$out/guest-run.sh
cat > "$gscript" << 'EOF'
#!/bin/sh
"$@"
rc=$?
echo "soak: program exit $rc"
if [ -e /dev/migentry ]; then
	migentry_info
fi
exit $rc
EOF
chmod 755 "$gscript"

# migentry_fuzz in rounds, in one boot: the kselftest harness stops one run
# after 600 s (TEST_F_TIMEOUT), so each round is bounded by ROUND seconds and
# takes the next seed, until TARGET iterations ran or TOTAL seconds passed.
fscript=$out/fuzz-rounds.sh
cat > "$fscript" << 'EOF'
#!/bin/sh
# fuzz-rounds.sh TARGET ROUND TOTAL SEED
target=$1 round=$2 total=$3 seed=$4
done=0 k=0 start=$(date +%s)
while [ "$done" -lt "$target" ]; do
	if [ $(($(date +%s) - start)) -ge "$total" ]; then
		echo "soak: fuzz: time bound of $total s reached"
		break
	fi
	{
		MIGENTRY_FUZZ_SEED=$((seed + k)) MIGENTRY_FUZZ_ITERS=$((target - done)) \
			MIGENTRY_FUZZ_SECONDS=$round migentry_fuzz
		echo $? > /tmp/fuzz.rc
	} 2>&1 | tee /tmp/fuzz.out
	rc=$(cat /tmp/fuzz.rc)
	echo "soak: fuzz round $k exit $rc"
	[ "$rc" = 0 ] || exit "$rc"
	n=$(sed -n 's/^# fuzz: \([0-9]*\) iterations, .*/\1/p' /tmp/fuzz.out)
	[ -n "$n" ] && [ "$n" -gt 0 ] || exit 1
	done=$((done + n))
	k=$((k + 1))
done
exit 0
EOF
chmod 755 "$fscript"

# field TEXT REGEX: what sed's \1 captures from the first line of TEXT
# that matches REGEX.
field() {
	sed -n "s|$2|\1|p" <<< "$1" | head -n 1
}

# sumof FILE REGEX: the sum of what sed's \1 captures from every line of
# FILE that matches REGEX (0 if none does).
sumof() {
	sed -n "s|$2|\1|p" "$1" | awk '{ n += $1 } END { print n + 0 }'
}

failed=()
consoles=()

# boot PART TIMEOUT MODE [ARG...]: one guest boot for PART; the host's view
# in build/soak/PART.log, the serial ports next to it. Sets rc and secs.
boot() {
	local part=$1 timeout=$2 t0
	shift 2
	t0=$(date +%s)
	note "$part: booting the $variant kernel ($*)"
	set +e
	GUEST_TIMEOUT=$timeout "$top/scripts/guest.sh" "$@" > "$out/$part.log" 2>&1
	rc=$?
	set -e
	secs=$(($(date +%s) - t0))
	cp "$GUEST_OUT/console.log" "$out/$part.console.log" 2> /dev/null || true
	cp "$GUEST_OUT/results.log" "$out/$part.results.log" 2> /dev/null || true
	consoles+=("$out/$part.console.log")
}

# verdict PART SUMMARY [PROBLEM...]: record PART's line.
verdict() {
	local part=$1 summary=$2
	shift 2
	if [ $# -gt 0 ]; then
		summary="$summary; FAIL: $(printf '%s; ' "$@" | sed 's/; $//')"
		failed+=("$part")
	fi
	echo "soak: $part on $variant: $summary"
}

# The guest runner's own complaints (a report on the console, a timeout...).
guest_problems() {
	grep -E '^(vm-run: |FAIL: )' "$out/$1.log" | sed 's/^vm-run: //; s/^FAIL: //' || true
}

# hook_line LOG: what migentry_info says the restore hook did in that boot.
hook_line() {
	local hl
	hl=$(grep '^restore hook:' "$1" || true)
	[ -n "$hl" ] || return 0
	printf 'hook consulted %s, C'"'"'s PTE kept %s' \
		"$(field "$hl" '.*consulted it \([0-9]*\) times.*')" \
		"$(field "$hl" '.*kept C.s PTE \([0-9]*\) times.*')"
}

# built PART: whether build/selftests/migentry_PART exists;
# if not, PART fails.
built() {
	[ -x "$st/migentry_$1" ] && return 0
	verdict "$1" "not run" "build/selftests/migentry_$1 was not built"
	return 1
}

part_suite() {
	local last why=()
	boot suite "$suite_timeout" check
	last=$(tail -n 1 "$out/suite.log")
	[[ "$last" =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]] || {
		why+=("no summary line")
		last="no result"
	}
	[ "$rc" = 0 ] || why+=("guest.sh check exited $rc")
	[[ "$last" =~ \ 0\ failed, ]] || why+=("$(grep -c '^FAIL: ' "$out/suite.log" || true) FAIL lines in build/soak/suite.log")
	# Name the binaries that did not pass and the runner's complaints.
	local bins
	bins=$(grep -c '^selftest migentry_.*: ok$' "$out/suite.log" || true)
	while IFS= read -r l; do why+=("$l"); done < <(grep '^selftest .*: not ok' "$out/suite.log" || true)
	while IFS= read -r l; do why+=("$l"); done < <(grep '^FAIL: ' "$out/suite.log" | sed 's/^FAIL: //' | head -n 5)
	verdict suite "$last ($bins selftest binaries ok, kunit $(grep -o 'kunit migentry_restore: .*' "$out/suite.log" | sed 's/kunit migentry_restore: //' | head -n 1), ${secs}s)" \
		${why[@]+"${why[@]}"}
}

part_fuzz() {
	local why=()
	built fuzz || return 0
	boot fuzz $((fuzz_secs + 1200)) run "$gscript" fuzz-rounds.sh "$fuzz_iters" "$fuzz_round" \
		"$fuzz_secs" "${seed:-1}"
	# Sums over the rounds of "# fuzz: I iterations, N fuzzed ioctls, ..." and
	# "# fuzz: U unexpected results, B bad records, C canary mismatches".
	local log=$out/fuzz.log prc rounds nsum iters ioctls unexpected badrec canary seeds summary
	prc=$(field "$(cat "$log")" '^soak: program exit \([0-9]*\)$')
	rounds=$(grep -cE '^soak: fuzz round [0-9]+ exit ' "$log" || true)
	nsum=$(grep -cE '# fuzz: [0-9]+ unexpected results, [0-9]+ bad records, [0-9]+ canary mismatches' "$log" || true)
	iters=$(sumof "$log" '.*# fuzz: \([0-9]*\) iterations, [0-9]* fuzzed ioctls.*')
	ioctls=$(sumof "$log" '.*# fuzz: [0-9]* iterations, \([0-9]*\) fuzzed ioctls.*')
	unexpected=$(sumof "$log" '.*# fuzz: \([0-9]*\) unexpected results, .*')
	badrec=$(sumof "$log" '.*# fuzz: [0-9]* unexpected results, \([0-9]*\) bad records.*')
	canary=$(sumof "$log" '.*# fuzz: [0-9]* unexpected results, [0-9]* bad records, \([0-9]*\) canary.*')
	seeds=$(sed -n 's|.*# fuzz: seed \(0x[0-9a-f]*\) .*|\1|p' "$log" | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
	[ "$rounds" -gt 0 ] && [ "$nsum" = "$rounds" ] || why+=("$rounds rounds but $nsum summaries from migentry_fuzz")
	[ "$prc" = 0 ] || why+=("fuzz-rounds.sh exited ${prc:-?} ($(grep -E '^soak: fuzz round' "$log" | tail -n 1))")
	[ "$unexpected" = 0 ] || why+=("unexpected results")
	[ "$badrec" = 0 ] || why+=("bad records")
	[ "$canary" = 0 ] || why+=("canary changed")
	[ "$iters" -ge "$fuzz_iters" ] ||
		why+=("stopped by the time bound (SOAK_FUZZ_SECONDS=$fuzz_secs) after $iters of $fuzz_iters iterations")
	while IFS= read -r l; do why+=("$l"); done < <(guest_problems fuzz | head -n 5)
	summary="$ioctls ioctls, $unexpected unexpected, $badrec bad records, "
	if [ "$canary" = 0 ]; then summary+="canary intact"; else summary+="$canary canary mismatches"; fi
	local hl
	hl=$(hook_line "$log")
	summary+=" ($iters iterations in $rounds rounds, seeds ${seeds:-?}${hl:+, $hl}, ${secs}s)"
	verdict fuzz "$summary" ${why[@]+"${why[@]}"}
}

part_stress() {
	local why=() env=(MIGENTRY_STRESS_SECONDS="$stress_secs")
	built stress || return 0
	[ -z "$seed" ] || env+=(MIGENTRY_STRESS_SEED="$seed")
	boot stress $((3 * stress_secs + 1200)) run "$gscript" env "${env[@]}" migentry_stress
	local log=$out/stress.log prc
	prc=$(field "$(cat "$log")" '^soak: program exit \([0-9]*\)$')
	# One line per variant: "stress <variant>: seed S, X s, roundtrips R (...),
	# ..., move_pages N (P pages moved), ..., bytes wrong W".
	local n=0 s_sum=0 rt=0 moved=0 wrong=0 l v
	while IFS= read -r l; do
		n=$((n + 1))
		v=$(field "$l" '.*, \([0-9.]*\) s, roundtrips.*')
		s_sum=$(awk -v a="$s_sum" -v b="${v:-0}" 'BEGIN { printf "%.1f", a + b }')
		v=$(field "$l" '.*roundtrips \([0-9]*\) .*')
		rt=$((rt + ${v:-0}))
		v=$(field "$l" '.*move_pages [0-9]* (\([0-9]*\) pages moved).*')
		moved=$((moved + ${v:-0}))
		v=$(field "$l" '.*bytes wrong \([0-9]*\).*')
		[ -n "$v" ] || why+=("a stress line without 'bytes wrong'")
		wrong=$((wrong + ${v:-0}))
	done < <(grep -E '^(# )*stress [^ ]+: seed ' "$log" || true)
	[ "$n" -gt 0 ] || why+=("no summary from migentry_stress")
	[ "$prc" = 0 ] || why+=("migentry_stress exited ${prc:-?}")
	[ "$wrong" = 0 ] || why+=("lost bytes")
	while IFS= read -r l; do why+=("$l"); done < <(guest_problems stress | head -n 5)
	local hl
	hl=$(hook_line "$log")
	verdict stress "${s_sum} s, $rt roundtrips, $moved pages migrated, $wrong lost bytes ($n variants, $smp vCPUs${hl:+, $hl}, ${secs}s)" \
		${why[@]+"${why[@]}"}
}

part_reload() {
	local why=() log=$out/reload.log rl prc
	boot reload $((120 * cycles + 600)) run "$gscript" reload_stress --cycles "$cycles" --args hook=1
	rl=$(grep '^reload_stress:' "$log" | tail -n 1 || true)
	prc=$(field "$(cat "$log")" '^soak: program exit \([0-9]*\)$')
	[ -n "$rl" ] || why+=("no summary from reload_stress")
	[ "$prc" = 0 ] || why+=("reload_stress exited ${prc:-?}")
	[ "$(field "$rl" '^reload_stress: \([0-9]*\) cycles.*')" = "$cycles" ] || why+=("not all $cycles cycles ran")
	[ "$(field "$rl" '.*, \([0-9]*\) bytes wrong.*')" = 0 ] || why+=("bytes wrong")
	[ "$(field "$rl" '.*, \([0-9]*\) failed calls.*')" = 0 ] || why+=("failed calls")
	# reload_stress reports its other complaints (an unload not refused
	# while the device is open, a failed load) on lines of their own.
	while IFS= read -r l; do why+=("$l"); done < <(grep '^reload_stress: ' "$log" | grep -vxF "$rl" | head -n 5)
	if [ "$variant" != stock ] && ! grep -q '^restore hook: registered' "$log"; then
		why+=("restore hook not registered after the last load")
	fi
	while IFS= read -r l; do why+=("$l"); done < <(guest_problems reload | head -n 5)
	local hl
	hl=$(hook_line "$log")
	verdict reload "${rl#reload_stress: }${hl:+; $hl} (${secs}s)" ${why[@]+"${why[@]}"}
}

for p in $parts; do
	case "$p" in
	fuzz) export GUEST_EXTRA="$st/migentry_fuzz $fscript $s/migentry_info" ;;
	stress) export GUEST_EXTRA="$st/migentry_stress $s/migentry_info" ;;
	reload) export GUEST_EXTRA="$s/reload_stress $s/migentry_info" ;;
	suite) unset GUEST_EXTRA ;;
	esac
	"part_$p"
done

# The console of every boot, once more, for any report at all; and proof
# that the debug kernel's checkers were on in each boot.
scan=$out/console-scan.txt
set +e
python3 "$top/scripts/parse_results.py" --scan "${consoles[@]}" > "$scan"
scanrc=$?
set -e
why=()
if [ "$scanrc" != 0 ]; then
	why+=("$(wc -l < "$scan") report lines (build/soak/console-scan.txt):")
	while IFS= read -r l; do why+=("${l#"$out"/}"); done < <(head -n 10 "$scan")
fi
active=
if [ "$variant" = debug ]; then
	for c in "${consoles[@]}"; do
		grep -q 'KernelAddressSanitizer initialized' "$c" || why+=("KASAN not initialized in ${c#"$top"/}")
		grep -q 'kfence: initialized' "$c" || why+=("KFENCE not initialized in ${c#"$top"/}")
	done
	active=" (KASAN and KFENCE initialized in each)"
fi
if [ "$scanrc" = 0 ]; then
	msg="no KASAN, KFENCE, UBSAN, SLUB, lockdep, BUG, WARNING or Oops report"
else
	msg="kernel reports found"
fi
verdict console "${#consoles[@]} boots$active, $msg" ${why[@]+"${why[@]}"}

total=$(($(date +%s) - t_start))
if [ ${#failed[@]} = 0 ]; then
	echo "soak: ok on $variant ($total s, kernel ready in $t_kernel s; logs in build/soak/)"
else
	echo "soak: FAIL on $variant: ${failed[*]} ($total s; logs in build/soak/)"
	exit 1
fi
