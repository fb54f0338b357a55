#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build migentry.ko against $KDIR (or the cached kernel).
#
# With STRICT=1 (what 'make check' uses) the Rust sources (rust/, recursively)
# must be rustfmt-clean under the project's copy of the kernel's .rustfmt.toml
# (scripts/fmt.sh --check) and the build runs with CLIPPY=1 and fails on
# any compiler or clippy warning.
#
# The compilers are the tree's: LLVM=1 for a clang-built tree
# (CONFIG_CC_IS_CLANG), otherwise the GCC its CONFIG_CC_VERSION_TEXT names
# (a Debian tree's .kernelvariables also sets ARCH and CROSS_COMPILE).
# Every symbol the module needs must be exported by the tree (its
# Module.symvers); one that is not is named with the object that uses it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=$("$top/scripts/kdir.sh")

want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$kdir/.config")
have=$("$RUSTC" --version)
if [ "$want" != "$have" ]; then
	die "rustc mismatch: $kdir was built with '$want' but RUSTC=$RUSTC is '$have'; pass RUSTC= pointing at the tree's compiler"
fi

strict=${STRICT:-0}
if [ "$strict" = 1 ]; then
	"$top/scripts/fmt.sh" --check || die "rustfmt: the diff above must be applied (make fmt)"
	if [ -f "$kdir/.rustfmt.toml" ] &&
		! diff -q <(grep -v '^#' "$top/.rustfmt.toml" | grep .) \
			<(grep -v '^#' "$kdir/.rustfmt.toml" | grep .) > /dev/null; then
		note "the settings in $kdir/.rustfmt.toml differ from the project's .rustfmt.toml"
	fi
fi

mdir=$(module_dir "$top")
mkdir -p "$top/build" "$mdir"
if [ "$mdir" != "$top" ]; then
	# Copy the sources, keeping their times, so that make rebuilds only what changed.
	(cd "$top" && find Kbuild include rust -type f \( -name Kbuild -o -name '*.[ch]' -o \
		-name '*.rs' \) ! -name '*_generated.rs' -print0 | tar --null -cf - -T -) |
		tar -C "$mdir" -xpf -
fi
log=$top/build/module${KERNEL_VARIANT:+-$KERNEL_VARIANT}.log
tree_compilers "$kdir"
args=(-C "$kdir" M="$mdir" "${tree_cc_args[@]}" "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" "CLIPPY_DRIVER=$CLIPPY_DRIVER")
[ "$strict" = 1 ] && args+=(CLIPPY=1)
# Rebuild the Rust object every time in strict mode so that its warnings are seen.
[ "$strict" = 1 ] && rm -f "$mdir"/rust/migentry_main.o

# check_symbols: name every symbol migentry.o leaves undefined that the tree
# does not export, with the objects that use it; fails if there is one. A
# kernel inline helper can read a variable the kernel does not export (as
# pte_modify() reads cc_mask with CONFIG_ARCH_HAS_CC_PLATFORM): it compiles,
# and only the link against that kernel fails.
check_symbols() {
	local sym obj users bad=0
	# Only a migentry.o this build linked (a failed compile leaves an old one).
	[ "$mdir/migentry.o" -nt "$stamp" ] || return 0
	while read -r sym; do
		users=
		for obj in $(cat "$mdir/migentry.mod" 2> /dev/null); do
			"$tree_nm" -u "$mdir/$obj" 2> /dev/null | awk '{print $2}' | grep -qxF "$sym" &&
				users+=" ${obj#./}"
		done
		printf 'migentry: error: symbol %s, used by%s, is not exported by %s (not in its Module.symvers)\n' \
			"$sym" "${users:- migentry.o}" "$kdir" >&2
		bad=1
	done < <(LC_ALL=C comm -23 \
		<("$tree_nm" -u "$mdir/migentry.o" | awk '$2 != "__this_module" {print $2}' | LC_ALL=C sort -u) \
		<(awk '{print $2}' "$kdir/Module.symvers" | LC_ALL=C sort -u))
	[ "$bad" = 0 ] || die "the module needs kernel symbols this kernel does not export (see above):" \
		"a kernel inline helper or macro it calls reads them; use an exported equivalent"
}

stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
if ! make "${args[@]}" modules 2>&1 | tee "$log"; then
	check_symbols
	die "module build failed; log: ${log#"$top"/}"
fi
check_symbols
if [ "$strict" = 1 ] && grep -qE '(^|[^a-z])warning:|WARNING:' "$log"; then
	die "the module build printed warnings (see above; log: ${log#"$top"/})"
fi
[ -f "$mdir/migentry.ko" ] || die "module build produced no migentry.ko in $mdir"
