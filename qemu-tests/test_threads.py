"""Threaded programs nobody here wrote, on a node with two cores
(docs/migration.md, "Threads on a node"): Debian's xz compressing with
four threads, Python's ThreadPoolExecutor, an OpenMP loop (libgomp). Each
runs on the node from start to end, output and status as a native run."""

import os
import re
import signal
import subprocess
import tempfile

from omtest import BUILD, check, children, cluster, wait_for

THREADS = os.path.join(BUILD, "corpus", "static", "threads")

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


def reading_at_home(pid):
    """Whether a thread of pid (of two: a home thread made) blocks in
    read(2) at home."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
        calls = []
        for t in tasks:
            with open("/proc/%d/task/%s/syscall" % (pid, t)) as f:
                calls.append(f.read().split()[0])
    except OSError:
        return False
    return len(tasks) == 2 and "0" in calls


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


def test_thread_churn_and_kill():
    """1100 threads made and joined one after another (more than home
    keeps for one process: the home threads of ended ones go); a shell
    started (posix_spawn: vfork, which comes home) while another thread
    blocks at home in a read of a pipe the shell's return fills: the
    read is cut short and made again at home, the spawn made there once;
    then processes whose thread, or leader, blocks at home reading stdin,
    killed there with SIGKILL: om-run ends with them at once, and the node
    drops the job."""
    with cluster() as c:
        n = c.boot(mem=512, extra=["-cpu", "max", "-smp", "2"])
        c.wait_registered(n)
        argv = [THREADS, "churn", "1100"]
        native = subprocess.run(argv, capture_output=True, timeout=60)
        om = subprocess.run([os.path.join(BUILD, "om-run"), "--control", c.control] + argv, capture_output=True,
                            timeout=240, stdin=subprocess.DEVNULL)
        check((om.returncode, om.stdout, om.stderr) == (native.returncode, native.stdout, native.stderr),
              "churn: %d %r %r\n%s" % (om.returncode, om.stdout, om.stderr[-500:], n.serial()[-1500:]))
        check("going home" not in n.serial(), "churn came home:\n" + n.serial()[-1500:])
        argv = [THREADS, "spawn"]
        native = subprocess.run(argv, capture_output=True, timeout=60)
        om = subprocess.run([os.path.join(BUILD, "om-run"), "-v", "--control", c.control] + argv,
                            capture_output=True, timeout=240, stdin=subprocess.DEVNULL)
        check((om.returncode, om.stdout) == (native.returncode, native.stdout) == (
            0, b"from a shell\nshell said 0\nreader got 15 bytes: after the shell\n") and
              b"comes home from node 1 (clone3)" in om.stderr,
              "spawn: %d %r %r\n%s" % (om.returncode, om.stdout, om.stderr[-1500:], n.serial()[-1500:]))
        for mode in ("block", "blockmain"):  # a thread, or the leader, blocked at home
            before = n.serial().count("killed (its deputy is gone)")
            m = subprocess.Popen([os.path.join(BUILD, "om-run"), "--control", c.control, THREADS, mode],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                check(m.stdout.readline() == b"ready\n", "%s did not start" % mode)
                pid = wait_for(lambda: (children(m.pid) or [None])[0], 5, "its pid")
                wait_for(lambda: "arrived (pid %d," % pid in n.serial(), 20, "the job on the node")
                wait_for(lambda: reading_at_home(pid), 20, "its read to block at home")
                os.kill(pid, signal.SIGKILL)
                m.wait(timeout=20)
            finally:
                if m.poll() is None:
                    m.kill()
                    m.wait()
            check(m.returncode == -signal.SIGKILL, "%s: om-run after SIGKILL: %r" % (mode, m.returncode))
            wait_for(lambda: n.serial().count("killed (its deputy is gone)") > before, 10, "the node to drop it")
