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

# The guest-side runner: each test in turn, output kept whole.
cat > "$out/run.sh" <<'SCRIPT'
#!/bin/sh
echo 4 > /proc/sys/vm/nr_hugepages
for t in "$@"; do
	echo "### upstream: $t"
	"/guest/$t"
	echo "### upstream: $t exit=$?"
done
SCRIPT
chmod +x "$out/run.sh"

set +e
GUEST_SMP=4 GUEST_TIMEOUT=${UPSTREAM_TIMEOUT:-1200} GUEST_EXTRA="${targets[*]}" \
	"$top/scripts/guest.sh" run "$out/run.sh" $tests > "$out/results.log" 2>&1
rc=$?
set -e
cp "$top/build/guest/console.log" "$out/console.log"

python3 - "$out/results.log" "$rc" $tests <<'PY'
import re, sys
log, rc, tests = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
text = open(log, errors="replace").read()
passed = failed = skipped = 0
problems = []
for t in tests:
    m = re.search(r"### upstream: %s\n(.*?)### upstream: %s exit=(\d+)" % (re.escape(t), re.escape(t)), text, re.S)
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
for p in problems:
    print(f"FAIL: {p}")
print(f"upstream mm selftests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if problems else 0)
PY
