#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile-fail tests of the type design: each tests/compile-fail/NAME.fail.rs
# must be rejected by rustc with the error code on its "// expect-error:"
# line, at a line of the case itself; its twin NAME.pass.rs (or the file a
# "// twin: FILE" line names), the correct version of the same code, must
# compile. Both are compiled as a module of
# the real crate (against KDIR), so they see exactly the module's API.
#
# Last line: "compile-fail: N rejected as expected, M unexpected".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=$("$top/scripts/kdir.sh")
work=$top/build/compile-fail
rm -rf "$work"
mkdir -p "$work"

# Build the crate with one extra module; prints the log path, returns make's status.
build_case() { # case-file name
	local dir=$work/$2
	mkdir -p "$dir"
	cp -r "$top/rust" "$top/include" "$top/Kbuild" "$dir/"
	rm -f "$dir"/rust/*.o "$dir"/rust/.*.cmd
	cp "$1" "$dir/rust/compile_case.rs"
	printf '\n#[allow(dead_code, unused_imports)]\nmod compile_case;\n' >> "$dir/rust/migentry_main.rs"
	make -C "$kdir" M="$dir" LLVM=1 "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" \
		rust/migentry_main.o > "$dir/build.log" 2>&1
}

ok=0
bad=0
for fail in "$top"/tests/compile-fail/*.fail.rs; do
	name=$(basename "$fail" .fail.rs)
	twin=$(sed -n 's|^// twin: \(.*\.pass\.rs\)$|\1|p' "$fail")
	pass=$top/tests/compile-fail/${twin:-$name.pass.rs}
	want=$(sed -n 's|^// expect-error: \(E[0-9]*\)$|\1|p' "$fail")
	verdict=
	if [ -z "$want" ]; then
		verdict="no '// expect-error: Exxxx' line"
	elif [ ! -f "$pass" ]; then
		verdict="no twin $(basename "$pass")"
	elif build_case "$fail" "$name.fail"; then
		verdict="compiled, but must not"
	elif ! grep -q "^error\[$want\]" "$work/$name.fail/build.log"; then
		got=$(grep -o '^error\[E[0-9]*\]' "$work/$name.fail/build.log" | sort -u | tr '\n' ' ')
		verdict="rejected with ${got:-no error code}instead of $want"
	elif ! grep -A3 "^error\[$want\]" "$work/$name.fail/build.log" | grep -q 'rust/compile_case.rs:'; then
		verdict="$want reported outside the case"
	elif ! build_case "$pass" "$name.pass"; then
		verdict="its correct twin does not compile (see build/compile-fail/$name.pass/build.log)"
	fi
	if [ -z "$verdict" ]; then
		ok=$((ok + 1))
		echo "ok: $name rejected with $want; twin compiles"
	else
		bad=$((bad + 1))
		echo "UNEXPECTED: $name: $verdict (log: build/compile-fail/$name.fail/build.log)"
	fi
done
echo "compile-fail: $ok rejected as expected, $bad unexpected"
[ "$bad" = 0 ] && [ "$ok" -ge 5 ]
