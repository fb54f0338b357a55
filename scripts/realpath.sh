#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make real-path: the typed restore in the kernel's real migration path.
#
# Five boots, each with the kernel and hook state its row names:
#   1. pre62, no module:       uffd_wp_migration --expect memfd-unseen
#      (the November 2022 data loss, re-created on a 7.3 kernel)
#   2. pre62, hook on:         uffd_wp_migration --expect reported, and
#      migentry_info's STATS in the same boot
#   3. pre62, hook=0:          uffd_wp_migration --expect memfd-unseen
#   4. hooked, hook on:        clear_refs_race loses no write, and STATS shows
#      "soft-dirty pending" refusals
#   5. hooked, hook=0:         clear_refs_race loses writes
#   6. hooked, hook on:        reload_stress: migentry unloaded and loaded
#      (the hook unregistered and registered) while threads migrate and
#      check their pages: no byte wrong, no splat, an unload refused while
#      /dev/migentry is open
#   7. stock, no module:       uffd_wp_migration --expect reported
#   8. hooked, hook=0:         uffd_wp_migration --expect reported
#   9. hooked, hook on:        uffd_wp_migration --expect reported
# (7-9: the same program where 7.3's write-notify for uffd-wp VMAs and its
# write-protecting pte_mkuffd() are in place: no loss with or without the hook.)
# pre62 is hooked plus the revert of the 2022 fix (no write-notify for uffd-wp
# VMAs, uffd bit without write-protect in remove_migration_pte()). Rows with
# the module loaded also check, through migentry_info, that the hook is
# registered or not as the row says.
#
#   REALPATH_SECONDS (10), REALPATH_SEED (1): the clear_refs race
#   REALPATH_ROWS ("1 2 3 4 5 6 7 8 9"): the rows to run
#   REALPATH_CYCLES (20): load/unload cycles of row 6
#
# Builds the module for both variants and the samples; uses the cached
# kernels (scripts/kernel.sh builds one that is missing). Fails if any row's
# expectation fails. Logs: build/real-path/ (row N: N.log, the host's view;
# N.results.log and N.console.log, the guest's serial ports).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

