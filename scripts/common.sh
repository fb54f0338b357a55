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

# module_dir TOP: where migentry.ko is built for the kernel in use. Kbuild
# keeps objects beside the sources, so one tree holds one build: the source
# tree itself serves the stock kernel (and a user's KDIR); another
# KERNEL_VARIANT gets a copy of the sources under build/module-<variant>.
module_dir() {
	local variant=${KERNEL_VARIANT:-stock}
	if [ -n "${KDIR:-}" ] || [ "$variant" = stock ]; then
		echo "$1"
	else
		echo "$1/build/module-$variant"
	fi
}

die() {
	printf 'migentry: error: %s\n' "$*" >&2
	exit 1
}

note() {
	printf 'migentry: %s\n' "$*" >&2
}
