#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel tree to build against: $KDIR if the user gave one (checked,
# printed as an absolute path; never built), otherwise the cached migentry
# kernel (built on first use).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

if [ -z "${KDIR:-}" ]; then
	exec "$top/scripts/kernel.sh"
fi

[ -d "$KDIR" ] || die "KDIR=$KDIR: no such directory"
KDIR=$(cd "$KDIR" && pwd)
[ -f "$KDIR/.config" ] || die "KDIR=$KDIR is not a configured kernel tree (no .config)"
grep -qx 'CONFIG_RUST=y' "$KDIR/.config" || die "KDIR=$KDIR is not built with CONFIG_RUST=y"
[ -f "$KDIR/Module.symvers" ] ||
	die "KDIR=$KDIR has no Module.symvers; build it with 'make bzImage modules' first (modules_prepare is not enough)"
[ -f "$KDIR/rust/libkernel.rmeta" ] || die "KDIR=$KDIR has no Rust metadata (rust/libkernel.rmeta); build the tree first"
echo "$KDIR"
