"""Debian's own dynamic programs (coreutils, gzip, awk, python3) run on a
node from start to end, with output and status identical to a native run:
their locale and gconv files are file mappings the node copies from home."""

import os
import re
import subprocess
import tempfile

from omtest import BUILD, check, cluster, wait_for

CASES = [
    ["/bin/ls", "-l", "{dir}"],
    ["/usr/bin/sha256sum", "{dir}/a.txt"],
    ["/usr/bin/sort", "{dir}/a.txt"],
    ["/usr/bin/gzip", "-9c", "{dir}/a.txt"],
    ["/usr/bin/awk", "{n += NF} END {print n}", "{dir}/a.txt"],
    ["/usr/bin/python3", "-c", "import sys, json; print(json.dumps(sorted(sys.argv)), sum(range(10**5)))", "x"],
    ["/bin/cat", "{dir}/missing"],
]


def run_real_programs(cpu):
    with cluster() as c, tempfile.TemporaryDirectory(prefix="om-real-") as d:
        with open(os.path.join(d, "a.txt"), "w") as f:
            for i in range(3000):
                f.write("line %d %s\n" % ((i * 7919) % 3001, "x" * (i % 13)))
        os.utime(os.path.join(d, "a.txt"), (1700000000, 1700000000))
        n = c.boot("virtio-net-pci", mem=1024, extra=["-cpu", cpu] if cpu else [])
        c.wait_registered(n)
        env = dict(os.environ, LC_ALL="C.UTF-8")
        ran = 0
        for case in CASES:
            argv = [a.replace("{dir}", d) for a in case]
            if not os.path.exists(argv[0]):
                continue
            native = subprocess.run(argv, capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
            before = n.serial().count("exited with status")
            om = subprocess.run([os.path.join(BUILD, "om-run"), "--control", c.control] + argv,
                                capture_output=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
            name = os.path.basename(argv[0])
            check(om.returncode == native.returncode, "%s: status %d, native %d" % (name, om.returncode, native.returncode))
            check(om.stdout == native.stdout, "%s: stdout differs" % name)
            check(om.stderr == native.stderr, "%s: stderr differs: %r vs %r" % (name, om.stderr, native.stderr))
            wait_for(lambda: n.serial().count("exited with status") > before, 10,
                     "%s to end on the node" % name)
            ran += 1
        check(ran >= 5, "only %d programs found" % ran)
        check(not re.search(r"going home", n.serial()), "a program came home:\n" + n.serial()[-1500:])
        print("INFO %d Debian programs ran on the node (-cpu %s) from start to end" % (ran, cpu or "default"))


def test_real_programs_on_node():
    run_real_programs("max")


def test_real_programs_default_cpu():
    """QEMU's default CPU model: no XSAVE, no AVX, no RDRAND."""
    run_real_programs(None)


RESULT = re.compile(rb"^(test_\w+) \(([\w.]+)\) \.\.\. (ok|FAIL|ERROR|skipped.*)$", re.M)


def test_cpython_itimer_tests_on_node():
    """CPython's own tests of setitimer/getitimer (test_signal.ItimerTest,
    Debian's libpython3.11-testsuite): each test's verdict and the status
    as natively, and the interpreter stays on the node from start to end
    (the timers and their signals are the node's)."""
    argv = ["/usr/bin/python3", "-m", "unittest", "-v", "test.test_signal.ItimerTest"]
    check(os.path.exists("/usr/lib/python3.11/test/test_signal.py"),
          "CPython's tests missing: run 'make setup' (libpython3.11-testsuite)")
    with cluster() as c:
        n = c.boot("virtio-net-pci", mem=1024, extra=["-cpu", "max"])
        c.wait_registered(n)
        env = dict(os.environ, LC_ALL="C.UTF-8")
        native = subprocess.run(argv, capture_output=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
        om = subprocess.run([os.path.join(BUILD, "om-run"), "--control", c.control] + argv,
                            capture_output=True, timeout=180, env=env, stdin=subprocess.DEVNULL)
        want, got = RESULT.findall(native.stderr), RESULT.findall(om.stderr)
        check(native.returncode == 0 and len(want) >= 5, "natively: %d %r" % (native.returncode, native.stderr))
        check(got == want and om.returncode == native.returncode,
              "om-run: status %d, results %r, natively %r\n%s" % (om.returncode, got, want, om.stderr[-1500:]))
        wait_for(lambda: "exited with status 0" in n.serial(), 10, "python3 to end on the node")
        check("going home" not in n.serial(), "python3 came home:\n" + n.serial()[-1500:])
        print("INFO CPython's test_signal.ItimerTest: %d tests, all as natively, on the node from start to end"
              % len(got))


def test_cpython_json_suite_on_nodes():
    """CPython's own test_json (Debian's libpython3.11-testsuite) through
    om-run on two nodes: every test's verdict and the status as natively;
    the interpreter and the 16 or so interpreters its tests start (fork +
    exec) run on nodes (one may be placed at home while both nodes are
    taken), and --stats says so: nearly all of the tree's CPU time is
    spent there."""
    import json
    argv = ["/usr/bin/python3", "-m", "test", "-v", "test_json"]
    with cluster() as c, tempfile.TemporaryDirectory(prefix="om-json-") as d:
        nodes = [c.boot(mem=512, extra=["-cpu", "max"]) for _ in range(2)]
        for n in nodes:
            c.wait_registered(n)
        env = dict(os.environ, LC_ALL="C.UTF-8")
        native = subprocess.run(argv, capture_output=True, timeout=120, env=env, cwd=d, stdin=subprocess.DEVNULL)
        stats = os.path.join(d, "stats.json")
        om = subprocess.run([os.path.join(BUILD, "om-run"), "--stats", stats, "--control", c.control] + argv,
                            capture_output=True, timeout=400, env=env, cwd=d, stdin=subprocess.DEVNULL)
        want, got = RESULT.findall(native.stdout), RESULT.findall(om.stdout)
        check(native.returncode == 0 and len(want) >= 150, "natively: %d %r" % (native.returncode, native.stdout[-800:]))
        check(got == want and om.returncode == native.returncode and b"Tests result: SUCCESS" in om.stdout,
              "om-run: status %d, %d results (natively %d)\n%s" % (om.returncode, len(got), len(want),
                                                                   om.stdout[-1500:] + om.stderr[-1500:]))
        with open(stats) as f:
            s = json.load(f)
        on_node = [x for x in s["list"] if any(r["where"].startswith("node ") for r in x["ran"])]
        total = s["node_cpu_s"] + s["home_cpu_s"]
        check(s["processes"] >= 17 and len(on_node) >= s["processes"] - 1 and s["node_cpu_s"] >= 0.9 * total,
              "stats: %r" % {k: s[k] for k in s if k != "list"})
        print("INFO CPython's test_json: %d tests as natively; %d of %d processes ran on nodes; "
              "%.1f CPU s on nodes, %.1f at home (%.0f %%)"
              % (len(got), len(on_node), s["processes"], s["node_cpu_s"], s["home_cpu_s"],
                 100 * s["node_cpu_s"] / total))
