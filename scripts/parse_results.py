#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the migentry guest's serial logs into a verdict.

The guest writes the kernel console to one log and the output of its programs
(kselftest TAP) to another. A run passes only if:

- QEMU exited through isa-debug-exit with the code /init uses at its end,
- /init printed its closing "migentry-guest: done" line,
- the console shows no BUG, WARNING, Oops, panic, lockdep or sanitizer report,
- every selftest binary printed a kselftest "# Totals:" line (check mode),
- every KUnit suite printed its summary and agrees with its own case lines,
- where migentry's KUnit suite ran, both differential summaries (PTE and PMD)
  were printed, each with 0 unexpected results,
- and nothing failed.

Check mode ends with the line "N passed, N failed, N skipped". The results
may come from the kernel's run_kselftest.sh running the installed collection
(scripts/guest.sh kselftest): its TAP around run_migentry.sh's is checked and
unwrapped. With --expected-skips FILE, a skipped test case must be listed
there with its reason (a kernel without something it needs), or it counts as
a failure; --kunit-absent REASON says why migentry's KUnit suite cannot run
(it must then not appear) and counts it as skipped. Run mode
prints the program's output and exits with its status. "--scan LOG..." only
scans kernel consoles and prints each report line (scripts/soak.sh).
"""

import argparse
import re
import sys

# isa-debug-exit maps a written value v to QEMU's exit status (v << 1) | 1;
# /init writes 0x31 when it reaches its end.
GUEST_DONE_EXIT = (0x31 << 1) | 1

# Kernel reports that make a run fail whatever the tests said. The first
# pattern that matches a line names it, so the specific ones come first: a
# KASAN or KFENCE report starts with "BUG: KASAN: ..." / "BUG: KFENCE: ...",
# SLUB's own checks with "BUG <cache> (<taint>): ..." (no colon after BUG), a
# BUG_ON() (page_table_check, VM_BUG_ON, usercopy) with "kernel BUG at".
BAD_CONSOLE = [
    (re.compile(r"\bBUG: KASAN:"), "KASAN report"),
    (re.compile(r"\bBUG: KFENCE:"), "KFENCE report"),
    (re.compile(r"\bUBSAN:"), "UBSAN report"),
    (re.compile(r"^BUG \S+ \([^)]*\): "), "SLUB debug report"),
    (re.compile(r"\bkernel BUG at\b"), "kernel BUG"),
    (re.compile(r"Kernel memory (exposure|overwrite) attempt detected"), "usercopy report"),
    (re.compile(r"\bODEBUG:"), "debugobjects report"),
    (re.compile(r"\blist_(add|del) corruption\b"), "list corruption"),
    (re.compile(r"\bBUG:"), "BUG"),
    (re.compile(r"\bWARNING:"), "WARNING"),
    (re.compile(r"\bOops\b"), "Oops"),
    (re.compile(r"Kernel panic"), "Kernel panic"),
    (re.compile(r"general protection fault"), "general protection fault"),
    (re.compile(r"possible (circular|recursive) locking"), "lockdep report"),
    (re.compile(r"inconsistent lock state"), "lockdep report"),
    (re.compile(r"suspicious RCU usage"), "lockdep report"),
    (re.compile(r"\b(KASAN|KFENCE|KMSAN|KCSAN):"), "sanitizer report"),
    (re.compile(r"Call Trace:"), "stack trace"),
]

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
KSFT_TOTALS = re.compile(
    r"^(?:# )*# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) skip:(\d+) error:(\d+)"
)
KSFT_PLAN = re.compile(r"^1\.\.(\d+)\s*$")
KSFT_RESULT = re.compile(r"^(not ok|ok) (\d+) selftests: (\S+): (\S+)(.*)$")
KUNIT_SUBTEST = re.compile(r"^\s*# Subtest: (\S+)")
KUNIT_CASE = re.compile(r"^    (not ok|ok) \d+ (\S+)(.*)$")
KUNIT_SUITE_SUMMARY = re.compile(r"^# (\S+): pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)")
KUNIT_SUITE_RESULT = re.compile(r"^(not ok|ok) \d+ (\S+)")
DONE = re.compile(r"^migentry-guest: done rc=(\d+)")
GUEST_PROBLEM = re.compile(r"^migentry-guest: insmod \S+ failed")
# run_kselftest.sh's result line for the migentry collection's wrapper.
RUNNER_RESULT = re.compile(r"^(not ok|ok) \d+ selftests: (\S+): run_migentry\.sh(.*)$")
# A binary's header in run_migentry.sh's TAP, and a harness test case it skipped.
KSFT_BINARY = re.compile(r"^# selftests: (\S+): (\S+)$")
HARNESS_SKIP = re.compile(r"^# (?:# )*ok \d+ (\S+) # SKIP ?(.*)$")
# The summaries of the exhaustive differential KUnit cases (rust/restore/tests.rs).
DIFFERENTIAL = re.compile(
    r"^# migentry (pmd )?differential: (\d+) cases, (\d+) documented divergences, (\d+) unexpected$"
)
# Every differential migentry's suite must print, by the name of its level.
DIFFERENTIAL_LEVELS = ("pte", "pmd")
VM_RUN_EXIT = re.compile(r"^migentry-vm-run: exit (\d+)")
VM_RUN_PROBLEM = re.compile(r"^migentry-vm-run: (rmmod failed|insmod failed)")


class Verdict:
    """Counts and problems collected from one guest run."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.problems = []
        self.notes = []

    def problem(self, msg):
        self.problems.append(msg)


