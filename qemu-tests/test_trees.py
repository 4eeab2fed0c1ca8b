"""Process trees (docs/migration.md, "Process trees"): every process a
program starts is a job, placed when it execs. A shell's background jobs
spread over the nodes and run there at once; a parent's wait4 sees its
child on a node stop, continue and die as natively; a pipeline of Debian's
dynamic programs gives the same bytes with its members on nodes."""

import json
import os
import random
import re
import subprocess
import threading
import time

from omtest import BUILD, check, cluster

OM_RUN = os.path.join(BUILD, "om-run")
OM_MON = os.path.join(BUILD, "om-mon")
CORPUS = os.path.join(BUILD, "corpus", "static")
TIMEOUT = 240


def jobs_now(c):
    r = subprocess.run([OM_MON, "--control", c.control, "--json"], capture_output=True, timeout=10)
    return json.loads(r.stdout)["jobs"] if r.returncode == 0 else []


class PeakJobs(threading.Thread):
    """Polls the agent's job list while a run goes on; peak is the most
    jobs whose command starts with word that were running at the same time
    (not the shell whose command line names them, nor its children before
    they exec)."""

    def __init__(self, c, word):
        super().__init__(daemon=True)
        self.c, self.word, self.peak, self.done = c, word, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            running = [j for j in jobs_now(self.c) if j["command"].startswith(self.word) and j["state"] == "running"]
            self.peak = max(self.peak, len(running))
            time.sleep(0.2)

    def stop(self):
        self.done.set()
        self.join(15)


def node_jobs(node):
    """{job id: [lines]} from a node's console. A frame that came for a job
    after its end (a balancer's move crossing its exit) says nothing of it."""
    jobs = {}
    for m in re.finditer(r"^job (\d+): (.*)$", node.serial(), re.M):
        if not m.group(2).endswith("for no job here, ignored"):
            jobs.setdefault(int(m.group(1)), []).append(m.group(2))
    return jobs


def om(c, *argv, cwd=None):
    t = time.monotonic()
    p = subprocess.run([OM_RUN, "-v", "--control", c.control] + list(argv), capture_output=True,
                       timeout=TIMEOUT, cwd=cwd, stdin=subprocess.DEVNULL)
    return p, time.monotonic() - t


def test_tree_spreads_over_nodes():
    """sh -c 'burn a & burn b & burn c & burn d & wait' on four nodes: the
    shell runs on a node and forks there, each child's exec runs at home
    (the call goes, not the image), the four burns run on the four nodes at the same time, and the
    output is a native run's. --stats says the same: five processes, each
    burn born on the shell's node, the burns' CPU time spent on nodes."""
    burn = os.path.join(CORPUS, "burn")
    script = " ".join("%s %s 1000 &" % (burn, x) for x in "abcd") + " wait"
    t = time.monotonic()
    native = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=TIMEOUT)
    t_native = time.monotonic() - t
    with cluster() as c:
        nodes = [c.boot(mem=256, extra=["-cpu", "max"], speed=100) for _ in range(4)]
        for n in nodes:
            c.wait_registered(n)
        peak = PeakJobs(c, burn)
        peak.start()
        stats_file = os.path.join(c.dir, "stats.json")
        p, secs = om(c, "--stats", stats_file, "/bin/sh", "-c", script)
        peak.stop()
        check(p.returncode == native.returncode == 0 and
              sorted(p.stdout.splitlines()) == sorted(native.stdout.splitlines()),
              "om-run: %d %r, natively %d %r; stderr %r" % (p.returncode, p.stdout, native.returncode,
                                                             native.stdout, p.stderr[-1500:]))
        # Each burn began on a node of its own; once one ends, the balancer
        # may move another that shares a node with the waiting shell to the
        # free node (a move through the agent), where it ends.
        per = {}
        for i, n in enumerate(nodes):
            for j, lines in node_jobs(n).items():
                if lines[-1] == "its execve ran at home" or any("forked job" in x for x in lines):
                    continue  # the shell, and its children before their execs
                per.setdefault(j, []).append((i, lines))
        burns = []
        moved = "image sent on to its next node"
        for j, stays in per.items():
            ends = [i for i, lines in stays if lines[-1] == "exited with status 0"]
            check(len(ends) == 1 and all(lines[-1] in ("exited with status 0", moved) for _, lines in stays),
                  "job %d on the nodes: %r" % (j, stays))
            burns.append(([i for i, lines in stays if lines[-1] == moved] or ends)[0])
        check(sorted(burns) == [0, 1, 2, 3], "burns per node: %r (one on each expected)" % burns)
        check(peak.peak == 4, "at most %d burns ran at the same time, expected 4" % peak.peak)
        with open(stats_file) as f:
            stats = json.load(f)
        burn_stats = [x for x in stats["list"] if x["command"].startswith(burn)]
        check(stats["processes"] == 5 and len(burn_stats) == 4, "stats: %r" % stats)
        for x in burn_stats:
            where = [r["where"] for r in x["ran"]]
            check(x["migrations"] >= 2 and where[0].startswith("node ") and where[1] == "home" and
                  where[-1].startswith("node ") and x["node_cpu_s"] > 0 and
                  x["node_cpu_s"] >= 9 * x["home_cpu_s"], "burn stats: %r" % x)
        check(len({x["ran"][2]["where"] for x in burn_stats}) == 4, "stats: %r" % burn_stats)
        print("INFO tree of 4 burns: one on each of 4 nodes, 4 at once; %.1f s through om-run (TCG), "
              "%.1f s natively; %.2f CPU s on nodes, %.2f at home" %
              (secs, t_native, stats["node_cpu_s"], stats["home_cpu_s"]))


