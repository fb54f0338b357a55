# SPDX-License-Identifier: GPL-2.0
"""Tests for scripts/bench_report.py's question 1 (the restore-cost KUnit case's lines)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import bench_report  # noqa: E402

LOG = """\
[    4.98] migentry: # migentry restore cost: mix 1152 entries (432 documented divergences), 2304 restores per side and round, 3 measured rounds
[    5.04] migentry: migentry restore cost: round 0 warmup batches 2 restores 1152 typed_ns 9000 c_ns 1000 decode_typed_ns 9000: typed 3.91 C 0.43 decode+typed 3.91 ns per restore, typed/C 9.000
[    5.09] migentry: migentry restore cost: round 1 measured batches 2 restores 1152 typed_ns 1152 c_ns 1152 decode_typed_ns 2304: typed 1.00 C 1.00 decode+typed 2.00 ns per restore, typed/C 1.000
[    5.15] migentry: migentry restore cost: round 2 measured batches 2 restores 1152 typed_ns 1152 c_ns 576 decode_typed_ns 2304: typed 1.00 C 0.50 decode+typed 2.00 ns per restore, typed/C 2.000
migentry: migentry restore cost: round 3 measured batches 2 restores 1152 typed_ns 2304 c_ns 1152 decode_typed_ns 3456: typed 2.00 C 1.00 decode+typed 3.00 ns per restore, typed/C 2.000
[    5.27] migentry: # migentry restore cost: summary over 3 rounds: typed/C min 1.000 median 2.000 max 2.000; decode+typed/C min 2.000 median 3.000 max 4.000
"""


class CostTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.log = os.path.join(self.dir.name, "hooked.log")
        with open(self.log, "w") as fh:
            fh.write(LOG)

    def tearDown(self):
        self.dir.cleanup()

    def test_parse_measured_rounds_only(self):
        rounds, mix = bench_report.parse_cost(self.log)
        self.assertEqual(mix, (1152, 432))
        self.assertEqual(sorted(rounds), [1, 2, 3])
        self.assertEqual(rounds[2], (1152, 1152, 576, 2304, 2))

    def test_section_ratios_and_verdict(self):
        md, summary = bench_report.cost_section(*bench_report.parse_cost(self.log), self.dir.name)
        text = "\n".join(md)
        # typed/C per round 1, 2, 2: min 1, median 2, max 2; not <= 1.0 on the median.
        self.assertIn("| **median** | 1.00 | 1.00 | 2.00 | **2.000** | 3.000 |", text)
        self.assertIn("not met on the median", text)
        self.assertEqual(len(summary), 1)
        self.assertIn("min 1.000, median 2.000, max 2.000", summary[0])
        self.assertIn("decode+typed / C median 3.000 (2.000-4.000)", summary[0])
        self.assertTrue(os.path.exists(os.path.join(self.dir.name, "cost_ratio.svg")))

    def test_no_lines_no_result(self):
        empty = os.path.join(self.dir.name, "empty.log")
        open(empty, "w").close()
        md, summary = bench_report.cost_section(*bench_report.parse_cost(empty), self.dir.name)
        self.assertEqual(summary, ["question 1: no result"])
        self.assertFalse(os.path.exists(os.path.join(self.dir.name, "cost_ratio.svg")))


if __name__ == "__main__":
    unittest.main()
