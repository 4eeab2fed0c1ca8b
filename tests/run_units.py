#!/usr/bin/env python3
"""run_units.py - runs make unit-test's programs side by side and prints
their output whole, in the order given, so the log reads as if they had run
one after the other.

  run_units.py [-j N] COMMAND...

Each COMMAND is a shell command line (a C test binary, or a Python suite
with its environment). They are independent by construction: every suite
makes its own temporary directories and its agents listen on ephemeral
ports. Most of their time is spent waiting (an agent's timeouts, a traced
process), so running a few at once costs little CPU; N is 3 unless
OM_UNIT_JOBS says otherwise. A COMMAND starting with '!' runs alone, once
everything before it has ended: a suite that measures CPU use (the
balancer's tests) must not share the machine. The exit status is 1 when
any command failed (its output says which test), else 0.
"""
import os
import subprocess
import sys
import tempfile
import time


def running_cmds(argv, running):
    return [argv[i] for i in running]


def main(argv):
    jobs = int(os.environ.get("OM_UNIT_JOBS", "3"))
    if argv[:1] == ["-j"]:
        jobs, argv = int(argv[1]), argv[2:]
    pending = list(enumerate(argv))
    running = {}   # index -> Popen
    done = {}      # index -> (returncode, output)
    shown = 0
    while pending or running:
        while pending and len(running) < max(1, jobs):
            alone = pending[0][1].startswith("!")
            if running and (alone or any(c.startswith("!") for c in running_cmds(argv, running))):
                break
            i, cmd = pending.pop(0)
            cmd = cmd.lstrip("!")
            # A file, not a pipe: a chatty command never blocks on a full pipe.
            f = tempfile.TemporaryFile()
            running[i] = (subprocess.Popen(cmd, shell=True, stdout=f, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL), f)
        for i, (p, f) in list(running.items()):
            if p.poll() is None:
                continue
            f.seek(0)
            done[i] = (p.returncode, f.read())
            f.close()
            del running[i]
        # Whole outputs, in order, as soon as everything before them is out.
        while shown in done:
            sys.stdout.buffer.write(done[shown][1])
            sys.stdout.flush()
            shown += 1
        if running:
            time.sleep(0.05)
    failed = [argv[i].lstrip("!") for i, (rc, _) in sorted(done.items()) if rc != 0]
    for cmd in failed:
        print("run_units: failed: %s" % cmd)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
