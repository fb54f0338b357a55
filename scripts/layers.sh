#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The crate's layer rules (docs/design.md §2), checked on the sources:
# - only the mm layer (rust/mm.rs, rust/mm/) has unsafe code or calls C;
# - the mm layer uses neither the restore, nor the references, nor the device;
# - the restore uses the mm layer only.
# Comments are ignored. Last line: "layers: N rules hold, M broken".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# code FILE...: the files' lines without // comments, prefixed with file:line.
code() {
	grep -Hn '' "$@" | sed -E 's#^([^:]+:[0-9]+:)[[:space:]]*//.*$#\1#; s#([^:])//[^"]*$#\1#'
}

mm=(rust/mm.rs $(find rust/mm -name '*.rs' ! -name '*_generated.rs'))
rest=($(find rust -name '*.rs' ! -name '*_generated.rs' ! -path 'rust/mm/*' ! -name mm.rs))
# The KUnit suites (tests.rs, bench.rs) compare the restore with the C references.
restore=(rust/restore.rs $(find rust/restore -name '*.rs' ! -name 'tests.rs' ! -name 'bench.rs'))

ok=0
bad=0
rule() { # name pattern files...
	local name=$1 pat=$2 hits
	shift 2
	hits=$(code "$@" | grep -E "^[^:]+:[0-9]+:.*$pat" || true)
	if [ -z "$hits" ]; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "layers: broken: $name"
		printf '%s\n' "$hits" | sed 's/^/    /'
	fi
}

rule "unsafe code outside the mm layer" '\bunsafe\b' "${rest[@]}"
rule "C calls outside the mm layer" '\b(bindings|ffi)::|extern "C"' "${rest[@]}"
rule "the mm layer uses an upper layer" 'crate::(restore|reference|device)' "${mm[@]}"
rule "the restore uses more than the mm layer" 'crate::(reference|device)|kernel::bindings' \
	"${restore[@]}"
echo "layers: $ok rules hold, $bad broken"
[ "$bad" = 0 ]
