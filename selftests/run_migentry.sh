#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest wrapper: load migentry.ko, run the migentry selftest binaries,
# unload the module, and pass their verdict through.
#
# Exit status follows kselftest: 0 pass, 1 fail, 4 skip (not root, no module).
# Each binary's own TAP is nested under this script's, prefixed with "# ".
#
# MIGENTRY_KO     path of the module (default: migentry.ko next to this script)
# MIGENTRY_TESTS  binaries to run (default: every migentry_* binary here)

dir=$(cd "$(dirname "$0")" && pwd)
ko=${MIGENTRY_KO:-$dir/migentry.ko}
if [ -z "${MIGENTRY_TESTS:-}" ]; then
	MIGENTRY_TESTS=
	for t in "$dir"/migentry_*; do
		case "${t##*/}" in *.*) continue ;; esac
		[ -x "$t" ] && MIGENTRY_TESTS="$MIGENTRY_TESTS $t"
	done
fi

ksft_skip=4

if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: migentry selftests need root to load the module"
	exit $ksft_skip
fi
if [ ! -f "$ko" ]; then
	echo "# SKIP: no module at $ko"
	exit $ksft_skip
fi
if [ -z "$MIGENTRY_TESTS" ]; then
	echo "# SKIP: no migentry_* test binaries in $dir"
	exit $ksft_skip
fi

set -- $MIGENTRY_TESTS
echo "TAP version 13"
echo "1..$#"

if ! insmod "$ko"; then
	echo "# insmod $ko failed"
	i=0
	for t; do
		i=$((i + 1))
		echo "not ok $i selftests: migentry: $(basename "$t") # module did not load"
	done
	exit 1
fi

rcfile=$(mktemp)
i=0
npass=0
nfail=0
nskip=0
for t; do
	i=$((i + 1))
	name=$(basename "$t")
	echo "# selftests: migentry: $name"
	{ "$t" 2>&1; echo $? > "$rcfile"; } | sed 's/^/# /'
	rc=$(cat "$rcfile")
	case "$rc" in
	0)
		npass=$((npass + 1))
		echo "ok $i selftests: migentry: $name"
		;;
	$ksft_skip)
		nskip=$((nskip + 1))
		echo "ok $i selftests: migentry: $name # SKIP"
		;;
	*)
		nfail=$((nfail + 1))
		echo "not ok $i selftests: migentry: $name # exit=$rc"
		;;
	esac
done
rm -f "$rcfile"

if ! rmmod migentry; then
	echo "# rmmod migentry failed"
	nfail=$((nfail + 1))
fi

[ "$nfail" -gt 0 ] && exit 1
[ "$npass" -eq 0 ] && exit $ksft_skip
exit 0
