"""A running job moves from node to node (om-migrate PID node N) while it
checks its own memory, with an interval timer ticking and vector
registers in use (openMosix's migtorture): the moves change nothing, and
the program's output and status are those of a native run. Both ways a
job goes from node to node: through the agent (the default) and through
home (agent.conf node_moves = home)."""

import os
import re
import subprocess
import tempfile
import time

from omtest import BUILD, check, children, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
OM_MIGRATE = os.path.join(BUILD, "om-migrate")


def on_first_of_two(c, prog):
    """Two nodes up, and om-run -v of prog on the first: (nodes, ids, om-run)."""
    nodes = [c.boot(mem=512, extra=["-cpu", "max"]) for _ in range(2)]
    for n in nodes:
        c.wait_registered(n)
    ids = [c.node_by_mac(n.mac)["id"] for n in nodes]
    p = subprocess.Popen([OM_RUN, "-v", "--node", str(ids[0]), "--control", c.control] + prog,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return nodes, ids, p


def migtorture(moves, how, seconds):
    prog = [os.path.join(BUILD, "corpus", "static", "memcheck"), str(seconds), "24"]
    native = subprocess.run(prog, capture_output=True, timeout=120)
    check(native.returncode == 0 and b"words wrong: 0," in native.stdout, "natively: %r" % (native,))
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", prefix="om-agent-")
    conf.write("node_moves = %s\n" % how)
    conf.flush()
    with conf, cluster("--config", conf.name) as c:
        nodes, ids, p = on_first_of_two(c, prog)
        try:
            check(p.stdout.readline() == b"ready\n", "the program did not start")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "om-run's child")
            for k in range(moves):
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
        said = b"moved from node" if how == "relay" else b"moves from node"
        check(err.count(said) == moves, "om-run -v did not say every move: %r" % err)
        left = r"moving to another node" if how == "relay" else r"going home \(requested\)"
        homes = sum(len(re.findall(left, n.serial())) for n in nodes)
        check(homes == moves, "%d moves left a node, expected %d" % (homes, moves))
        print("INFO memcheck moved %d times between two nodes (through %s) while running: memory, timers and "
              "output intact" % (moves, "the agent" if how == "relay" else "home"))


def test_migrate_between_nodes():
    migtorture(6, "relay", 28)  # six moves of ~25 MB, up to ~3 s each under load: time to spare


def test_migrate_between_nodes_through_home():
    migtorture(3, "home", 16)


def test_move_target_lost():
    """The node a job moves to dies while the image streams to it: the job
    goes on where it was (the node that sent it kept it, stopped, until
    the agent's word), and ends as natively."""
    prog = [os.path.join(BUILD, "corpus", "static", "memcheck"), "14", "160"]
    native = subprocess.run(prog, capture_output=True, timeout=120)
    check(native.returncode == 0 and b"words wrong: 0," in native.stdout, "natively: %r" % (native,))
    with cluster() as c:
        nodes, ids, p = on_first_of_two(c, prog)
        try:
            check(p.stdout.readline() == b"ready\n", "the program did not start")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "om-run's child")
            time.sleep(1)
            r = subprocess.run([OM_MIGRATE, "--control", c.control, str(pid), "node", str(ids[1])],
                               capture_output=True, timeout=10)
            check(r.returncode == 0, "om-migrate: %r" % (r,))
            wait_for(lambda: "moving to another node" in nodes[0].serial(), 10, "the move to begin")
            time.sleep(0.3)
            nodes[1].kill()
            wait_for(lambda: "its move failed; it goes on here" in nodes[0].serial(), 20,
                     "the job to go on where it was:\n" + c.agent_text()[-1500:])
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == native.returncode and b"ready\n" + out == native.stdout,
              "om-run: %d %r, natively %r; stderr %r" % (p.returncode, out, native.stdout, err[-800:]))
        check(b"moved from node" not in err, "om-run says the job moved: %r" % err)
        check(re.search(r"its move from node %d to node %d failed \(the node it went to was lost\)" %
                        (ids[0], ids[1]), c.agent_text()), "the agent did not say why the move failed")
        print("INFO a move whose target died while the image streamed left the job running where it was")
