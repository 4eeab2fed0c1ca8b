"""Threaded programs nobody here wrote, on a node with two cores
(docs/migration.md, "Threads on a node"): Debian's xz compressing with
four threads, Python's ThreadPoolExecutor, an OpenMP loop (libgomp). Each
runs on the node from start to end, output and status as a native run."""

import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

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


def test_threaded_jobs_home_and_out_again():
    """Debian's xz -T4, compressing with its workers busy and its main
    thread waiting, brought home mid-run (om-migrate home) and sent out
    again (om-migrate node): each thread is stopped where it is at home, a
    call it was in is made again on the node. Then a process whose main
    thread blocks reading stdin (a forwarded call) while a thread waits on
    a condition variable moves to another node (om-migrate node: through
    home, its read made again there). Output as a native run's."""
    om_run = os.path.join(BUILD, "om-run")
    om_migrate = os.path.join(BUILD, "om-migrate")
    with cluster() as c, tempfile.TemporaryDirectory(prefix="om-threads-") as d:
        data = os.path.join(d, "data")
        with open(data, "wb") as f:
            for i in range(1200000):
                f.write(b"%d %s\n" % ((i * 7919) % 40009, b"abcdefgh"[: i % 8] * (i % 5)))
        n = c.boot(mem=1024, extra=["-cpu", "max", "-smp", "2"])
        n2 = c.boot(mem=256, extra=["-cpu", "max", "-smp", "2"])
        c.wait_registered(n)
        c.wait_registered(n2)
        nid = c.node_by_mac(n.mac)["id"]
        where = lambda pid: [j["node"] for j in json.loads(c.mon("--json").stdout)["jobs"] if j["pid"] == pid]
        arrivals = lambda pid: re.findall(r"^job \d+: arrived \(pid %d, \d+ regions, \d+ pages(?:, (\d+) threads)?"
                                          % pid, n.serial(), re.M)

        def home_and_out(m, pid, settle):
            wait_for(lambda: "arrived (pid %d," % pid in n.serial(), 20, "the job on the node")
            time.sleep(settle)
            r = subprocess.run([om_migrate, "--control", c.control, str(pid), "home"], capture_output=True,
                               timeout=10)
            check(r.returncode == 0, "om-migrate home: %r" % (r,))
            wait_for(lambda: where(pid) == [0], 30, "the job at home")
            time.sleep(0.2)
            # its record at home comes once the move is over
            r = wait_for(lambda: m.poll() is not None or (lambda r: r if "no such job" not in r.stderr else None)(
                subprocess.run([om_migrate, "--control", c.control, str(pid), "node", str(nid)],
                               capture_output=True, text=True, timeout=10)), 10, "its record at home")
            check(m.poll() is None, "it ended at home: %r" % m.returncode)
            check(r.returncode == 0, "om-migrate node: %r" % (r,))
            wait_for(lambda: len(arrivals(pid)) == 2 or m.poll() is not None, 30, "the job on the node again")

        argv = ["/usr/bin/xz", "-T4", "--block-size=65536", "-6", "-c", data]
        native = subprocess.run(argv, capture_output=True, timeout=120)
        m = subprocess.Popen([om_run, "-v", "--control", c.control, "--node", str(nid)] + argv,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            pid = wait_for(lambda: (children(m.pid) or [None])[0], 5, "xz's pid")
            got = {}
            reader = threading.Thread(target=lambda: got.update(out=m.stdout.read()))
            reader.start()  # xz writes as it goes: its pipe must not fill
            home_and_out(m, pid, 2)
            err = m.stderr.read()
            m.wait(timeout=240)
            reader.join(timeout=60)
        finally:
            if m.poll() is None:
                m.kill()
                m.wait()
        xz = arrivals(pid)
        check(m.returncode == 0 and got.get("out") == native.stdout and len(xz) == 2 and int(xz[1] or 1) >= 2,
              "xz -T4: %d, %d bytes (natively %d), arrivals %r: %r" % (
                  m.returncode, len(got.get("out") or b""), len(native.stdout), xz, err[-1500:]))

        argv = [THREADS, "blockmain"]
        native = subprocess.run(argv, input=b"hello\n", capture_output=True, timeout=60)
        m = subprocess.Popen([om_run, "-v", "--control", c.control, "--node", str(nid)] + argv,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(m.stdout.readline() == b"ready\n", "blockmain did not start")
            pid = wait_for(lambda: (children(m.pid) or [None])[0], 5, "its pid")
            wait_for(lambda: "arrived (pid %d," % pid in n.serial(), 20, "the job on the node")
            time.sleep(1)  # its read waits at home
            r = subprocess.run([om_migrate, "--control", c.control, str(pid), "node",
                                str(c.node_by_mac(n2.mac)["id"])], capture_output=True, timeout=10)
            check(r.returncode == 0, "om-migrate node: %r" % (r,))
            wait_for(lambda: "arrived (pid %d," % pid in n2.serial(), 30, "the job on the other node")
            out, err = m.communicate(input=b"hello\n", timeout=120)
        finally:
            if m.poll() is None:
                m.kill()
                m.wait()
        there = re.findall(r"^job \d+: arrived \(pid %d, .*, (\d+) threads\)" % pid, n2.serial(), re.M)
        check(m.returncode == 0 and b"ready\n" + out == native.stdout and there == ["2"] and
              b"came home for a call of its own" not in err,
              "blockmain: %d %r (natively %r), on the other node %r: %r" % (m.returncode, out, native.stdout,
                                                                          there, err[-1500:]))
        print("INFO xz -T4 home mid-run and out again with its %s threads; a process of 2 threads, its main "
              "thread in a read at home, moved to another node; output as natively" % xz[1])
