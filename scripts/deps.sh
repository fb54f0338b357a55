#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (if missing) and check everything migentry builds and tests with.
# Idempotent: when everything is present it only checks versions.
#
# Usage: scripts/deps.sh [--check | --module | --distro]
#   --check   never install, only report
#   --module  never install; check only what building migentry.ko against an
#             existing, built tree needs (make KDIR=...): rustc, bindgen (the
#             module's Kbuild generates its C glue declarations with it) and a
#             libclang it can load, the tree's C compiler (clang and ld.lld
#             for a clang-built tree, which is built with LLVM=1; otherwise
#             the GCC its CONFIG_CC_VERSION_TEXT names), plus rustfmt and
#             clippy-driver with STRICT=1. No Debian packages, QEMU, busybox or
#             kernel build tools are looked at; works as any user.
#   --distro  install (if missing) only what 'make distro' and 'make
#             check-distro' need on this machine: the module and its kernel
#             are built inside a Debian root that scripts/distro.sh makes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

mode=${1:-}
case "$mode" in
"" | --check | --module | --distro) ;;
*) die "usage: scripts/deps.sh [--check | --module | --distro]" ;;
esac

err=0
bad() {
	printf 'migentry: error: %s\n' "$*" >&2
	err=1
}

ver_ge() { # ver_ge have want
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

if [ "$mode" = --module ]; then
	rv=$("$RUSTC" --version 2> /dev/null | awk '{print $2}') || true
	if [ -z "$rv" ]; then
		bad "no rustc at RUSTC=$RUSTC (pass RUSTC= pointing at the compiler the tree was built with)"
	elif ! ver_ge "$rv" 1.85.0; then
		bad "rustc $rv at $RUSTC is older than the 7.3 minimum 1.85.0"
	fi
	bv=$("$BINDGEN" --version 2> /dev/null | awk '{print $2}') || true
	if [ "$bv" != "$BINDGEN_VERSION" ]; then
		bad "bindgen at BINDGEN=$BINDGEN is '${bv:-missing}', want $BINDGEN_VERSION" \
			"(make deps installs it; without root: cargo install --locked --root DIR" \
			"bindgen-cli@$BINDGEN_VERSION, then pass BINDGEN=DIR/bin/bindgen)"
	else
		hdr=$(mktemp --suffix=.h)
		echo 'struct migentry_probe { int x; };' > "$hdr"
		"$BINDGEN" "$hdr" > /dev/null 2>&1 ||
			bad "bindgen at $BINDGEN cannot run (no libclang? set LIBCLANG_PATH)"
		rm -f "$hdr"
	fi
	if [ -n "${KDIR:-}" ] && [ -f "$KDIR/.config" ] && ! grep -qx 'CONFIG_CC_IS_CLANG=y' "$KDIR/.config"; then
		# A GCC-built tree: the module is built with the tree's GCC, not LLVM=1.
		gcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\).*/\1/p' "$KDIR/.config")
		cv=$("$gcc" --version 2> /dev/null | head -n1) || true
		[ -n "$cv" ] || bad "no $gcc on PATH (KDIR=$KDIR was built with it: CONFIG_CC_VERSION_TEXT)"
		lv="binutils $(ld --version 2> /dev/null | head -n1 | awk '{print $NF}')"
	else
		cv=$(clang --version 2> /dev/null | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n1) || true
		[ -n "$cv" ] || bad "no clang on PATH (the module is built with LLVM=1)"
		lv=$(ld.lld --version 2> /dev/null | sed -n 's/.*LLD \([0-9.]*\).*/\1/p') || true
		[ -n "$lv" ] || bad "no ld.lld on PATH (the module is built with LLVM=1)"
		cv="clang $cv" lv="lld $lv"
	fi
	if [ "${STRICT:-0}" = 1 ]; then
		"$RUSTFMT" --version > /dev/null 2>&1 || bad "no rustfmt at RUSTFMT=$RUSTFMT (STRICT=1 checks formatting)"
		[ -x "$CLIPPY_DRIVER" ] || bad "no clippy-driver at CLIPPY_DRIVER=$CLIPPY_DRIVER (STRICT=1 runs clippy)"
	fi
	[ "$err" = 0 ] || die "module toolchain check failed (see above); nothing was installed"
	note "module toolchain ok: rustc $rv, bindgen $bv, $cv, $lv"
	exit 0
fi

