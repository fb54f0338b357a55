# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/parse_results.py on canned guest logs."""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import parse_results  # noqa: E402

DONE_EXIT = (0x31 << 1) | 1

CONSOLE_CLEAN = """\
[    0.000000] Linux version 7.3.4 (root@host) #1 SMP PREEMPT_DYNAMIC
[    0.900000] KTAP version 1
[    0.900001] 1..1
[    0.900002]     KTAP version 1
[    0.900003]     # Subtest: rust_kernel_fmt
[    0.900004]     # Attributes: speed: normal
[    0.900005]     1..1
[    0.900006]     ok 1 rust_fmt
[    0.900007] # rust_kernel_fmt: pass:1 fail:0 skip:0 total:1
[    0.900008] # Totals: pass:1 fail:0 skip:0 total:1
[    0.900009] ok 1 rust_kernel_fmt
[    1.234000] Run /init as init process
[    2.100000] KTAP version 1
[    2.100001] 1..1
[    2.100002]     KTAP version 1
[    2.100003]     # Subtest: migentry_restore
[    2.100004]     # speed: normal
[    2.100005]     1..3
[    2.100100]     ok 1 differential_matrix
[    2.100200]     ok 2 entry_from_present
[    2.100300]     ok 3 needs_numa # SKIP one node
[    2.100050] migentry: # migentry differential: 12288 cases, 5376 documented divergences, 0 unexpected
[    2.100060] migentry: # migentry differential: per divergence [2048, 1024, 256, 2048]; pre-6.2 write+uffd 2176, v3 read->write 0
[    2.100070] migentry: # migentry pmd differential: 12288 cases, 3328 documented divergences, 0 unexpected
[    2.100400] # migentry_restore: pass:2 fail:0 skip:1 total:3
[    2.100500] # Totals: pass:2 fail:0 skip:1 total:3
[    2.100600] ok 1 migentry_restore
"""

RESULTS_CLEAN = """\
migentry-guest: start mode=check kernel=7.3.4 nodes=2
TAP version 13
1..2
# selftests: migentry: migentry_basic
# TAP version 13
# 1..3
# # Starting 3 tests from 1 test cases.
# #  RUN           dev.info ...
# #            OK  dev.info
# ok 1 dev.info
# ok 2 dev.enotty
# ok 3 dev.einval
# # PASSED: 3 / 3 tests passed.
# # Totals: pass:3 fail:0 xfail:0 xpass:0 skip:0 error:0
ok 1 selftests: migentry: migentry_basic
# selftests: migentry: migentry_roundtrip
# TAP version 13
# 1..2
# ok 1 rt.anon
# ok 2 rt.shmem # SKIP no shmem
# # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
ok 2 selftests: migentry: migentry_roundtrip
migentry-guest: done rc=0
"""


def run(console, results, qemu_exit=DONE_EXIT, mode="check"):
    """Run the parser on the given log texts; return (exit status, stdout)."""
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name, text in (("console.log", console), ("results.log", results)):
            p = os.path.join(d, name)
            if text is not None:
                with open(p, "w") as f:
                    f.write(text)
            paths.append(p)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            rc = parse_results.main(
                ["--console", paths[0], "--results", paths[1],
                 "--qemu-exit", str(qemu_exit), "--mode", mode]
            )
        return rc, out.getvalue()


def last_line(out):
    return out.strip().splitlines()[-1]


class CleanRun(unittest.TestCase):
    def test_clean_run_passes_and_counts_kunit_and_selftests(self):
        rc, out = run(CONSOLE_CLEAN, RESULTS_CLEAN)
        self.assertEqual(rc, 0, out)
        self.assertIn("# migentry differential: 12288 cases", out)
        self.assertIn("# migentry pmd differential: 12288 cases", out)
        # 2 KUnit passes + 3 + 1 selftest passes; 1 KUnit skip + 1 selftest skip.
        self.assertEqual(last_line(out), "6 passed, 0 failed, 2 skipped")


