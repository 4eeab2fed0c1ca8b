#!/usr/bin/env python3
"""demo.py - what `make demo` shows: an om-agent on loopback, two QEMU nodes
(virtio-net and e1000) that boot the node image and register, then om-mon.
Everything it starts is stopped by pid before it exits."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from omtest import ACCEL, BUILD, Cluster, TestFailure  # noqa: E402


def main():
    c = Cluster()
    try:
        print("demo: om-agent listening on 127.0.0.1:%d, control %s" % (c.port, c.control))
        t0 = time.monotonic()
        a = c.boot("virtio-net-pci", mem=512, extra=["-cpu", "max"])
        b = c.boot("e1000", mem=512, extra=["-cpu", "max"])
        print("demo: booting two QEMU nodes (TCG): %s on virtio-net, %s on e1000" % (a.mac, b.mac))
        for n in (a, b):
            c.wait_registered(n)
            print("demo: %s registered after %.1f s" % (n.name, time.monotonic() - t0))
        print("\n$ om-mon")
        print(c.mon().stdout)
        job = [os.path.join(BUILD, "demo-primes"), "3000000"]
        print("$ om-run -v %s %s" % (os.path.relpath(job[0]), job[1]))
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(BUILD, "om-run"), "-v", "--control", c.control] + job,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        remote = time.monotonic() - t0
        print(r.stderr + r.stdout, end="")
        t0 = time.monotonic()
        subprocess.run(job, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
        home = time.monotonic() - t0
        print("demo: %.1f s on the node (QEMU, %s) vs %.1f s natively at home" % (remote, ACCEL, home))
        print("--- node1 console (serial) ---")
        print(a.serial().split("om 0.1 node kernel", 1)[-1].strip()[:2000])
        return 0
    except TestFailure as e:
        print("demo failed: %s" % e)
        print(c.diagnostics())
        return 1
    finally:
        c.close()
        print("\ndemo: stopped the agent and both nodes")


if __name__ == "__main__":
    sys.exit(main())
