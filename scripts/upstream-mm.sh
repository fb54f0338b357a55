#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own mm selftests that touch migration entries, uffd-wp and
# soft-dirty, built statically from the 7.3 tree and run in the guest with
# migentry loaded (4 vCPUs: 'migration' needs at least 3).
#
# Prints "upstream mm selftests: P passed, F failed, S skipped" (their own
# skips, e.g. hugetlb without reserved pages, are theirs) and fails if any
# test failed or a binary printed no totals.
#
# MIGENTRY_UPSTREAM=run (the default, and what CI uses) always runs them.
# MIGENTRY_UPSTREAM=auto (what 'make check' uses) reuses the summary of an
# earlier passing run whose inputs were byte for byte the same: the kernel
# image, the test binaries, busybox, the QEMU version, and the sources of the
# module and of the guest. They take about six minutes under TCG; a failed run
# is never reused.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=$("$top/scripts/kdir.sh")
tests=${UPSTREAM_TESTS:-soft-dirty mkdirty pagemap_ioctl migration uffd-unit-tests}
out=$top/build/upstream-mm
mkdir -p "$out/bin"
targets=()
for t in $tests; do
	targets+=("$out/bin/$t")
done
make -s -C "$kdir/tools/testing/selftests/mm" LDFLAGS=-static \
	KHDR_INCLUDES="-isystem $kdir/usr/include" OUTPUT="$out/bin" "${targets[@]}" \
	> "$out/build.log" 2>&1 || {
	tail -n 30 "$out/build.log" >&2
	die "building the upstream mm selftests failed (build/upstream-mm/build.log)"
}

# What the result depends on. Paths are left out, so a fresh clone of the
# same sources hits the same entry.
mode=${MIGENTRY_UPSTREAM:-run}
case "$mode" in run | auto) ;; *) die "MIGENTRY_UPSTREAM must be run or auto, not '$mode'" ;; esac
store=$MIGENTRY_CACHE/upstream-mm
key=$(
	for f in "$kdir/arch/x86/boot/bzImage" "${targets[@]}" /bin/busybox; do
		sha256sum < "$f"
	done
	(cd "$top" && { find rust include scripts/guest -type f \( -name '*.rs' -o -name '*.[ch]' \
		-o -name init \) -print0; printf '%s\0' Kbuild scripts/build-module.sh \
		scripts/guest.sh scripts/upstream-mm.sh; } | LC_ALL=C sort -z | xargs -0 sha256sum)
	qemu-system-x86_64 --version | head -n 1
	echo "$tests"
) || die "cannot hash the inputs of the upstream run"
key=$(printf '%s\n' "$key" | sha256sum | cut -c1-16)
if [ "$mode" = auto ] && [ -s "$store/$key.txt" ]; then
	echo "upstream mm selftests: inputs unchanged since the passing run of" \
		"$(head -n 1 "$store/$key.txt"); its summary follows (MIGENTRY_UPSTREAM=run reruns)"
	tail -n +2 "$store/$key.txt"
	exit 0
fi

# The guest-side runner: each test in turn, output kept whole.
cat > "$out/run.sh" <<'SCRIPT'
#!/bin/sh
echo 4 > /proc/sys/vm/nr_hugepages
for t in "$@"; do
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo "### upstream: $t"
	"/guest/$t"
	rc=$?
	echo "### upstream: $t exit=$rc uptime $t0 -> $(cut -d' ' -f1 /proc/uptime)"
done
# What migentry's restore hook (hooked kernel) did meanwhile.
[ -e /dev/migentry ] && migentry_info
exit 0
SCRIPT
chmod +x "$out/run.sh"

info=$top/build/samples/migentry_info
[ -x "$info" ] || "$top/scripts/build-samples.sh"
set +e
GUEST_SMP=4 GUEST_TIMEOUT=${UPSTREAM_TIMEOUT:-1200} GUEST_EXTRA="${targets[*]} $info" \
	"$top/scripts/guest.sh" run "$out/run.sh" $tests > "$out/results.log" 2>&1
rc=$?
set -e
cp "$top/build/guest/console.log" "$out/console.log"

set +e
python3 - "$out/results.log" "$rc" $tests <<'PY' | tee "$out/summary.txt"
import re, sys
log, rc, tests = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
text = open(log, errors="replace").read()
passed = failed = skipped = 0
problems = []
for t in tests:
    m = re.search(r"### upstream: %s\n(.*?)### upstream: %s exit=(\d+)[^\n]*" % (re.escape(t), re.escape(t)), text, re.S)
    if not m:
        problems.append(f"{t}: did not finish")
        failed += 1
        continue
    body, code = m.group(1), int(m.group(2))
    tot = re.findall(r"# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)", body)
    if tot:
        p, f, xf, xp, s, e = map(int, tot[-1])
        passed += p + xf; failed += f + xp + e; skipped += s
        print(f"upstream {t}: pass:{p} fail:{f} skip:{s} (exit {code})")
        if f or xp or e:
            problems.append(f"{t}: {f + xp + e} failed")
    else:
        problems.append(f"{t}: no totals (exit {code})")
        failed += 1
if rc != 0:
    problems.append(f"guest run exit status {rc} (see build/upstream-mm/console.log)")
# Where migentry is the kernel's migration restore hook, the tests' migrations
# went through it: it must have been consulted, and have diverged from C only
# as documented.
hook = re.search(r"^restore hook: registered; the kernel consulted it (\d+) times, kept C's PTE (\d+) times.*$", text, re.M)
if hook:
    typed = re.search(r"^  typed restores \d+.*$", text, re.M)
    undoc = re.search(r"^  unlike C, undocumented (\d+); C's PTE kept", text, re.M)
    print(f"upstream: migentry {hook.group(0)}")
    if typed:
        print(f"upstream: migentry {typed.group(0).strip()}")
    if int(hook.group(1)) == 0:
        problems.append("the restore hook is registered but no migration went through it")
    if int(hook.group(2)) != 0 or not undoc or int(undoc.group(1)) != 0:
        problems.append("the restore hook broke its contract or diverged in an undocumented way")
    # THP migrations end in remove_migration_pmd(), which asks the hook too.
    pmd = re.search(r"^restore hook, THP PMDs: the kernel consulted it (\d+) times, kept C's PMD (\d+) times$", text, re.M)
    pundoc = re.search(r"^  unlike C, undocumented (\d+); C's PMD kept", text, re.M)
    if not pmd:
        problems.append("migentry_info printed no THP PMD counters")
    else:
        print(f"upstream: migentry {pmd.group(0)}")
        if int(pmd.group(2)) != 0 or not pundoc or int(pundoc.group(1)) != 0:
            problems.append("the PMD restore hook broke its contract or diverged in an undocumented way")
for p in problems:
    print(f"FAIL: {p}")
print(f"upstream mm selftests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if problems else 0)
PY
ok=${PIPESTATUS[0]}
set -e
if [ "$ok" = 0 ]; then
	mkdir -p "$store"
	rm -f "$store"/*.txt
	{ date -u '+%Y-%m-%d %H:%M UTC'; cat "$out/summary.txt"; } > "$store/$key.txt.tmp"
	mv "$store/$key.txt.tmp" "$store/$key.txt"
fi
exit "$ok"