def test_tree_job_control():
    """treectl forks a child that execs spin: the child runs on a node, and
    the parent's wait4 (the parent on a node too) sees it stopped,
    continued and killed as natively."""
    argv = [os.path.join(CORPUS, "treectl"), os.path.join(CORPUS, "spin"), "60"]
    native = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    want = b"child says: spinning\nstopped by signal 19\ncontinued\nkilled by signal 15\n"
    check(native.stdout == want and native.returncode == 0, "natively: %r" % (native,))
    with cluster() as c:
        nodes = [c.boot(mem=256, extra=["-cpu", "max"]) for _ in range(2)]
        for n in nodes:
            c.wait_registered(n)
        p, _ = om(c, *argv)
        check(p.returncode == 0 and p.stdout == want, "om-run: %d %r; stderr %r" % (p.returncode, p.stdout,
                                                                                 p.stderr[-1500:]))
        spins = [lines for n in nodes for lines in node_jobs(n).values()
                 if lines[-1] != "its execve ran at home" and not any("forked job" in x for x in lines)]
        check(len(spins) == 1 and spins[0][-1] == "killed by signal 15" and
              any("stopped by signal 19" in x for x in spins[0]),
              "the child should have run, stopped and died on a node: %r" % spins)
        print("INFO a parent stopped, continued and killed its child on a node; wait4 saw each")


def test_tree_dynamic_pipeline():
    """gzip | gunzip | sha256sum (Debian's, dynamic) in one om-run of a
    shell, three nodes: members run on nodes, the bytes are a native run's."""
    with cluster() as c:
        nodes = [c.boot(mem=256, extra=["-cpu", "max"]) for _ in range(3)]
        for n in nodes:
            c.wait_registered(n)
        work = c.dir
        rnd = random.Random(11)
        with open(os.path.join(work, "blob"), "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(400000)))
        script = "gzip -c blob | gunzip | sha256sum; gzip -c blob | wc -c"
        native = subprocess.run(["/bin/sh", "-c", script], capture_output=True, timeout=TIMEOUT, cwd=work)
        p, _ = om(c, "/bin/sh", "-c", script, cwd=work)
        check(p.returncode == native.returncode and p.stdout == native.stdout,
              "om-run: %d %r, natively %d %r; stderr %r" % (p.returncode, p.stdout, native.returncode,
                                                             native.stdout, p.stderr[-1500:]))
        ran = [lines for n in nodes for lines in node_jobs(n).values()
               if lines[-1] == "exited with status 0"]
        check(len(ran) >= 3, "only %d processes of the pipelines ran on nodes: %r" %
              (len(ran), [node_jobs(n) for n in nodes]))
        print("INFO sh -c 'gzip | gunzip | sha256sum; gzip | wc': %d of 6 processes ran on nodes (to their end), "
              "bytes as natively"
              % len(ran))


def test_tree_fork_on_blocked_node():
    """A shell on a node forks after its node was blocked (om-ctl block):
    the agent will not make the child there, so the shell comes home with
    its fork restarted and forks natively; nothing is lost and the output
    is a native run's."""
    script = 'read x; echo "$x" & wait; echo end'
    with cluster("--no-balance") as c:
        n = c.boot(mem=256, extra=["-cpu", "max"])
        c.wait_registered(n)
        nid = c.node_by_mac(n.mac)["id"]
        p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(nid), "/bin/sh", "-c", script],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not any(j["command"].startswith("/bin/sh") and j["state"] == "running" and j["node"] == nid
                          for j in jobs_now(c)):
                check(time.monotonic() < deadline and p.poll() is None, "the shell never ran on node %d" % nid)
                time.sleep(0.2)
            r = subprocess.run([os.path.join(BUILD, "om-ctl"), "--control", c.control, "block", str(nid)],
                               capture_output=True, timeout=10)
            check(r.returncode == 0, "om-ctl block: %r" % (r,))
            out, err = p.communicate(b"go\n", timeout=TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 0 and out == b"go\nend\n", "om-run: %d %r; stderr %r" % (p.returncode, out, err[-1500:]))
        check(b"its fork goes home" in err and b"takes no new jobs (blocked)" in err,
              "the fork should have brought the shell home: %r" % err[-1500:])
        shell = [lines for lines in node_jobs(n).values() if any("going home (requested)" in x for x in lines)]
        check(len(shell) == 1, "node's jobs: %r" % node_jobs(n))
        print("INFO a fork on a blocked node brought its shell home to fork there; output as natively")
