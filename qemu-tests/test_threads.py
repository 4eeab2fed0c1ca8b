"""Threaded programs nobody here wrote, on a node with two cores
(docs/migration.md, "Threads on a node"): Debian's xz compressing with
four threads, Python's ThreadPoolExecutor, an OpenMP loop (libgomp). Each
runs on the node from start to end, output and status as a native run."""

import os
import re
import subprocess
import tempfile

from omtest import BUILD, check, cluster, wait_for

POOL = r"""
import hashlib
from concurrent.futures import ThreadPoolExecutor

def work(i):
    h = hashlib.sha256(str(i).encode())
    for _ in range(2000):
        h = hashlib.sha256(h.digest())
    return i, h.hexdigest()[:12]

with ThreadPoolExecutor(max_workers=4) as ex:
    for i, d in ex.map(work, range(16)):
        print(i, d)
"""


def cases(d):
    return [
        ("xz -T4", ["/usr/bin/xz", "-T4", "--block-size=65536", "-6", "-c", os.path.join(d, "data")]),
        ("python3 ThreadPoolExecutor", ["/usr/bin/python3", "-c", POOL]),
        ("OpenMP", [os.path.join(BUILD, "tests", "progs", "omp-sum")]),
    ]


def test_threaded_programs_on_node():
    with cluster() as c, tempfile.TemporaryDirectory(prefix="om-threads-") as d:
        with open(os.path.join(d, "data"), "wb") as f:
            for i in range(40000):
                f.write(b"%d %s\n" % ((i * 7919) % 40009, b"abcdefgh"[: i % 8] * (i % 5)))
        n = c.boot(mem=1024, extra=["-cpu", "max", "-smp", "2"])
        c.wait_registered(n)
        env = dict(os.environ, LC_ALL="C.UTF-8")
        ran = []
        for name, argv in cases(d):
            check(os.path.exists(argv[0]), "%s missing (make setup, make)" % argv[0])
            native = subprocess.run(argv, capture_output=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
            check(native.returncode == 0, "%s natively: %r" % (name, native.stderr[-500:]))
            before = n.serial().count("exited with status")
            om = subprocess.run([os.path.join(BUILD, "om-run"), "--control", c.control] + argv,
                                capture_output=True, timeout=240, env=env, stdin=subprocess.DEVNULL)
            check((om.returncode, om.stdout, om.stderr) == (native.returncode, native.stdout, native.stderr),
                  "%s: %d %r %r, natively %d (%d bytes)\n%s" % (name, om.returncode, om.stdout[:200],
                                                                 om.stderr[-500:], native.returncode,
                                                                 len(native.stdout), n.serial()[-1500:]))
            wait_for(lambda: n.serial().count("exited with status") > before, 10, "%s to end on the node" % name)
            ran.append(name)
        check(not re.search(r"going home", n.serial()), "a program came home:\n" + n.serial()[-1500:])
        print("INFO on a 2-core node from start to end, output as natively: %s" % ", ".join(ran))
