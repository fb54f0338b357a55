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

# The kernel regression test (patches/0002): mm-selftest style, built with the
# tree's vm_util.c and kselftest.h.
t=$kdir/tools/testing/selftests
mkdir -p "$top/build/selftests/mm"
gcc -static -O2 -Wall -Werror -D_GNU_SOURCE -isystem "$kdir/usr/include" -I"$t" -I"$t/mm" \
	-o "$top/build/selftests/mm/soft-dirty-migration" \
	"$top/selftests/mm/soft-dirty-migration.c" "$t/mm/vm_util.c" -lpthread