class Failures(unittest.TestCase):
    def test_missing_differential_line_fails(self):
        for line in ("# migentry differential: 12288", "# migentry pmd differential: 12288"):
            with self.subTest(line=line):
                console = "\n".join(l for l in CONSOLE_CLEAN.splitlines() if line not in l) + "\n"
                rc, out = run(console, RESULTS_CLEAN)
                self.assertEqual(rc, 1, out)
                what = line.split(":")[0].lstrip("# ")
                self.assertIn(f"FAIL: kunit: no '# {what}: ...' summary line", out)
                self.assertNotRegex(last_line(out), r" 0 failed")

    def test_unexpected_differential_result_fails(self):
        for old in ("documented divergences, 0 unexpected\n[    2.100060]",
                    "3328 documented divergences, 0 unexpected"):
            with self.subTest(old=old):
                console = CONSOLE_CLEAN.replace(old, old.replace("0 unexpected", "3 unexpected"))
                self.assertNotEqual(console, CONSOLE_CLEAN)
                rc, out = run(console, RESULTS_CLEAN)
                self.assertEqual(rc, 1, out)
                self.assertRegex(out, r"FAIL: kunit: # migentry (pmd )?differential: 3 unexpected")
                self.assertNotRegex(last_line(out), r" 0 failed")

    def test_differential_lines_not_required_without_migentry_kunit(self):
        console = CONSOLE_CLEAN[:CONSOLE_CLEAN.index("[    1.234000]")]
        rc, out = run(console, RESULTS_CLEAN)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("summary line", out)

    def test_warning_in_console_fails(self):
        console = CONSOLE_CLEAN + (
            "[    3.000000] ------------[ cut here ]------------\n"
            "[    3.000001] WARNING: CPU: 1 PID: 80 at rust/migentry_main.rs:10 init+0x10\n"
            "[    3.000002] Call Trace:\n"
        )
        rc, out = run(console, RESULTS_CLEAN)
        self.assertEqual(rc, 1)
        self.assertIn("FAIL: console: WARNING", out)
        self.assertRegex(last_line(out), r"^\d+ passed, [1-9]\d* failed, \d+ skipped$")

    def test_panic_fails(self):
        console = CONSOLE_CLEAN + (
            "[    3.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
            "[    3.000001] Oops: 0000 [#1] SMP\n"
            "[    3.000002] Kernel panic - not syncing: Fatal exception\n"
        )
        results = RESULTS_CLEAN.replace("migentry-guest: done rc=0\n", "")
        rc, out = run(console, results, qemu_exit=0)
        self.assertEqual(rc, 1)
        for what in ("BUG", "Oops", "Kernel panic", "QEMU exit status 0", "truncated"):
            self.assertIn(what, out)

    def test_lockdep_report_fails(self):
        console = CONSOLE_CLEAN + "[    3.0] ======================================================\n" \
            "[    3.1] WARNING: possible circular locking dependency detected\n"
        rc, out = run(console, RESULTS_CLEAN)
        self.assertEqual(rc, 1)
        self.assertIn("FAIL: console: WARNING: WARNING: possible circular locking dependency", out)

    def test_truncated_log_fails(self):
        # The guest died in the middle of the second binary: no Totals, no result, no done line.
        cut = RESULTS_CLEAN.index("# ok 1 rt.anon")
        rc, out = run(CONSOLE_CLEAN, RESULTS_CLEAN[:cut], qemu_exit=124)
        self.assertEqual(rc, 1)
        self.assertIn("timed out", out)
        self.assertIn("truncated", out)
        self.assertIn("plan says 2 binaries, 1 reported", out)
        self.assertNotRegex(last_line(out), r" 0 failed")

    def test_binary_without_totals_fails(self):
        results = RESULTS_CLEAN.replace(
            "# # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0\n", "")
        rc, out = run(CONSOLE_CLEAN, results)
        self.assertEqual(rc, 1)
        self.assertIn("'# Totals' lines", out)

    def test_failed_selftest_fails(self):
        results = RESULTS_CLEAN.replace(
            "pass:3 fail:0 xfail:0 xpass:0 skip:0 error:0",
            "pass:2 fail:1 xfail:0 xpass:0 skip:0 error:0").replace(
            "ok 1 selftests: migentry: migentry_basic",
            "not ok 1 selftests: migentry: migentry_basic # exit=1")
        rc, out = run(CONSOLE_CLEAN, results)
        self.assertEqual(rc, 1)
        self.assertEqual(last_line(out), "5 passed, 1 failed, 2 skipped")

    def test_failed_kunit_case_fails(self):
        console = CONSOLE_CLEAN.replace("    ok 2 entry_from_present",
                                        "    not ok 2 entry_from_present")
        console = console.replace("pass:2 fail:0 skip:1", "pass:1 fail:1 skip:1")
        rc, out = run(console, RESULTS_CLEAN)
        self.assertEqual(rc, 1)
        self.assertIn("kunit migentry_restore: entry_from_present failed", out)
        self.assertEqual(last_line(out), "5 passed, 1 failed, 2 skipped")

    def test_failing_builtin_kunit_suite_is_a_problem_but_not_counted(self):
        console = CONSOLE_CLEAN.replace("    ok 1 rust_fmt", "    not ok 1 rust_fmt").replace(
            "ok 1 rust_kernel_fmt", "not ok 1 rust_kernel_fmt")
        rc, out = run(console, RESULTS_CLEAN)
        self.assertEqual(rc, 1)
        self.assertIn("kunit rust_kernel_fmt (not migentry's): not ok", out)
        self.assertEqual(last_line(out), "6 passed, 1 failed, 2 skipped")

    def test_unfinished_kunit_suite_fails(self):
        cut = CONSOLE_CLEAN.index("[    2.100300]")
        rc, out = run(CONSOLE_CLEAN[:cut], RESULTS_CLEAN)
        self.assertEqual(rc, 1)
        self.assertIn("suite never finished", out)

    def test_missing_logs_fail(self):
        rc, out = run(None, None)
        self.assertEqual(rc, 1)
        self.assertIn("console log missing", out)


