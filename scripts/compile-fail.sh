#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile-fail tests of the type design: each tests/compile-fail/NAME.fail.rs
# must be rejected by rustc with the error code on its "// expect-error:"
# line, at a line of the case itself; its twin NAME.pass.rs (or the file a
# "// twin: FILE" line names), the correct version of the same code, must
# compile. Both are compiled as a module of the real crate (against KDIR), so
# they see exactly the module's API. Cases run $JOBS at a time.
#
# The verdicts of a passing run are kept in the cache under a hash of every
# input (the crate, the cases, this script, the kernel tree's Rust metadata
# and the toolchain) and reused, saying so, while all of them are
# byte-identical; MIGENTRY_COMPILE_FAIL=run forces a fresh run.
#
# Last line: "compile-fail: N rejected as expected, M unexpected".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=$("$top/scripts/kdir.sh")
tree_compilers "$kdir"
# The cases run in child shells, which do not inherit arrays.
tree_cc=${tree_cc_args[*]}
work=$top/build/compile-fail
cases=$top/tests/compile-fail

key=$(
	(cd "$top" && find rust include tests/compile-fail -type f \( -name '*.rs' -o -name '*.[ch]' \) \
		! -name '*_generated.rs' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	sha256sum "$top/Kbuild" "$top/scripts/compile-fail.sh" | cut -d' ' -f1
	sha256sum < "$kdir/rust/libkernel.rmeta"
	sha256sum < "$kdir/.config"
	"$RUSTC" --version
	"$BINDGEN" --version
)
key=$(printf '%s\n' "$key" | sha256sum | cut -c1-16)
store=$MIGENTRY_CACHE/compile-fail
if [ "${MIGENTRY_COMPILE_FAIL:-auto}" = auto ] && [ -s "$store/$key.txt" ]; then
	echo "compile-fail: inputs unchanged since the passing run of $(head -n 1 "$store/$key.txt");" \
		"its verdicts follow (MIGENTRY_COMPILE_FAIL=run reruns)"
	tail -n +2 "$store/$key.txt"
	exit 0
fi

rm -rf "$work"
mkdir -p "$work"

# Build the crate with one extra module; returns make's status.
build_case() { # case-file name
	local dir=$work/$2
	mkdir -p "$dir"
	(cd "$top" && find Kbuild include rust -type f \( -name Kbuild -o -name '*.[ch]' -o \
		-name '*.rs' \) ! -name '*_generated.rs' -print0 | tar --null -cf - -T -) |
		tar -C "$dir" -xf -
	cp "$1" "$dir/rust/compile_case.rs"
	printf '\n#[allow(dead_code, unused_imports)]\nmod compile_case;\n' >> "$dir/rust/migentry_main.rs"
	local cc_args
	read -ra cc_args <<< "$tree_cc"
	make -C "$kdir" M="$dir" "${cc_args[@]}" "RUSTC=$RUSTC" "BINDGEN=$BINDGEN" \
		rust/migentry_main.o > "$dir/build.log" 2>&1
}

# One case: prints "ok: ..." or "UNEXPECTED: ..." into build/compile-fail/NAME.verdict.
run_case() { # fail-file
	local fail=$1 name twin pass want verdict= got
	name=$(basename "$fail" .fail.rs)
	twin=$(sed -n 's|^// twin: \(.*\.pass\.rs\)$|\1|p' "$fail")
	pass=$cases/${twin:-$name.pass.rs}
	want=$(sed -n 's|^// expect-error: \(E[0-9]*\)$|\1|p' "$fail")
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
		echo "ok: $name rejected with $want; twin compiles"
	else
		echo "UNEXPECTED: $name: $verdict (log: build/compile-fail/$name.fail/build.log)"
	fi > "$work/$name.verdict"
}
export -f run_case build_case
export top kdir tree_cc work cases RUSTC BINDGEN

printf '%s\0' "$cases"/*.fail.rs | xargs -0 -n 1 -P "${JOBS:-$(nproc)}" bash -c 'run_case "$1"' _
cat "$work"/*.verdict > "$work/verdicts.txt"
cat "$work/verdicts.txt"
ok=$(grep -c '^ok: ' "$work/verdicts.txt" || true)
bad=$(grep -c '^UNEXPECTED: ' "$work/verdicts.txt" || true)
summary="compile-fail: $ok rejected as expected, $bad unexpected"
echo "$summary"
if [ "$bad" = 0 ] && [ "$ok" -ge 12 ]; then
	mkdir -p "$store"
	{ date -u '+%Y-%m-%d %H:%M UTC'; cat "$work/verdicts.txt"; echo "$summary"; } > "$store/$key.txt"
	exit 0
fi
exit 1
