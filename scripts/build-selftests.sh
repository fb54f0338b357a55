#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the static selftest binaries into build/selftests against the
# kernel tree's exported headers and kselftest lib.mk.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=$("$top/scripts/kdir.sh")
[ -d "$kdir/usr/include/linux" ] || die "$kdir has no exported headers; run 'make headers' in it"
mkdir -p "$top/build/selftests"
make -s -C "$top/selftests" KDIR="$kdir" OUTPUT="$top/build/selftests" USERCFLAGS=-Werror
