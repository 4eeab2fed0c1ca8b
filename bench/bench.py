#!/usr/bin/env python3
"""bench.py - `make bench`: om side by side with what bounds it, in one run.

Sections (each writes bench/results/NAME.csv and its tables in
docs/PERFORMANCE.md, between <!-- bench:NAME --> markers):

  compute    sieve, n-body, memory bandwidth (bench/progs/) and busybox
             gzip -9 on an om node (om-run), in a Linux guest under the
             same QEMU settings, and natively. Wall time is taken the same
             way everywhere: bench/progs/timeit.c, the program's parent, from
             fork to exit -- inside the guest's /init, and at home around
             om-run (so om's includes capture, migration, forwarded I/O and
             the exit coming home). Own programs also time their inner loop
             themselves (kernel_s), which isolates the CPU.
  syscalls   bench/syscall_rtt.py: ECHO round trip of the node's link, and
             calls answered on the node / forwarded home (syscall_cost.c).
  migration  om-run of programs whose image is 1..512 MiB: from om-run's
             "placed" to "running on node" (JOB_STARTED), by the arrival
             time of om-run -v's lines; MB/s against a raw one-way stream
             on the same kind of link (frames of IMAGE_PAGES size that the
             node drops), and 64 KiB ECHO frames pipelined.
  crypto     what the link's encryption costs: the normal build against
             build/bench-plain (make bench-plain: om-agent and the node
             image with -DOM_BENCH_UNENCRYPTED_LINK, the same handshake,
             then records in clear), side by side in one run, taking
             turns: forwarded calls (syscall_cost.c), the migration of the
             largest image, the raw link's ECHO round trip and one-way
             stream. Not in --smoke unless named with --only (make test
             does not build bench-plain).
  boot       QEMU start to a registered node, against QEMU start to /init
             in the Linux guest (same settings); and the per-NIC table of
             bench/boot_time.py.
  agent      bench/simnode.c: relay round trips through a real om-agent with
             a few jobs alone, then with 1,000 more simulated nodes sending
             heartbeats; the agent's CPU from /proc/PID/stat.
  moves      a running process with 1..128 MiB of dirty memory
             (bench/progs/holdimage.c) moved while it computes: node ->
             node through the agent and through home (agent.conf
             node_moves), node -> home, home -> node, with
             om-migrate; freeze = from the request to om-run -v's "running
             on node"/"running at home" (the process makes no progress in
             between), on two nodes (virtio-net, same QEMU settings).
  checkpoints  holdimage (as for moves) on a node under om-run
             --checkpoint-every (agent.conf checkpoint_max_pct 50): each
             checkpoint's size and how long the job waited for it (om-run
             -v's word), against the image's size; then a 16 MiB
             holdimage that writes 0 to 16 MiB of it again all the time:
             the first checkpoint (whole) against the later ones (what
             changed), against that dirty rate.
  cores      bench/progs/parwork.c: 1, 2 and 4 forked workers, then 1, 2
             and 4 threads, with the same work each, on a 4-core node
             (-smp 4) and in a Linux guest with the same -smp; the
             program's own wall time and how work per second grows with
             the workers on each. bench/progs/futexpp.c: two threads
             handing a token through a futex, the wake-up latency.
  balance    bench/balance_sim.c: the balancer's decision code in a
             simulated lab (nodes of two speeds, processes arriving with
             random work), against placement alone and against moving only
             busy processes from home to free cores (om before the
             balancer); makespan as a ratio to a lower bound.

  bench.py [--smoke] [--runs N] [--out DIR] [--no-doc] [--only SECTION,...]

--smoke: tiny sizes, one run, no documentation; for qemu-tests/
test_bench_smoke.py (well-formed CSV rows, not speed). OM_BENCH_RUNS sets
--runs (default 3). Every QEMU, agent and child is killed by pid."""

import argparse
import csv
import datetime
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "qemu-tests"))
sys.path.insert(0, HERE)
from omtest import ACCEL, BUILD, Cluster, TestFailure, check, children, wait_for  # noqa: E402
import boot_time  # noqa: E402
import linux_guest  # noqa: E402
import syscall_rtt  # noqa: E402

SECTIONS = ["compute", "syscalls", "migration", "crypto", "moves", "checkpoints", "forks", "cores", "boot", "agent",
            "balance"]
# --smoke's sections unless --only names others: crypto needs make bench's
# second build tree, which make test does not make.
SMOKE_SECTIONS = [s for s in SECTIONS if s != "crypto"]
# The QEMU settings an om node and the Linux guest share (besides omtest's
# -accel, -m, NIC, serial): one vCPU of QEMU's "max" model.
SAME = ["-cpu", "max", "-smp", "1"]
MEM = 1024  # MiB; the 512 MiB image needs room on the node
BB = linux_guest.BUSYBOX
PROG = os.path.join(BUILD, "bench")
PLAIN = os.path.join(BUILD, "bench-plain")  # the link's records in clear (Makefile, bench-plain)


class Sizes:
    """What each section runs: full (make bench) or smoke (make test)."""

    def __init__(self, smoke):
        self.smoke = smoke
        if smoke:
            self.sieve, self.nbody, self.membw = ["200000", "1"], ["2000"], ["32K", "256K", "1M"]
            self.gzip_bytes, self.echoes, self.calls = 64 << 10, 100, 100
            self.stream_bytes, self.images = 2 << 20, [1]
            self.nics, self.sim_nodes, self.sim_seconds, self.sim_saturate = ["virtio-net-pci"], 50, 1, False
            self.sim_seeds = 2
            self.move_sizes = [1]
            self.fork_sizes, self.forks = [1], 3
            self.cores, self.core_workers, self.core_millions = 2, [1, 2], 20
            self.futex_rounds = 200
        else:
            self.sieve, self.nbody, self.membw = ["20000000", "3"], ["1000000"], ["32K", "256M", "1G"]
            self.gzip_bytes, self.echoes, self.calls = 4 << 20, 2000, 2000
            self.stream_bytes, self.images = 256 << 20, [1, 16, 128, 512]
            self.nics, self.sim_nodes, self.sim_seconds, self.sim_saturate = \
                ["virtio-net-pci", "e1000", "e1000e"], 1000, 10, True
            self.sim_seeds = 50
            self.move_sizes = [1, 16, 64, 128]
            self.fork_sizes, self.forks = [1, 16, 64], 10
            self.cores, self.core_workers, self.core_millions = 4, [1, 2, 4], 1000
            self.futex_rounds = 20000


