"""A running job moves from node to node (om-migrate PID node N, through
home) while it checks its own memory, with an interval timer ticking and
vector registers in use (openMosix's migtorture): the moves change
nothing, and the program's output and status are those of a native run."""

import os
import re
import subprocess
import time

from omtest import BUILD, check, children, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
OM_MIGRATE = os.path.join(BUILD, "om-migrate")
MOVES = 10


def test_migrate_between_nodes():
    prog = [os.path.join(BUILD, "corpus", "static", "memcheck"), "30", "24"]
    native = subprocess.run(prog, capture_output=True, timeout=120)
    check(native.returncode == 0 and b"words wrong: 0," in native.stdout, "natively: %r" % (native,))
    with cluster() as c:
        nodes = [c.boot(mem=512, extra=["-cpu", "max"]) for _ in range(2)]
        for n in nodes:
            c.wait_registered(n)
        ids = [c.node_by_mac(n.mac)["id"] for n in nodes]
        p = subprocess.Popen([OM_RUN, "-v", "--node", str(ids[0]), "--control", c.control] + prog,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "the program did not start")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "om-run's child")
            for k in range(MOVES):
                src, dst = nodes[k % 2], nodes[(k + 1) % 2]
                arrived = len(re.findall(r"^job \d+: arrived", dst.serial(), re.M))
                r = subprocess.run([OM_MIGRATE, "--control", c.control, str(pid), "node", str(ids[(k + 1) % 2])],
                                   capture_output=True, timeout=10)
                check(r.returncode == 0, "om-migrate %d: %r" % (k, r))
                wait_for(lambda: len(re.findall(r"^job \d+: arrived", dst.serial(), re.M)) > arrived, 30,
                         "move %d to reach its node" % (k + 1))
                time.sleep(1)
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == native.returncode and b"ready\n" + out == native.stdout,
              "om-run: %d %r, natively %r; stderr %r" % (p.returncode, out, native.stdout, err[-800:]))
        check(err.count(b"moves from node") == MOVES, "om-run -v did not say every move: %r" % err)
        homes = sum(len(re.findall(r"going home \(requested\)", n.serial())) for n in nodes)
        check(homes == MOVES, "%d moves left a node, expected %d" % (homes, MOVES))
        print("INFO memcheck moved %d times between two nodes while running: memory, timers and output intact"
              % MOVES)
