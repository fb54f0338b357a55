# SPDX-License-Identifier: GPL-2.0
#
# migentry - user-facing targets. Kbuild reads ./Kbuild, not this file.
#
#   make            build migentry.ko: with KDIR=... only that (no apt, no kernel
#                   build, no root); without it, deps and the cached guest kernel first
#   make fmt        rustfmt rust/ with the project's .rustfmt.toml (no kernel needed)
#   make clean      remove the build products (never fetches or builds a kernel)
#   make check      everything from scratch: deps, kernel, module (rustfmt + clippy
#                   clean), selftests, guest run, the kernel's mm selftests (reused
#                   while their inputs are unchanged); ends with "N passed, N failed, N skipped"
#   make demo       boot the guest and show what the module reports
#   make vm-run PROG=path [ARGS="..."]   run a static program in the guest
#   make bench      what the types cost, measured in QEMU (TCG: only ratios mean
#                   anything); writes build/bench/results.md and charts; not a test
#   make race       the clear_refs/migration race on the stock and patched kernels
#   make race-noad  the THP race on a CPU model whose migration entries carry no
#                   A/D bits: stock, patched and hooked with hook=0
#   make check-upstream   the kernel's own mm selftests in the guest, migentry loaded
#   make kernel KERNEL_VARIANT=patched   build the kernel with patches/ applied
#   make distro     migentry.ko for Debian's own 7.3.4+deb13-amd64 kernel, built in a
#                   cached Debian 13 root with Debian's compilers (root needed)
#   make check-distro   boot Debian's kernel, run the installed kselftest collection
#   make rustdoc    the crate's documentation, HTML under build/doc
#   make soak       the debug kernel (KASAN, KFENCE...): migentry's suite, the
#                   fuzzer, the stress and 100 load/unload cycles on it (long;
#                   not part of make check)
#
# Set KDIR=<your Rust-enabled, built 7.3 tree> to use your own kernel; no
# kernel is fetched or built then. The cache lives in $(MIGENTRY_CACHE)
# (default ~/.cache/migentry).

SHELL := /bin/bash
S := $(CURDIR)/scripts
export KDIR

.PHONY: all module module-strict deps kernel selftests samples check demo vm-run fmt test-parser \
	compile-fail race race-noad real-path check-upstream clean distro check-distro rustdoc

all: module

deps:
	@$(S)/deps.sh

kernel: deps
	@$(S)/kernel.sh > /dev/null

ifneq ($(strip $(KDIR)),)
# Your own tree: build the module only. Check the tree and the module toolchain
# (scripts/deps.sh --module); install nothing, build no kernel, need no root.
module:
	@$(S)/kdir.sh > /dev/null
	@$(S)/deps.sh --module
	@$(S)/build-module.sh

module-strict:
	@$(S)/kdir.sh > /dev/null
	@STRICT=1 $(S)/deps.sh --module
	@STRICT=1 $(S)/build-module.sh
else
module: deps
	@$(S)/build-module.sh

module-strict: deps
	@STRICT=1 $(S)/build-module.sh
endif

selftests: deps
	@$(S)/build-selftests.sh

samples: deps
	@$(S)/build-samples.sh

compile-fail: deps
	@$(S)/compile-fail.sh

test-parser:
	@python3 -m unittest discover -s $(CURDIR)/tests -p 'test_*.py'

check: deps
	@$(S)/kernel.sh > /dev/null
	@STRICT=1 $(S)/build-module.sh
	@test -n "$(KDIR)" || { KERNEL_VARIANT=hooked $(S)/kernel.sh > /dev/null && \
		KERNEL_VARIANT=hooked STRICT=1 $(S)/build-module.sh > /dev/null; }
	@$(S)/layers.sh
	@$(S)/compile-fail.sh
	@$(S)/build-selftests.sh
	@python3 -m unittest discover -s $(CURDIR)/tests -p 'test_*.py'
	@$(S)/build-samples.sh
	@$(S)/regression.sh
	@test -n "$(KDIR)" || $(S)/realpath.sh
	@test -n "$(KDIR)" || $(MAKE) --no-print-directory bench-tiny
	@$(S)/guest-checks.sh

