#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: what the types cost (issue 14), measured in QEMU guests under
# TCG. Only ratios measured in one boot mean anything there, never absolute
# times; every measurement is repeated and interleaved to show its spread.
#
#   question 1  typed vs C restore cost per entry, in the kernel: migentry's
#               KUnit case migentry_restore_cost (rust/restore/bench.rs), run at
#               insmod with its size as module parameters, in the hooked boot
#   question 2  move_pages(2) throughput, migentry's restore hook registered vs
#               not: samples/bench_migrate on the hooked kernel, in one boot,
#               reloading migentry between measurements ("hook=1"/"hook=0");
#               the stock kernel without migentry in a second boot, for reference
#   question 3  ROUNDTRIP vs an mprotect(PROT_READ)+mprotect(PROT_READ|PROT_WRITE)
#               pair per page, EVALUATE and READ_PTE beside them, ranges of 1 to
#               65536 pages: samples/bench_roundtrip, in the same hooked boot
#
# Writes build/bench/results.md (the tables), build/bench/*.svg (charts) and
# prints a summary. A benchmark, not a test: it reports the issue's targets,
# it does not assert them; it fails only if a guest or a program failed.
#
#   BENCH_PAGES (256), BENCH_ROUNDS (7), BENCH_BLOCKS (8), BENCH_MOVES (4):
#       question 2, pages moved per move_pages() call, measured rounds, blocks
#       per round and hook state (each after a reload), calls per block
#   BENCH_RT_ROUNDS (5), BENCH_RT_SIZES (1,16,256,4096,65536),
#   BENCH_RT_MIN_PAGES (65536): question 3, measured rounds, range sizes in
#       pages, pages per measurement (calls = BENCH_RT_MIN_PAGES / size)
#   BENCH_COST_RESTORES (500000), BENCH_COST_ROUNDS (21): question 1,
#       restores per side and round (rounded up to whole passes over the mix),
#       measured rounds
#   BENCH_STOCK (1): 0 skips the stock boot
#   BENCH_HOOKED_KDIR, BENCH_STOCK_KDIR: built kernel trees to use instead of
#       the cached hooked and stock variants (scripts/kernel.sh)
#
# Every build product and log is under build/bench/: the module built for the
# hooked kernel (module-hooked/), the two programs (bin/), each boot's logs
# (hooked.log, stock.log: the host's view; guest-*/: the serial ports).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

[ -z "${KDIR:-}" ] ||
	die "make bench boots the stock and hooked kernels; give other trees as BENCH_HOOKED_KDIR= and BENCH_STOCK_KDIR=, not KDIR="

pages=${BENCH_PAGES:-256}
rounds=${BENCH_ROUNDS:-7}
blocks=${BENCH_BLOCKS:-8}
moves=${BENCH_MOVES:-4}
rt_rounds=${BENCH_RT_ROUNDS:-5}
rt_sizes=${BENCH_RT_SIZES:-1,16,256,4096,65536}
rt_min=${BENCH_RT_MIN_PAGES:-65536}
cost_restores=${BENCH_COST_RESTORES:-500000}
cost_rounds=${BENCH_COST_ROUNDS:-21}
with_stock=${BENCH_STOCK:-1}
out=$top/build/bench
mkdir -p "$out"
rm -rf "$out"/*.log "$out"/*.svg "$out"/results.md "$out"/guest-*

load_before=$(uptime)
hooked_kdir=${BENCH_HOOKED_KDIR:-$(KERNEL_VARIANT=hooked "$top/scripts/kernel.sh")}
stock_kdir=
if [ "$with_stock" = 1 ]; then
	stock_kdir=${BENCH_STOCK_KDIR:-$(KERNEL_VARIANT=stock "$top/scripts/kernel.sh")}
fi

# The module, for the hooked tree, in a directory of its own (Kbuild keeps
# objects beside the sources): a copy of the sources, refreshed with their
# times so that only what changed is rebuilt.
mdir=$out/module-hooked
want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$hooked_kdir/.config")
have=$("$RUSTC" --version)
[ "$want" = "$have" ] ||
	die "rustc mismatch: $hooked_kdir was built with '$want' but RUSTC=$RUSTC is '$have'"
mkdir -p "$mdir"
(cd "$top" && find Kbuild include rust -type f \( -name Kbuild -o -name '*.[ch]' -o \
	-name '*.rs' \) ! -name '*_generated.rs' -print0 | tar --null -cf - -T -) |
	tar -C "$mdir" -xpf -
# The tree's compilers, as scripts/build-module.sh picks them.
if grep -qx 'CONFIG_CC_IS_CLANG=y' "$hooked_kdir/.config"; then
	cc_args=(LLVM=1)
else
	cc_args=("CC=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\).*/\1/p' "$hooked_kdir/.config")")