class DebugKernelReports(unittest.TestCase):
    """Reports of the debug kernel's checkers (KERNEL_VARIANT=debug) fail a run, named."""

    REPORTS = [
        ("KASAN report",
         "[   41.000000] ==================================================================\n"
         "[   41.000001] BUG: KASAN: slab-use-after-free in migentry_roundtrip+0x1a2/0x3c0 [migentry]\n"
         "[   41.000002] Read of size 8 at addr ffff888004a3c018 by task migentry_fuzz/97\n"),
        ("KASAN report",
         "[   41.000001] BUG: KASAN: vmalloc-out-of-bounds in _copy_to_user+0x3e/0x70\n"),
        ("KFENCE report",
         "[   52.000000] ==================================================================\n"
         "[   52.000001] BUG: KFENCE: out-of-bounds read in migentry_read_pte+0x88/0x120 [migentry]\n"
         "[   52.000002] \n"
         "[   52.000003] Out-of-bounds read at 0x00000000c0ffee00 (32B right of kfence-#17):\n"),
        ("KFENCE report",
         "[   52.000001] BUG: KFENCE: use-after-free write in kfree+0x1c/0x40\n"),
        ("UBSAN report",
         "[   60.000000] UBSAN: shift-out-of-bounds in mm/migentry_shim.c:42:17\n"),
        ("SLUB debug report",
         "[   61.000000] =============================================================================\n"
         "[   61.000001] BUG kmalloc-64 (Tainted: G    B      O): Right Redzone overwritten\n"),
        ("kernel BUG",
         "[   62.000000] kernel BUG at mm/page_table_check.c:85!\n"),
        ("usercopy report",
         "[   63.000000] usercopy: Kernel memory exposure attempt detected from vmalloc (offset 0, size 8192)!\n"),
        ("debugobjects report",
         "[   64.000000] ODEBUG: free active (active state 0) object: 00000000deadbeef object type: timer_list\n"),
        ("list corruption",
         "[   65.000000] list_del corruption. prev->next should be ffff888003c41c08, but was dead000000000100\n"),
    ]

    def test_each_report_fails_the_run_under_its_name(self):
        for what, text in self.REPORTS:
            with self.subTest(what=what, text=text.splitlines()[-1]):
                rc, out = run(CONSOLE_CLEAN + text, RESULTS_CLEAN)
                self.assertEqual(rc, 1)
                self.assertIn(f"FAIL: console: {what}: ", out)
                self.assertNotRegex(last_line(out), r" 0 failed")

    def test_each_report_fails_a_vm_run(self):
        results = "migentry-vm-run: exit 0\nmigentry-guest: done rc=0\n"
        for what, text in self.REPORTS:
            with self.subTest(what=what):
                rc, _ = run("[    0.0] Linux\n" + text, results, mode="run")
                self.assertEqual(rc, 1)

    def test_boot_messages_of_the_checkers_are_not_reports(self):
        console = CONSOLE_CLEAN + (
            "[    0.000000] kasan: KernelAddressSanitizer initialized (generic)\n"
            "[    0.100000] kfence: initialized - using 2097152 bytes for 255 objects at 0x(ptrval)-0x(ptrval)\n"
            "[    0.200000] debug_vm_pgtable: [debug_vm_pgtable         ]: Validating architecture page table helpers\n"
            "[    0.300000] page_table_check: enabled\n"
            "[    0.400000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar\n"
        )
        rc, out = run(console, RESULTS_CLEAN)
        self.assertEqual(rc, 0, out)

    def test_scan_names_every_report_over_several_consoles(self):
        with tempfile.TemporaryDirectory() as d:
            clean = os.path.join(d, "clean.log")
            dirty = os.path.join(d, "dirty.log")
            with open(clean, "w") as f:
                f.write(CONSOLE_CLEAN)
            with open(dirty, "w") as f:
                f.write(CONSOLE_CLEAN + self.REPORTS[0][1] + self.REPORTS[2][1])
            for paths, want_rc, want in (([clean], 0, []),
                                         ([clean, dirty], 1, ["KASAN report", "KFENCE report"]),
                                         ([os.path.join(d, "none.log")], 1, ["console log missing"])):
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    rc = parse_results.main(["--scan"] + paths)
                self.assertEqual(rc, want_rc, out.getvalue())
                lines = out.getvalue().splitlines()
                self.assertEqual(len(lines), len(want), out.getvalue())
                for line, what in zip(lines, want):
                    self.assertIn(what, line)


