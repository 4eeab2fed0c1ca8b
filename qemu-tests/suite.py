#!/usr/bin/env python3
"""suite.py - runs the whole test suite: the host unit tests (make unit-test)
then every qemu-tests/test_*.py function named test_*. Each QEMU test runs in
its own process group with a time limit, so nothing it started outlives it.
Prints PASS/FAIL per test and closes with 'N passed, N failed'.

  suite.py                 everything
  suite.py --qemu-only     skip the unit tests
  suite.py -k PATTERN      only tests whose name contains PATTERN
"""

import argparse
import importlib
import os
import re
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEST_TIMEOUT = 240


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


def run_qemu_test(spec):
    start = time.monotonic()
    p = subprocess.Popen([sys.executable, __file__, "--one", spec], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out = b""
        out = (out or b"") + b"\nreason: killed after %d s\n" % TEST_TIMEOUT
    finally:
        # Anything left in the group (a QEMU the test lost track of) dies too.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()
    return p.returncode == 0, out.decode("utf-8", "replace"), time.monotonic() - start


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
    a = ap.parse_args()
    if a.one:
        run_one(a.one)
    passed = failed = 0
    t0 = time.monotonic()
    if not a.qemu_only and not a.k:
        passed, failed = run_unit()
    for spec in discover():
        if a.k not in spec:
            continue
        ok, out, secs = run_qemu_test(spec)
        name = spec.replace(":", ".")
        if ok:
            passed += 1
            for line in out.splitlines():
                if line.startswith("INFO "):
                    print(line)
            print("PASS %s (%.1f s)" % (name, secs))
        else:
            failed += 1
            print(out.rstrip())
            reason = re.findall(r"^reason: (.*)$", out, re.M)
            print("FAIL %s: %s" % (name, reason[-1] if reason else "see output above"))
    print("suite: %.0f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
