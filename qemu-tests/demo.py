#!/usr/bin/env python3
"""demo.py - what `make demo` shows: the point of a cluster, in under a
minute. An om-agent on loopback and three QEMU nodes (virtio-net, e1000,
e1000e) boot the node image and register; one om-run starts a shell that
starts three CPU-bound programs; they spread over the nodes; om-migrate
crowds two onto one node and the agent's balancer spreads them again;
om-mon shows the tree at each step; --stats says where the CPU time went.
Everything it starts is stopped by pid before it exits."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from omtest import ACCEL, BUILD, Cluster, TestFailure, wait_for  # noqa: E402

PRIMES = os.path.join(BUILD, "demo-primes")
SIZES = ["8000000", "8500000", "9000000"]


def show(c, *args):
    print("$ om-mon " + " ".join(args))
    print(c.mon(*args).stdout)


def jobs(c):
    return json.loads(c.mon("--json").stdout)["jobs"]


def running_primes(c):
    return [j for j in jobs(c) if j["command"].startswith(os.path.relpath(PRIMES)) and j["node"] and
            j["state"] == "running"]


def main():
    c = Cluster()
    run = None
    try:
        print("demo: om-agent listening on 127.0.0.1:%d, control %s" % (c.port, c.control))
        t0 = time.monotonic()
        nodes = [c.boot(nic, mem=256, extra=["-cpu", "max"], speed=100)
                 for nic in ("virtio-net-pci", "e1000", "e1000e")]
        print("demo: booting three QEMU nodes (%s): virtio-net, e1000, e1000e" % ACCEL)
        for n in nodes:
            c.wait_registered(n)
        print("demo: all registered %.1f s after start\n" % (time.monotonic() - t0))
        show(c)

        script = " ".join("%s %s &" % (os.path.relpath(PRIMES), n) for n in SIZES) + " wait"
        stats = os.path.join(c.dir, "stats.json")
        print("$ om-run --stats stats.json sh -c '%s'\n" % script)
        t_run = time.monotonic()
        run = subprocess.Popen([os.path.join(BUILD, "om-run"), "--control", c.control, "--stats", stats,
                                "/bin/sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        wait_for(lambda: len(running_primes(c)) == 3, 30, "three programs running on nodes")
        print("demo: the shell runs on a node and forks its children there; each child's exec ran at home as a call, "
              "and the three programs run on the three nodes")
        show(c, "--jobs")

        spread = running_primes(c)
        crowd, target = spread[0], spread[1]
        print("$ om-migrate %d node %d        # crowd two programs onto one node" % (crowd["pid"], target["node"]))
        r = subprocess.run([os.path.join(BUILD, "om-migrate"), "--control", c.control, str(crowd["pid"]), "node",
                            str(target["node"])], capture_output=True, text=True, timeout=10)
        print(r.stdout + r.stderr)
        wait_for(lambda: any(j["pid"] == crowd["pid"] and j["node"] == target["node"] and j["state"] == "running"
                             for j in jobs(c)), 20, "the moved program to run on its new node")
        show(c, "--jobs")
        print("demo: the balancer sees node %d with two programs and node %d idle ..." %
              (target["node"], crowd["node"]))
        line = wait_for(lambda: re.search(r"job \d+: the balancer \(.*", c.agent_text()), 30, "the balancer")
        print("om-agent: " + line.group(0))
        wait_for(lambda: any(j["why"] == "balancer" and j["state"] == "running" for j in jobs(c)), 20,
                 "the balanced program to run")
        show(c, "--jobs")

        out, err = run.communicate(timeout=120)
        secs = time.monotonic() - t_run
        print("$ # the programs' output, as a local run would print it")
        print(out, end="")
        with open(stats) as f:
            st = json.load(f)
        print("\ndemo: om-run took %.1f s (%s); --stats: %d processes, %d migrations, %.1f CPU s on nodes, "
              "%.2f at home" % (secs, ACCEL, st["processes"], st["migrations"], st["node_cpu_s"], st["home_cpu_s"]))
        for p in st["list"]:
            print("  pid %-7d %-40s %s" % (p["pid"], p["command"][:40], " -> ".join(x["where"] for x in p["ran"])))
        t0 = time.monotonic()
        native = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=120)
        same = sorted(re.sub(r"pid \d+", "", x) for x in native.stdout.splitlines()) == \
            sorted(re.sub(r"pid \d+", "", x) for x in out.splitlines())
        print("demo: natively on this host's cores: %.1f s, the same counts: %s (nodes under TCG are slower than "
              "the host; real lab PCs run at native speed)" % (time.monotonic() - t0, "yes" if same else "NO"))
        return 0 if run.returncode == 0 and same else 1
    except TestFailure as e:
        print("demo failed: %s" % e)
        print(c.diagnostics())
        return 1
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        c.close()
        print("\ndemo: stopped the agent and the nodes")


if __name__ == "__main__":
    sys.exit(main())
