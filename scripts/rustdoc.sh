#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make rustdoc': the crate's documentation (the layers, the types and their
# invariants, the restore's C/typed table, the divergences) as HTML in
# build/doc/migentry_main/index.html, without a warning.
#
# The kernel has no rustdoc target for M= builds. So the module is built
# (scripts/build-module.sh, for KDIR or the cached kernel), and rustdoc then
# runs with the exact command line Kbuild gave the crate's rustc, as its .cmd
# file records it (target, codegen and lint flags, the kernel's cfgs, the
# kernel crates), without the object output options, with
# --document-private-items (the crate's API is pub(crate), so the crate
# docs' links to its private modules are meant: rustdoc::private_intra_doc_links
# is allowed). Any warning (a broken intra-doc link, an unescaped backtick...)
# fails it.
# RUSTDOC defaults to the rustdoc next to RUSTC.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

rustdoc=${RUSTDOC:-$(dirname "$RUSTC")/rustdoc}
[ -x "$rustdoc" ] || die "no rustdoc at RUSTDOC=$rustdoc (it comes with rustc)"
"$top/scripts/build-module.sh" > /dev/null
mdir=$(module_dir "$top")
cmdfile=$mdir/rust/.migentry_main.o.cmd
line=$(sed -n 's/^savedcmd_rust\/migentry_main\.o := //p' "$cmdfile" 2> /dev/null)
[ -n "$line" ] || die "no rustc command for rust/migentry_main.o in $cmdfile"

# The recorded command is shell text: VAR=value... compiler args... file.
eval "set -- $line"
envs=()
while [ $# -gt 0 ] && [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
	envs+=("$1")
	shift
done
shift # rustc or clippy-driver
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--emit=*) ;;
	--out-dir) shift ;;
	*) args+=("$1") ;;
	esac
	shift
done

out=$top/build/doc
log=$top/build/rustdoc.log
rm -rf "$out"
mkdir -p "$out"
# The kernel's Makefile exports RUSTC_BOOTSTRAP=1 for its -Z flags.
if ! (cd "$mdir" && env RUSTC_BOOTSTRAP=1 "${envs[@]}" "$rustdoc" "${args[@]}" --document-private-items \
	-Arustdoc::private_intra_doc_links \
	-Zunstable-options --generate-link-to-definition -o "$out") > "$log" 2>&1; then
	cat "$log" >&2
	die "rustdoc failed (log: ${log#"$top"/})"
fi
if grep -qE '^(warning|error)' "$log"; then
	cat "$log" >&2
	die "rustdoc printed warnings (above; log: ${log#"$top"/})"
fi
[ -f "$out/migentry_main/index.html" ] || die "rustdoc wrote no $out/migentry_main/index.html"
echo "rustdoc: ${out#"$top"/}/migentry_main/index.html ($(find "$out/migentry_main" -name '*.html' | wc -l) pages, $("$rustdoc" --version | awk '{print $1, $2}'), no warnings)"
