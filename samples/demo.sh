#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# What 'make demo' runs inside the guest (scripts/demo.sh puts the programs
# in /guest): the module's report, the seed scenarios, the clear_refs race.
migentry_info || exit 1
echo
seed_scenarios --markdown "$@" || exit 1
echo
clear_refs_race --seconds "${RACE_SECONDS:-10}"
# Lost writes are the finding, not a failure of the demo.
[ $? -le 1 ]
