#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make distro': migentry.ko for Debian's own kernel DISTRO_RELEASE (default
# 7.3.4+deb13-amd64, from trixie-backports), built the way a Debian 13 user
# builds an out-of-tree module for it. Needs root (mmdebstrap, chroot).
#
# 1. Debian's packages of that kernel, all of one version, are fetched with a
#    throwaway apt state (its own sources and lists, as scripts/fetch-kernel.sh
#    does; the archive address is read from this machine's apt sources, whose
#    configuration is never touched): linux-headers-<release> (.config,
#    .kernelvariables, Module.symvers, vmlinux), linux-binary-<release>
#    (vmlinuz), linux-modules-<release> (brd.ko, the guest's swap RAM disk)
#    and linux-source-<series>. The headers package has no Rust metadata for
#    the kernel crate; that is built from the source below.
# 2. A Debian root of DISTRO_SUITE (trixie) made by mmdebstrap with the
#    compilers Debian built the kernel with: rustc 1.85.1 and rust-src, bindgen
#    0.71.1 and libclang, gcc-14, binutils, pahole, plus clippy and rustfmt
#    (STRICT) and the kernel's build tools. This machine's Debian 12 cannot run
#    Debian 13's rustc (it needs libc6 >= 2.38).
# 3. In that root: linux-source with the headers' .config and .kernelvariables
#    (Debian's make variables: ARCH=x86, CROSS_COMPILE=x86_64-linux-gnu-,
#    CC=x86_64-linux-gnu-gcc-14, KERNELRELEASE=<release>), 'make olddefconfig'
#    (any line that changes other than the host OpenSSL's ML-DSA ones stops the
#    build: it would mean other compilers than Debian's), 'make modules_prepare'
#    (the Rust metadata), 'make headers' (for the selftests), and Debian's
#    Module.symvers and vmlinux (BTF) copied in.
# 4. migentry.ko, built in the root by the project's own 'make KDIR=...
#    module-strict' into build/module-distro (warnings are errors, clippy on,
#    every symbol it needs must be in Debian's Module.symvers); its vermagic
#    must be that of Debian's own brd.ko.
#
# Steps 1-3 are cached in $MIGENTRY_CACHE/distro/<release>-<key>, where <key>
# hashes this recipe's inputs (release, suite, packages); each step that
# finished is not redone, and older keys of the release are removed once a
# tree is complete. Step 4 runs every time (incremental).
#
# Usage: scripts/distro.sh [--print-base]
#   prints the cache directory on stdout (--print-base: only that, building
#   nothing): debian/vmlinuz, debian/modules/, debian/config, root/ (the tree
#   is root/migentry/linux).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

release=${DISTRO_RELEASE:-7.3.4+deb13-amd64}
suite=${DISTRO_SUITE:-trixie}
abi=${release%-*}                           # 7.3.4+deb13
series=$(echo "$release" | cut -d. -f1,2)   # 7.3
root_packages=(
	rustc rust-src bindgen libclang-dev rust-clippy rustfmt
	gcc-14 gcc binutils dwarves make bc bison flex libelf-dev libssl-dev
	python3 perl cpio kmod xz-utils
)
# The guest needs these of Debian's modules (the rest are built in).
guest_modules=(kernel/drivers/block/brd.ko.xz)
jobs=${JOBS:-$(nproc)}

key=$(printf '%s\n' "distro recipe 1" "$release" "$suite" "${root_packages[@]}" \
	"${guest_modules[@]}" | sha256sum | cut -c1-16)
base=$MIGENTRY_CACHE/distro/$release-$key
if [ "${1:-}" = --print-base ]; then
	echo "$base"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "make distro needs root (mmdebstrap, chroot)"

deb=$base/debian
root=$base/root
tree=$root/migentry/linux
mkdir -p "$base"
exec 9> "$base.lock"
flock 9 || die "cannot lock $base.lock"
log=$base/build.log
started=$(date +%s)
st=
trap '[ -z "$st" ] || rm -rf "$st"' EXIT

# step NAME: note and time one step, into $base/timings.
step() {
	note "distro: $1"
	printf '%s %s\n' "$(date +%s)" "$1" >> "$base/timings"
}

# in_root CMD...: run CMD in the Debian root, in a private mount namespace with
# /proc and this source tree (at /migentry/top) mounted, with a clean
# environment. The mounts go away with the namespace.
in_root() {
	mkdir -p "$root/migentry/top"
	unshare --mount --propagation private -- /bin/sh -c '
		set -e
		root=$1 top=$2
		shift 2
		mount -t proc proc "$root/proc"
		mount --bind "$top" "$root/migentry/top"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 "$@"
	' in_root "$root" "$top" "$@"
}

