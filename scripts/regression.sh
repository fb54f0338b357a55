#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The soft-dirty/migration regression test (selftests/mm/soft-dirty-migration.c)
# on both kernels: it must pass on the patched kernel (patches/) and must
# detect lost writes on the stock one. If a stock kernel ever stops losing
# writes, this fails too, so that an upstream fix is noticed.
#
# Prints one line: "soft-dirty-migration: patched P/N pass, stock F/N lost writes (expected)".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

bin=$top/build/selftests/mm/soft-dirty-migration
[ -x "$bin" ] || die "regression test not built; run 'make selftests'"
secs=${REGRESSION_SECONDS:-3}
seed=${REGRESSION_SEED:-1}
out=$top/build/regression
mkdir -p "$out"

run() { # variant
	local kdir
	kdir=$(KERNEL_VARIANT=$1 "$top/scripts/kernel.sh")
	set +e
	KDIR=$kdir GUEST_NO_MODULE=1 GUEST_TIMEOUT=300 "$top/scripts/guest.sh" run "$bin" \
		-t "$secs" -s "$seed" > "$out/$1.log" 2>&1
	echo $? > "$out/$1.rc"
	set -e
	cp "$top/build/guest/console.log" "$out/$1.console.log"
}

run patched
run stock
sed 's/^/patched: /' "$out/patched.log"
sed 's/^/stock:   /' "$out/stock.log"

count() { # log pattern
	grep -c "$2" "$1" || true
}
p_ok=$(count "$out/patched.log" '^ok ')
p_n=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out/patched.log")
s_fail=$(count "$out/stock.log" '^not ok .*no write lost')
s_n=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out/stock.log")
echo "soft-dirty-migration: patched ${p_ok}/${p_n:-?} pass, stock ${s_fail}/${s_n:-?} lost writes (expected)"

bad=0
if [ "$(cat "$out/patched.rc")" != 0 ] || [ "${p_n:-0}" = 0 ] || [ "$p_ok" != "$p_n" ]; then
	echo "FAIL: the regression test does not pass on the patched kernel (build/regression/patched.log)"
	bad=1
fi
if [ "${s_n:-0}" = 0 ] || [ "$s_fail" != "$s_n" ]; then
	echo "FAIL: the stock kernel did not lose writes in every case: fixed upstream, or the test lost its teeth (build/regression/stock.log)"
	bad=1
fi
exit $bad
