# SPDX-License-Identifier: GPL-2.0
# Shared settings for migentry's scripts. Source it; do not run it.

MIGENTRY_CACHE=${MIGENTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/migentry}
KERNEL_SERIES=${KERNEL_SERIES:-7.3}
BINDGEN_VERSION=${BINDGEN_VERSION:-0.73.2}
LLVM_VERSION=${LLVM_VERSION:-19}
RUSTC=${RUSTC:-/usr/bin/rustc}
CLIPPY_DRIVER=${CLIPPY_DRIVER:-/usr/bin/clippy-driver}
RUSTFMT=${RUSTFMT:-/usr/bin/rustfmt}
BINDGEN=${BINDGEN:-$MIGENTRY_CACHE/tools/bindgen-cli-$BINDGEN_VERSION/bin/bindgen}
PATH=/usr/lib/llvm-$LLVM_VERSION/bin:$PATH
export MIGENTRY_CACHE RUSTC CLIPPY_DRIVER RUSTFMT BINDGEN PATH

die() {
	printf 'migentry: error: %s\n' "$*" >&2
	exit 1
}

note() {
	printf 'migentry: %s\n' "$*" >&2
}
