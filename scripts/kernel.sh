#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) the Rust-enabled guest kernel and print its
# tree on stdout.
#
# The tree is cached under $MIGENTRY_CACHE/kernel/<series>-<variant>-<key>,
# where <key> hashes the Debian package version, the config fragment, the
# variant's patches and config fragment, and the toolchain (rustc, clang,
# bindgen). A tree whose key matches is reused as is.
#
# A variant other than stock is the stock tree with $patchdir/*.patch applied.
# If $patchdir/config exists, it is merged into the stock .config after
# patching and checked like selftests/config.
#
# Usage: scripts/kernel.sh [--print-key]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

fragment=$top/selftests/config
variant=${KERNEL_VARIANT:-stock}
case "$variant" in
stock) patchdir= ;;
patched) patchdir=$top/patches ;;
alternative) patchdir=$top/patches/alternative ;;
hooked) patchdir=$top/patches/hooked ;;
*) die "unknown KERNEL_VARIANT=$variant (known: stock, patched, alternative, hooked)" ;;
esac
# The variant's own config fragment, if it has one.
varfragment=
if [ -n "$patchdir" ] && [ -f "$patchdir/config" ]; then
	varfragment=$patchdir/config
fi

jobs=${JOBS:-$(nproc)}
kmake=(make LLVM=1 "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" "CLIPPY_DRIVER=$CLIPPY_DRIVER")

tarball=$("$top/scripts/fetch-kernel.sh")
pkgver=$(cat "$MIGENTRY_CACHE/src/VERSION")

key=$({
	echo "recipe 1"
	echo "$pkgver"
	cat "$fragment"
	"$RUSTC" --version
	clang --version | head -n1
	"$BINDGEN" --version
	[ -z "$patchdir" ] || cat "$patchdir"/*.patch
	[ -z "$varfragment" ] || cat "$varfragment"
} | sha256sum | cut -c1-16)

if [ "${1:-}" = --print-key ]; then
	echo "$key"
	exit 0
fi

base=$MIGENTRY_CACHE/kernel/$KERNEL_SERIES-$variant-$key
kdir=$base/linux
if [ -f "$base/built" ]; then
	echo "$kdir"
	exit 0
fi

log=$base/build.log

# make_in_tree TARGET...: run the kernel's make in $kdir, appending to $log.
make_in_tree() {
	(cd "$kdir" && "${kmake[@]}" "$@") >> "$log" 2>&1 || {
		tail -n 40 "$log" >&2
		die "kernel build failed ($*); full log: $log"
	}
}

# check_config FRAGMENT: every CONFIG_* line of FRAGMENT must be in the final
# .config; name each one that is not and stop.
check_config() {
	local line missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			if ! grep -qxF "$line" "$kdir/.config"; then
				printf 'migentry: error: %s requested by %s is not set in the final .config (got: %s)\n' \
					"$line" "${1#"$top"/}" "$(grep -E "^(# )?${line%%=*}[= ]" "$kdir/.config" || echo absent)" >&2
				missing=1
			fi
			;;
		esac
	done < "$1"
	[ "$missing" = 0 ] || die "kernel configuration incomplete (see above)"
}

finish() {
	echo "$key" > "$base/built"
	note "kernel ready: $kdir"
	# Each tree is ~2.5 GB: drop older builds of this variant (other keys).
	for old in "$MIGENTRY_CACHE/kernel/$KERNEL_SERIES-$variant-"*; do
		[ "$old" = "$base" ] || rm -rf "$old"
	done
	echo "$kdir"
	exit 0
}

if [ -n "$patchdir" ]; then
	# A variant is the stock tree with a patch series on top, rebuilt
	# incrementally (a few files change, so this takes a minute or two).
	# A config fragment also changes include/generated/rustc_cfg, so all
	# of rust/ (core, bindings, kernel) is compiled again.
	stock=$(KERNEL_VARIANT=stock "$top/scripts/kernel.sh")
	note "building kernel $pkgver ($variant: stock + $(ls "$patchdir"/*.patch | wc -l) patch(es)${varfragment:+ + config}) in $base"
	rm -rf "$base"
	mkdir -p "$base"
	cp -a "$stock" "$kdir"
	for p in "$patchdir"/*.patch; do
		patch -d "$kdir" -p1 -s --no-backup-if-mismatch < "$p" >> "$log" 2>&1 ||
			die "patch $(basename "$p") does not apply to linux-source-$KERNEL_SERIES $pkgver (log: $log)"
	done
	if [ -n "$varfragment" ]; then
		# The stock tree's usr/include (make headers) does not depend on
		# the configuration, so it is kept as is.
		(cd "$kdir" && scripts/kconfig/merge_config.sh -m .config "$varfragment") >> "$log" 2>&1 ||
			die "merging ${varfragment#"$top"/} failed; full log: $log"
		make_in_tree olddefconfig
		check_config "$varfragment"
	fi
	make_in_tree -j"$jobs" bzImage modules
	finish
fi

note "building kernel $pkgver ($variant) in $base; this takes a while once"
rm -rf "$base"
mkdir -p "$base"
tar -C "$base" -xf "$tarball"
mv "$base/linux-source-$KERNEL_SERIES" "$kdir"

make_in_tree rustavailable
make_in_tree tinyconfig
(cd "$kdir" && scripts/kconfig/merge_config.sh -m .config "$fragment") >> "$log" 2>&1 ||
	die "merging selftests/config failed; full log: $log"
make_in_tree olddefconfig
check_config "$fragment"

make_in_tree -j"$jobs" bzImage modules
make_in_tree headers
finish
