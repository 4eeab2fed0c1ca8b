"""A running process moves from home to a node (docs/migration.md,
"Process trees"): one that came home for a call only home runs and then computes goes out
again, sent by the agent's balancer; one blocked in a read at home goes when om-migrate sends
it, and its read goes on there. Outputs are a native run's."""

import json
import os
import re
import signal
import subprocess
import time

from omtest import BUILD, check, children, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
OM_MIGRATE = os.path.join(BUILD, "om-migrate")
HOMEWORK = os.path.join(BUILD, "corpus", "static", "homework")
TIMEOUT = 120


def node_jobs(node):
    """[(job, pid, [lines])] from a node's console, in order of arrival."""
    out, seen = [], {}
    for m in re.finditer(r"^job (\d+): (.*)$", node.serial(), re.M):
        j = int(m.group(1))
        if j not in seen:
            seen[j] = []
            a = re.match(r"arrived \(pid (\d+)", m.group(2))
            out.append((j, int(a.group(1)) if a else 0, seen[j]))
        seen[j].append(m.group(2))
    return out


def test_home_process_goes_out_again():
    """homework burn: on the node, home for its clone, then it computes at
    home; after a few seconds of that the balancer sends it out again, and
    it ends there."""
    argv = [HOMEWORK, "burn", "2500"]
    native = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    with cluster() as c:
        node = c.boot(mem=256, extra=["-cpu", "max"])
        c.wait_registered(node)
        p = subprocess.run([OM_RUN, "-v", "--control", c.control] + argv, capture_output=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
        check(p.returncode == native.returncode == 0 and p.stdout == native.stdout,
              "om-run: %d %r, natively %r; stderr %r" % (p.returncode, p.stdout, native.stdout, p.stderr[-1500:]))
        jobs = node_jobs(node)
        check(len(jobs) == 2 and jobs[0][1] == jobs[1][1] and jobs[0][2][-1] == "image sent home" and
              jobs[1][2][-1] == "exited with status 0",
              "the process should have come home and gone out again: %r" % jobs)
        check(re.search(r"the balancer \(busy at home, node \d+ has a free core\) moves it from home",
                        c.agent_text()), "the balancer did not say it sent the process out")
        print("INFO a process that came home (for a clone) went out again when it computed, and ended on the node")


def test_migrate_from_home():
    """homework read, blocked in a read at home: om-migrate PID node N
    sends it there, where the read goes on with the next line."""
    with cluster() as c:
        nodes = [c.boot(mem=256, extra=["-cpu", "max"]) for _ in range(2)]
        for n in nodes:
            c.wait_registered(n)
        ids = [c.node_by_mac(n.mac)["id"] for n in nodes]
        p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, HOMEWORK, "read"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "homework did not start")
            p.stdin.write(b"one\n")
            p.stdin.flush()
            check(p.stdout.readline() == b"1: one\n", "first line")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "homework's pid")
            # the node it did not start on (it came home from there for its clone)
            k = 1 if node_jobs(nodes[0]) else 0
            target = ids[k]
            r = subprocess.run([OM_MIGRATE, "--control", c.control, str(pid), "node", str(target)],
                               capture_output=True, timeout=10)
            check(r.returncode == 0, "om-migrate: %r" % (r,))
            wait_for(lambda: len(node_jobs(nodes[k])) == 1, 20, "the process to reach node %d" % target)
            p.stdin.write(b"two\n")
            p.stdin.flush()
            check(p.stdout.readline() == b"2: two\n", "second line, from the node")
            p.stdin.close()
            p.stdin = None  # closed: communicate must not flush it
            out, err = p.communicate(timeout=TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 0 and out == b"", "om-run: %d %r %r" % (p.returncode, out, err[-1500:]))
        jobs = node_jobs(nodes[k])
        check(len(jobs) == 1 and jobs[0][1] == pid and jobs[0][2][-1] == "exited with status 0",
              "node %d: %r" % (target, jobs))
        check(b"it goes from home to node %d" % target in err, "-v did not say it: %r" % err[-1500:])
        print("INFO a process blocked in a read at home moved to node %d with om-migrate; its read went on there"
              % target)


def test_home_from_inside_the_vdso():
    """clockloop reads the clock through the vDSO nonstop: on a node its
    vDSO is a copy whose functions are syscall trampolines, so a move home
    nearly always stops it inside one, where home has the real vDSO's code.
    Brought home and sent out again six times, it must run on unharmed
    (before the fix it died of SIGSEGV on most returns)."""
    prog = os.path.join(BUILD, "corpus", "static", "clockloop")
    with cluster() as c:
        node = c.boot(mem=256, extra=["-cpu", "max"])
        c.wait_registered(node)
        nid = c.node_by_mac(node.mac)["id"]
        p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(nid), prog, "60"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "clockloop did not start")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "clockloop's pid")
            mig = [OM_MIGRATE, "--control", c.control, str(pid)]
            homes = 0
            for target in (["home"], ["node", str(nid)]) * 6:
                time.sleep(0.4)
                r = wait_for(lambda: (lambda r: r if "no such job" not in r.stderr else None)(
                    subprocess.run(mig + target, capture_output=True, text=True, timeout=10)), 10, "the record")
                check(r.returncode == 0, "om-migrate %s: %r" % (target, r.stderr))
                # The request is passed on at once; the move takes a moment.
                want = 0 if target == ["home"] else nid
                wait_for(lambda: any(j["pid"] == pid and j["node"] == want and j["state"] in ("running", "home")
                                     for j in json.loads(c.mon("--json").stdout)["jobs"]), 20,
                         "the move to %s" % " ".join(target))
                check(p.poll() is None, "clockloop died: %r" % p.returncode)
                homes += target == ["home"]
            os.kill(pid, signal.SIGTERM)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == -signal.SIGTERM, "clockloop ended with %d (not our SIGTERM): %r" % (p.returncode, err[-1500:]))
        check(err.count(b"running at home") == homes == 6, "came home %d times: %r" % (err.count(b"running at home"), err))
        print("INFO a process inside clock_gettime came home from a node and went out again 6 times, unharmed")


def test_home_in_a_handler_from_inside_the_vdso():
    """A timer's signal that the node delivers as clockloop reads the clock
    (in its vDSO trampoline) saves that place in the handler's frame; the
    process comes home while the handler runs, and the handler returns at
    home, where the real vDSO's code is at that address. The node saves the
    same place outside the trampoline instead (a CI run died of SIGSEGV
    there: memcheck in test_smp)."""
    prog = os.path.join(BUILD, "corpus", "static", "clockloop")
    with cluster() as c:
        node = c.boot(mem=256, extra=["-cpu", "max"])
        c.wait_registered(node)
        nid = c.node_by_mac(node.mac)["id"]
        p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(nid), prog, "8", "caught"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "clockloop did not start")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "clockloop's pid")
            wait_for(lambda: "arrived (pid %d," % pid in node.serial(), 20, "clockloop on the node")
            check(p.stdout.readline() == b"in the handler\n", "no signal came during a clock read")
            r = subprocess.run([OM_MIGRATE, "--control", c.control, str(pid), "home"], capture_output=True,
                               text=True, timeout=10)
            check(r.returncode == 0, "om-migrate home: %r" % r.stderr)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 0 and out == b"clock ok\n" and b"running at home" in err,
              "clockloop: %d %r %r" % (p.returncode, out, err[-1500:]))
        print("INFO a handler interrupting a clock read on the node returned at home, unharmed")
