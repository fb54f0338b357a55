#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (if missing) and check everything migentry builds and tests with.
# Idempotent: when everything is present it only checks versions.
#
# Usage: scripts/deps.sh [--check | --module]
#   --check   never install, only report
#   --module  never install; check only what building migentry.ko against an
#             existing, built tree needs (make KDIR=...): rustc, bindgen (the
#             module's Kbuild generates its C glue declarations with it) and a
#             libclang it can load, clang and ld.lld (LLVM=1), plus rustfmt and
#             clippy-driver with STRICT=1. No Debian packages, QEMU, busybox or
#             kernel build tools are looked at; works as any user.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

mode=${1:-}
case "$mode" in
"" | --check | --module) ;;
*) die "usage: scripts/deps.sh [--check | --module]" ;;
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
	cv=$(clang --version 2> /dev/null | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -n1) || true
	[ -n "$cv" ] || bad "no clang on PATH (the module is built with LLVM=1)"
	lv=$(ld.lld --version 2> /dev/null | sed -n 's/.*LLD \([0-9.]*\).*/\1/p') || true
	[ -n "$lv" ] || bad "no ld.lld on PATH (the module is built with LLVM=1)"
	if [ "${STRICT:-0}" = 1 ]; then
		"$RUSTFMT" --version > /dev/null 2>&1 || bad "no rustfmt at RUSTFMT=$RUSTFMT (STRICT=1 checks formatting)"
		[ -x "$CLIPPY_DRIVER" ] || bad "no clippy-driver at CLIPPY_DRIVER=$CLIPPY_DRIVER (STRICT=1 runs clippy)"
	fi
	[ "$err" = 0 ] || die "module toolchain check failed (see above); nothing was installed"
	note "module toolchain ok: rustc $rv, bindgen $bv, clang $cv, lld $lv"
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
