#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make check-distro': migentry's selftests on Debian's own kernel.
#
# scripts/distro.sh builds migentry.ko for DISTRO_RELEASE (cached Debian root
# and tree). The selftests are built and installed kselftest-style ('make -C
# selftests install', build/kselftest-distro), the module inside the
# collection. Debian's vmlinuz boots under QEMU with the project's initramfs,
# loads Debian's brd.ko (the swap RAM disk; Debian builds it as a module), and
# the kernel's run_kselftest.sh runs the installed collection: run_migentry.sh
# loads migentry.ko and runs every binary. The layout guard runs at insmod:
# the module loads only if it passes.
#
# Debian's kernel has no test-only exports, so a round trip that takes rights
# away from a page is refused with EOPNOTSUPP and a log line, as on the stock
# guest; the tests expect that. What the kernel lacks compared to the
# project's guest (selftests/config) is printed first. A skipped test case
# must be listed in scripts/distro-skips with the reason, or it fails; KUnit
# (CONFIG_KUNIT off) counts as one skip. Last line: "N passed, N failed, N
# skipped". Logs: build/guest-distro (GUEST_OUT).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

release=${DISTRO_RELEASE:-7.3.4+deb13-amd64}
base=$("$top/scripts/distro.sh")
deb=$base/debian
root=$base/root
tree=$root/migentry/linux
ko=$top/build/module-distro/migentry.ko

# What the project's guest configuration has and Debian's does not.
lacks=()
while read -r line; do
	name=${line%%=*}
	grep -qxF "$line" "$deb/config" && continue
	got=$(grep -E "^$name=" "$deb/config" | cut -d= -f2 || true)
	lacks+=("${name#CONFIG_}${got:+=$got}")
done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$top/selftests/config")
echo "distro kernel $release, compared with the project's guest (selftests/config), has not: ${lacks[*]}"

mkdir -p "$top/build/selftests-distro"
kst=$top/build/kselftest-distro
rm -rf "$kst"
make -s -C "$top/selftests" install KDIR="$tree" OUTPUT="$top/build/selftests-distro" \
	INSTALL_PATH="$kst" MIGENTRY_KO="$ko" USERCFLAGS=-Werror > /dev/null ||
	die "the kselftest install of the selftests failed"
echo "kselftest install: ${kst#"$top"/}: $(tr '\n' ' ' < "$kst/kselftest-list.txt")($(ls "$kst/migentry" | wc -l) files in migentry/, config included)"

parse=(--expected-skips "$top/scripts/distro-skips")
grep -qx 'CONFIG_KUNIT=y' "$deb/config" ||
	parse+=(--kunit-absent "CONFIG_KUNIT is not set in $release (the differential and the protnone cases run on the project's guest)")
out=${GUEST_OUT:-$top/build/guest-distro}
set +e
GUEST_OUT=$out GUEST_KERNEL=$deb/vmlinuz GUEST_MODULES=$deb/modules/brd.ko:rd_nr=1,rd_size=65536 \
	"$top/scripts/guest.sh" kselftest "$kst" "${parse[@]}" > "$out.out" 2>&1
rc=$?
set -e
# What the console says about this kernel and the module.
c=$out/console.log
sed -n 's/^\[[ 0-9.]*\] //; /Linux version/p; /page tables isolation/p; /migentry: loading out-of-tree/p;
	/ROUNDTRIP refused/p; /tainting kernel/p; / swap on /p' "$c" 2> /dev/null | awk '!seen[$0]++' | sed 's/^/console: /'
head -n1 "$out/results.log" 2> /dev/null | sed 's/^/guest: /'
cat "$out.out"
exit "$rc"
