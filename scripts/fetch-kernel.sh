#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Put Debian's linux-source-$KERNEL_SERIES tarball into the cache.
#
# The package lives in the trixie-backports suite, which a Debian 12 machine
# does not list. A throwaway apt state (its own sources, its own lists) is used
# so that the system's apt configuration is never touched. The archive URI is
# read from the machine's own Debian sources.
#
# LINUX_SOURCE=<file> uses a linux-source .deb or .tar.xz the user already has.
#
# Prints the path of the tarball on stdout.
set -euo pipefail
. "$(dirname "$0")/common.sh"

src=$MIGENTRY_CACHE/src
tarball=$src/linux-source-$KERNEL_SERIES.tar.xz
mkdir -p "$src"

if [ -n "${LINUX_SOURCE:-}" ]; then
	[ -f "$LINUX_SOURCE" ] || die "LINUX_SOURCE=$LINUX_SOURCE does not exist"
	case "$LINUX_SOURCE" in
	*.deb)
		x=$(mktemp -d)
		dpkg -x "$LINUX_SOURCE" "$x"
		mv "$x/usr/src/linux-source-$KERNEL_SERIES.tar.xz" "$tarball.tmp"
		dpkg-deb -f "$LINUX_SOURCE" Version > "$src/VERSION"
		rm -rf "$x"
		;;
	*.tar.xz)
		cp "$LINUX_SOURCE" "$tarball.tmp"
		echo "local-$(sha256sum < "$LINUX_SOURCE" | cut -c1-12)" > "$src/VERSION"
		;;
	*)
		die "LINUX_SOURCE must be a linux-source .deb or .tar.xz"
		;;
	esac
	mv "$tarball.tmp" "$tarball"
	echo "$tarball"
	exit 0
fi

if [ -f "$tarball" ] && [ -s "$src/VERSION" ]; then
	echo "$tarball"
	exit 0
fi

command -v apt-get > /dev/null || die "apt-get is needed to fetch linux-source-$KERNEL_SERIES (or pass LINUX_SOURCE=)"

uri=$(debian_uri)

st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT
mkdir -p "$st/parts" "$st/lists/partial" "$st/archives/partial"
printf 'Types: deb\nURIs: %s\nSuites: trixie-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	"$uri" > "$st/parts/backports.sources"
o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$st/parts"
   -o "Dir::State::Lists=$st/lists" -o "Dir::Cache::Archives=$st/archives"
   -o APT::Sandbox::User=root)

note "fetching linux-source-$KERNEL_SERIES (temporary apt state, system sources untouched)"
apt-get "${o[@]}" -q update > "$st/update.log" 2>&1 || {
	cat "$st/update.log" >&2
	die "apt-get update of the temporary state failed"
}
if ! apt-cache "${o[@]}" show "linux-source-$KERNEL_SERIES" > /dev/null 2>&1; then
	die "package linux-source-$KERNEL_SERIES is not in trixie-backports any more; pass LINUX_SOURCE=<.deb or .tar.xz>"
fi
(cd "$st" && apt-get "${o[@]}" -q download "linux-source-$KERNEL_SERIES") >&2
deb=$(ls "$st"/linux-source-"$KERNEL_SERIES"_*.deb)
dpkg -x "$deb" "$st/x"
mv "$st/x/usr/src/linux-source-$KERNEL_SERIES.tar.xz" "$tarball.tmp"
dpkg-deb -f "$deb" Version > "$src/VERSION"
mv "$tarball.tmp" "$tarball"
note "linux-source-$KERNEL_SERIES $(cat "$src/VERSION") cached"
echo "$tarball"
