#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or find in the cache) the Rust-enabled guest kernel and print its
# tree on stdout.
#
# The tree is cached under $MIGENTRY_CACHE/kernel/<series>-<variant>-<key>,
# where <key> hashes the Debian package version, the config fragment, the
# variant's patches and config fragments, and the toolchain (rustc, clang,
# bindgen). A tree whose key matches is reused as is.
#
# A variant other than stock is the stock tree with the patches of one or more
# directories applied, directory by directory, each one's *.patch in order.
# A directory may also hold only a config fragment (debug).
# The config fragments of those directories ($dir/config, where one exists)
# are merged into the stock .config after patching, a later one overriding
# an earlier one. The final .config is then checked against selftests/config
# with the variant's fragments merged over it: every CONFIG_X=... line must be
# in it, and no CONFIG_X named by a "# CONFIG_X is not set" line may be set.
#
#   stock        linux-source, tinyconfig + selftests/config
#   patched      patches/*.patch
#   alternative  patches/alternative/*.patch
#   hooked       patches/hooked/ (test-only exports and restore hook)
#   pre62        patches/hooked/, then patches/pre62/ (test-only: re-opens
#                the 2022 uffd-wp migration bug)
#   debug        patches/hooked/, then patches/debug/config (no patches):
#                KASAN, KFENCE and the other debug checks ('make soak')
#
# Usage: scripts/kernel.sh [--print-key]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

fragment=$top/selftests/config
variant=${KERNEL_VARIANT:-stock}
case "$variant" in
stock) patchdirs=() ;;
patched) patchdirs=("$top/patches") ;;
alternative) patchdirs=("$top/patches/alternative") ;;
hooked) patchdirs=("$top/patches/hooked") ;;
pre62) patchdirs=("$top/patches/hooked" "$top/patches/pre62") ;;
debug) patchdirs=("$top/patches/hooked" "$top/patches/debug") ;;
*) die "unknown KERNEL_VARIANT=$variant (known: stock, patched, alternative, hooked, pre62, debug)" ;;
esac
# The variant's patches, in the order they apply, and its config fragments,
# in the order they are merged.
patches=()
varfragments=()
for d in ${patchdirs[@]+"${patchdirs[@]}"}; do
	dirpatches=("$d"/*.patch)
	if [ -f "${dirpatches[0]}" ]; then
		patches+=("${dirpatches[@]}")
	elif [ ! -f "$d/config" ]; then
		die "no patches and no config fragment in ${d#"$top"/}"
	fi
	[ ! -f "$d/config" ] || varfragments+=("$d/config")
done

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
	# For a one-directory variant, this is the same byte stream as
	# before pre62 existed, so its cached tree keeps its key.
	[ "${#patches[@]}" = 0 ] || cat "${patches[@]}"
	[ "${#varfragments[@]}" = 0 ] || cat "${varfragments[@]}"
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

# check_config FRAGMENT...: merge the FRAGMENTs as merge_config.sh does (for
# each option, the last fragment that names it wins), then check the final
# .config against the result: a CONFIG_X=... line must be in it verbatim, and
# for a "# CONFIG_X is not set" line CONFIG_X must not be set (it may be
# absent: an option whose dependencies are off is not written at all). Name
# each line that does not hold, with the fragment that asked for it, and stop.
check_config() {
	local src line name got bad=0
	while IFS=$'\t' read -r src line; do
		case "$line" in
		CONFIG_*=*)
			name=${line%%=*}
			grep -qxF "$line" "$kdir/.config" && continue
			;;
		"# CONFIG_"*" is not set")
			name=${line#"# "}
			name=${name%" is not set"}
			grep -q "^$name=" "$kdir/.config" || continue
			;;
		*) continue ;;
		esac
		got=$(grep -E "^(# )?$name[= ]" "$kdir/.config" || echo absent)
		printf 'migentry: error: "%s" requested by %s does not hold in the final .config (got: %s)\n' \
			"$line" "${src#"$top"/}" "$got" >&2
		bad=1
	done < <(awk '
		/^CONFIG_[A-Za-z0-9_]+=/ { name = $0; sub(/=.*/, "", name) }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { name = $2 }
		name != "" {
			if (!(name in want)) order[n++] = name
			want[name] = $0; from[name] = FILENAME; name = ""
		}
		END { for (i = 0; i < n; i++) print from[order[i]] "\t" want[order[i]] }
	' "$@")
	[ "$bad" = 0 ] || die "kernel configuration incomplete (see above)"
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

if [ "${#patchdirs[@]}" != 0 ]; then
	# A variant is the stock tree with a patch series on top, rebuilt
	# incrementally (a few files change, so this takes a minute or two).
	# A config fragment also changes include/generated/rustc_cfg, so all
	# of rust/ (core, bindings, kernel) is compiled again; one that turns
	# an option off (pre62) rebuilds much of the tree.
	stock=$(KERNEL_VARIANT=stock "$top/scripts/kernel.sh")
	note "building kernel $pkgver ($variant: stock + ${#patches[@]} patch(es)${varfragments[0]:+ + ${#varfragments[@]} config fragment(s)}) in $base"
	rm -rf "$base"
	mkdir -p "$base"
	cp -a "$stock" "$kdir"
	for p in "${patches[@]}"; do
		patch -d "$kdir" -p1 -s --no-backup-if-mismatch < "$p" >> "$log" 2>&1 ||
			die "patch ${p#"$top"/} does not apply to linux-source-$KERNEL_SERIES $pkgver (log: $log)"
	done
	if [ "${#varfragments[@]}" != 0 ]; then
		# The stock tree's usr/include (make headers) does not depend on
		# the configuration, so it is kept as is.
		(cd "$kdir" && scripts/kconfig/merge_config.sh -m .config "${varfragments[@]}") >> "$log" 2>&1 ||
			die "merging ${varfragments[*]#"$top"/} failed; full log: $log"
		make_in_tree olddefconfig
		check_config "$fragment" "${varfragments[@]}"
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
