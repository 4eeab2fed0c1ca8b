#!/usr/bin/env python3
"""suite.py - runs the whole test suite: the host unit tests (make unit-test)
then every qemu-tests/test_*.py function named test_*. Each QEMU test runs in
its own process group with a time limit, so nothing it started outlives it.
Prints PASS/FAIL per test and closes with 'N passed, N failed'.

QEMU tests run two at a time (-j): most of a test is waiting (a boot, a
timeout), and one after the other they took 17 minutes on 2 cores. Those
that measure CPU time or speed, or need heartbeats on time, run alone,
first; those that run make install never run together.

  suite.py                 everything
  suite.py --qemu-only     skip the unit tests
  suite.py -k PATTERN      only tests whose name contains PATTERN
  suite.py -j N            N QEMU tests at a time (default 2; 1: in order)
"""

import argparse
import importlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEST_TIMEOUT = 240
# Modules whose tests run with nothing else: they measure CPU time and
# speed (the balancer, the benchmarks, SMP), or need heartbeats on time.
ALONE = {"test_balance", "test_bench_smoke", "test_liveness", "test_make", "test_real_programs",
         "test_smp"}
# Modules whose tests run make install from the tree: one at a time.
MAKES = {"test_install", "test_ltsp", "test_owner", "test_pxe"}


def discover():
    sys.path.insert(0, HERE)
    tests = []
    for f in sorted(os.listdir(HERE)):
        if f.startswith("test_") and f.endswith(".py"):
            mod = importlib.import_module(f[:-3])
            for name in sorted(dir(mod)):
                if name.startswith("test_") and callable(getattr(mod, name)):
                    tests.append("%s:%s" % (f[:-3], name))
    return tests


def run_one(spec):
    """Child side: runs one test; exit 0 on pass. SIGTERM becomes an
    exception so the test's cleanup (kill by pid) still runs."""
    sys.path.insert(0, HERE)

    def on_term(signum, frame):
        raise KeyboardInterrupt("test timed out")
    signal.signal(signal.SIGTERM, on_term)
    mod, name = spec.split(":")
    try:
        getattr(importlib.import_module(mod), name)()
    except BaseException as e:  # report everything, including the timeout
        if not isinstance(e, AssertionError) and type(e).__name__ != "TestFailure":
            traceback.print_exc()
        print("reason: %s" % e)
        sys.exit(1)
    sys.exit(0)


class Running:
    """One QEMU test in its own process group, its output in a file (a
    pipe could fill while the suite waits on another test)."""

    def __init__(self, spec):
        self.spec, self.start = spec, time.monotonic()
        self.out = tempfile.TemporaryFile()
        self.p = subprocess.Popen([sys.executable, __file__, "--one", spec], cwd=ROOT,
                                  stdout=self.out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        self.timed_out = False

    def poll(self):
        """None while it runs; then (passed, output, seconds)."""
        if self.p.poll() is None:
            if time.monotonic() - self.start < TEST_TIMEOUT:
                return None
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.timed_out = True
        # Anything left in the group (a QEMU the test lost track of) dies too.
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()
        self.out.seek(0)
        out = self.out.read().decode("utf-8", "replace")
        self.out.close()
        if self.timed_out:
            out += "\nreason: killed after %d s\n" % TEST_TIMEOUT
        return self.p.returncode == 0 and not self.timed_out, out, time.monotonic() - self.start


def module(spec):
    return spec.split(":")[0]


def may_start(spec, running, jobs):
    if len(running) >= jobs:
        return False
    if module(spec) in ALONE:
        return not running
    if any(module(r.spec) in ALONE for r in running):
        return False
    return module(spec) not in MAKES or not any(module(r.spec) in MAKES for r in running)


def run_qemu_tests(specs, jobs, report):
    """Runs specs, ALONE ones first, at most jobs at a time; report(spec,
    passed, output, seconds) as each ends, in the order they end."""
    waiting = [s for s in specs if module(s) in ALONE] + [s for s in specs if module(s) not in ALONE]
    running = []
    while waiting or running:
        for s in list(waiting):
            if may_start(s, running, jobs):
                waiting.remove(s)
                running.append(Running(s))
        time.sleep(0.2)
        for r in list(running):
            res = r.poll()
            if res is not None:
                running.remove(r)
                report(r.spec, *res)


def run_unit():
    r = subprocess.run(["make", "-s", "--no-print-directory", "unit-test"], cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    passed = failed = 0
    for line in r.stdout.splitlines():
        print(line)
        if line.startswith("PASS "):
            passed += 1
        elif line.startswith("FAIL "):
            failed += 1
    if r.returncode != 0 and failed == 0:
        print(r.stderr)
        print("FAIL unit-test: make unit-test exited %d" % r.returncode)
        failed += 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--one")
    ap.add_argument("--qemu-only", action="store_true")
    ap.add_argument("-k", default="")
    ap.add_argument("-j", type=int, default=int(os.environ.get("OM_TEST_JOBS", "2")))
    a = ap.parse_args()
    if a.one:
        run_one(a.one)
    passed = failed = 0
    t0 = time.monotonic()
    if not a.qemu_only and not a.k:
        passed, failed = run_unit()
    counts = [passed, failed]

    def report(spec, ok, out, secs):
        name = spec.replace(":", ".")
        if ok:
            counts[0] += 1
            for line in out.splitlines():
                if line.startswith("INFO "):
                    print(line)
            print("PASS %s (%.1f s)" % (name, secs), flush=True)
        else:
            counts[1] += 1
            print(out.rstrip())
            reason = re.findall(r"^reason: (.*)$", out, re.M)
            print("FAIL %s: %s" % (name, reason[-1] if reason else "see output above"), flush=True)
    run_qemu_tests([s for s in discover() if a.k in s], max(1, a.j), report)
    passed, failed = counts
    print("suite: %.0f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
