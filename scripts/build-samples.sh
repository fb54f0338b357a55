#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the static sample programs into build/samples. They use only the uapi
# header, compiled against the kernel tree's exported headers.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=$("$top/scripts/kdir.sh")
mkdir -p "$top/build/samples"
for c in "$top"/samples/*.c; do
	gcc -static -O2 -Wall -Wextra -Werror -isystem "$kdir/usr/include" -I"$top/include" \
		-o "$top/build/samples/$(basename "$c" .c)" "$c" -lpthread
done