def read_lines(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return None


def console_report(line):
    """What kernel report `line` (timestamp already stripped) is, or None."""
    for pat, what in BAD_CONSOLE:
        if pat.search(line):
            return what
    return None


def scan_consoles(paths):
    """Print every report line of the console logs at `paths`; return their count.

    A missing log counts as one report. Used by scripts/soak.sh (--scan) to
    state, over all the boots of a soak, that no console showed any report.
    """
    found = 0
    for path in paths:
        lines = read_lines(path)
        if lines is None:
            print(f"{path}: console log missing")
            found += 1
            continue
        for raw in lines:
            line = TIMESTAMP.sub("", raw.rstrip("\r"))
            what = console_report(line)
            if what:
                print(f"{path}: {what}: {line.strip()}")
                found += 1
    return found


def check_console(lines, v, kunit_prefix="migentry"):
    """Scan the kernel console for reports and collect KUnit results.

    Only suites whose name starts with `kunit_prefix` (the module's) count
    towards the totals; a failure in any other suite (the kernel's own, run at
    boot) is still reported as a problem. Lines the module prints with
    "# migentry" (e.g. the differential summary) are echoed.
    """
    if lines is None:
        v.problem("console log missing")
        return
    suites = {}
    differentials = {}
    current = None
    for raw in lines:
        line = TIMESTAMP.sub("", raw.rstrip("\r"))
        what = console_report(line)
        if what:
            v.problem(f"console: {what}: {line.strip()}")
        m = KUNIT_SUBTEST.match(line)
        if m:
            current = m.group(1)
            suites[current] = {"pass": 0, "fail": 0, "skip": 0, "summary": None, "result": None}
            continue
        if "# migentry " in line:
            note = line[line.index("# migentry "):]
            v.notes.append(note)
            m = DIFFERENTIAL.match(note.rstrip())
            if m:
                differentials[m.group(1).strip() if m.group(1) else "pte"] = int(m.group(4))
        if current is None:
            continue
        m = KUNIT_CASE.match(line)
        if m:
            if "# SKIP" in m.group(3):
                suites[current]["skip"] += 1
            elif m.group(1) == "ok":
                suites[current]["pass"] += 1
            else:
                suites[current]["fail"] += 1
                v.problem(f"kunit {current}: {m.group(2)} failed")
            continue
        m = KUNIT_SUITE_SUMMARY.match(line)
        if m and m.group(1) in suites:
            suites[m.group(1)]["summary"] = tuple(int(x) for x in m.group(2, 3, 4))
            continue
        m = KUNIT_SUITE_RESULT.match(line)
        if m and m.group(2) in suites:
            suites[m.group(2)]["result"] = m.group(1)
            current = None
    for name, s in suites.items():
        counted = (s["pass"], s["fail"], s["skip"])
        if not name.startswith(kunit_prefix):
            if s["fail"] or s["result"] != "ok":
                v.problem(f"kunit {name} (not migentry's): {s['result'] or 'unfinished'}")
            continue
        if s["result"] is None:
            v.problem(f"kunit {name}: suite never finished")
            v.failed += 1
        elif s["summary"] is not None and s["summary"] != counted:
            v.problem(f"kunit {name}: summary {s['summary']} disagrees with cases {counted}")
            v.failed += 1
        v.passed += s["pass"]
        v.failed += s["fail"]
        v.skipped += s["skip"]
        v.notes.append(f"kunit {name}: pass:{s['pass']} fail:{s['fail']} skip:{s['skip']}")
    if any(name.startswith(kunit_prefix) for name in suites):
        check_differentials(differentials, v)


def check_differentials(found, v):
    """Each differential summary must be there, with 0 unexpected results.

    `found` maps a level ("pte", "pmd") to the unexpected count its summary
    line printed. The KUnit case asserts the same, but a case that stopped
    printing its line, or a line that reports a difference, must not pass
    unnoticed either.
    """
    for level in DIFFERENTIAL_LEVELS:
        what = "pmd differential" if level == "pmd" else "differential"
        if level not in found:
            v.problem(f"kunit: no '# migentry {what}: ...' summary line")
            v.failed += 1
        elif found[level] != 0:
            v.problem(f"kunit: # migentry {what}: {found[level]} unexpected")
            v.failed += 1


def unwrap_runner(lines, v):
    """The TAP of run_migentry.sh, from inside run_kselftest.sh's if that ran it.

    The runner prints its own plan and totals and one result line for the
    wrapper, and prefixes everything the wrapper printed with "# ".
    """
    outer = [m for m in (RUNNER_RESULT.match(l.rstrip("\r")) for l in lines) if m]
    if not outer:
        return lines
    for m in outer:
        print(f"run_kselftest.sh: {m.group(0)}")
        if m.group(1) != "ok" or "# SKIP" in m.group(3):
            v.problem(f"run_kselftest.sh: {m.group(0)}")
    return [l[2:] for l in lines if l.startswith("# ")]


def load_expected_skips(path):
    """[(binary, test, reason substring, why)] from a file of
    "binary test reason-substring | why" lines (# comments)."""
    out = []
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            head, _, why = line.partition("|")
            binary, test, reason = (head.strip().split(None, 2) + ["", ""])[:3]
            out.append((binary, test, reason.strip(), why.strip()))
    return out


def check_skips(lines, v, expected):
    """Each skipped harness test case must be an expected one; others fail."""
    binary = None
    seen = set()
    for raw in lines:
        line = raw.rstrip("\r")
        m = KSFT_BINARY.match(line)
        if m:
            binary = m.group(2)
            continue
        m = HARNESS_SKIP.match(line)
        if not m:
            continue
        test, msg = m.group(1), m.group(2).strip()
        hit = [e for e in expected if e[0] == binary and e[1] == test and e[2] in msg]
        if hit:
            seen.add(hit[0][:3])
            print(f"expected skip: {binary} {test}: {msg} ({hit[0][3]})")
        else:
            v.problem(f"unexpected skip: {binary} {test}: {msg}")
            v.skipped -= 1
            v.failed += 1
    for e in expected:
        if e[:3] not in seen:
            print(f"expected skip did not happen: {e[0]} {e[1]} ({e[3]})")


def check_results(lines, v):
    """Parse the kselftest wrapper's TAP and the harness binaries' totals."""
    plan = None
    results = []
    totals = []
    for raw in lines:
        line = raw.rstrip("\r")
        m = KSFT_PLAN.match(line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        m = KSFT_RESULT.match(line)
        if m:
            results.append((m.group(1), m.group(4), m.group(5)))
            continue
        m = KSFT_TOTALS.match(line)
        if m:
            totals.append(tuple(int(x) for x in m.groups()))
    if plan is None:
        v.problem("selftests: no TAP plan (the wrapper did not run)")
        v.failed += 1
        return
    if len(results) != plan:
        v.problem(f"selftests: plan says {plan} binaries, {len(results)} reported")
        v.failed += plan - len(results) if plan > len(results) else 1
    if len(totals) != len(results):
        v.problem(f"selftests: {len(results)} binaries but {len(totals)} '# Totals' lines (a binary died?)")
        v.failed += max(1, len(results) - len(totals))
    for npass, nfail, xfail, xpass, nskip, nerr in totals:
        v.passed += npass + xfail
        v.failed += nfail + xpass + nerr
        v.skipped += nskip
    for status, name, rest in results:
        if status == "not ok":
            v.problem(f"selftests: {name} {rest.strip()}")
        print(f"selftest {name}: {status}{rest}")


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--scan"]:
        # --scan CONSOLE_LOG...: only the console check, over several boots;
        # exit 1 if any log shows a report (or is missing).
        return 1 if scan_consoles(argv[1:]) else 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--console", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--qemu-exit", type=int, required=True)
    ap.add_argument("--mode", choices=["check", "run"], default="check")
    ap.add_argument("--expected-skips", metavar="FILE")
    ap.add_argument("--kunit-absent", metavar="REASON")
    args = ap.parse_args(argv)

    v = Verdict()
    if args.qemu_exit == 124 or args.qemu_exit == 137:
        v.problem("guest timed out")
    elif args.qemu_exit != GUEST_DONE_EXIT:
        v.problem(f"QEMU exit status {args.qemu_exit}, want {GUEST_DONE_EXIT} (isa-debug-exit from /init)")

    results = read_lines(args.results)
    if results is None:
        results = []
        v.problem("results log missing")
    if not any(DONE.match(l) for l in results):
        v.problem("guest log truncated: no 'migentry-guest: done' line")
    for line in results:
        if GUEST_PROBLEM.match(line):
            v.problem(line)

    check_console(read_lines(args.console), v)
    if args.kunit_absent:
        ran = [n for n in v.notes if n.startswith("kunit migentry")]
        if ran:
            v.problem(f"KUnit ran, but --kunit-absent says: {args.kunit_absent}")
        else:
            v.skipped += 1
            v.notes.append(f"kunit migentry_restore: skipped: {args.kunit_absent}")

    if args.mode == "run":
        status = None
        for line in results:
            m = VM_RUN_EXIT.match(line)
            if m:
                status = int(m.group(1))
            elif VM_RUN_PROBLEM.match(line):
                v.problem(line)
            elif not line.startswith("migentry-guest: "):
                print(line)
        for p in v.problems:
            print(f"vm-run: {p}", file=sys.stderr)
        if v.problems or status is None:
            return 1 if status in (None, 0) else status
        return status

    for note in v.notes:
        print(note)
    results = unwrap_runner(results, v)
    check_results(results, v)
    if args.expected_skips:
        check_skips(results, v, load_expected_skips(args.expected_skips))
    for p in v.problems:
        print(f"FAIL: {p}")
    if v.problems and v.failed == 0:
        v.failed = 1
    print(f"{v.passed} passed, {v.failed} failed, {v.skipped} skipped")
    return 0 if v.failed == 0 and not v.problems else 1


if __name__ == "__main__":
    sys.exit(main())
