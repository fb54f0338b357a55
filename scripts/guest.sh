#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the migentry test guest under QEMU (TCG) and report.
#
#   scripts/guest.sh check              run the selftests (and the module's KUnit
#                                       suites, which run at insmod); last line is
#                                       "N passed, N failed, N skipped"
#   scripts/guest.sh run PROG [ARG...]  run one static program with the module
#                                       loaded; exits with the program's status
#   scripts/guest.sh kselftest DIR [PARSER-ARG...]
#                                       run the kernel's run_kselftest.sh over DIR,
#                                       an installed kselftest tree (make -C
#                                       selftests install); last line as in check.
#                                       PARSER-ARGs go to scripts/parse_results.py
#
# Logs: build/guest/console.log (ttyS0: the kernel console) and
#       build/guest/results.log (ttyS1: everything the guest's programs print);
#       GUEST_OUT=dir puts them (and the initramfs) in dir instead, so that
#       guests booted at the same time do not share one directory.
#
# Environment: KDIR (or KERNEL_VARIANT), GUEST_NO_MODULE=1 (run mode without
# loading migentry.ko), GUEST_MODULE_ARGS (run mode: parameters for insmod
# migentry.ko, e.g. "hook=0"), GUEST_TIMEOUT (seconds, default 1200), GUEST_SMP (2),
# GUEST_MEM_MB per NUMA node (1024; two nodes), GUEST_EXTRA (run mode: more
# static programs to put in /guest, which is on the program's PATH).
#
# Another kernel than the tree's (make check-distro): GUEST_KERNEL=image boots
# that image instead of KDIR's bzImage (no kernel tree is looked at then),
# GUEST_KO=path is the migentry.ko to load (check and run modes), GUEST_MODULES
# lists more modules that /init loads first, in that order, each as
# path.ko[:param=value,...] (e.g. a distro's brd.ko:rd_nr=1,rd_size=65536 for
# the swap RAM disk). GUEST_CPU is QEMU's -cpu model (default: QEMU's, qemu64,
# an AMD model that is not affected by Meltdown, so no PTI). GUEST_PHYS_BITS
# sets the model's physical address bits (QEMU's phys-bits, appended to
# GUEST_CPU or qemu64). GUEST_APPEND adds words to the kernel command line
# (e.g. l1tf=flush: the tree's kernels are built without CPU_MITIGATIONS, so on
# an L1TF-affected model the swap offset limit, and with it the loss of A/D in
# migration entries, needs the mitigation turned on there; README, "Migration
# entries without A/D").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

mode=${1:-}
case "$mode" in
check | run | kselftest) ;;
*) die "usage: guest.sh check | run PROG [ARG...] | kselftest DIR [PARSER-ARG...]" ;;
esac
shift

if [ -n "${GUEST_KERNEL:-}" ]; then
	bz=$GUEST_KERNEL
	ko=${GUEST_KO:-}
	[ -f "$bz" ] || die "GUEST_KERNEL=$bz does not exist"
else
	kdir=$("$top/scripts/kdir.sh")
	bz=$kdir/arch/x86/boot/bzImage
	ko=${GUEST_KO:-$(module_dir "$top")/migentry.ko}
	[ -f "$bz" ] || die "no bzImage in $kdir"
fi
nomod=${GUEST_NO_MODULE:-0}
[ "$nomod" = 1 ] || [ "$mode" = kselftest ] || [ -f "$ko" ] ||
	die "no migentry.ko${ko:+ at $ko}; run 'make module' first"

out=${GUEST_OUT:-$top/build/guest}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,guest,selftests,modules}
cp /bin/busybox "$root/bin/busybox"
cp "$top/scripts/guest/init" "$root/init"
chmod 755 "$root/init"
: > "$root/modules/list"
for m in ${GUEST_MODULES:-}; do
	f=${m%%:*}
	[ -f "$f" ] || die "GUEST_MODULES: $f does not exist"
	cp "$f" "$root/modules/"
	p=
	[ "$f" = "$m" ] || p=${m#*:}
	echo "$(basename "$f") ${p//,/ }" >> "$root/modules/list"
done
modargs=${GUEST_MODULE_ARGS:-}
[ -z "$modargs" ] || [ "$mode" = run ] || die "GUEST_MODULE_ARGS is for run mode only"
if [ "$nomod" = 1 ]; then
	[ "$mode" = run ] || die "GUEST_NO_MODULE=1 is for run mode only"
	[ -z "$modargs" ] || die "GUEST_MODULE_ARGS needs the module; drop GUEST_NO_MODULE=1"
	touch "$root/guest/nomodule"
elif [ "$mode" != kselftest ]; then
	cp "$ko" "$root/migentry.ko"
fi
gcc -static -O2 -Wall -o "$root/guest/debug-exit" "$top/scripts/guest/debug-exit.c"
echo "$mode" > "$root/guest/mode"
: > "$root/guest/args"
printf '%s\n' $modargs > "$root/guest/modargs"

case "$mode" in
check)
	st=$top/build/selftests
	[ -x "$st/migentry_basic" ] || die "selftests not built; run 'make selftests' first"
	cp "$top/selftests/run_migentry.sh" "$root/selftests/"
	cp "$ko" "$root/selftests/migentry.ko"
	for t in "$st"/migentry_*; do
		case "${t##*/}" in *.*) continue ;; esac
		cp "$t" "$root/selftests/"
	done
	;;
