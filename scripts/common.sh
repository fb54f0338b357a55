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
# MIGENTRY_MODULE_DIR names another directory for that copy (make distro
# builds in build/module-distro against its own KDIR).
module_dir() {
	local variant=${KERNEL_VARIANT:-stock}
	if [ -n "${MIGENTRY_MODULE_DIR:-}" ]; then
		echo "$MIGENTRY_MODULE_DIR"
	elif [ -n "${KDIR:-}" ] || [ "$variant" = stock ]; then
		echo "$1"
	else
		echo "$1/build/module-$variant"
	fi
}

# tree_compilers KDIR: the compilers KDIR was built with, as make arguments in
# tree_cc_args (LLVM=1 for a clang-built tree, CC=<its GCC> otherwise) and the
# matching nm in tree_nm. Kbuild wants a module built with the tree's own.
tree_compilers() {
	local cc
	if grep -qx 'CONFIG_CC_IS_CLANG=y' "$1/.config"; then
		tree_cc_args=(LLVM=1)
		tree_nm=llvm-nm
	else
		cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\).*/\1/p' "$1/.config")
		command -v "$cc" > /dev/null ||
			die "$1 was built with GCC '$cc' (CONFIG_CC_VERSION_TEXT), which is not on PATH"
		tree_cc_args=("CC=$cc")
		tree_nm=nm
	fi
}

die() {
	printf 'migentry: error: %s\n' "$*" >&2
	exit 1
}

note() {
	printf 'migentry: %s\n' "$*" >&2
}

# debian_uri: the Debian archive address of this machine's apt sources (the
# first one that is not a security archive), for a throwaway apt state.
debian_uri() {
	local f uri=
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "no Debian archive URI found in the apt sources of this machine"
	echo "$uri"
}