# make bench at a tiny size (one boot of the hooked kernel, about half a minute),
# so that the benchmark cannot rot; its timings are not asserted.
.PHONY: bench-tiny
bench-tiny:
	@mkdir -p build
	@BENCH_STOCK=0 BENCH_PAGES=16 BENCH_ROUNDS=1 BENCH_BLOCKS=4 BENCH_MOVES=1 \
		BENCH_RT_ROUNDS=1 BENCH_RT_SIZES=1,16 BENCH_RT_MIN_PAGES=64 \
		BENCH_COST_RESTORES=1152 BENCH_COST_ROUNDS=1 \
		$(S)/bench.sh > build/bench-tiny.log 2>&1 && \
		echo "bench: tiny run ok, all three questions (build/bench-tiny.log; timings not asserted)" || \
		{ tail -n 20 build/bench-tiny.log; echo "bench: tiny run FAILED"; exit 1; }

# The demo round-trips pages that lose rights, which needs the hooked kernel.
demo: export KERNEL_VARIANT ?= hooked
demo: deps
	@$(S)/kernel.sh > /dev/null
	@$(S)/build-module.sh > /dev/null
	@$(S)/build-samples.sh
	@$(S)/demo.sh

check-upstream: export KERNEL_VARIANT ?= hooked
check-upstream: deps
	@$(S)/kernel.sh > /dev/null
	@$(S)/build-module.sh > /dev/null
	@MIGENTRY_UPSTREAM=run $(S)/upstream-mm.sh

.PHONY: bench
bench: deps
	@$(S)/bench.sh

race: deps
	@$(S)/kernel.sh > /dev/null
	@KERNEL_VARIANT=patched $(S)/kernel.sh > /dev/null
	@$(S)/build-samples.sh
	@$(S)/race.sh

# The PMD soft-dirty window (issue 12 part 5, README "Migration entries without
# A/D"): the cached kernels on an L1TF-affected CPU model with l1tf=flush, three
# runs of 10 s per row, each guest under its own timeout and the whole under
# RACE_TIMEOUT seconds.
race-noad: deps
	@for v in stock patched hooked; do KERNEL_VARIANT=$$v $(S)/kernel.sh > /dev/null; done
	@$(S)/build-samples.sh
	@RACE_NOAD=1 RACE_ARGS="--thp $${RACE_ARGS:-}" \
		RACE_KERNELS="$${RACE_KERNELS:-stock patched hooked hooked-c}" \
		timeout -k 10 $${RACE_TIMEOUT:-3600} $(S)/race.sh

# Builds the modules and samples it needs itself.
real-path: deps
	@KERNEL_VARIANT=pre62 $(S)/kernel.sh > /dev/null
	@KERNEL_VARIANT=hooked $(S)/kernel.sh > /dev/null
	@$(S)/realpath.sh

# The debug kernel variant (patches/debug/config) is a full rebuild, and the
# soak runs for about 50 minutes under TCG (README, "Soak on a debug kernel").
# Its length: SOAK_CYCLES, SOAK_FUZZ_ITERS, SOAK_STRESS_SECONDS (scripts/soak.sh).
.PHONY: soak
soak: deps
	@$(S)/soak.sh

vm-run: deps
	@test -n "$(PROG)" || { echo "usage: make vm-run PROG=path [ARGS=...]"; exit 2; }
	@$(S)/kernel.sh > /dev/null
	@$(S)/build-module.sh > /dev/null
	@$(S)/guest.sh run $(abspath $(PROG)) $(ARGS)

# Debian's own kernel: the module is built in a Debian 13 root, against the
# tree Debian's packages describe (scripts/distro.sh); never the cached guest kernel.
distro:
	@$(S)/deps.sh --distro
	@$(S)/distro.sh > /dev/null

check-distro:
	@$(S)/deps.sh --distro
	@$(S)/check-distro.sh

# Your tree (KDIR=...) or the cached kernel, as for make module.
rustdoc:
	@test -n "$(KDIR)" || $(S)/deps.sh
	@test -z "$(KDIR)" || { $(S)/kdir.sh > /dev/null && $(S)/deps.sh --module; }
	@$(S)/rustdoc.sh

# Neither needs a kernel tree, and neither fetches or builds one.
fmt:
	@$(S)/fmt.sh

clean:
	@$(S)/clean.sh
