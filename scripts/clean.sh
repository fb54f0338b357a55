#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make clean: remove migentry's build products. Never fetches or builds a
# kernel. The tree's own 'make M=... clean' runs only against KDIR=... or a
# cached tree that is already built; then everything .gitignore names is
# removed by its patterns in any case, so no tree is needed at all.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

kdir=
if [ -n "${KDIR:-}" ]; then
	if [ -f "$KDIR/Makefile" ] && [ -f "$KDIR/.config" ]; then
		kdir=$KDIR
	else
		note "KDIR=$KDIR is not a configured kernel tree; removing the build products by name"
	fi
else
	for d in "$MIGENTRY_CACHE"/kernel/*/linux; do
		if [ -f "$d/Module.symvers" ]; then
			kdir=$d
			break
		fi
	done
fi
if [ -n "$kdir" ]; then
	make -C "$kdir" M="$top" clean > /dev/null 2>&1 ||
		note "'make M=$top clean' in $kdir failed; removing the build products by name"
fi

# Everything .gitignore names is a build product (keep it that way): remove it
# by its patterns, with git's rules for the simple patterns it uses. A pattern
# with a '/' before its end is relative to the top directory; any other names
# files or directories anywhere (a trailing '/': directories only). Negations
# and catch-all patterns are not followed. .git is left alone.
while IFS= read -r pat || [ -n "$pat" ]; do
	type=
	case "$pat" in
	*/) type=d pat=${pat%/} ;;
	esac
	case "$pat" in
	"" | "#"* | "!"* | "*" | "/*" | "**"*)
		[ -z "$pat" ] || [ "${pat#\#}" != "$pat" ] || note "clean: not following .gitignore pattern '$pat'"
		;;
	*/*)
		(cd "$top" && shopt -s nullglob dotglob && for f in ${pat#/}; do rm -rf -- "$f"; done)
		;;
	*)
		find "$top" -path "$top/.git" -prune -o ${type:+-type $type} -name "$pat" -prune \
			-exec rm -rf {} +
		;;
	esac
done < "$top/.gitignore"