secs=${REALPATH_SECONDS:-10}
seed=${REALPATH_SEED:-1}
rows_wanted=${REALPATH_ROWS:-1 2 3 4 5 6 7 8 9}
cycles=${REALPATH_CYCLES:-20}
out=$top/build/real-path
s=$top/build/samples
mkdir -p "$out"
rm -rf "$out"/*.log "$out/guest"

for v in stock pre62 hooked; do
	KERNEL_VARIANT=$v "$top/scripts/kernel.sh" > /dev/null
	KERNEL_VARIANT=$v "$top/scripts/build-module.sh" > "$out/module-$v.build" 2>&1 ||
		die "module build for $v failed (build/real-path/module-$v.build)"
done
"$top/scripts/build-samples.sh"

# What runs in the guest: the row's program, then, if the module is loaded,
# migentry_info. Exit statuses are reported on lines of their own; the host
# judges them. The script itself always exits 0, so that a non-zero status
# from guest.sh means the guest went wrong (a WARN, a timeout, insmod).
gscript=$out/guest.sh
cat > "$gscript" << 'EOF'
#!/bin/sh
"$@"
echo "realpath: program exit $?"
if [ -e /dev/migentry ]; then
	migentry_info
	echo "realpath: migentry_info exit $?"
fi
exit 0
EOF
chmod 755 "$gscript"

# field LINE REGEX: the number sed captures from LINE with REGEX.
field() {
	sed -n "s|$2|\1|p" <<< "$1"
}

# uffd_summary LOG: "memfd 64/64 unseen, anon 64/64 reported (PTEs w+u 0, 0)".
uffd_summary() {
	local t line p m u w parts=()
	for t in memfd anon; do
		line=$(grep "^uffd_wp_migration: $t:" "$1" || true)
		if [ -z "$line" ]; then
			parts+=("$t: no result")
			continue
		fi
		p=$(field "$line" '.*: \([0-9]*\) pages migrated.*')
		m=$(field "$line" '.*, \([0-9]*\) WP messages.*')
		u=$(field "$line" '.*, \([0-9]*\) writes unseen.*')
		w=$(field "$line" '.*, \([0-9n/a]*\) PTEs writable+uffd.*')
		parts+=("$t $m/$p reported, $u unseen, $w w+uffd")
	done
	local IFS=';'
	echo "${parts[*]}" | sed 's/;/; /g'
}

table=()
stats=()
bad=0

# row N VARIANT HOOK EXPECTED PROG ARG...: boot VARIANT with migentry as HOOK
# says ("none": not loaded, "on": loaded, "off": loaded with hook=0), run PROG.
row() {
	local n=$1 v=$2 hook=$3 expected=$4
	shift 4
	case " $rows_wanted " in *" $n "*) ;; *) return 0 ;; esac
	local log=$out/$n.log env=() state extra="$s/$1" t0 t1 grc prc irc hookobs=
	local ptes= pmds=
	case "$hook" in
	none) env=(GUEST_NO_MODULE=1) state="not loaded" ;;
	on) state="loaded, hook on" ;;
	off) env=(GUEST_MODULE_ARGS=hook=0) state="loaded, hook=0" ;;
	esac
	[ "$hook" = none ] || extra="$extra $s/migentry_info"
	note "row $n: $v kernel, migentry $state: $*"
	t0=$(date +%s)
	set +e
	env KERNEL_VARIANT="$v" GUEST_TIMEOUT=$((secs + 600)) GUEST_EXTRA="$extra" \
		GUEST_OUT="$out/guest" "${env[@]}" \
		"$top/scripts/guest.sh" run "$gscript" "$@" > "$log" 2>&1
	grc=$?
	set -e
	t1=$(date +%s)
	cp "$out/guest/results.log" "$out/$n.results.log" 2> /dev/null || true
	cp "$out/guest/console.log" "$out/$n.console.log" 2> /dev/null || true

	local rel why=() observed
	rel=$(sed -n 's/^migentry-guest: start .*kernel=\([^ ]*\).*/\1/p' "$out/$n.results.log" 2> /dev/null || true)
	prc=$(sed -n 's/^realpath: program exit \([0-9]*\)$/\1/p' "$log")
	irc=$(sed -n 's/^realpath: migentry_info exit \([0-9]*\)$/\1/p' "$log")
	[ "$grc" = 0 ] || why+=("guest failed ($(grep '^vm-run:' "$log" | tr '\n' ' ' | sed 's/ *$//'))")
	[ -n "$prc" ] || why+=("$1 did not finish")

	# The hook state as migentry_info reports it, where the module is loaded.
	if [ "$hook" != none ]; then
		if [ "$irc" != 0 ]; then
			why+=("migentry_info failed")
		elif [ "$hook" = on ] && ! grep -q '^restore hook: registered' "$log"; then
			why+=("hook not registered")
		elif [ "$hook" = off ] && ! grep -q '^restore hook: not registered' "$log"; then
			why+=("hook registered despite hook=0")
		fi
		# What the hook did, as the kernel and the module count it.
		# migentry_info prints the PTE counters, then the same for THP PMDs.
		local hl called kept undoc cwu pmdundoc
		ptes=$(sed -n '/^restore hook:/,/^  unlike C, undocumented/p' "$log")
		pmds=$(sed -n '/^restore hook, THP PMDs:/,/^  unlike C, undocumented/p' "$log")
		hl=$(grep '^restore hook:' <<< "$ptes" || true)
		called=$(field "$hl" '.*consulted it \([0-9]*\) times.*')
		kept=$(field "$hl" '.*kept C.s PTE \([0-9]*\) times.*')
		undoc=$(field "$(grep '^  unlike C, undocumented' <<< "$ptes" || true)" \
			'.*undocumented \([0-9]*\).*')
		pmdundoc=$(field "$(grep '^  unlike C, undocumented' <<< "$pmds" || true)" \
			'.*undocumented \([0-9]*\).*')
		cwu=$(field "$(grep "C's PTE writable+uffd" <<< "$ptes" || true)" '.* \([0-9]*\)$')
		hookobs="hook consulted ${called:-?}, C's PTE kept ${kept:-?}, C's PTE writable+uffd ${cwu:-?}, undocumented divergences ${undoc:-?} (PMDs ${pmdundoc:-?})"
		# Every divergence from the kernel's C must be documented; on pre62 the extra ones
		# are C's writable+uffd PTEs, the 2022 bug, which the hook must have met.
		if [ "$hook" = on ] && { [ "${undoc:-x}" != 0 ] || [ "${pmdundoc:-x}" != 0 ]; }; then
			why+=("undocumented divergences: PTEs ${undoc:-?}, PMDs ${pmdundoc:-?}")
		fi
		if [ "$hook" = on ] && [ "$v" = pre62 ] && [ "${cwu:-0}" = 0 ]; then
			why+=("the hook never met C's writable+uffd PTE")
		fi
		if [ -n "$hl" ]; then
			stats+=("row $n ($v, migentry $state):")
			stats+=("$(sed -n "/^migentry ABI/,/^  unlike C, undocumented.*C's PMD kept/p" "$log")")
		fi
	fi

	case "$1" in
	uffd_wp_migration)
		observed=$(uffd_summary "$log")
		[ "$prc" = 0 ] || why+=("$* exited ${prc:-?}")
		;;
	clear_refs_race)
		local line lost refused
		line=$(grep '^clear_refs_race:' "$log" || true)
		lost=$(field "$line" '.*, \([0-9]*\) lost writes.*')
		observed="${lost:-?} lost writes"
		if [ "$hook" != none ]; then
			refused=$(field "$(grep 'refused write: soft-dirty pending' <<< "$ptes" || true)" \
				'.*pending *\([0-9]*\)$')
			observed="$observed, ${refused:-?} soft-dirty pending refusals"
		fi
		if [ "$hook" = on ]; then
			[ "$prc" = 0 ] && [ "$lost" = 0 ] || why+=("writes lost")
			[ -n "$refused" ] && [ "$refused" -gt 0 ] || why+=("no soft-dirty pending refusal")
		else
			# clear_refs_race exits 1 when it lost writes.
			[ "$prc" = 1 ] && [ -n "$lost" ] && [ "$lost" -gt 0 ] || why+=("no write lost")
		fi
		;;
	reload_stress)
		local rl
		rl=$(grep '^reload_stress:' "$log" || true)
		observed=${rl#reload_stress: }
		[ -n "$rl" ] || observed="no result"
		[ "$prc" = 0 ] || why+=("$1 exited ${prc:-?}")
		[ "$(field "$rl" '.*, \([0-9]*\) bytes wrong.*')" = 0 ] || why+=("bytes wrong")
		;;
	esac
	# READ_PTE's view, where it is there: the memfd PTEs after migration.
	if [ "$1" = uffd_wp_migration ] && [ "$hook" != none ]; then
		local wu
		wu=$(field "$(grep '^uffd_wp_migration: memfd:' "$log" || true)" \
			'.*, \([0-9]*\) PTEs writable+uffd.*')
		if [ "$hook" = on ] && [ "${wu:-x}" != 0 ]; then
			why+=("memfd PTEs writable+uffd: ${wu:-?}, want 0")
		elif [ "$hook" = off ] && [ "$v" = pre62 ] && [ "${wu:-0}" = 0 ]; then
			why+=("no memfd PTE writable+uffd")
		fi
	fi

	[ -z "$hookobs" ] || observed="$observed; $hookobs"
	local verdict=ok
	if [ ${#why[@]} -gt 0 ]; then
		verdict="FAIL: $(printf '%s; ' "${why[@]}" | sed 's/; $//')"
		bad=1
	fi
	table+=("$(printf '%-3s %-7s %-15s %-16s %-40s %-44s %5ss  %s\n' "$n" "$v" "${rel:-?}" \
		"$state" "$*" "$expected" "$((t1 - t0))" "$verdict")")
	table+=("$(printf '%-3s %-7s %-15s %-16s %-40s %s\n' "" "" "" "" "" "observed: $observed")")
}

u=uffd_wp_migration
row 1 pre62 none "memfd writes unseen, anon reported" $u --expect memfd-unseen
row 2 pre62 on "every write reported" $u --expect reported
row 3 pre62 off "memfd writes unseen, anon reported" $u --expect memfd-unseen
row 4 hooked on "0 lost, soft-dirty pending refusals > 0" clear_refs_race --seconds "$secs" --seed "$seed"
row 5 hooked off "writes lost (> 0)" clear_refs_race --seconds "$secs" --seed "$seed"
row 6 hooked on "no byte wrong, clean reloads" reload_stress --cycles "$cycles" --args hook=1
row 7 stock none "every write reported" $u --expect reported
row 8 hooked off "every write reported" $u --expect reported
row 9 hooked on "every write reported" $u --expect reported

printf '%-3s %-7s %-15s %-16s %-40s %-44s %6s  %s\n' row kernel release migentry program expected boot verdict
printf '%s\n' "${table[@]}"
if [ ${#stats[@]} -gt 0 ]; then
	echo
	echo "migentry_info in the same boot:"
	printf '%s\n' "${stats[@]}"
fi
echo
if [ "$bad" = 0 ]; then
	echo "real-path: every expectation met (logs in build/real-path/)"
else
	echo "real-path: FAIL: an expectation failed (logs in build/real-path/)"
fi
exit $bad
