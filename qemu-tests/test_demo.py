"""make demo's script (qemu-tests/demo.py) runs to the end: its job tree
spreads over the nodes, the balancer acts, the outputs match a native run.
A demo that silently broke would be the first thing a new user sees."""

import os
import subprocess
import sys

from omtest import BUILD, check

HERE = os.path.dirname(os.path.abspath(__file__))


def failure_part(out):
    """What says why the demo failed: its own line and the agent's log
    (the nodes' consoles after them are long), and the end."""
    at = out.find("demo failed")
    end = out.find("--- node1 serial")
    head = out[at:end if end > at else at + 6000][:6000] if at >= 0 else ""
    return head + "\n[...]\n" + out[-1500:]


def test_demo():
    check(os.access(os.path.join(BUILD, "demo-primes"), os.X_OK), "build/demo-primes is not built")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "demo.py")], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=180)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, "demo.py exited %d:\n%s" % (p.returncode, failure_part(out)))
    for want in ("demo: the shell runs on a node and forks its children there",
                 "om-agent: job ", "the balancer (load node", "  balancer  \\_ ",
                 "the same counts: yes", "demo: stopped the agent and the nodes"):
        check(want in out, "demo output lacks %r:\n%s" % (want, out[-3000:]))
    print("INFO " + [l for l in out.splitlines() if l.startswith("demo: om-run took")][0][len("demo: "):])