fi
note "bench: building migentry.ko for the hooked kernel (build/bench/module-hooked.build)"
make -C "$hooked_kdir" M="$mdir" "${cc_args[@]}" "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" \
	"CLIPPY_DRIVER=$CLIPPY_DRIVER" modules > "$out/module-hooked.build" 2>&1 ||
	die "module build failed (build/bench/module-hooked.build)"
[ -f "$mdir/migentry.ko" ] || die "the module build produced no migentry.ko"

# The two programs, static, against the tree's exported headers.
mkdir -p "$out/bin"
for p in bench_migrate bench_roundtrip; do
	gcc -static -O2 -Wall -Wextra -Werror -isystem "$hooked_kdir/usr/include" \
		-I"$top/include" -o "$out/bin/$p" "$top/samples/$p.c" ||
		die "building $p failed"
done

# What runs in each guest. Exit statuses go on lines of their own for the
# host to judge; the script itself exits 0, so that a failing guest.sh means
# the guest went wrong (a WARN, a timeout).
cat > "$out/guest-hooked.sh" << EOF
#!/bin/sh
bench_migrate --mode reload --ko /guest/migentry.ko --pages $pages --rounds $rounds --blocks $blocks --moves $moves
echo "bench: bench_migrate exit \$?"
# Question 1 runs at this insmod, as a KUnit case (every load of bench_migrate's
# ran it at its tiny default size): this load's lines, and whether it passed.
dmesg -c > /dev/null
if insmod /guest/migentry.ko bench_restores=$cost_restores bench_rounds=$cost_rounds; then
	dmesg | grep -E 'migentry restore cost|\] (not )?ok [0-9]+ migentry_restore_cost\$'
	if dmesg | grep -Eq '\] ok [0-9]+ migentry_restore_cost\$'; then
		echo "bench: restore_cost exit 0"
	else
		echo "bench: restore_cost exit kunit-failed"
	fi
	bench_roundtrip --rounds $rt_rounds --sizes $rt_sizes --min-pages $rt_min
	echo "bench: bench_roundtrip exit \$?"
	rmmod migentry
else
	echo "bench: restore_cost exit insmod-failed"
	echo "bench: bench_roundtrip exit insmod-failed"
fi
exit 0
EOF
cat > "$out/guest-stock.sh" << EOF
#!/bin/sh
bench_migrate --mode plain --pages $pages --rounds $rounds --blocks $blocks --moves $moves
echo "bench: bench_migrate exit \$?"
exit 0
EOF
chmod 755 "$out/guest-hooked.sh" "$out/guest-stock.sh"

bad=0
# boot NAME KDIR EXTRA...: run build/bench/guest-NAME.sh on KDIR without
# migentry loaded (the programs load it themselves).
boot() {
	local name=$1 kdir=$2 t0 rc
	shift 2
	note "bench: booting the $name kernel (build/bench/$name.log)"
	t0=$(date +%s)
	set +e
	env KDIR="$kdir" GUEST_NO_MODULE=1 GUEST_OUT="$out/guest-$name" GUEST_TIMEOUT=7200 \
		GUEST_EXTRA="$*" "$top/scripts/guest.sh" run "$out/guest-$name.sh" > "$out/$name.log" 2>&1
	rc=$?
	set -e
	note "bench: $name boot took $(($(date +%s) - t0))s"
	if [ "$rc" != 0 ]; then
		note "bench: the $name guest failed:"
		grep -E '^vm-run:|^bench' "$out/$name.log" | tail -n 20 >&2 || true
		bad=1
	fi
	if grep '^bench: .* exit ' "$out/$name.log" | grep -v ' exit 0$' >&2; then
		bad=1
	fi
}

b=$out/bin
boot hooked "$hooked_kdir" "$b/bench_migrate" "$b/bench_roundtrip" "$mdir/migentry.ko"
[ "$with_stock" != 1 ] || boot stock "$stock_kdir" "$b/bench_migrate"
load_after=$(uptime)

# Which migentry was measured: the commit, and whether its sources differed from it.
rev=$(git -C "$top" rev-parse --short HEAD 2> /dev/null || echo unknown)
if [ -n "$(git -C "$top" status --porcelain -- Kbuild include rust 2> /dev/null)" ]; then
	rev="$rev with local changes to the module"
fi

report=(--out "$out" --module-rev "$rev" --hooked "$out/hooked.log" --hooked-results "$out/guest-hooked/results.log"
	--hooked-kdir "$hooked_kdir" --load-before "$load_before" --load-after "$load_after"
	--qemu "$(qemu-system-x86_64 --version | head -n1)" --host-cpus "$(nproc)")
[ "$with_stock" != 1 ] || report+=(--stock "$out/stock.log" --stock-results \
	"$out/guest-stock/results.log" --stock-kdir "$stock_kdir")
python3 "$top/scripts/bench_report.py" "${report[@]}"
[ "$bad" = 0 ] || die "a guest or a benchmark program failed (logs in build/bench/)"