def kv(text):
    """{key: float} of every 'key number ...' line."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2:
            try:
                out[f[0]] = float(f[1])
            except ValueError:
                pass
    return out


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt(x, nd=2):
    if x is None or x != x:
        return "—"
    if abs(x) >= 1000:
        return "%.0f" % x
    return "%.*f" % (nd, x)


class OmNode:
    """An om-agent and one node (virtio-net, MEM, SAME) for om-run; build:
    the tree their binaries come from (om-run is always BUILD's)."""

    def __init__(self, build=BUILD):
        self.c = syscall_rtt.BuildCluster(build)
        try:
            self.n = self.c.boot("virtio-net-pci", mem=MEM, extra=SAME)
            self.c.wait_registered(self.n)
        except BaseException:
            self.c.close()
            raise
        self.omrun = [os.path.join(BUILD, "om-run"), "-v", "--control", self.c.control]

    def close(self):
        self.c.close()


def timed(cmd, out=None, timeout=900):
    """Runs cmd under timeit natively; returns (stdout, stderr, wall_s)."""
    t = [os.path.join(PROG, "timeit")] + (["-o", out] if out else []) + cmd
    r = subprocess.run(t, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    check(r.returncode == 0, "%s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return r.stdout, r.stderr, kv(r.stderr).get("wall_s", float("nan"))


# ------------------------------------------------------------------ compute

def gen_text(path, size):
    """Deterministic text for gzip: words drawn from a made-up vocabulary."""
    rnd = random.Random(7)
    letters = "etaoinshrdlucmfwypvbgkqjxz"
    vocab = ["".join(rnd.choice(letters[:rnd.randint(6, 26)]) for _ in range(rnd.randint(2, 10)))
             for _ in range(3000)]
    out, n = [], 0
    while n < size:
        line = " ".join(rnd.choice(vocab) for _ in range(rnd.randint(4, 14))) + "\n"
        out.append(line)
        n += len(line)
    with open(path, "w") as f:
        f.write("".join(out)[:size])


def compute_programs(sz, data):
    """(name, argv on the host, argv in the guest, stdout to /dev/null)."""
    p = lambda n: os.path.join(PROG, n)  # noqa: E731
    return [
        ("sieve", [p("sieve")] + sz.sieve, ["/bin/sieve"] + sz.sieve, False),
        ("nbody", [p("nbody")] + sz.nbody, ["/bin/nbody"] + sz.nbody, False),
        ("membw", [p("membw")] + sz.membw, ["/bin/membw"] + sz.membw, False),
        ("gzip", [BB, "gzip", "-9", "-c", data], ["/bin/busybox", "gzip", "-9", "-c", "/data/input"], True),
    ]


def guest_round(c, progs, initrd_dir, data):
    """One Linux guest boot that runs every program once under timeit."""
    cmds = []
    for name, _, gargv, devnull in progs:
        cmds += ["echo BENCH-BEGIN %s" % name,
                 "/bin/timeit %s%s" % ("-o /dev/null " if devnull else "", " ".join(gargv)),
                 "echo BENCH-END %s" % name]
    initrd = os.path.join(initrd_dir, "compute.cpio")
    linux_guest.build_initramfs(initrd, cmds, [os.path.join(PROG, n) for n in ("timeit", "sieve", "nbody", "membw")],
                                [(data, "data/input")])
    con, t_init = linux_guest.run(c, initrd, MEM, SAME, timeout=1800)
    res = {}
    for name, _, _, _ in progs:
        m = re.search(r"BENCH-BEGIN %s\n(.*?)BENCH-END %s\n" % (name, name), con, re.S)
        check(m is not None, "guest output of %s missing:\n%s" % (name, con[-2000:]))
        v = kv(m.group(1))
        check("wall_s" in v and "status 0" in m.group(1), "%s failed in the guest:\n%s" % (name, m.group(1)))
        res[name] = v
    return res, t_init


def om_round(om, progs):
    res = {}
    for name, argv, _, devnull in progs:
        out, err, wall = timed(om.omrun + argv, "/dev/null" if devnull else None)
        check("running on node" in err and "comes home" not in err and "at home" not in err,
              "%s did not run on the node: %s" % (name, err))
        v = kv(out)
        v["wall_s"] = wall
        res[name] = v
    return res


def native_round(progs):
    res = {}
    for name, argv, _, devnull in progs:
        out, _, wall = timed(argv, "/dev/null" if devnull else None)
        v = kv(out)
        v["wall_s"] = wall
        res[name] = v
    return res


def sec_compute(sz, runs, om, tmp):
    data = os.path.join(tmp, "gzip-input.txt")
    gen_text(data, sz.gzip_bytes)
    progs = compute_programs(sz, data)
    samples = {"native": [], "guest": [], "om": []}
    for _ in range(runs):
        g, _ = guest_round(om.c, progs, tmp, data)
        samples["guest"].append(g)
        samples["om"].append(om_round(om, progs))
        samples["native"].append(native_round(progs))
    rows = []
    for name, _, _, _ in progs:
        metrics = ["wall_s"] + (["kernel_s"] if name != "gzip" else [])
        if name == "membw":
            metrics += [k for k in samples["guest"][0]["membw"] if k.startswith("bw_")]
        for m in metrics:
            v = {side: med(r[name].get(m, float("nan")) for r in samples[side]) for side in samples}
            unit = "MB/s" if m.startswith("bw_") else "s"
            rows.append({"program": name, "metric": m, "unit": unit, "native": v["native"],
                         "guest": v["guest"], "om": v["om"], "om_over_guest": v["om"] / v["guest"],
                         "runs": runs, "accel": ACCEL})
    args = {"sieve": "below %s, %s times" % tuple(sz.sieve), "nbody": "%s steps" % sz.nbody[0],
            "membw": "%s..%s, %s per size" % tuple(sz.membw),
            "gzip": "busybox gzip -9 of %d KiB of text" % (sz.gzip_bytes >> 10)}
    md = ["| program | measure | native | Linux guest | om node | om / guest |", "|---|---|---|---|---|---|"]
    for r in rows:
        what = {"wall_s": "wall s (fork to exit)", "kernel_s": "inner loop s"}.get(r["metric"], r["metric"][3:] + " MB/s")
        prog = "%s (%s)" % (r["program"], args[r["program"]]) if r["metric"] == "wall_s" else ""
        md.append("| %s | %s | %s | %s | %s | %s |" % (prog, what, fmt(r["native"]), fmt(r["guest"]),
                                                       fmt(r["om"]), fmt(r["om_over_guest"])))
    return rows, md


# ------------------------------------------------------------------ syscalls

def sec_syscalls(sz, runs, om, link):
    rtt_med, rtt_p90 = link.echo_rtt(sz.echoes)
    native, node, err = syscall_rtt.syscall_costs(om.c.control, sz.calls, sz.calls * 10)
    check("running on node" in err, "syscall_cost did not run on the node: %s" % err)
    rows = [{"what": "echo_rtt_median", "native_us": "", "node_us": rtt_med, "ratio_to_echo": 1.0, "accel": ACCEL},
            {"what": "echo_rtt_p90", "native_us": "", "node_us": rtt_p90, "ratio_to_echo": rtt_p90 / rtt_med,
             "accel": ACCEL}]
    for k in node:
        rows.append({"what": k, "native_us": native.get(k, float("nan")), "node_us": node[k],
                     "ratio_to_echo": node[k] / rtt_med, "accel": ACCEL})
    names = {"getpid": "getpid (answered on the node)", "fcntl_getfd": "fcntl(F_GETFD) (forwarded)",
             "write_1B_devnull": "write 1 byte to /dev/null (forwarded)", "pread_4KiB": "pread 4 KiB (forwarded)"}
    md = ["| call | native µs | on the node µs | node / ECHO round trip |", "|---|---|---|---|",
          "| ECHO round trip (the link), median | — | %s | 1.00 |" % fmt(rtt_med, 1),
          "| ECHO round trip, p90 | — | %s | %s |" % (fmt(rtt_p90, 1), fmt(rtt_p90 / rtt_med))]
    for k in node:
        md.append("| %s | %s | %s | %s |" % (names.get(k, k), fmt(native.get(k)), fmt(node[k], 1),
                                            fmt(node[k] / rtt_med)))
    return rows, md


# ------------------------------------------------------------------ migration

def migrate_once(om, mib):
    """om-run -v of bigimage-MIB; times of its -v lines as they arrive."""
    prog = os.path.join(PROG, "bigimage-%d" % mib)
    check(os.path.exists(prog), "%s missing: make bench builds it" % prog)
    t0 = time.monotonic()
    p = subprocess.Popen(om.omrun + [prog], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    lines = []
    try:
        for line in p.stderr:
            lines.append((time.monotonic() - t0, line.rstrip("\n")))
        out = p.stdout.read()
        p.wait(600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wall = time.monotonic() - t0

    def at(text):
        for t, l in lines:
            if text in l:
                return t, l
        raise TestFailure("om-run -v said no %r: %s" % (text, lines))
    t_placed, _ = at("placed on node")
    t_sent, l_sent = at("image sent")
    t_run, _ = at("running on node")
    check(p.returncode == 0 and "sum 1" in out, "bigimage-%d failed (%d): %s %s" % (mib, p.returncode, out, lines))
    pages = int(re.search(r"(\d+) pages", l_sent).group(1))
    return {"pages": pages, "send_s": t_sent - t_placed, "start_s": t_run - t_placed, "wall_s": wall}


def sec_migration(sz, runs, om, link):
    # The limit: the same bytes one way, as an image moves; and, as a
    # second view of the link, 64 KiB ECHOs four in flight (MB/s each way).
    stream = med(link.oneway_stream(sz.stream_bytes) for _ in range(runs))
    echo = med(link.echo_stream(sz.stream_bytes // 2, window=4) for _ in range(runs))
    rows = []
    for mib in sz.images:
        s = [migrate_once(om, mib) for _ in range(runs)]
        pages = s[0]["pages"]
        start = med(x["start_s"] for x in s)
        mbps = pages * 4096 / start / 1e6
        rows.append({"image_mib": mib, "image_pages": pages, "image_mb": pages * 4096 / 1e6,
                     "sent_s": med(x["send_s"] for x in s), "started_s": start, "om_run_wall_s": med(x["wall_s"] for x in s),
                     "mb_per_s": mbps, "link_mb_per_s": stream, "ratio": mbps / stream,
                     "echo64k_mb_per_s_each_way": echo, "runs": runs, "accel": ACCEL})
    md = ["| program image | pages sent | placed → image sent s | placed → running s | MB/s | raw one-way stream MB/s | MB/s / stream |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append("| %d MiB (%.1f MB) | %d | %s | %s | %s | %s | %s |" % (
            r["image_mib"], r["image_mb"], r["image_pages"], fmt(r["sent_s"], 3), fmt(r["started_s"], 3),
            fmt(r["mb_per_s"], 1), fmt(stream, 1), fmt(r["ratio"])))
    md += ["", "The same link with 64 KiB ECHO frames, four in flight: %s MB/s each way (%s MB/s both ways "
           "together)." % (fmt(echo, 1), fmt(2 * echo, 1))]
    return rows, md


# ------------------------------------------------------------------ crypto

FORWARDED = (("fcntl_getfd", "fcntl(F_GETFD), forwarded"), ("write_1B_devnull", "write 1 byte to /dev/null, forwarded"),
             ("pread_4KiB", "pread 4 KiB, forwarded"))
CLEAR_BANNER = "THIS IS A BENCHMARK BUILD"  # the warning of net/agent_link.c and agent_main.c


def check_side(name, clear, serial, agent_log=None):
    """That a side's node (and agent) are the build they should be."""
    for who, text in (("node", serial), ("agent", agent_log)):
        if text is not None:
            check((CLEAR_BANNER in text) == clear, "the %s side's %s %s the benchmark build's warning" % (
                name, who, "lacks" if clear else "prints"))


def sec_crypto(sz, runs):
    """The normal build against build/bench-plain, whose records travel in
    clear after the same handshake: both sides up at once, taking turns run
    by run so that both see the same machine. Forwarded calls (om-run,
    syscall_cost.c), migration MB/s of the largest image, then the raw link
    (MiniAgent): ECHO round trip and one-way stream."""
    for f in ("om-agent", "om-node.elf"):
        check(os.path.exists(os.path.join(PLAIN, f)), "%s missing: make bench (make bench-plain) builds it"
              % os.path.join(PLAIN, f))
    sides = (("encrypted", BUILD, False), ("unencrypted", PLAIN, True))
    mib = sz.images[-1]
    got = {name: {} for name, _, _ in sides}

    def add(name, what, v):
        got[name].setdefault(what, []).append(v)

    def turns(make, measure):
        up = {}
        try:
            for name, build, clear in sides:
                up[name] = make(name, build, clear)
            for _ in range(runs):
                for name, _, _ in sides:
                    measure(name, up[name])
        finally:
            for x in up.values():
                x.close()

    def om_up(name, build, clear):
        om = OmNode(build)
        check_side(name, clear, om.n.serial(), om.c.agent_text())
        return om

    def om_measure(name, om):
        _, node, err = syscall_rtt.syscall_costs(om.c.control, sz.calls, sz.calls)
        check("running on node" in err, "syscall_cost did not run on the %s node: %s" % (name, err))
        for k, _ in FORWARDED:
            add(name, k, node[k])
        m = migrate_once(om, mib)
        add(name, "migration", m["pages"] * 4096 / m["start_s"] / 1e6)
        add(name, "image_mb", m["pages"] * 4096 / 1e6)

    def link_up(name, build, clear):
        link = syscall_rtt.MiniAgent(extra=SAME, mem=MEM, build=build, clear=clear)
        check_side(name, clear, link.node.serial())
        return link

    def link_measure(name, link):
        add(name, "echo_rtt", link.echo_rtt(sz.echoes)[0])
        add(name, "stream", link.oneway_stream(sz.stream_bytes))

    turns(om_up, om_measure)
    turns(link_up, link_measure)
    image_mb = med(got["encrypted"]["image_mb"])
    what = [(k, "us", label + ", round trip µs") for k, label in FORWARDED]
    what += [("migration", "MB/s", "migration of a %d MiB image (%.1f MB), MB/s" % (mib, image_mb)),
             ("echo_rtt", "us", "the link alone: ECHO round trip µs (median of %d)" % sz.echoes),
             ("stream", "MB/s", "the link alone: one-way stream MB/s (%d MiB)" % (sz.stream_bytes >> 20))]
    rows, md = [], ["| | encrypted | unencrypted | encrypted / unencrypted | time added by encryption |",
                    "|---|---|---|---|---|"]
    for k, unit, label in what:
        e, u = med(got["encrypted"][k]), med(got["unencrypted"][k])
        # Time per call, or per byte for a rate: what encryption adds to it.
        added = (e / u - 1) if unit == "us" else (u / e - 1)
        rows.append({"what": k if k != "migration" else "migration_%dMiB" % mib, "unit": unit, "encrypted": e,
                     "unencrypted": u, "ratio": e / u, "added_time_pct": 100 * added, "runs": runs, "accel": ACCEL})
        md.append("| %s | %s | %s | %s | %+.0f %% |" % (label, fmt(e, 1), fmt(u, 1), fmt(e / u), 100 * added))
    md += ["", "Unencrypted: `make bench-plain`'s om-agent and node image (`build/bench-plain/`, "
           "`-DOM_BENCH_UNENCRYPTED_LINK`): the same Noise handshake, then records without "
           "ChaCha20-Poly1305 on either end; a benchmark build only, never installed."]
    return rows, md


# ------------------------------------------------------------------ boot

def sec_boot(sz, runs, tmp):
    initrd = os.path.join(tmp, "boot.cpio")
    linux_guest.build_initramfs(initrd, [])
    om_s, guest_s, per_nic = [], [], []
    c = Cluster()
    try:
        for _ in range(runs):
            om_s.append(boot_time.one_boot(c, "virtio-net-pci", mem=MEM, extra=SAME).get("registered", float("nan")))
            guest_s.append(linux_guest.run(c, initrd, MEM, SAME, timeout=300)[1])
        for nic in sz.nics:
            s = [boot_time.one_boot(c, nic) for _ in range(runs)]
            per_nic.append((nic, {name: med(x.get(name, float("nan")) for x in s) for name, _ in boot_time.MARKS}))
    finally:
        c.close()
    o, g = med(om_s), med(guest_s)
    rows = [{"what": "om_node_registered", "seconds": o, "ratio_to_guest": o / g, "runs": runs, "accel": ACCEL},
            {"what": "linux_guest_init", "seconds": g, "ratio_to_guest": 1.0, "runs": runs, "accel": ACCEL}]
    md = ["| QEMU start to … | seconds | / Linux guest |", "|---|---|---|",
          "| om node registered with the agent (virtio-net, -m %d, %s) | %s | %s |" % (MEM, " ".join(SAME), fmt(o), fmt(o / g)),
          "| Linux guest's /init runs (same settings, Debian kernel, initramfs) | %s | 1.00 |" % fmt(g)]
    nic_rows = [dict({"nic": nic, "accel": ACCEL, "runs": runs}, **{name: m[name] for name, _ in boot_time.MARKS})
                for nic, m in per_nic]
    nic_md = ["| nic | firmware (SeaBIOS) | kernel_main | NIC up | address (DHCP) | registered |",
              "|---|---|---|---|---|---|"]
    for nic, m in per_nic:
        nic_md.append("| %s | %s |" % (nic.replace("-pci", ""), " | ".join(fmt(m[name]) for name, _ in boot_time.MARKS)))
    return rows, md, nic_rows, nic_md


# ------------------------------------------------------------------ agent

def simnode(c, nodes, seconds, rate):
    cmd = [os.path.join(PROG, "simnode"), "--agent", "127.0.0.1:%d" % c.port, "--agent-key", c.agent_pub,
           "--control", c.control,
           "--agent-pid", str(c.agent.pid), "--nodes", str(nodes), "--seconds", str(seconds), "--rate", str(rate)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        out, err = p.communicate(timeout=seconds * 2 + 60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, "simnode exited %d: %s" % (p.returncode, err))
    phases = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "phase":
            d = dict(zip(f[2::2], f[3::2]))
            d["phase"] = f[1]
            phases.append(d)
    reg = kv(out).get("register_s", float("nan"))
    return phases, reg


def sec_agent(sz, runs):
    rows = []
    modes = [("paced", 1000)] + ([("saturated", 0)] if sz.sim_saturate else [])
    for mode, rate in modes:
        c = Cluster()
        try:
            phases, reg = simnode(c, sz.sim_nodes, sz.sim_seconds, rate)
        finally:
            c.close()
        for ph in phases:
            rows.append({"mode": mode, "phase": ph["phase"], "nodes": int(ph["nodes"]), "jobs": int(ph["jobs"]),
                         "rate_per_job": rate, "trips": int(ph["trips"]), "trips_per_s": float(ph["trips"]) / float(ph["seconds"]),
                         "p50_us": float(ph["p50_us"]), "p90_us": float(ph["p90_us"]), "p99_us": float(ph["p99_us"]),
                         "agent_cpu_pct": float(ph["agent_cpu_pct"]), "heartbeats": int(ph["heartbeats"]),
                         "register_s": reg if ph["phase"] == "loaded" else "", "seconds": float(ph["seconds"]),
                         "accel": "host"})
    md = ["| calls | connected nodes | round trips/s | p50 µs | p90 µs | p99 µs | agent CPU % |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        calls = "%d jobs, %s" % (r["jobs"], "1 call/ms each" if r["rate_per_job"] else "back to back")
        md.append("| %s | %d | %s | %s | %s | %s | %s |" % (calls, r["nodes"], fmt(r["trips_per_s"]), fmt(r["p50_us"], 1),
                                                          fmt(r["p90_us"], 1), fmt(r["p99_us"], 1), fmt(r["agent_cpu_pct"], 1)))
    return rows, md


# ------------------------------------------------------------------ moves

class Verbose:
    """om-run -v of a program, its stderr lines timed as they arrive."""

    def __init__(self, argv):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  text=True)
        self.lines, self.lock = [], threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr:
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def after(self, t, text, timeout=300):
        """The time of the first line containing text that came after t."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                for tl, l in self.lines:
                    if tl >= t and text in l:
                        return tl
            if self.p.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.01)
        raise TestFailure("om-run -v said no %r after the request: %s" % (text, self.lines[-10:]))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.reader.join(5)


class MoveRig:
    """An agent with node_moves = how and two nodes: the freeze of each
    kind of move of a running holdimage."""

    STEPS = ("node_to_node", "node_to_home", "home_to_node")

    def __init__(self, how):
        self.conf = tempfile.NamedTemporaryFile("w", suffix=".conf", prefix="om-agent-")
        self.conf.write("node_moves = %s\n" % how)
        self.conf.flush()
        self.c = Cluster(["--config", self.conf.name])
        nodes = [self.c.boot("virtio-net-pci", mem=MEM, extra=SAME) for _ in range(2)]
        for n in nodes:
            self.c.wait_registered(n)
        self.ids = [self.c.node_by_mac(n.mac)["id"] for n in nodes]

    def measure(self, mib, kinds):
        c, ids = self.c, self.ids
        migrate = [os.path.join(BUILD, "om-migrate"), "--control", c.control]
        steps = {"node_to_node": (["node", str(ids[1])], "running on node %d" % ids[1]),
                 "node_to_home": (["home"], "running at home"),
                 "home_to_node": (["node", str(ids[0])], "running on node %d" % ids[0])}
        times = {}
        v = Verbose([os.path.join(BUILD, "om-run"), "-v", "--node", str(ids[0]), "--control", c.control,
                     os.path.join(PROG, "holdimage"), str(mib), "600"])
        try:
            check(v.p.stdout.readline() == "ready\n", "holdimage did not start")
            v.after(v.t0, "running on node %d" % ids[0])
            pid = wait_for(lambda: (children(v.p.pid) or [None])[0], 5, "holdimage's pid")
            for kind in kinds:
                target, done = steps[kind]
                time.sleep(0.5)
                for _ in range(50):  # back home, its record comes a moment later
                    t = time.monotonic()
                    r = subprocess.run(migrate + [str(pid)] + target, capture_output=True, text=True, timeout=30)
                    if "no such job" not in r.stderr:
                        break
                    time.sleep(0.1)
                check(r.returncode == 0, "om-migrate %s: %s\n%s" % (kind, r.stderr, c.agent_text()[-2500:]))
                times[kind] = v.after(t, done) - t
            os.kill(pid, signal.SIGTERM)
            v.p.wait(60)
        finally:
            v.close()
        return times

    def close(self):
        self.c.close()
        self.conf.close()


def sec_moves(sz, runs):
    """A running process moved node -> node through the agent and through
    home, node -> home and home -> node: its freeze against its memory.
    The two ways node -> node take turns, run by run, on two clusters up
    side by side, so that both see the same machine."""
    rigs = []
    try:
        rigs = [MoveRig("relay"), MoveRig("home")]
        rows = []
        for mib in sz.move_sizes:
            t = {k: [] for k in ("relay", "home", "node_to_home", "home_to_node")}
            for _ in range(runs):
                a = rigs[0].measure(mib, MoveRig.STEPS)
                b = rigs[1].measure(mib, ["node_to_node"])
                t["relay"].append(a["node_to_node"])
                t["home"].append(b["node_to_node"])
                t["node_to_home"].append(a["node_to_home"])
                t["home_to_node"].append(a["home_to_node"])
            rows.append({"image_mib": mib, "runs": runs, "accel": ACCEL, "node_to_node_s": med(t["relay"]),
                         "node_to_node_home_s": med(t["home"]), "node_to_home_s": med(t["node_to_home"]),
                         "home_to_node_s": med(t["home_to_node"])})
    finally:
        for r in rigs:
            r.close()
    md = ["| dirty memory | node → node (through the agent) s | node → node (through home) s | ratio | "
          "node → home s | home → node s |", "|---|---|---|---|---|---|"]
    for r in rows:
        md.append("| %d MiB | %s | %s | %s | %s | %s |" % (
            r["image_mib"], fmt(r["node_to_node_s"], 2), fmt(r["node_to_node_home_s"], 2),
            fmt(r["node_to_node_home_s"] / r["node_to_node_s"], 1) if r["node_to_node_s"] else "-",
            fmt(r["node_to_home_s"], 2), fmt(r["home_to_node_s"], 2)))
    return rows, md


# ------------------------------------------------------------------ checkpoints

CKPT_SAID = re.compile(r"checkpoint (\d+) from node \d+: (\d+) bytes( \(what changed since the last\))?; "
                       r"the job waited (\d+) ms")


LOGGED = FORWARDED + (("clock_gettime", "clock_gettime, the node's own (its answer kept)"),)


def costs_checkpointed_once(control, n, ck):
    """bench/progs/syscall_cost.c through om-run with checkpoints a day
    apart and one asked (om-checkpoint) while it sleeps first: its calls
    are logged at home, its node's decisions kept. {call: us}."""
    p = subprocess.Popen([os.path.join(BUILD, "om-run"), "-v", "--control", control, "--checkpoint-every", "86400",
                          "--checkpoint-file", ck, os.path.join(BUILD, "bench-syscall-cost"), str(n), "/etc/services",
                          "3"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        prog = wait_for(lambda: children(p.pid), 10, "om-run's child")[0]
        time.sleep(1)  # on its node by then
        ask = subprocess.run([os.path.join(BUILD, "om-checkpoint"), "--control", control, str(prog), ck],
                             capture_output=True, text=True, timeout=60)
        out, err = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(ask.returncode == 0 and "running on node" in err and p.returncode == 0,
          "syscall_cost checkpointed once: %d %s %s / %s" % (ask.returncode, ask.stderr, err[-1500:], out))
    return syscall_rtt.parse(out)


def sec_checkpoints(sz, runs):
    """holdimage of each size on a node for a few seconds, checkpointed
    every second: the checkpoints' bytes and the job's wait (median
    over the checkpoints of all runs)."""
    every, secs = 1.0, 4 if sz.smoke else 8
    rows = []
    # Spaced at most 2x their wait (the 5 % default would leave one per run)
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", prefix="om-agent-")
    conf.write("checkpoint_max_pct = 50\n")
    conf.flush()
    c = Cluster(["--config", conf.name])
    try:
        n = c.boot("virtio-net-pci", mem=MEM, extra=SAME)
        c.wait_registered(n)
        nid = c.node_by_mac(n.mac)["id"]
        for mib in sz.move_sizes:
            waits, sizes = [], []
            for _ in range(runs):
                ck = os.path.join(c.dir, "bench.ckpt")
                r = subprocess.run([os.path.join(BUILD, "om-run"), "-v", "--node", str(nid), "--control", c.control,
                                    "--checkpoint-every", str(every), "--checkpoint-file", ck,
                                    os.path.join(PROG, "holdimage"), str(mib), str(secs)],
                                   capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
                check(r.returncode == 0 and r.stdout.startswith("ready\nok "),
                      "holdimage %d MiB with checkpoints: %d %r %s" % (mib, r.returncode, r.stdout, r.stderr[-1500:]))
                said = CKPT_SAID.findall(r.stderr)
                check(said, "no checkpoint said: %s" % r.stderr[-1500:])
                sizes.append(int(said[0][1]))  # the whole one: the image's cost
                waits.append(int(said[0][3]))
            wait_ms, size = med(waits), med(sizes)
            rows.append({"image_mib": mib, "checkpoints": len(waits), "bytes": size, "waited_ms": wait_ms,
                         "mb_per_s": size / 1e6 / (wait_ms / 1e3) if wait_ms else 0, "every_s": every,
                         "runs": runs, "accel": ACCEL})
        # Checkpoints of what changed against the rate memory is written at
        # (the smoke run: one rate, a small image).
        image = 1 if sz.smoke else 16
        for dirty in ([1] if sz.smoke else [0, 1, 4, 16]):
            first, later = [], []
            for _ in range(runs):
                ck = os.path.join(c.dir, "dirty.ckpt")
                r = subprocess.run([os.path.join(BUILD, "om-run"), "-v", "--node", str(nid), "--control", c.control,
                                    "--checkpoint-every", str(every), "--checkpoint-file", ck,
                                    os.path.join(PROG, "holdimage"), str(image), str(secs + 2), str(dirty)],
                                   capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
                check(r.returncode == 0 and r.stdout.startswith("ready\nok "),
                      "holdimage %d MiB, %d dirty: %d %r %s" % (image, dirty, r.returncode, r.stdout, r.stderr[-1500:]))
                said = CKPT_SAID.findall(r.stderr)
                check(len(said) >= 2 and not said[0][2] and all(s[2] for s in said[1:]),
                      "a whole checkpoint, then ones of what changed: %s" % r.stderr[-1500:])
                first.append((int(said[0][1]), int(said[0][3])))
                later += [(int(s[1]), int(s[3])) for s in said[1:]]
            rows.append({"dirty_mib": dirty, "first_bytes": med([f[0] for f in first]),
                         "first_ms": med([f[1] for f in first]), "later": len(later),
                         "later_bytes": med([l[0] for l in later]), "later_ms": med([l[1] for l in later]),
                         "runs": runs, "accel": ACCEL})
        # The log of answers (call_log.h) on forwarded calls, and of the
        # node's own decisions (kernel/decide.c) on a local clock read:
        # one checkpoint asked at the start, the next a day later, so
        # every call is logged and none is cut; taking turns with no log,
        # run by run.
        logged = {"plain": {}, "logged": {}}
        ck = os.path.join(c.dir, "calls.ckpt")
        for _ in range(runs):
            _, node, err = syscall_rtt.syscall_costs(c.control, sz.calls, sz.calls)
            check("running on node" in err, "syscall_cost did not run on the node: %s" % err)
            for name, costs in (("plain", node), ("logged", costs_checkpointed_once(c.control, sz.calls, ck))):
                for k, _ in LOGGED:
                    logged[name].setdefault(k, []).append(costs[k])
        for k, label in LOGGED:
            rows.append({"call": k, "plain_us": med(logged["plain"][k]), "logged_us": med(logged["logged"][k]),
                         "runs": runs, "accel": ACCEL})
    finally:
        c.close()
        conf.close()
    md = ["| image (dirty memory) | runs | bytes (whole) | the job waited (ms) | MB/s |", "|---|---|---|---|---|"]
    for r in rows:
        if "image_mib" in r:
            md.append("| %d MiB | %d | %.1f MB | %s | %s |" % (r["image_mib"], r["checkpoints"], r["bytes"] / 1e6,
                                                             fmt(r["waited_ms"], 0), fmt(r["mb_per_s"], 1)))
    md += ["", ("| %d MiB image, written again | whole: bytes | waited (ms) | then, of what changed: checkpoints | "
               "bytes each | waited (ms) | bytes / whole |") % (1 if sz.smoke else 16), "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "dirty_mib" in r:
            md.append("| %d MiB | %.1f MB | %s | %d | %.2f MB | %s | %s |"
                      % (r["dirty_mib"], r["first_bytes"] / 1e6, fmt(r["first_ms"], 0), r["later"],
                         r["later_bytes"] / 1e6, fmt(r["later_ms"], 0), fmt(r["later_bytes"] / r["first_bytes"], 3)))
    md += ["", "| call on a node, µs | no log | logged (--checkpoint-every) | logged / no log |",
           "|---|---|---|---|"]
    for r in rows:
        if "call" in r:
            md.append("| %s | %s | %s | %s |" % (dict(LOGGED)[r["call"]], fmt(r["plain_us"], 1),
                                               fmt(r["logged_us"], 1), fmt(r["logged_us"] / r["plain_us"])))
    return rows, md


# ------------------------------------------------------------------ forks

def sec_forks(sz, runs):
    """forkloop natively and on a node (its forks stay there; each vfork's
    child's exec runs at home as a call): ms per fork against dirty memory."""
    c = Cluster()
    rows = []
    try:
        node = c.boot("virtio-net-pci", mem=MEM, extra=SAME)
        c.wait_registered(node)
        nid = c.node_by_mac(node.mac)["id"]
        prog = os.path.join(PROG, "forkloop")
        for mib in sz.fork_sizes:
            argv = [prog, str(mib), str(sz.forks), "/bin/true"]
            got = {"native": [], "node": []}
            for _ in range(runs):
                for where, cmd in (("native", argv),
                                   ("node", [os.path.join(BUILD, "om-run"), "--node", str(nid), "--control",
                                             c.control] + argv)):
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                    check(r.returncode == 0, "forkloop %s: %d %s" % (where, r.returncode, r.stderr[-500:]))
                    got[where].append(kv(r.stdout))
                    if where == "node":  # the node is free again before the next run
                        wait_for(lambda: c.node_by_mac(node.mac)["jobs"] == 0, 10, "the node to be free")
            row = {"image_mib": mib, "forks": sz.forks, "runs": runs, "accel": ACCEL}
            for where, xs in got.items():
                row[where + "_fork_ms"] = med([x["fork_ms"] for x in xs])
                row[where + "_vfork_exec_ms"] = med([x["vfork_exec_ms"] for x in xs])
            rows.append(row)
    finally:
        c.close()
    md = ["| dirty memory | fork + exit + wait: native ms | on a node ms | vfork + exec + wait: native ms | "
          "on a node ms |", "|---|---|---|---|---|"]
    for r in rows:
        md.append("| %d MiB | %s | %s | %s | %s |" % (r["image_mib"], fmt(r["native_fork_ms"], 3),
                                                     fmt(r["node_fork_ms"], 1), fmt(r["native_vfork_exec_ms"], 3),
                                                     fmt(r["node_vfork_exec_ms"], 1)))
    return rows, md


# ------------------------------------------------------------------ balance

POLICIES = {"place": "placement only", "free-core": "busy at home to a free core",
            "balance": "balancer (margin 1.3)", "balance-1": "balancer (margin 1.0)"}


# ------------------------------------------------------------------ cores

def sec_cores(sz, runs, tmp):
    """parwork procs N and parwork threads N (N forked workers or N
    threads, the same work each) on a node with sz.cores cores and in a
    Linux guest with the same -smp, side by side: the program's own wall
    time (first fork or thread to the last joined), and how the work per
    second grows with N on each; then futexpp (two threads handing a token
    through a futex): the wake-up latency across cores."""
    extra = ["-cpu", "max", "-smp", str(sz.cores)]
    prog, pp = os.path.join(PROG, "parwork"), os.path.join(PROG, "futexpp")
    kinds = ("procs", "threads")
    argv = lambda k, n: [k, str(n), str(sz.core_millions)]  # noqa: E731
    cmds = []
    for k in kinds:
        for n in sz.core_workers:
            cmds += ["echo BENCH-BEGIN %s %d" % (k, n), "/bin/parwork %s" % " ".join(argv(k, n)),
                     "echo BENCH-END %s %d" % (k, n)]
    cmds += ["echo BENCH-BEGIN futex", "/bin/futexpp %d" % sz.futex_rounds, "echo BENCH-END futex"]
    initrd = os.path.join(tmp, "cores.cpio")
    linux_guest.build_initramfs(initrd, cmds, [prog, pp], [])
    got = {(k, n): {"node": [], "guest": []} for k in kinds for n in sz.core_workers}
    futex = {"node": [], "guest": []}
    c = Cluster()
    try:
        node = c.boot("virtio-net-pci", mem=MEM, extra=extra)
        c.wait_registered(node)
        check("smp: %d cores running" % sz.cores in node.serial(), "the node did not start its cores:\n%s"
              % node.serial()[-1500:])
        nid = c.node_by_mac(node.mac)["id"]

        def on_node(cmd, what):
            r = subprocess.run([os.path.join(BUILD, "om-run"), "-v", "--node", str(nid), "--control",
                                c.control] + cmd, capture_output=True, text=True, timeout=1800)
            check(r.returncode == 0 and "running on node" in r.stderr and "comes home" not in r.stderr,
                  "%s on the node: %d %s" % (what, r.returncode, r.stderr[-1500:]))
            wait_for(lambda: c.node_by_mac(node.mac)["jobs"] == 0, 10, "the node to be free")
            return kv(r.stdout)["wall_s"]

        for _ in range(runs):
            con, _ = linux_guest.run(c, initrd, MEM, extra, timeout=1800)
            for k in kinds:
                for n in sz.core_workers:
                    m = re.search(r"BENCH-BEGIN %s %d\n(.*?)BENCH-END %s %d\n" % (k, n, k, n), con, re.S)
                    check(m is not None and "wall_s" in m.group(1), "guest parwork %s %d:\n%s" % (k, n, con[-2000:]))
                    got[k, n]["guest"].append(kv(m.group(1))["wall_s"])
            m = re.search(r"BENCH-BEGIN futex\n(.*?)BENCH-END futex\n", con, re.S)
            check(m is not None and "wall_s" in m.group(1), "guest futexpp:\n%s" % con[-2000:])
            futex["guest"].append(kv(m.group(1))["wall_s"])
            for k in kinds:
                for n in sz.core_workers:
                    before = node.serial().count("forked job")
                    got[k, n]["node"].append(on_node([prog] + argv(k, n), "parwork %s %d" % (k, n)))
                    forked = node.serial().count("forked job") - before
                    check(forked == (n if k == "procs" else 0), "parwork %s %d: %d workers forked on the node:\n%s"
                          % (k, n, forked, node.serial()[-1500:]))
            futex["node"].append(on_node([pp, str(sz.futex_rounds)], "futexpp"))
    finally:
        c.close()
    rows = []
    for k in kinds:
        one = {w: med(got[k, sz.core_workers[0]][w]) for w in ("node", "guest")}
        for n in sz.core_workers:
            v = {w: med(got[k, n][w]) for w in ("node", "guest")}
            rows.append({"kind": k, "workers": n, "cores": sz.cores, "millions_each": sz.core_millions,
                         "node_wall_s": v["node"], "guest_wall_s": v["guest"],
                         "node_over_guest": v["node"] / v["guest"], "node_scaling": n * one["node"] / v["node"],
                         "guest_scaling": n * one["guest"] / v["guest"], "runs": runs, "accel": ACCEL})
    fx = {w: med(futex[w]) for w in ("node", "guest")}
    rows.append({"kind": "futex", "workers": 2, "cores": sz.cores, "millions_each": 0,
                 "node_wall_s": fx["node"], "guest_wall_s": fx["guest"], "node_over_guest": fx["node"] / fx["guest"],
                 "node_scaling": "", "guest_scaling": "", "runs": runs, "accel": ACCEL})
    md = ["| workers | om node s | Linux guest s | om / guest | om: work per s vs 1 worker "
          "| guest: work per s vs 1 worker |", "|---|---|---|---|---|---|"]
    for r in rows[:-1]:
        md.append("| %d %s | %s | %s | %s | %s | %s |" % (r["workers"], "processes" if r["kind"] == "procs"
                                                         else "threads", fmt(r["node_wall_s"]),
                                                         fmt(r["guest_wall_s"]), fmt(r["node_over_guest"]),
                                                         fmt(r["node_scaling"]), fmt(r["guest_scaling"])))
    us = lambda s: fmt(s / sz.futex_rounds * 1e6, 1)  # noqa: E731
    md += ["", "| futex hand-over (two threads, one word, %d rounds) | om node | Linux guest | om / guest |"
           % sz.futex_rounds, "|---|---|---|---|",
           "| µs per round (wake, run, wake back) | %s | %s | %s |" % (us(fx["node"]), us(fx["guest"]),
                                                                     fmt(fx["node"] / fx["guest"]))]
    return rows, md


def sec_balance(sz):
    r = subprocess.run([os.path.join(PROG, "balance_sim"), str(sz.sim_seeds)], capture_output=True, text=True,
                       timeout=300)
    check(r.returncode == 0, "balance_sim: %s" % r.stderr)
    rows = []
    for x in csv.DictReader(r.stdout.splitlines()):
        rows.append({"scenario": x["scenario"], "policy": x["policy"],
                     "makespan_vs_bound": float(x["makespan_vs_bound"]),
                     "mean_completion_s": float(x["mean_completion_s"]),
                     "moves_per_process": float(x["moves_per_process"]), "seeds": sz.sim_seeds})
    free = {x["scenario"]: x for x in rows if x["policy"] == "free-core"}
    md = ["| lab | policy | makespan / bound | mean completion s | vs. free-core | moves per process |",
          "|---|---|---|---|---|---|"]
    for x in rows:
        md.append("| %s | %s | %s | %s | %s | %s |" % (
            x["scenario"], POLICIES[x["policy"]], fmt(x["makespan_vs_bound"]), fmt(x["mean_completion_s"], 1),
            fmt(x["makespan_vs_bound"] / free[x["scenario"]]["makespan_vs_bound"]), fmt(x["moves_per_process"])))
    return rows, md


# ------------------------------------------------------------------ output

def write_csv(path, rows):
    fields = []  # rows of two kinds (checkpoints): every key, in order
    for r in rows:
        fields += [k for k in r if k not in fields]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: (num(v) if isinstance(v, float) else v) for k, v in r.items()})


def num(v):
    """A float for CSV: 4 significant digits, never an exponent."""
    if v != v or abs(v) >= 1000:
        return "%.0f" % v
    return "%.4g" % v if abs(v) >= 1e-3 or v == 0 else "%.6f" % v


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    q = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return model, os.cpu_count(), q.replace("QEMU emulator version ", "")


def distro():
    try:
        with open("/etc/os-release") as f:
            return dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l).get("PRETTY_NAME", "?").strip('"')
    except OSError:
        return "?"


def update_doc(path, blocks):
    """Replaces the text between <!-- bench:NAME --> and <!-- /bench:NAME -->
    for each NAME in blocks; a block the file lacks is appended."""
    with open(path) as f:
        doc = f.read()
    for name, text in blocks.items():
        begin, end = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
        body = "%s\n%s\n%s" % (begin, text.rstrip("\n"), end)
        if begin in doc and end in doc:
            doc = doc[:doc.index(begin)] + body + doc[doc.index(end) + len(end):]
        else:
            doc = doc.rstrip("\n") + "\n\n" + body + "\n"
    with open(path + ".tmp", "w") as f:
        f.write(doc)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description="om side by side with a Linux guest and the link")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no documentation")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("OM_BENCH_RUNS", "3")))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--only", help="sections, comma-separated (default: all; with --smoke all but crypto)")
    a = ap.parse_args()
    sz = Sizes(a.smoke)
    runs = 1 if a.smoke else max(1, a.runs)
    only = [s for s in a.only.split(",") if s] if a.only else SMOKE_SECTIONS if a.smoke else SECTIONS
    for s in only:
        if s not in SECTIONS:
            ap.error("unknown section %s (%s)" % (s, ", ".join(SECTIONS)))
    write_doc = not (a.smoke or a.no_doc)
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="om-bench-")
    t_start = time.monotonic()
    blocks, failed = {}, []
    om = link = None

    def section(name, fn):
        t0 = time.monotonic()
        try:
            fn()
            print("bench: %s done in %.0f s" % (name, time.monotonic() - t0), flush=True)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            traceback.print_exc()
            print("bench: %s FAILED: %s" % (name, e), flush=True)
            failed.append(name)

    cmd = "python3 bench/bench.py --smoke" if a.smoke else "OM_BENCH_RUNS=%d make bench" % runs
    if a.only:
        cmd = "OM_BENCH_RUNS=%d python3 bench/bench.py --only %s" % (runs, a.only)

    def emit(name, rows, md, csv_name=None):
        csv_path = os.path.join(a.out, (csv_name or name) + ".csv")
        write_csv(csv_path, rows)
        where = "on the host, no QEMU" if name in ("agent", "balance") else "accelerator %s" % ACCEL
        many = ("one run" if name == "agent" else "mean of %d simulated labs each" % sz.sim_seeds
                if name == "balance" else "median of %d run%s" % (runs, "s" if runs > 1 else ""))
        md = md + ["", "`%s`, %s, %s, %s; raw: `%s`." % (
            cmd, datetime.date.today().isoformat(), where, many, os.path.relpath(csv_path, ROOT))]
        blocks[name] = "\n".join(md)
        print("\n".join(md) + "\n", flush=True)

    try:
        if {"compute", "syscalls", "migration"} & set(only):
            om = OmNode()
        if {"syscalls", "migration"} & set(only):
            link = syscall_rtt.MiniAgent(extra=SAME, mem=MEM)
        if "compute" in only:
            section("compute", lambda: emit("compute", *sec_compute(sz, runs, om, tmp)))
        if "syscalls" in only:
            section("syscalls", lambda: emit("syscalls", *sec_syscalls(sz, runs, om, link), csv_name="syscall_rtt"))
        if "migration" in only:
            section("migration", lambda: emit("migration", *sec_migration(sz, runs, om, link)))
        if link is not None:
            link.close()
            link = None
        if om is not None:
            om.close()
            om = None
        if "crypto" in only:
            section("crypto", lambda: emit("crypto", *sec_crypto(sz, runs)))
        if "moves" in only:
            section("moves", lambda: emit("moves", *sec_moves(sz, runs)))
        if "checkpoints" in only:
            section("checkpoints", lambda: emit("checkpoints", *sec_checkpoints(sz, runs)))
        if "forks" in only:
            section("forks", lambda: emit("forks", *sec_forks(sz, runs)))
        if "cores" in only:
            section("cores", lambda: emit("cores", *sec_cores(sz, runs, tmp)))
        if "boot" in only:
            def boot():
                rows, md, nic_rows, nic_md = sec_boot(sz, runs, tmp)
                emit("boot", rows, md, csv_name="boot_vs_guest")
                emit("boot_nics", nic_rows, nic_md, csv_name="boot")
            section("boot", boot)
        if "agent" in only:
            section("agent", lambda: emit("agent", *sec_agent(sz, runs)))
        if "balance" in only:
            section("balance", lambda: emit("balance", *sec_balance(sz)))
    finally:
        if link is not None:
            link.close()
        if om is not None:
            om.close()
        shutil.rmtree(tmp, ignore_errors=True)

    model, ncpu, qemu = machine()
    blocks["machine"] = ("Machine of the figures below: %s, %d cores (nproc), %s, QEMU %s, accelerator %s. "
                         "Last run: `%s`, %s, %.0f s." % (
                             model, ncpu, distro(), qemu, ACCEL, cmd, datetime.date.today().isoformat(),
                             time.monotonic() - t_start))
    if write_doc:
        update_doc(os.path.join(ROOT, "docs", "PERFORMANCE.md"), blocks)
    print("bench: %s in %.0f s%s" % ("failed: " + ", ".join(failed) if failed else "all sections done",
                                    time.monotonic() - t_start, "" if write_doc else " (docs not written)"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
