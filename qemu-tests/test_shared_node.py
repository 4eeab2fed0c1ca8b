"""Several jobs on one node at once, time-shared on its one core: programs
that compute, that forward I/O, that take timer signals, one that forks
there (its child runs there too), and one that comes home for a clone
with timers and live FPU state while the others run on, each with output
and status equal to its native run."""

import os
import re
import subprocess
import time

from omtest import BUILD, check, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
ARRIVED = re.compile(r"^job (\d+): arrived", re.M)


def cases():
    d = os.path.join(BUILD, "corpus", "static")
    text = b"".join(b"line %d of the echo\n" % i for i in range(2000))
    return [([d + "/spin", "3"], None), ([d + "/spin", "2"], None), ([d + "/stdin_echo"], text),
            ([os.path.join(BUILD, "corpus", "musl", "itimers")], None), ([d + "/sigqueue"], None),
            ([d + "/exitcode", "42"], None), ([d + "/fork"], None), ([d + "/home_state"], None)]


HOME = 1  # home_state comes home for its clone
FORKED = 1  # fork's child is a job on the node too


def test_jobs_share_a_node():
    with cluster() as c:
        n = c.boot(mem=1024, extra=["-cpu", "max"])
        c.wait_registered(n)
        node_id = c.node_by_mac(n.mac)["id"]
        native = [subprocess.run(argv, input=data, capture_output=True, timeout=60) for argv, data in cases()]
        procs = []
        try:
            for argv, data in cases():
                p = subprocess.Popen([OM_RUN, "--node", str(node_id), "--control", c.control] + argv,
                                     stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                procs.append(p)
            # all of them on the node at once
            peak = wait_for(lambda: (lambda k: k if k >= len(procs) else 0)(c.node_by_mac(n.mac)["jobs"]), 30,
                            "every job on the node at once", interval=0.05)
            results = []
            for p, (argv, data) in zip(procs, cases()):
                out, err = p.communicate(data, timeout=120)
                results.append((p.returncode, out, err))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for (argv, _), nat, got in zip(cases(), native, results):
            what = " ".join(os.path.basename(a) for a in argv)
            check(got == (nat.returncode, nat.stdout, nat.stderr),
                  "%s: om-run %r, natively %r" % (what, got[:1] + (got[1][-300:], got[2][-300:]),
                                                   (nat.returncode, nat.stdout[-300:], nat.stderr[-300:])))
        wait_for(lambda: len(re.findall(r"^job \d+: (exited|killed)", n.serial(), re.M)) ==
                 len(procs) - HOME + FORKED, 10, "the node to end every job that stays")
        check(len(ARRIVED.findall(n.serial())) == len(procs) + FORKED,
              "jobs on the node: %r" % ARRIVED.findall(n.serial()))
        check(len(re.findall(r"^job \d+: going home \(clone\)$", n.serial(), re.M)) == HOME,
              "not the clone that came home:\n" + n.serial()[-1500:])
        print("INFO %d jobs ran on one node at once (%d at the peak), each as natively" % (len(procs), peak))