if [ "$mode" = --distro ]; then
	# mmdebstrap makes the Debian root; QEMU, busybox and a static gcc make the
	# guest; rsync is what the kselftest lib.mk's install copies with.
	packages=(mmdebstrap qemu-system-x86 busybox-static gcc libc6-dev binutils make rsync cpio
		xz-utils kmod python3 util-linux)
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
		note "installing: ${missing[*]}"
		apt-get -q update > /dev/null
		DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}" > /dev/null
	fi
	[ "$(id -u)" = 0 ] || die "make distro needs root (mmdebstrap, chroot)"
	note "distro deps ok: $(mmdebstrap --version), $(qemu-system-x86_64 --version | head -n1)"
	exit 0
fi

packages=(
	rustc-web rust-web-src rust-web-clippy rustfmt-web cargo-web
	"clang-$LLVM_VERSION" "lld-$LLVM_VERSION" "llvm-$LLVM_VERSION" "libclang-$LLVM_VERSION-dev"
	make gcc libc6-dev perl patch bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	qemu-system-x86 busybox-static libnuma-dev python3
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$mode" = --check ] || [ "$(id -u)" != 0 ]; then
		die "missing Debian packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
	fi
	note "installing: ${missing[*]}"
	apt-get -q update > /dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}" > /dev/null
fi

cargo=
for c in /usr/bin/cargo "$(command -v cargo || true)"; do
	[ -n "$c" ] && [ -x "$c" ] && cargo=$c && break
done
if [ ! -x "$BINDGEN" ] || ! "$BINDGEN" --version 2> /dev/null | grep -qF " $BINDGEN_VERSION"; then
	[ "$mode" = --check ] && die "bindgen $BINDGEN_VERSION missing at $BINDGEN"
	[ -n "$cargo" ] || die "cargo is needed to install bindgen-cli $BINDGEN_VERSION"
	note "installing bindgen-cli $BINDGEN_VERSION with $cargo"
	RUSTC=$RUSTC "$cargo" install -q --locked --root "$(dirname "$(dirname "$BINDGEN")")" \
		"bindgen-cli@$BINDGEN_VERSION"
fi

# Version checks; each failure says what is wrong.
rv=$("$RUSTC" --version 2> /dev/null | awk '{print $2}') || true
if [ -z "$rv" ]; then
	bad "no rustc at RUSTC=$RUSTC"
elif ! ver_ge "$rv" 1.85.0; then
	bad "rustc $rv at $RUSTC is older than the 7.3 minimum 1.85.0"
fi
sysroot=$("$RUSTC" --print sysroot 2> /dev/null || true)
[ -f "$sysroot/lib/rustlib/src/rust/library/core/src/lib.rs" ] ||
	bad "rust-src for $RUSTC not found under $sysroot/lib/rustlib/src (package rust-web-src)"
[ -x "$CLIPPY_DRIVER" ] || bad "no clippy-driver at CLIPPY_DRIVER=$CLIPPY_DRIVER (package rust-web-clippy)"
fv=$("$RUSTFMT" --version 2> /dev/null | awk '{print $2}' | cut -d- -f1) || true
[ -n "$fv" ] || bad "no rustfmt at RUSTFMT=$RUSTFMT (package rustfmt-web)"
bv=$("$BINDGEN" --version 2> /dev/null | awk '{print $2}') || true
[ "$bv" = "$BINDGEN_VERSION" ] || bad "bindgen at $BINDGEN is '${bv:-missing}', want $BINDGEN_VERSION"
cv=$(clang --version 2> /dev/null | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n1) || true
[ "${cv%%.*}" = "$LLVM_VERSION" ] || bad "clang on PATH is '${cv:-missing}', want $LLVM_VERSION.x"
lv=$(ld.lld --version 2> /dev/null | sed -n 's/.*LLD \([0-9.]*\).*/\1/p') || true
[ "${lv%%.*}" = "$LLVM_VERSION" ] || bad "ld.lld on PATH is '${lv:-missing}', want $LLVM_VERSION.x"
[ -e "/usr/lib/llvm-$LLVM_VERSION/lib/libclang.so" ] ||
	bad "libclang $LLVM_VERSION not found (package libclang-$LLVM_VERSION-dev)"
[ -x /bin/busybox ] || bad "/bin/busybox missing (package busybox-static)"
command -v qemu-system-x86_64 > /dev/null || bad "qemu-system-x86_64 missing (package qemu-system-x86)"

[ "$err" = 0 ] || die "toolchain check failed (see above)"
note "deps ok: rustc $rv, bindgen $bv, clang $cv, lld $lv, rustfmt $fv"
