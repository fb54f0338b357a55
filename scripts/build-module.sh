#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build migentry.ko against $KDIR (or the cached kernel).
#
# With STRICT=1 (what 'make check' uses) the Rust sources (rust/, recursively)
# must be rustfmt-clean under the project's copy of the kernel's .rustfmt.toml
# (scripts/fmt.sh --check) and the build runs with CLIPPY=1 and fails on
# any compiler or clippy warning.
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
args=(-C "$kdir" M="$mdir" LLVM=1 "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" "CLIPPY_DRIVER=$CLIPPY_DRIVER")
[ "$strict" = 1 ] && args+=(CLIPPY=1)
# Rebuild the Rust object every time in strict mode so that its warnings are seen.
[ "$strict" = 1 ] && rm -f "$mdir"/rust/migentry_main.o
if ! make "${args[@]}" modules 2>&1 | tee "$log"; then
	die "module build failed; log: ${log#"$top"/}"
fi
if [ "$strict" = 1 ] && grep -qE '(^|[^a-z])warning:|WARNING:' "$log"; then
	die "the module build printed warnings (see above; log: ${log#"$top"/})"
fi
[ -f "$mdir/migentry.ko" ] || die "module build produced no migentry.ko in $mdir"