run)
	prog=${1:-}
	[ -n "$prog" ] && [ -f "$prog" ] || die "run: PROG '$prog' is not a file"
	shift
	for f in "$prog" ${GUEST_EXTRA:-}; do
		if readelf -l "$f" 2> /dev/null | grep -q 'program interpreter'; then
			die "run: $f is dynamically linked; the guest has no libc, build it with -static"
		fi
	done
	cp "$prog" "$root/guest/prog"
	chmod 755 "$root/guest/prog"
	for f in ${GUEST_EXTRA:-}; do
		cp "$f" "$root/guest/"
	done
	for a in "$@"; do printf '%s\n' "$a"; done > "$root/guest/args"
	;;
kselftest)
	# An installed kselftest tree: run_kselftest.sh, kselftest/, kselftest-list.txt
	# and one directory per collection (migentry/, with its migentry.ko).
	kst=${1:-}
	[ -n "$kst" ] && [ -x "$kst/run_kselftest.sh" ] && [ -f "$kst/kselftest-list.txt" ] ||
		die "kselftest: '$kst' is not an installed kselftest tree (make -C selftests install INSTALL_PATH=...)"
	shift
	cp -a "$kst" "$root/kselftest"
	# The collection's own migentry.ko (installed with MIGENTRY_KO=), or GUEST_KO's.
	[ -z "${GUEST_KO:-}" ] || cp "$GUEST_KO" "$root/kselftest/migentry/migentry.ko"
	;;
esac

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.cpio.gz"

console=$out/console.log
results=$out/results.log
rm -f "$console" "$results"
mem=${GUEST_MEM_MB:-1024}
smp=${GUEST_SMP:-2}
cpu=${GUEST_CPU:-}
if [ -n "${GUEST_PHYS_BITS:-}" ]; then
	[[ $GUEST_PHYS_BITS =~ ^[0-9]+$ ]] || die "GUEST_PHYS_BITS=$GUEST_PHYS_BITS is not a number"
	cpu=${cpu:-qemu64},phys-bits=$GUEST_PHYS_BITS
fi
# no_timer_check: under TCG on a loaded host the kernel's early check that the
# IO-APIC delivers timer interrupts can time out and panic ("IO-APIC + timer
# doesn't work"); the emulated timer works, the check's timing does not hold.
set +e
timeout --foreground -k 10 "${GUEST_TIMEOUT:-1200}" qemu-system-x86_64 \
	-accel tcg ${cpu:+-cpu "$cpu"} -machine pc -m $((2 * mem))M -smp "$smp,sockets=$smp,cores=1,threads=1" \
	-object memory-backend-ram,id=mem0,size=${mem}M \
	-object memory-backend-ram,id=mem1,size=${mem}M \
	-numa node,nodeid=0,memdev=mem0,cpus=0-$((smp / 2 - 1)) \
	-numa node,nodeid=1,memdev=mem1,cpus=$((smp / 2))-$((smp - 1)) \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-display none -monitor none -no-reboot \
	-serial "file:$console" -serial "file:$results" \
	-kernel "$bz" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 rdinit=/init panic=-1 panic_on_warn=1 oops=panic loglevel=7 no_timer_check${GUEST_APPEND:+ $GUEST_APPEND}" \
	< /dev/null
qrc=$?
set -e

case "$mode" in
check)
	exec python3 "$top/scripts/parse_results.py" --qemu-exit "$qrc" \
		--console "$console" --results "$results"
	;;
kselftest)
	exec python3 "$top/scripts/parse_results.py" --qemu-exit "$qrc" \
		--console "$console" --results "$results" "$@"
	;;
run)
	python3 "$top/scripts/parse_results.py" --qemu-exit "$qrc" --console "$console" \
		--results "$results" --mode run
	;;
esac
