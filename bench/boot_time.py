#!/usr/bin/env python3
"""boot_time.py - QEMU start to registered node, and how much of it passes
before kernel_main, for each NIC model. Same accelerator as the tests (TCG
unless OM_ACCEL=kvm). Prints a table and writes bench/results/boot.csv.

  python3 bench/boot_time.py [RUNS]
"""

import csv
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "qemu-tests"))
from omtest import ACCEL, Cluster  # noqa: E402

MARKS = [("firmware", "SeaBIOS"), ("kernel_main", "node kernel ("),
         ("nic up", "net: "), ("address", "net: dhcp bound"),
         ("registered", "agent: registered")]


def one_boot(c, nic, mem=128, extra=()):
    """Seconds from QEMU start to each of MARKS on a node's console."""
    n = c.boot(nic, mem=mem, extra=list(extra))
    seen = {}
    deadline = time.monotonic() + 120
    while len(seen) < len(MARKS) and time.monotonic() < deadline:
        con = n.serial()
        now = time.monotonic() - n.started
        for name, text in MARKS:
            if name not in seen and text in con:
                seen[name] = now
        time.sleep(0.01)
    n.kill()
    return seen


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rows = []
    c = Cluster()
    try:
        for nic in ("virtio-net-pci", "e1000", "e1000e"):
            samples = [one_boot(c, nic) for _ in range(runs)]
            med = {name: statistics.median(s.get(name, float("nan")) for s in samples)
                   for name, _ in MARKS}
            rows.append((nic, med))
    finally:
        c.close()
    print("QEMU start to each console line, median of %d runs, accel %s (seconds)" % (runs, ACCEL))
    print("%-16s" % "nic" + "".join("%13s" % name for name, _ in MARKS))
    for nic, med in rows:
        print("%-16s" % nic + "".join("%13.2f" % med[name] for name, _ in MARKS))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "boot.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["nic", "accel", "runs"] + [name for name, _ in MARKS])
        for nic, med in rows:
            w.writerow([nic, ACCEL, runs] + ["%.3f" % med[name] for name, _ in MARKS])


if __name__ == "__main__":
    main()
