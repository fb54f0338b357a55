#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rustfmt every Rust source under rust/ (recursively) with the project's copy
# of the kernel's rustfmt configuration (.rustfmt.toml). Needs no kernel tree.
#
# Usage: scripts/fmt.sh [--check]   (--check: print the diff, change nothing)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

case "${1:-}" in
"" | --check) ;;
*) die "usage: scripts/fmt.sh [--check]" ;;
esac
cd "$top"
"$RUSTFMT" --version > /dev/null 2>&1 || die "no rustfmt at RUSTFMT=$RUSTFMT (package rustfmt-web)"
mapfile -t files < <(find rust -name '*.rs' | LC_ALL=C sort)
[ ${#files[@]} -gt 0 ] || die "no Rust sources under rust/"
exec "$RUSTFMT" --edition 2021 --config-path "$top/.rustfmt.toml" "$@" "${files[@]}"
