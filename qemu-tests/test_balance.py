"""The agent's balancer (om-agent(8), "Balancing"): two programs computing
on one node while another node idles are spread by the agent itself, and
their outputs are a native run's."""

import os
import re
import subprocess
import time

from omtest import BUILD, check, children, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
OM_MIGRATE = os.path.join(BUILD, "om-migrate")
BURN = os.path.join(BUILD, "corpus", "static", "burn")
TIMEOUT = 180


def arrivals(node):
    return re.findall(r"^job (\d+): arrived", node.serial(), re.M)


def exits(node):
    return re.findall(r"^job \d+: exited with status 0", node.serial(), re.M)


def test_balancer_spreads_crowded_node():
    """burn a and burn b start on two nodes; om-migrate puts b on a's node;
    within a few seconds the balancer moves one of them to the idle node
    (logged with the loads), and each ends on its own node."""
    argvs = [[BURN, x, "2500"] for x in "ab"]
    natives = [subprocess.run(a, capture_output=True, timeout=TIMEOUT) for a in argvs]
    with cluster() as c:
        # Equal speeds: measured ones vary by half under TCG while two nodes
        # boot, and the balancer rightly keeps a burn off a slower node.
        nodes = [c.boot(mem=256, extra=["-cpu", "max"], speed=100)
                 for _ in range(2)]
        for n in nodes:
            c.wait_registered(n)
        ids = [c.node_by_mac(n.mac)["id"] for n in nodes]
        procs = []
        try:
            for k, argv in enumerate(argvs):
                procs.append(subprocess.Popen([OM_RUN, "-v", "--control", c.control] + argv,
                                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE))
                wait_for(lambda: sum(len(arrivals(n)) for n in nodes) == k + 1, 30, "burn %d to arrive" % k)
                if k == 0:
                    crowded = 0 if arrivals(nodes[0]) else 1
            check(len(arrivals(nodes[1 - crowded])) == 1, "burn b did not start on the other node")
            pid_b = wait_for(lambda: (children(procs[1].pid) or [None])[0], 5, "burn b's pid")
            r = subprocess.run([OM_MIGRATE, "--control", c.control, str(pid_b), "node", str(ids[crowded])],
                               capture_output=True, timeout=10)
            check(r.returncode == 0, "om-migrate: %r" % (r,))
            line = wait_for(lambda: re.search(r"the balancer \(load node (\d+) ([\d.]+) > 1\.30 x node (\d+) "
                                              r"([\d.]+)\) moves it from node \d+ to node (\d+)", c.agent_text()),
                            60, "the balancer to move a burn")
            outs = [p.communicate(timeout=TIMEOUT) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for p, (out, err), native in zip(procs, outs, natives):
            check(p.returncode == native.returncode == 0 and out == native.stdout,
                  "om-run: %d %r, natively %r; stderr %r" % (p.returncode, out, native.stdout, err[-1500:]))
        check(int(line.group(1)) == ids[crowded] and int(line.group(3)) == ids[1 - crowded] and
              int(line.group(5)) == ids[1 - crowded] and line.group(2) == "2.00" and
              1.0 <= float(line.group(4)) < 2.0 / 1.3,
              "balancer line: %r" % line.group(0))
        moves = re.findall(r"the balancer", c.agent_text())
        check(len(moves) == 1, "the balancer moved %d times, expected once: %r" % (len(moves), moves))
        check(len(exits(nodes[0])) == 1 and len(exits(nodes[1])) == 1,
              "the burns did not end one on each node: %r %r" % (exits(nodes[0]), exits(nodes[1])))
        print("INFO two burns crowded on node %d by om-migrate: the balancer moved one to node %d; "
              "outputs as native" % (ids[crowded], ids[1 - crowded]))