class AllSkipped(unittest.TestCase):
    def test_all_skip_reports_skips_not_passes(self):
        results = """\
migentry-guest: start mode=check kernel=7.3.4 nodes=1
TAP version 13
1..1
# selftests: migentry: migentry_basic
# TAP version 13
# 1..2
# ok 1 dev.a # SKIP no device
# ok 2 dev.b # SKIP no device
# # Totals: pass:0 fail:0 xfail:0 xpass:0 skip:2 error:0
ok 1 selftests: migentry: migentry_basic # SKIP
migentry-guest: done rc=4
"""
        console = "[    0.0] Linux version 7.3.4\n"
        rc, out = run(console, results)
        self.assertEqual(last_line(out), "0 passed, 0 failed, 2 skipped")
        # Nothing failed, so the parser itself succeeds; 'make check' demands 0 skipped separately.
        self.assertEqual(rc, 0)

    def test_wrapper_skip_without_plan_is_a_failure(self):
        results = "migentry-guest: start mode=check\n# SKIP: no module at /selftests/migentry.ko\n" \
            "migentry-guest: done rc=4\n"
        rc, out = run("[    0.0] Linux\n", results)
        self.assertEqual(rc, 1)
        self.assertIn("no TAP plan", out)


class VmRun(unittest.TestCase):
    def test_vm_run_passes_status_and_output(self):
        results = "migentry-guest: start mode=run\nhello from the guest\n" \
            "migentry-vm-run: exit 3\nmigentry-guest: done rc=3\n"
        rc, out = run("[    0.0] Linux\n", results, mode="run")
        self.assertEqual(rc, 3)
        self.assertEqual(out, "hello from the guest\n")

    def test_vm_run_with_warning_fails_even_if_program_succeeded(self):
        results = "migentry-vm-run: exit 0\nmigentry-guest: done rc=0\n"
        rc, _ = run("[    1.0] WARNING: at mm/memory.c\n", results, mode="run")
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
