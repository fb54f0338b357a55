# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/parse_results.py on the kernel's run_kselftest.sh output
(scripts/guest.sh kselftest, make check-distro): the unwrapping of the
runner's TAP, expected and unexpected skips, and an absent KUnit."""

import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import parse_results  # noqa: E402

DONE_EXIT = (0x31 << 1) | 1

CONSOLE = """\
[    0.000000] Linux version 7.3.4+deb13-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC
[    1.234000] Run /init as init process
[    2.000000] migentry: loading out-of-tree module taints kernel.
[    3.000000] migentry: ROUNDTRIP refused: it would take rights away from a PTE
"""

# run_kselftest.sh around run_migentry.sh around two harness binaries.
RESULTS = """\
migentry-guest: start mode=kselftest kernel=7.3.4+deb13-amd64 nodes=2 swap=on
TAP version 13
1..1
# timeout set to 1800
# selftests: migentry: run_migentry.sh
# TAP version 13
# 1..2
# # selftests: migentry: migentry_basic
# # TAP version 13
# # 1..2
# # ok 1 dev.info
# # ok 2 dev.enotty
# # # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
# ok 1 selftests: migentry: migentry_basic
# # selftests: migentry: migentry_uffd
# # TAP version 13
# # 1..2
# # ok 1 uffd.wp
# # ok 2 uffd.pin # SKIP no debugfs gup_test (CONFIG_GUP_TEST)
# # # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
# ok 2 selftests: migentry: migentry_uffd
ok 1 selftests: migentry: run_migentry.sh
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0
migentry-guest: done rc=0
"""

SKIPS = """\
# comment
migentry_uffd uffd.pin no debugfs gup_test | Debian's kernel has no CONFIG_GUP_TEST
"""


class KselftestRunnerTest(unittest.TestCase):
    def run_parser(self, console, results, *extra):
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, text in (("console", console), ("results", results), ("skips", SKIPS)):
                paths[name] = os.path.join(d, name)
                with open(paths[name], "w") as f:
                    f.write(text)
            extra = [a.replace("@skips", paths["skips"]) for a in extra]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = parse_results.main(["--console", paths["console"], "--results", paths["results"],
                                         "--qemu-exit", str(DONE_EXIT), *extra])
            return rc, out.getvalue().splitlines()

    def test_unwrapped_and_expected_skip(self):
        rc, out = self.run_parser(CONSOLE, RESULTS, "--expected-skips", "@skips",
                                  "--kunit-absent", "CONFIG_KUNIT is not set")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out[-1], "3 passed, 0 failed, 2 skipped")
        self.assertIn("run_kselftest.sh: ok 1 selftests: migentry: run_migentry.sh", out)
        self.assertIn("selftest migentry_uffd: ok", out)
        self.assertIn("kunit migentry_restore: skipped: CONFIG_KUNIT is not set", out)
        self.assertTrue(any(l.startswith("expected skip: migentry_uffd uffd.pin") for l in out), out)

    def test_unexpected_skip_fails(self):
        rc, out = self.run_parser(CONSOLE, RESULTS.replace("uffd.pin", "uffd.other"),
                                  "--expected-skips", "@skips")
        self.assertEqual(rc, 1)
        self.assertEqual(out[-1], "3 passed, 1 failed, 0 skipped")
        self.assertTrue(any("unexpected skip: migentry_uffd uffd.other" in l for l in out), out)
        self.assertIn("expected skip did not happen: migentry_uffd uffd.pin"
                      " (Debian's kernel has no CONFIG_GUP_TEST)", out)

    def test_skip_for_another_reason_fails(self):
        rc, out = self.run_parser(CONSOLE, RESULTS.replace("no debugfs gup_test", "no swap"),
                                  "--expected-skips", "@skips")
        self.assertEqual(rc, 1)
        self.assertTrue(any("unexpected skip: migentry_uffd uffd.pin: no swap" in l for l in out), out)

    def test_runner_failure(self):
        rc, out = self.run_parser(CONSOLE, RESULTS.replace(
            "ok 1 selftests: migentry: run_migentry.sh", "not ok 1 selftests: migentry: run_migentry.sh # exit=1"))
        self.assertEqual(rc, 1)
        self.assertTrue(any(l.startswith("FAIL: run_kselftest.sh: not ok 1") for l in out), out)

    def test_kunit_present_but_said_absent(self):
        console = CONSOLE + "[    2.1] KTAP version 1\n[    2.2]     # Subtest: migentry_restore\n" \
            "[    2.3]     ok 1 differential_matrix\n[    2.4] ok 1 migentry_restore\n"
        rc, out = self.run_parser(console, RESULTS, "--kunit-absent", "no KUnit")
        self.assertEqual(rc, 1)
        self.assertTrue(any("KUnit ran" in l for l in out), out)

    def test_guest_module_load_failure(self):
        rc, out = self.run_parser(CONSOLE, RESULTS.replace(
            "migentry-guest: start", "migentry-guest: insmod brd.ko failed\nmigentry-guest: start"))
        self.assertEqual(rc, 1)
        self.assertIn("FAIL: migentry-guest: insmod brd.ko failed", out)


if __name__ == "__main__":
    unittest.main()
