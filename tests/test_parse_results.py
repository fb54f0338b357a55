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
        # 2 KUnit passes + 3 + 1 selftest passes; 1 KUnit skip + 1 selftest skip.
        self.assertEqual(last_line(out), "6 passed, 0 failed, 2 skipped")


class Failures(unittest.TestCase):
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