fetch() {
	local uri ver p pkgs=()
	step "fetching Debian's $release packages (temporary apt state, system sources untouched)"
	command -v apt-get > /dev/null || die "apt-get is needed to fetch Debian's $release packages"
	uri=$(debian_uri)
	st=$(mktemp -d)
	mkdir -p "$st/parts" "$st/lists/partial" "$st/archives/partial"
	printf 'Types: deb\nURIs: %s\nSuites: %s-backports %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" "$suite" "$suite" > "$st/parts/distro.sources"
	local o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$st/parts"
		-o "Dir::State::Lists=$st/lists" -o "Dir::Cache::Archives=$st/archives"
		-o Dir::State::Status=/dev/null -o APT::Sandbox::User=root)
	apt-get "${o[@]}" -q update > "$st/update.log" 2>&1 || {
		cat "$st/update.log" >&2
		die "apt-get update of the temporary state failed"
	}
	ver=$(apt-cache "${o[@]}" show "linux-headers-$release" 2> /dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$ver" ] || die "linux-headers-$release is in neither $suite-backports nor $suite (any more?); set DISTRO_RELEASE"
	for p in "linux-headers-$release" "linux-headers-$abi-common" "linux-binary-$release" \
		"linux-modules-$release" "linux-source-$series"; do
		pkgs+=("$p=$ver")
	done
	(cd "$st" && apt-get "${o[@]}" -q download "${pkgs[@]}") >> "$log" 2>&1 ||
		die "downloading ${pkgs[*]} failed (log: $log)"
	rm -rf "$deb"
	mkdir -p "$deb/modules" "$st/x"
	for p in "$st"/*.deb; do
		dpkg -x "$p" "$st/x"
	done
	local h=$st/x/usr/src/linux-headers-$release
	cp "$h/.config" "$deb/config"
	cp "$h/.kernelvariables" "$deb/kernelvariables"
	cp "$h/Module.symvers" "$h/vmlinux" "$deb/"
	cp "$st/x/usr/lib/modules/$release/vmlinuz" "$deb/vmlinuz"
	for p in "${guest_modules[@]}"; do
		xz -dc "$st/x/usr/lib/modules/$release/$p" > "$deb/modules/$(basename "$p" .xz)"
	done
	mv "$st/x/usr/src/linux-source-$series.tar.xz" "$deb/"
	echo "$ver" > "$deb/VERSION"
	rm -rf "$st"
	touch "$base/fetched"
}

mkroot() {
	local uri
	step "making a Debian $suite root with Debian's compilers (mmdebstrap)"
	uri=$(debian_uri)
	rm -rf "$root" "$root.tmp"
	mmdebstrap --mode=root --variant=minbase --include="$(IFS=,; echo "${root_packages[*]}")" \
		"$suite" "$root.tmp" "deb $uri $suite main" >> "$log" 2>&1 ||
		die "mmdebstrap of $suite failed (log: $log)"
	mv "$root.tmp" "$root"
	touch "$base/rooted"
}

mktree() {
	local want have diffs
	# The root must have the compilers that built Debian's kernel.
	want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$deb/config")
	have=$(chroot "$root" rustc --version)
	[ "$want" = "$have" ] ||
		die "Debian built $release with '$want', but the $suite root's rustc is '$have'"
	step "configuring linux-source-$series $(cat "$deb/VERSION") with Debian's .config in the root"
	rm -rf "$root/migentry/linux" "$root/migentry/linux-source-$series"
	mkdir -p "$root/migentry"
	tar -C "$root/migentry" -xf "$deb/linux-source-$series.tar.xz"
	mv "$root/migentry/linux-source-$series" "$tree"
	cp "$deb/config" "$tree/.config"
	# Debian's make variables; the tree's Makefile includes this file.
	cp "$deb/kernelvariables" "$tree/.kernelvariables"
	in_root make -C /migentry/linux olddefconfig >> "$log" 2>&1 || die "olddefconfig failed (log: $log)"
	diffs=$(diff <(grep . "$deb/config") <(grep . "$tree/.config") | grep '^[<>]' || true)
	printf 'olddefconfig changed, against Debian'\''s .config:\n%s\n' "${diffs:-nothing}" >> "$log"
	if printf '%s\n' "$diffs" | grep . | grep -qvE 'ML_?DSA'; then
		printf '%s\n' "$diffs" | grep -vE 'ML_?DSA' >&2
		die "the root's toolchain configures the tree differently from Debian's .config (above)"
	fi
	step "make modules_prepare and headers in the root (the Rust metadata; a few minutes)"
	in_root make -C /migentry/linux -j"$jobs" modules_prepare >> "$log" 2>&1 ||
		die "modules_prepare failed (log: $log)"
	in_root make -C /migentry/linux headers >> "$log" 2>&1 || die "make headers failed (log: $log)"
	cp "$deb/Module.symvers" "$deb/vmlinux" "$tree/"
	touch "$base/treed"
}

[ -f "$base/fetched" ] || fetch
[ -f "$base/rooted" ] || mkroot
if [ ! -f "$base/treed" ]; then
	mktree
	for old in "$MIGENTRY_CACHE/distro/$release-"*; do
		case "$old" in "$base" | "$base".*) continue ;; esac
		rm -rf "$old"
	done
fi

step "building migentry.ko in the root against the tree (make KDIR=/migentry/linux module-strict)"
bindgen_version=$(sed -n 's/^CONFIG_BINDGEN_VERSION_TEXT="bindgen \(.*\)"$/\1/p' "$deb/config")
in_root KDIR=/migentry/linux KERNEL_VARIANT=distro \
	MIGENTRY_MODULE_DIR=/migentry/top/build/module-distro MIGENTRY_CACHE=/migentry/cache \
	RUSTC=/usr/bin/rustc BINDGEN=/usr/bin/bindgen BINDGEN_VERSION="$bindgen_version" \
	CLIPPY_DRIVER=/usr/bin/clippy-driver RUSTFMT=/usr/bin/rustfmt \
	make -C /migentry/top module-strict >&2 || die "the module build in the $suite root failed"

ko=$top/build/module-distro/migentry.ko
[ -f "$ko" ] || die "no $ko"
vm=$(modinfo -F vermagic "$ko")
want=$(modinfo -F vermagic "$deb/modules/brd.ko")
[ "$vm" = "$want" ] || die "migentry.ko's vermagic '$vm' is not that of Debian's modules, '$want'"
nsym=$(nm -u "$ko" | wc -l)
note "distro: ${ko#"$top"/} for $release ($(cat "$deb/VERSION")): vermagic '$vm' as Debian's own" \
	"modules, $nsym kernel symbols, all in Debian's Module.symvers ($(($(date +%s) - started)) s)"
echo "$base"
