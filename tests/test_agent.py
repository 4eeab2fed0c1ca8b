#!/usr/bin/env python3
"""test_agent.py - runs the real om-agent and om-mon against fake nodes.

Each test starts its own agent on 127.0.0.1 with an ephemeral port and a
control socket in a temporary directory, and plays nodes over plain sockets.
Output is one line per test, "PASS name" or "FAIL name: reason"; the exit
status is 0 iff all passed. Every process started is killed by its pid when
its test ends, and each test is bounded by an alarm.

The agent, the fake nodes and the runner are tests/harness.py; the protocol
is tests/omwire.py. Environment: OM_AGENT, OM_MON pick the binaries
(default build/om-agent, build/om-mon); OM_TEST_PREFIX is prepended to test names; a test name given
on the command line runs only that test.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

import omlink
import omwire as ow
from harness import (AGENT, CPU, MAC1, MAC2, MAC3, MIGRATE, MON, NOBODY, ROOT, Agent, Ctl, Fail, Node,
                     agent_with, check, fake_hello, fake_submit, run_tests, spawn, wait_for)

PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "agent/"
TEST_TIMEOUT = 20

# ---- tests


def t_agent_usage(tmp):
    p = subprocess.run([AGENT, "--help"], capture_output=True, timeout=5)
    check(p.returncode == 0 and p.stdout.startswith(b"usage: om-agent"), "--help: %r" % p.stdout)
    for bad in (["--bogus"], ["--listen", "nonsense"], ["--listen", "1.2.3.4:99999"],
                ["--down-after", "0"], ["--heartbeat-ms", "x"],
                ["--down-after", "500", "--drop-after", "400"], ["--grace", "100", "--down-after", "500"],
                ["--grace", "70000"], ["extra"]):
        p = subprocess.run([AGENT] + bad, capture_output=True, timeout=5)
        check(p.returncode == 2 and p.stderr.startswith(b"om-agent: "),
              "%s: exit %d %r" % (bad, p.returncode, p.stderr))


def t_mon_usage(tmp):
    p = subprocess.run([MON, "--help"], capture_output=True, timeout=5)
    check(p.returncode == 0 and p.stdout.startswith(b"usage: om-mon"), "--help: %r" % p.stdout)
    for bad in (["--bogus"], ["--json", "--watch"], ["--jobs", "--json"], ["--jobs", "--watch"],
                ["--watch", "0"], ["extra"]):
        p = subprocess.run([MON] + bad, capture_output=True, timeout=5)
        check(p.returncode == 2, "%s: exit %d" % (bad, p.returncode))


def t_register_json(tmp):
    a = Agent(tmp, "--heartbeat-ms", "250")
    before = time.time_ns()
    n = a.node(MAC1, nic="virtio-net", mem=(512 << 20) + 7, speed=987, boot_ms=4321)
    check(n.id == 1, "first node id %d" % n.id)
    check(n.hb_ms == 250, "WELCOME heartbeat_ms %d" % n.hb_ms)
    check(abs(n.time_ns - before) < 5 * 10**9, "WELCOME time_ns %d vs %d" % (n.time_ns, before))
    got = a.nodes()[MAC1]
    want = {"id": 1, "mac": MAC1, "ip": "127.0.0.1", "nic": "virtio-net", "cpus": 6,
            "cpu_vendor": CPU["vendor"], "cpu_model": CPU["model"], "speed": 987,
            "mem_bytes": (512 << 20) + 7, "mem_free": (512 << 20) + 7, "load": 0,
            "jobs": 0, "state": "up", "uptime_ms": 4321, "key": n.s.fingerprint, "claims": "ok",
            "features": {"leaf1_ecx": CPU["leaf1_ecx"], "leaf1_edx": CPU["leaf1_edx"],
                         "leaf7_ebx": CPU["leaf7_ebx"], "leaf7_ecx": CPU["leaf7_ecx"],
                         "leaf7_edx": CPU["leaf7_edx"], "xcr0": CPU["xcr0"]}}
    for k, v in want.items():
        check(got.get(k) == v, "%s: got %r, want %r" % (k, got.get(k), v))
    check(0 <= got["registered_s"] <= 2 and 0 <= got["last_seen_ms"] < 2000,
          "times: %r" % got)
    n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(99000, 1500, 300 << 20, 2))
    got = wait_for(lambda: (lambda g: g if g["jobs"] == 2 else None)(a.nodes()[MAC1]), 3,
                   "the heartbeat to show")
    check(got["load"] == 1.5 and got["mem_free"] == 300 << 20 and got["uptime_ms"] == 99000,
          "after heartbeat: %r" % got)
    check(re.search(r"om-agent: node 1 registered mac 52:54:00:12:34:56 key %s ip 127\.0\.0\.1 "
                    r"nic virtio-net" % n.s.fingerprint, a.log()), "log: %r" % a.log())
    check(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} om-agent: ", a.log()),
          "log lines carry no timestamp")


def t_mon_table(tmp):
    a = Agent(tmp)
    a.node(MAC1)
    rc, out, err = a.mon()
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 2, "om-mon: %d %r %r" % (rc, out, err))
    check(lines[0].split() == ["ID", "MAC", "IP", "NIC", "CPUS", "SPEED", "MEM(MiB)", "FREE",
                               "LOAD", "JOBS", "STATE", "UPTIME", "KEY"], "header: %r" % lines[0])
    check(lines[1].split() == ["1", MAC1, "127.0.0.1", "virtio-net", "6", "1234", "512",
                               "512", "0.00", "0", "up", "0:00:04", a.keep[0].s.fingerprint],
          "row: %r" % lines[1])
    env = dict(os.environ, OM_CONTROL=a.control)
    p = subprocess.run([MON, "--json"], env=env, capture_output=True, timeout=10)
    check(p.returncode == 0 and MAC1 in p.stdout.decode(), "OM_CONTROL ignored: %r" % p.stderr)


def t_mon_watch(tmp):
    a = Agent(tmp)
    a.node(MAC1)
    p = spawn([MON, "--control", a.control, "--watch", "0.2"], stdout=subprocess.PIPE,
              stderr=subprocess.PIPE)
    time.sleep(0.7)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=5)
    check(p.returncode == 0, "--watch exit %d %r" % (p.returncode, err))
    check(out.count(b"\033[H\033[2J") >= 2 and out.count(MAC1.encode()) >= 2,
          "--watch did not redraw: %r" % out[:300])


def t_echo(tmp):
    a = Agent(tmp)
    n = a.node(MAC1)
    for payload in (b"", b"ping", bytes(range(256)) * 100):
        n.send_frame(ow.T_ECHO, payload, job=7, seq=0xFFFFFFFF)
        f = n.recv_frame()
        check(f == (ow.T_ECHO_REPLY, 7, 0xFFFFFFFF, payload), "echo of %d bytes: %r" %
              (len(payload), f and f[:3]))


def t_garbage_closed(tmp):
    a = Agent(tmp)
    a.node(MAC1)
    g = a.node()
    g.send(b"GET / HTTP/1.0\r\n\r\n")
    g.expect_error(ow.E_MAGIC)
    check(re.search(r"127\.0\.0\.1:\d+: bad frame: bad magic", a.log()), "log: %r" % a.log())
    g = a.node()
    g.send(os.urandom(3) + b"\x00" * 13)  # random magic, then zeros
    g.expect_closed()
    a.check_up(MAC1)


def t_oversized_closed(tmp):
    a = Agent(tmp)
    a.node(MAC1)
    big = a.node()
    big.send(ow.frame(ow.T_ECHO, length=ow.MAX_PAYLOAD + 1))
    big.expect_error(ow.E_TOOBIG)
    # below the protocol limit but above the 64 KiB node buffer
    big = a.node(MAC2)
    big.send(ow.frame(ow.T_ECHO, b"x" * 1000, length=100000))
    big.expect_error(ow.E_TOOBIG)
    a.check_up(MAC1)
    check(a.nodes()[MAC2]["state"] == "down", "oversized sender still up")


def t_malformed_closed(tmp):
    a = Agent(tmp)
    a.node(MAC1)
    good = fake_hello(MAC2)
    cases = [
        ("bad version", ow.frame(ow.T_HELLO, good, version=ow.VERSION - 1), ow.E_VERSION),
        ("unknown type", ow.frame(10, b""), ow.E_TYPE),
        ("unknown type 83", ow.frame(83, b""), ow.E_TYPE),
        ("heartbeat first", ow.frame(ow.T_HEARTBEAT, ow.heartbeat(1, 1, 1, 1)), ow.E_STATE),
        ("truncated hello", ow.frame(ow.T_HELLO, good[:-1]), ow.E_TRUNC),
        ("hello + trailing", ow.frame(ow.T_HELLO, good + b"\0"), ow.E_TRAILING),
        ("nic with NUL", ow.frame(ow.T_HELLO, fake_hello(MAC2, nic="virtio\0net")), ow.E_RANGE),
        ("nic with ESC", ow.frame(ow.T_HELLO, fake_hello(MAC2, nic="\x1b[2Jx")), ow.E_RANGE),
        ("nic too long", ow.frame(ow.T_HELLO, fake_hello(MAC2, nic="n" * 65)), ow.E_RANGE),
        ("zero cores", ow.frame(ow.T_HELLO, fake_hello(MAC2, cores=0)), ow.E_RANGE),
        ("multicast mac", ow.frame(ow.T_HELLO, fake_hello("01:00:5e:00:00:01")), ow.E_RANGE),
        ("hello with job", ow.frame(ow.T_HELLO, good, job=5), ow.E_RANGE),
        ("welcome from node", ow.frame(ow.T_WELCOME, ow.welcome(1, 1, 1)), ow.E_STATE),
    ]
    for name, data, code in cases:
        n = a.node()
        n.send(data)
        try:
            n.expect_error(code)
        except Fail as e:
            raise Fail("%s: %s" % (name, e))
    # errors after registration: the node goes down, others stay up
    n = a.node(MAC3)
    n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1, 2, 3, 4)[:-1])
    n.expect_error(ow.E_TRUNC)
    n = a.node(MAC3)
    n.send_frame(ow.T_HELLO, fake_hello(MAC3))
    n.expect_error(ow.E_STATE)
    n = a.node(MAC3)
    n.send_frame(ow.T_BYE, b"x")
    n.expect_error(ow.E_TRAILING)
    n = a.node(MAC3)  # a checkpoint file's frame is never a link's
    n.send_frame(ow.T_CKPT_ENTRY, b"")
    n.expect_error(ow.E_STATE)
    check(a.nodes()[MAC3]["state"] == "down", "MAC3 not down")
    a.check_up(MAC1)
    check(MAC2 not in a.nodes(), "a rejected HELLO created a node")


def t_slow_peer(tmp):
    a = Agent(tmp)
    a.node(MAC1)
    slow = Node(a.port, a.pub, rcvbuf=4096)
    slow.register(MAC2)
    slow.s.settimeout(10)
    payload = b"z" * 60000
    try:
        for _ in range(2000):  # far beyond the agent's queue and socket buffers
            slow.send_frame(ow.T_ECHO, payload)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    wait_for(lambda: "output queue full" in a.log(), 10, "the slow peer to be dropped")
    a.check_up(MAC1)


def t_hello_timeout(tmp):
    a = Agent(tmp, "--down-after", "300", "--drop-after", "1000")
    n = a.node()
    t0 = time.monotonic()
    n.expect_error(ow.E_STATE, timeout=3)
    check(time.monotonic() - t0 < 2, "HELLO deadline not enforced in time")


def t_down_and_drop(tmp):
    a = Agent(tmp, "--heartbeat-ms", "100", "--down-after", "400", "--drop-after", "1200")
    n = a.node(MAC1)
    for i in range(6):  # 600 ms of heartbeats: stays up
        n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(i, 0, 1, 0))
        time.sleep(0.1)
    check(a.nodes()[MAC1]["state"] == "up", "down while heartbeating")
    t0 = time.monotonic()
    wait_for(lambda: a.nodes()[MAC1]["state"] == "down", 2, "silence to mark it down")
    check(time.monotonic() - t0 >= 0.25, "marked down too early")
    n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(9, 0, 1, 0))  # still connected: revives
    wait_for(lambda: a.nodes()[MAC1]["state"] == "up", 2, "a heartbeat to revive it")
    wait_for(lambda: MAC1 not in a.nodes(), 4, "the node to be dropped")
    n.expect_closed()  # a dropped node's connection is closed
    n = a.node(MAC1)
    check(n.id == 1, "id after drop: %d" % n.id)
    # a closed connection is down at once, and dropped later
    n.close()
    wait_for(lambda: a.nodes()[MAC1]["state"] == "down", 1, "close to mark it down")
    wait_for(lambda: MAC1 not in a.nodes(), 4, "the closed node to be dropped")


def t_bye(tmp):
    a = Agent(tmp)
    n = a.node(MAC1)
    n.send_frame(ow.T_BYE)
    frames = n.expect_closed()
    check(frames == [], "frames after BYE: %r" % frames)
    check(a.nodes()[MAC1]["state"] == "down", "not down after BYE")


def t_reconnect_same_mac(tmp):
    a = Agent(tmp)
    key = os.urandom(32)
    n1 = a.node(MAC1, static=key)
    n2 = a.node(MAC2)
    check((n1.id, n2.id) == (1, 2), "ids %d %d" % (n1.id, n2.id))
    n3 = a.node(MAC1, static=key, nic="e1000")  # the same node (its key) again
    check(n3.id == 1, "reconnect got id %d" % n3.id)
    n1.expect_closed()  # the old connection is replaced
    nodes = a.nodes()
    check(len(nodes) == 2 and nodes[MAC1]["state"] == "up" and nodes[MAC1]["nic"] == "e1000",
          "after reconnect: %r" % nodes)
    n3.send_frame(ow.T_ECHO, b"still here")
    check(n3.recv_frame()[3] == b"still here", "new connection dead")


def t_mac_of_a_live_node_not_taken(tmp):
    """Another key saying a live node's MAC is refused and changes nothing;
    once the node went silent (down_after), a new key may take the MAC (the
    node rebooted and made a new key)."""
    a = Agent(tmp, "--down-after", "700", "--heartbeat-ms", "100")
    n1 = a.node(MAC1, nic="virtio-net")
    evil = a.node()
    evil.send_frame(ow.T_HELLO, fake_hello(MAC1, nic="e1000", speed=999999))
    frames = evil.expect_closed()
    check([f[0] for f in frames] == [ow.T_ERROR], "impostor got %r" % frames)
    code, msg = ow.error_decode(frames[0][3])
    check(code == ow.E_BUSY and msg == "live node 1 has this MAC; key %s refused" % evil.s.fingerprint,
          "refusal: %d %r" % (code, msg))
    check("MAC 52:54:00:12:34:56, live node 1's (key %s), from key %s: refused" %
          (n1.s.fingerprint, evil.s.fingerprint) in a.log(), "log: %r" % a.log()[-400:])
    got = a.nodes()[MAC1]
    check(got["nic"] == "virtio-net" and got["speed"] != 999999 and got["state"] == "up",
          "the impostor changed the entry: %r" % got)
    n1.send_frame(ow.T_ECHO, b"still mine")
    check(n1.recv_frame()[3] == b"still mine", "the live node lost its link")
    # silent past down_after: the rebooted node (a new key) registers
    wait_for(lambda: a.nodes()[MAC1]["state"] == "down", 5, "node 1 to go down")
    n3 = a.node(MAC1, nic="e1000")
    check(n3.id == 1 and a.nodes()[MAC1]["nic"] == "e1000", "reboot with a new key: %r" % a.nodes())


def t_link_refuses_plaintext_and_wrong_keys(tmp):
    """No handshake (a plaintext HELLO), a node that names another agent
    key, and a record changed in transit: each is closed, never listed,
    and logged with its reason; the registered node goes on."""
    a = Agent(tmp)
    good = a.node(MAC1)
    raw = Node(a.port, None, raw=True)
    raw.send_frame(ow.T_HELLO, fake_hello(MAC2))
    check(raw.expect_closed() == [], "plaintext peer got frames")
    try:
        Node(a.port, omlink.x25519_public(os.urandom(32)))
        raise Fail("a node with the wrong agent key finished the handshake")
    except omlink.LinkError:
        pass
    bad = a.node()
    bad.s.send_record_raw(ow.frame(ow.T_HELLO, fake_hello(MAC3)), flip_bit=77)
    check(bad.expect_closed() == [], "tampered record answered")
    wait_for(lambda: "integrity check" in a.log(), 3, "the tampered record in the log")
    log = a.log()
    check("not an om link peer" in log, "plaintext refusal not logged: %r" % log[-600:])
    check("does not know this agent's key" in log, "wrong key not logged: %r" % log[-600:])
    check(set(a.nodes()) == {MAC1}, "listed: %r" % a.nodes())
    good.send_frame(ow.T_ECHO, b"fine")
    check(good.recv_frame()[3] == b"fine", "the good node suffered")


def t_unregistered_connections_capped(tmp):
    """Connections that have not registered (each may cost the agent a
    handshake) are capped per address: the ninth from one address is
    closed at once and the cap is named in the log; registered nodes do
    not count, and one registers while the others sit there."""
    a = Agent(tmp)
    idle = [ow.connect_tcp(a.port) for _ in range(8)]
    extra = ow.connect_tcp(a.port)
    extra.settimeout(3)
    check(extra.recv(1) == b"", "the ninth was not closed")
    check("refused: at the cap on unregistered connections from one address "
          "(NODE_UNREGISTERED_PER_ADDR)" in a.log(), "cap not named: %r" % a.log()[-300:])
    for s in idle[:2]:
        s.close()
    time.sleep(0.3)
    check(a.node(MAC1).id == 1 and a.node(MAC2).id == 2, "no registration beside the idle ones")
    for s in idle[2:]:
        s.close()


def as_user(a, fn):
    """fn(), as user nobody in a child process (its control connections
    count as that user's); returns what fn returned, a short string."""
    d = os.path.dirname(a.control)
    for _ in range(3):  # run/, the agent's directory, the test's
        os.chmod(d, 0o755)
        d = os.path.dirname(d)
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rd)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(wr, fn().encode())
        except BaseException as e:
            os.write(wr, ("error: %r" % e).encode())
        finally:
            os._exit(0)
    os.close(wr)
    with os.fdopen(rd, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


def t_jobs_per_user_capped(tmp):
    """jobs_per_user: a user's job over the cap is not placed, and the
    answer and the log name the cap; root is not capped per user."""
    a = agent_with(tmp, "jobs_per_user = 2\n")
    a.node(MAC1)
    check("caps: 2 jobs per user (jobs_per_user)" in a.log(), "caps not logged: %r" % a.log())

    def three():
        c = Ctl(a.control)
        return "|".join("%d %s" % (r[1], r[3]) for r in (c.submit(), c.submit(), c.submit()))
    got = as_user(a, three)
    check(got == "1 |1 |0 too many jobs of one user (jobs_per_user 2)", "nobody's submits: %r" % got)
    check(re.search(r'job not placed \(uid %d pid \d+ "\./prog arg"\): too many jobs of one user '
                    r'\(jobs_per_user 2\)' % NOBODY, a.log()), "refusal not logged: %r" % a.log()[-400:])
    c = a.ctl()
    check([c.submit()[1] for _ in range(3)] == [1, 1, 1], "root was capped")


def t_image_start_deadline(tmp):
    """A job placed on a node whose image does not begin within
    image_start_ms is dropped: the node gets JOB_KILL, om-run JOB_ERROR
    naming the deadline, its core is free again; a job whose image began
    in time stays."""
    a = agent_with(tmp, "image_start_ms = 300\n")
    n = a.node(MAC1, cores=1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n.id, "not placed")
    f = c.recv_frame(5)
    check(f[:2] == (ow.T_JOB_ERROR, job) and ow.error_decode(f[3]) ==
          (ow.E_STATE, "its image did not begin within 300 ms (image_start_ms)"), "om-run got %r" % (f,))
    check(n.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL for the node")
    wait_for(lambda: "job %d (uid 0 pid %d) on node 1 ended: no image within 300 ms of its placement "
             "(image_start_ms); its core is free, JOB_ERROR sent to om-run" % (job, os.getpid()) in a.log(),
             3, "the end in the log")
    check(a.jobs() == [] and a.nodes()[MAC1]["jobs"] == 0, "the job or its core is still held")
    job2, node2, _, _ = c.submit()
    check(node2 == n.id, "the core did not come back")
    c.send_frame(ow.T_IMAGE_BEGIN, b"header", job=job2)
    check(n.recv_frame()[:2] == (ow.T_IMAGE_BEGIN, job2), "IMAGE_BEGIN not relayed")
    check(no_frame(c, 0.8), "a job whose image began was dropped")
    check([j["job"] for j in a.jobs()] == [job2], "jobs: %r" % a.jobs())


def t_buffer_memory_capped(tmp):
    """buffer_mib bounds the agent's buffers in all: a node connection
    that would not fit is refused, a placement whose relay buffers would
    not fit is not made, an output queue that would grow past it closes
    its connection; each names the cap, in the log and to the peer."""
    a = agent_with(tmp, "buffer_mib = 1\n", name="one")
    registered = []
    try:
        for i in range(20):  # about 100 KiB each: some ten fit in 1 MiB
            registered.append(a.node("02:00:00:00:01:%02x" % i))
    except (omlink.LinkError, Fail, OSError):
        pass
    check(3 <= len(registered) < 20, "registered %d nodes under 1 MiB" % len(registered))
    wait_for(lambda: "refused: at the cap on buffer memory (buffer_mib 1)" in a.log(), 3,
             "the refusal in the log")
    registered[0].send_frame(ow.T_ECHO, b"ok")
    check(registered[0].recv_frame()[3] == b"ok", "a registered node suffered")

    a = agent_with(tmp, "buffer_mib = 2\n", name="two")
    a.node(MAC1)
    job, node, _, reason = a.ctl().submit()
    check(node == 0 and reason == "at the cap on buffer memory (buffer_mib 2)",
          "placed under 2 MiB: %r" % ((job, node, reason),))
    check("): at the cap on buffer memory (buffer_mib 2)" in a.log(), "not logged")

    a = agent_with(tmp, "buffer_mib = 3\n", name="three")
    n = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n.id, "not placed under 3 MiB")
    c.send_frame(ow.T_IMAGE_PAGES, b"p" * (1 << 20), job=job)  # the node's queue: 2 MiB
    check(n.expect_closed() == [], "the node was not closed")
    f = c.recv_frame()
    check(f[:2] == (ow.T_NODE_LOST, job) and ow.node_lost_decode(f[3]) ==
          (n.id, "at the cap on buffer memory (buffer_mib 3)"), "om-run got %r" % (f[:2],))
    check(re.search(r"127\.0\.0\.1:\d+: at the cap on buffer memory \(buffer_mib 3\): \d+ bytes "
                    r"counted, its output queue would take \d+ more", a.log()), "not logged: %r" % a.log()[-500:])
    check(a.alive() and a.ctl().submit()[1] == 0, "the agent after")


def t_relay_buffers_given_back(tmp):
    """A connection's 1 MiB relay buffer goes back under buffer_mib once
    it has carried no job for a while: nodes that ran a job once must not
    keep the cap used up for the life of their connections."""
    a = agent_with(tmp, "buffer_mib = 3\n")
    n1 = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit(node=n1.id)
    check(node == n1.id, "not placed on node 1")
    c.send_frame(ow.T_JOB_KILL, job=job)  # om-run gives it up: no job left on node 1
    check(n1.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL for node 1")
    c.close()
    n2 = a.node(MAC2)
    # Node 1's and this connection's relay buffers would pass 3 MiB with
    # node 1's still held; given back after some seconds, they fit.
    end = time.monotonic() + 15
    while True:
        c = a.ctl()
        node, reason = c.submit(node=n2.id)[1:4:2]
        if node == n2.id:
            break
        check(reason == "at the cap on buffer memory (buffer_mib 3)" and time.monotonic() < end,
              "no room for a job on node 2: %r" % reason)
        c.close()
        for n in (n1, n2):  # up, as nodes are
            n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(5000, 0, 256 << 20, 0))
        time.sleep(0.5)
    n1.send_frame(ow.T_ECHO, b"ok")
    check(n1.recv_frame()[3] == b"ok", "node 1 after its buffer shrank")


def t_runs_as_user(tmp):
    """--user: started as root, the agent reads its key and binds its
    sockets, then runs as that user for good; nodes and tools still work."""
    if os.getuid() != 0:
        return
    os.chmod(tmp, 0o755)
    a = Agent(tmp, "--user", "nobody")
    with open("/proc/%d/status" % a.proc.pid) as f:
        ids = [l.split()[1:] for l in f if l.startswith(("Uid:", "Gid:"))]
    check(ids == [["65534"] * 4, ["65534"] * 4], "uids/gids: %r" % ids)
    check("running as nobody (uid 65534 gid 65534)" in a.log(), "log: %r" % a.log()[-300:])
    a.node(MAC1)
    a.check_up(MAC1)


def t_key_file_checked(tmp):
    """--genkey makes a 0600 file and prints the public key; --pubkey reads it
    back; a key readable by others, malformed or missing is refused."""
    k = os.path.join(tmp, "k")
    p = subprocess.run([AGENT, "--genkey", k], capture_output=True, text=True, timeout=5)
    check(p.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", p.stdout), "genkey: %r" % (p,))
    check(os.stat(k).st_mode & 0o777 == 0o600, "mode %o" % os.stat(k).st_mode)
    q = subprocess.run([AGENT, "--pubkey", "--config", "/dev/null", "--key", k], capture_output=True,
                       text=True, timeout=5)
    check(q.returncode == 0 and q.stdout == p.stdout, "pubkey %r vs %r" % (q.stdout, p.stdout))
    p = subprocess.run([AGENT, "--genkey", k], capture_output=True, text=True, timeout=5)
    check(p.returncode == 1 and "File exists" in p.stderr, "genkey over a key: %r" % (p,))
    os.chmod(k, 0o644)
    bad = [(k, "readable by it alone (mode 0600)")]
    for name, text in (("short", "abcd\n"), ("nothex", "zz" * 32 + "\n"), ("long", "00" * 33 + "\n")):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        bad.append((path, "expected 64 hex digits and a newline"))
    bad.append((os.path.join(tmp, "none"), "No such file or directory (make one with: om-agent --genkey"))
    for path, want in bad:
        p = subprocess.run([AGENT, "--config", "/dev/null", "--listen", "127.0.0.1:0", "--control",
                            os.path.join(tmp, "x.sock"), "--key", path], capture_output=True,
                           text=True, timeout=5)
        check(p.returncode == 2 and p.stderr.startswith("om-agent: key: ") and want in p.stderr,
              "%s: exit %d %r" % (path, p.returncode, p.stderr))


def t_many_nodes(tmp):
    # Each fake node's handshake is pure Python: the first may go quiet
    # longer than the default down_after before the hundredth is in.
    a = Agent(tmp, "--down-after", "30000", "--drop-after", "60000")
    ns = [a.node("02:00:00:00:%02x:%02x" % (i >> 8, i & 255)) for i in range(100)]
    check(sorted(n.id for n in ns) == list(range(1, 101)), "ids not 1..100")
    nodes = a.nodes()
    check(len(nodes) == 100 and all(v["state"] == "up" for v in nodes.values()),
          "%d nodes listed" % len(nodes))
    rc, out, _ = a.mon()
    check(rc == 0 and len(out.splitlines()) == 101, "table rows")


def t_sigterm_clean(tmp):
    a = Agent(tmp)
    n = a.node(MAC1)
    check(os.path.exists(a.control), "no control socket")
    g = a.node()  # a rejected peer that never closes: still lingering at exit
    g.send(b"\xff" * 16)
    check(g.recv_frame()[0] == ow.T_ERROR, "no ERROR for garbage")
    a.node()  # and one that never said anything
    rc = a.stop()
    check(rc == 0, "exit status %d" % rc)
    check(not os.path.exists(a.control), "control socket left behind")
    frames = n.expect_closed()
    check([f[0] for f in frames] == [ow.T_BYE], "node got %r, not BYE" % frames)


def t_stale_socket(tmp):
    path = os.path.join(tmp, "agent.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # a socket file nobody listens on
    a = Agent(tmp, control=path)
    a.node(MAC1)
    a.check_up(MAC1)
    check("removing stale socket" in a.log(), "stale socket not reported")
    # a live agent's socket is never taken over
    p = subprocess.run([AGENT, "--listen", "127.0.0.1:0", "--control", path, "--key", a.key_file],
                       capture_output=True, timeout=5)
    check(p.returncode == 1 and b"another agent" in p.stderr, "second agent: %r" % p.stderr)
    a.check_up(MAC1)
    # nor is a regular file
    reg = os.path.join(tmp, "file")
    open(reg, "w").close()
    p = subprocess.run([AGENT, "--listen", "127.0.0.1:0", "--control", reg, "--key", a.key_file],
                       capture_output=True, timeout=5)
    check(p.returncode == 1 and os.path.isfile(reg), "regular file replaced")


def t_control_protocol(tmp):
    a = Agent(tmp)
    a.node(MAC1)

    c = a.ctl()
    for _ in range(3):  # several requests on one connection
        c.send_frame(ow.T_CTL_NODES)
        t, _, _, p = c.recv_frame()
        check(t == ow.T_CTL_NODES_REPLY and ow.list_count(p) == 1, "reply %d" % t)
    c.send_frame(ow.T_HELLO, fake_hello(MAC2))
    c.expect_error(ow.E_STATE)  # HELLO on control
    c = a.ctl()
    c.send_frame(ow.T_CKPT_HOME, b"")
    c.expect_error(ow.E_STATE)  # a checkpoint file's frame on control
    c = a.ctl()
    c.send_frame(ow.T_CTL_NODES, b"x")
    c.expect_error(ow.E_TRAILING)  # CTL_NODES with payload
    c = a.ctl()
    c.send(b"\xff" * 32)
    c.expect_error(ow.E_MAGIC)  # garbage on control
    a.check_up(MAC1)


def fake_control(tmp, reply, then=None):
    """Serves om-mon's first request with the raw bytes 'reply' (and its
    second, if any, with 'then'); returns om-mon's (status, stdout, stderr)."""
    path = os.path.join(tmp, "fake.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(5)
    p = spawn([MON, "--control", path, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    c, _ = srv.accept()
    c.settimeout(5)
    mon = ow.Peer(c)
    mon.recv_frame()
    mon.send(reply)
    if then is not None:
        mon.recv_frame()
        mon.send(then)
    mon.close()
    srv.close()
    os.unlink(path)
    out, err = p.communicate(timeout=10)
    return p.returncode, out.decode(), err.decode()


def t_mon_errors(tmp):
    missing = os.path.join(tmp, "missing.sock")
    p = subprocess.run([MON, "--control", missing], capture_output=True, timeout=5)
    check(p.returncode == 1 and p.stderr.decode() ==
          "om-mon: %s: No such file or directory\n" % missing, "missing: %r" % p.stderr)
    one = ow.u32(0)  # an empty list
    cases = [
        (b"HTTP/1.0 200 OK\r\n\r\n", "malformed reply: bad magic"),
        (ow.frame(ow.T_CTL_NODES_REPLY, one + b"\0"), "malformed reply: trailing bytes"),
        (ow.frame(ow.T_CTL_NODES_REPLY, ow.u32(5)), "malformed reply: payload ends"),
        (ow.frame(ow.T_CTL_NODES_REPLY, b"", length=100), "receive:"),
        (ow.frame(ow.T_WELCOME, ow.welcome(1, 1, 1)), "malformed reply: got WELCOME"),
        (ow.frame(ow.T_ERROR, ow.error(-5, "nope")), "agent: nope"),
        (b"", "receive:"),
    ]
    for reply, want in cases:
        rc, out, err = fake_control(tmp, reply)
        check(rc == 1 and err.startswith("om-mon: ") and want in err and out == "",
              "reply %r: exit %d, %r" % (reply[:20], rc, err))
    rc, out, err = fake_control(tmp, ow.frame(ow.T_CTL_NODES_REPLY, one), ow.frame(ow.T_CTL_JOBS_REPLY, one))
    check(rc == 0 and json.loads(out) == {"nodes": [], "jobs": []}, "empty list: %r" % out)
    rc, out, err = fake_control(tmp, ow.frame(ow.T_CTL_NODES_REPLY, one),
                                ow.frame(ow.T_CTL_JOBS_REPLY, ow.u32(1)))
    check(rc == 1 and "malformed reply: payload ends" in err, "bad job list: %r" % err)


def t_fuzz_agent(tmp):
    """Mutated frame streams on many connections: the agent survives, the
    honest node stays registered, and every hostile connection ends."""
    a = Agent(tmp)
    a.node(MAC1)
    rng = random.Random(1234)
    base = (ow.frame(ow.T_HELLO, fake_hello(MAC2)) + ow.frame(ow.T_HEARTBEAT, ow.heartbeat(1, 2, 3, 4))
            + ow.frame(ow.T_ECHO, b"abc", job=1, seq=2) + ow.frame(ow.T_BYE))
    for i in range(150):
        data = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(4)
            pos = rng.randrange(len(data))
            if op == 0:
                data[pos] ^= 1 << rng.randrange(8)
            elif op == 1:
                data[pos] = rng.choice([0, 0x7F, 0x80, 0xFF, 0x40, 0x41])
            elif op == 2:
                del data[pos:pos + rng.randint(1, 8)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        n = a.node()
        try:
            n.send(bytes(data))
            n.s.shutdown(socket.SHUT_WR)
            n.expect_closed(timeout=5)
        except (ConnectionResetError, BrokenPipeError):
            pass
        n.close()
        check(a.alive(), "agent died at case %d" % i)
    a.check_up(MAC1)
    check(a.stop() == 0, "agent did not exit cleanly after the fuzz")


# ---- jobs

AVX2_CPU = dict(leaf7_ebx=CPU["leaf7_ebx"])          # the node CPU has AVX2
NO_AVX2 = CPU["leaf7_ebx"] & ~(1 << 5)


def t_job_place_and_list(tmp):
    a = Agent(tmp)
    slow = a.node(MAC1, speed=100)
    fast = a.node(MAC2, speed=5000)
    c = a.ctl()
    job, node, addr, reason = c.submit(cmd="./prog --fast x")
    check(job >= 1 and node == fast.id and addr == "127.0.0.1", "placed: %r" % ((job, node, addr, reason),))
    jobs = a.jobs()
    check(len(jobs) == 1 and jobs[0]["job"] == job and jobs[0]["node"] == fast.id and
          jobs[0]["pid"] == os.getpid() and jobs[0]["cmd"] == "./prog --fast x" and
          jobs[0]["uid"] == os.getuid() and jobs[0]["state"] == 1, "jobs: %r" % jobs)
    check(a.nodes()[MAC2]["jobs"] == 1, "node jobs count did not rise")
    rc, out, err = a.mon("--jobs")
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["JOB", "NODE", "USER", "PID", "RUNTIME", "STATE", "WHY",
                                          "COMMAND"], "--jobs header: %r %r" % (out, err))
    row = lines[1].split()
    check(row[0] == str(job) and row[1] == str(fast.id) and row[3] == str(os.getpid()) and
          row[5] == "placed" and row[6] == "placed" and " ".join(row[7:]) == "./prog --fast x",
          "--jobs row: %r" % lines[1])
    check(jobs[0]["ppid"] == os.getppid() and jobs[0]["why"] == 1, "ppid/why: %r" % jobs)
    rc, out, err = a.mon("--json")
    doc = json.loads(out)
    check([j["id"] for j in doc["jobs"]] == [job] and doc["jobs"][0]["command"] == "./prog --fast x",
          "json jobs: %r" % doc["jobs"])
    byid = {n["id"]: n for n in doc["nodes"]}
    check(len(byid[fast.id]["job_list"]) == 1 and byid[slow.id]["job_list"] == [],
          "per-node job_list: %r" % byid)
    check(byid[fast.id]["job_list"][0]["pid"] == os.getpid(), "job_list pid")
    # speed / (jobs + 1): 5000/2 still beats 100/1
    job2, node2, _, _ = c.submit()
    check(node2 == fast.id and job2 != job, "second job: node %d" % node2)
    check(re.search(r"job %d placed on node %d" % (job, fast.id), a.log()), "no log line")
    # JOB_STARTED and JOB_EXIT end the job; the count drops
    fast.send_frame(ow.T_JOB_STARTED, job=job)
    f = c.recv_frame()
    check(f[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED not relayed: %r" % (f,))
    check({j["job"]: j["state"] for j in a.jobs()}[job] == 2, "state not running")
    exited7 = ow.job_exit(ow.EXIT_EXITED, 7)
    fast.send_frame(ow.T_JOB_EXIT, exited7, job=job, seq=3)
    f = c.recv_frame()
    check(f == (ow.T_JOB_EXIT, job, 3, exited7), "JOB_EXIT: %r" % (f,))
    check([j["job"] for j in a.jobs()] == [job2], "exited job still listed")
    check(a.nodes()[MAC2]["jobs"] == 1, "count after exit")
    check(re.search(r"job %d .*ended: exited with status 7" % job, a.log()), "exit not logged")


def traced_child():
    """A child of this process that this process traces (PTRACE_TRACEME,
    then an exec): what a fork's home process is to its deputy."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return spawn(["sleep", "60"], preexec_fn=lambda: libc.ptrace(0, 0, None, None))


def t_fork_on_node(tmp):
    """A fork made on a node: the child's deputy asks for the child with
    OM_JOB_F_FORK (the parent's job, its call's seq); the agent sends
    JOB_FORK to the parent's node and answers with that node; the child
    runs there once the node says so, listed as forked. Only for a parent
    that runs on a node; a node that starts a job it was not asked to is
    disconnected, and the other node goes on."""
    a = Agent(tmp)
    n = a.node(MAC1)
    other = a.node(MAC2, speed=10)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n.id, "parent not placed on the fast node: %d" % node)
    c2 = a.ctl()
    _, none, _, reason = c2.submit(pid=os.getpid(), flags=ow.JOB_F_FORK, fork_job=job, fork_seq=7)
    check(none == 0 and reason == "its parent does not run on a node", "fork before the parent started: %r" % reason)
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "parent's JOB_STARTED")
    kid = traced_child()
    child, node2, _, _ = c2.submit(pid=kid.pid, flags=ow.JOB_F_FORK, fork_job=job, fork_seq=7, cmd="./prog child")
    check(node2 == n.id and child not in (0, job), "child: job %d node %d" % (child, node2))
    f = n.recv_frame()
    check(f == (ow.T_JOB_FORK, child, 0, ow.job_fork(job, 7, kid.pid)), "JOB_FORK: %r" % (f,))
    n.send_frame(ow.T_JOB_STARTED, job=child)
    check(c2.recv_frame()[:2] == (ow.T_JOB_STARTED, child), "child's JOB_STARTED")
    rec = {j["job"]: j for j in a.jobs()}[child]
    check(rec["node"] == n.id and rec["why"] == 6 and rec["state"] == 2, "child's record: %r" % rec)
    check(a.nodes()[MAC1]["jobs"] == 2, "node's job count")
    _, none, _, reason = c2.submit(pid=kid.pid, flags=ow.JOB_F_FORK, fork_job=987654, fork_seq=1)
    check(none == 0 and reason == "its parent does not run on a node", "fork of no job: %r" % reason)
    # a child is made once: a second claim for it is refused and closed,
    # even from a connection that recorded it at home first (no way
    # around the job limits)
    c4 = a.ctl()
    check(c4.submit(pid=kid.pid, flags=ow.JOB_F_HOME)[1] == 0, "home record")
    c4.send_frame(ow.T_CTL_JOB_SUBMIT, fake_submit(pid=kid.pid, flags=ow.JOB_F_FORK, fork_job=job, fork_seq=7))
    frames = c4.expect_closed()
    check(any(f[0] == ow.T_ERROR and b"pid %d has job %d already" % (kid.pid, child) in f[3] for f in frames),
          "a second claim for a forked child: %r" % frames)
    # the copy of a job for a process that is not its fork's child: refused, closed
    c3 = a.ctl()
    c3.send_frame(ow.T_CTL_JOB_SUBMIT, fake_submit(flags=ow.JOB_F_FORK, fork_job=job, fork_seq=8))
    frames = c3.expect_closed()
    check(any(f[0] == ow.T_ERROR and b"is not a child of job %d" % job in f[3] for f in frames),
          "a fork claimed by a process of the same user: %r" % frames)
    check(re.search(r"job %d: forked by job %d on node %d" % (child, job, n.id), a.log()), "fork not logged")
    # a blocked node takes no new jobs, forked children included (om-run
    # then brings the parent home to fork)
    cb = a.ctl()
    cb.send_frame(ow.T_CTL_NODE, ow.ctl_node(ow.CTL_BLOCK, n.id))
    f = cb.recv_frame()
    check(f[0] == ow.T_CTL_NODE_REPLY and ow.ctl_node_reply_decode(f[3])[:2] == (n.id, ow.NODE_F_BLOCKED), "block: %r" % (f,))
    kid2 = traced_child()
    _, none, _, reason = c2.submit(pid=kid2.pid, flags=ow.JOB_F_FORK, fork_job=job, fork_seq=9)
    check(none == 0 and reason == "node %d takes no new jobs (blocked)" % n.id, "fork on a blocked node: %r" % reason)
    cb.send_frame(ow.T_CTL_NODE, ow.ctl_node(ow.CTL_UNBLOCK, n.id))
    f = cb.recv_frame()
    check(f[0] == ow.T_CTL_NODE_REPLY and ow.ctl_node_reply_decode(f[3])[:2] == (n.id, 0), "unblock: %r" % (f,))
    # the node says the running child starts again: a lie
    n.send_frame(ow.T_JOB_STARTED, job=child)
    n.expect_closed()
    f = c2.recv_frame()
    check(f is not None and f[:2] == (ow.T_NODE_LOST, child), "child's om-run: %r" % (f,))
    a.check_up(MAC2)


def t_job_execed(tmp):
    """A job whose execve ran at home ends with JOB_EXIT kind 3 (execed),
    relayed to its om-run and logged; a JOB_EXIT kind 3 that says a status
    is malformed: the node is disconnected."""
    a = Agent(tmp)
    n = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    n.send_frame(ow.T_JOB_STARTED, job=job)
    c.recv_frame()
    execed = ow.job_exit(ow.EXIT_EXECED, 0, cpu_ns=5)
    n.send_frame(ow.T_JOB_EXIT, execed, job=job, seq=2)
    check(c.recv_frame() == (ow.T_JOB_EXIT, job, 2, execed), "JOB_EXIT execed not relayed")
    wait_for(lambda: re.search(r"job %d .*ended: execed: the new program is at home" % job, a.log()), 5,
             "the exec in the log")
    check(a.nodes()[MAC1]["jobs"] == 0, "the node's count after the exec")
    job, _, _, _ = c.submit()
    n.send_frame(ow.T_JOB_STARTED, job=job)
    c.recv_frame()
    n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXECED, 1), job=job)
    n.expect_closed()


def t_node_frame_for_no_job(tmp):
    """A node that speaks for a job it never ran (a fork, a call, an image)
    is disconnected; one that speaks for a job that just ended there (the
    end crossed its frame) is told JOB_KILL and stays."""
    a = Agent(tmp)
    n1 = a.node(MAC1)
    n2 = a.node(MAC2, speed=10)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n1.id, "not placed on node 1")
    n1.send_frame(ow.T_JOB_STARTED, job=job)
    c.recv_frame()
    for t in (ow.T_SYSCALL_REQ, ow.T_IMAGE_BEGIN, ow.T_JOB_STARTED):
        n = a.node(MAC3)
        n.send_frame(t, b"x" if t != ow.T_JOB_STARTED else b"", job=job)  # node 1's job
        frames = n.expect_closed()
        check(any(f[0] == ow.T_ERROR for f in frames), "no ERROR for %d: %r" % (t, frames))
        check(re.search(r"for job %d, which never ran on node \d+" % job, a.log()), "not logged")
    n2.send_frame(ow.T_SYSCALL_REQ, b"x", job=4242)
    n2.expect_closed()
    # node 1 and its job go on
    n1.send_frame(ow.T_SYSCALL_REQ, b"q", job=job, seq=1)
    check(c.recv_frame() == (ow.T_SYSCALL_REQ, job, 1, b"q"), "node 1's job after the lies")
    a.check_up(MAC1)


def t_checkpoint_relay(tmp):
    # CHECKPOINT goes to the node; its yes lets an image through to om-run
    # while the job stays; images without a yes, a second CHECKPOINT
    # before the first is answered, or an answer unasked are refused.
    a = Agent(tmp)
    n = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED")
    base = struct.pack("<I", 2)  # the node's second image is the one home holds
    for answer in (ow.error(ow.E_BUSY, "a call of its is at home"), ow.error(0, "")):
        c.send_frame(ow.T_CHECKPOINT, base, job=job, seq=3)
        check(n.recv_frame() == (ow.T_CHECKPOINT, job, 3, base), "CHECKPOINT to the node")
        n.send_frame(ow.T_CHECKPOINT_TAKEN, answer, job=job, seq=3)
        check(c.recv_frame() == (ow.T_CHECKPOINT_TAKEN, job, 3, answer), "CHECKPOINT_TAKEN to om-run")
    for t in (ow.T_IMAGE_BEGIN, ow.T_IMAGE_PAGES, ow.T_IMAGE_END):
        n.send_frame(t, b"x", job=job, seq=3)
        check(c.recv_frame() == (t, job, 3, b"x"), "checkpoint image frame %d" % t)
    check([j["job"] for j in a.jobs()] == [job] and a.jobs()[0]["state"] == 2, "the job did not stay: %r" % a.jobs())
    # the same job, once more: a second CHECKPOINT before the answer ends om-run's connection
    c.send_frame(ow.T_CHECKPOINT, base, job=job, seq=3)
    n.recv_frame()
    c.send_frame(ow.T_CHECKPOINT, base, job=job, seq=3)
    c.expect_error(ow.E_STATE)
    # a CHECKPOINT without its base is malformed
    c = a.ctl()
    job, node, _, _ = c.submit()
    n.send_frame(ow.T_JOB_STARTED, job=job)
    c.recv_frame()
    c.send_frame(ow.T_CHECKPOINT, job=job, seq=3)
    c.expect_error(ow.E_TRUNC)
    # a node's image with no yes, and an answer nobody asked for: the node is dropped
    for bad in ((ow.T_IMAGE_BEGIN, b"x"), (ow.T_CHECKPOINT_TAKEN, ow.error(0, ""))):
        n2 = a.node(MAC2)
        c2 = a.ctl()
        job2, node2, _, _ = c2.submit(node=n2.id)
        n2.send_frame(ow.T_JOB_STARTED, job=job2)
        n2.send_frame(bad[0], bad[1], job=job2)
        n2.expect_error(ow.E_STATE)
        wait_for(lambda: MAC2 not in a.nodes() or a.nodes()[MAC2]["state"] == "down", 3, "the node to be dropped")
    a.check_up(MAC1)


def t_decisions_relay(tmp):
    # DECISIONS go both ways as they are; a malformed one, or one from a
    # node whose job has not started, drops that node (the others stay);
    # a malformed one from om-run ends its connection.
    a = Agent(tmp)
    n = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    d = (ow.decision(ow.DEC_CALL, 228, 0, (1, 0x2000, 0, 0), [(0x2000, b"\x01" * 16)])
         + ow.decision(ow.DEC_SIGNAL, 14, ow.DEC_AT_CALL, (3, 0, 0, 0), [(0, b"\x00" * 56)]))
    c.send_frame(ow.T_DECISIONS, d, job=job, seq=3)  # a restart's, while the image comes
    check(n.recv_frame() == (ow.T_DECISIONS, job, 3, d), "home->node DECISIONS")
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED")
    n.send_frame(ow.T_DECISIONS, d, job=job, seq=3)
    check(c.recv_frame() == (ow.T_DECISIONS, job, 3, d), "node->home DECISIONS")
    bad = [b"", d[:-1], ow.decision(5, 0), ow.decision(ow.DEC_SIGNAL, 14), ow.decision(ow.DEC_LOST, 0, outs=[(0, b"x")]),
           ow.decision(ow.DEC_CALL, 228, outs=[(0, b"x" * 16385)])]
    for payload in bad + [d]:  # the last: well formed, but its job has not started
        n2 = a.node(MAC2)
        c2 = a.ctl()
        job2, _, _, _ = c2.submit(node=n2.id)
        if payload is not d:
            n2.send_frame(ow.T_JOB_STARTED, job=job2)
        n2.send_frame(ow.T_DECISIONS, payload, job=job2)
        n2.expect_closed()
        wait_for(lambda: MAC2 not in a.nodes() or a.nodes()[MAC2]["state"] == "down", 3, "the node to be dropped")
    c.send_frame(ow.T_DECISIONS, d[:-3], job=job, seq=3)
    c.expect_error(ow.E_TRUNC)
    a.check_up(MAC1)


def t_job_relay(tmp):
    a = Agent(tmp)
    n = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n.id, "not placed")
    big = bytes(range(256)) * 4096  # a full 1 MiB IMAGE_PAGES payload
    for t, payload, seq in ((ow.T_IMAGE_BEGIN, b"hdr", 1), (ow.T_IMAGE_PAGES, big, 2),
                            (ow.T_IMAGE_END, b"end", 3)):
        c.send_frame(t, payload, job=job, seq=seq)
        f = n.recv_frame()
        check(f == (t, job, seq, payload), "home->node %d: %r" % (t, f and f[:3]))
    # a node's calls come once its job started
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED")
    n.send_frame(ow.T_SYSCALL_REQ, b"\x01" * 100, job=job, seq=9)
    check(c.recv_frame() == (ow.T_SYSCALL_REQ, job, 9, b"\x01" * 100), "node->home SYSCALL_REQ")
    c.send_frame(ow.T_SYSCALL_REP, b"\x02" * 70000, job=job, seq=9)
    check(n.recv_frame() == (ow.T_SYSCALL_REP, job, 9, b"\x02" * 70000), "home->node SYSCALL_REP")
    c.send_frame(ow.T_SIGNAL, ow.job_signal(2, 0, 1, 0), job=job)
    check(n.recv_frame()[:2] == (ow.T_SIGNAL, job), "SIGNAL")
    n.send_frame(ow.T_SIGNAL_SEEN, ow.signal_seen(1), job=job)
    check(c.recv_frame() == (ow.T_SIGNAL_SEEN, job, 0, ow.signal_seen(1)), "SIGNAL_SEEN")
    # job control: the node says stopped, om-run lets it go on
    check(a.jobs()[0]["state"] == 2, "not running")
    n.send_frame(ow.T_JOB_STOPPED, ow.job_stopped(20), job=job)
    check(c.recv_frame() == (ow.T_JOB_STOPPED, job, 0, ow.job_stopped(20)), "JOB_STOPPED")
    check(a.jobs()[0]["state"] == 4, "not stopped")
    c.send_frame(ow.T_JOB_CONTINUE, job=job)
    check(n.recv_frame()[:2] == (ow.T_JOB_CONTINUE, job), "JOB_CONTINUE")
    n.send_frame(ow.T_JOB_STOPPED, ow.job_stopped(0), job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STOPPED, job), "JOB_STOPPED 0")
    check(a.jobs()[0]["state"] == 2, "not running again")
    # a signal came on the node while call 9 was out
    n.send_frame(ow.T_CALL_INTERRUPT, ow.call_interrupt(9), job=job)
    check(c.recv_frame() == (ow.T_CALL_INTERRUPT, job, 0, ow.call_interrupt(9)), "CALL_INTERRUPT")
    # coming home: JOB_HOME, then the image home; IMAGE_END ends the job
    n.send_frame(ow.T_JOB_HOME, ow.job_home(2, "asked", -1), job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_HOME, job), "JOB_HOME")
    check(a.jobs()[0]["state"] == 3, "not homing")
    # a CALL_INTERRUPT that crossed JOB_HOME is dropped, the node stays
    n.send_frame(ow.T_CALL_INTERRUPT, ow.call_interrupt(9), job=job)
    n.send_frame(ow.T_IMAGE_BEGIN, b"h", job=job)
    n.send_frame(ow.T_IMAGE_END, b"e", job=job)
    check(c.recv_frame()[:2] == (ow.T_IMAGE_BEGIN, job), "image home")
    check(c.recv_frame()[:2] == (ow.T_IMAGE_END, job), "image end home")
    wait_for(lambda: a.jobs() == [], 2, "the job to end once home")
    # frames from the node for a job it no longer has: JOB_KILL, node stays
    n.send_frame(ow.T_SYSCALL_REQ, b"x", job=job)
    check(n.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL for an unknown job")
    # om-run frames for its own ended job are dropped quietly
    c.send_frame(ow.T_SYSCALL_REP, b"late", job=job)
    c.send_frame(ow.T_CTL_JOBS)
    check(c.recv_frame()[0] == ow.T_CTL_JOBS_REPLY, "control conn closed after a late frame")
    a.check_up(MAC1)


def started_on(n, c, job):
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED of job %d" % job)


def move(a, pid, target):
    m = a.ctl()
    m.send_frame(ow.T_CTL_MIGRATE, ow.job_migrate(pid, target))
    f = m.recv_frame()
    check(f is not None and f[0] == ow.T_CTL_MIGRATE, "om-migrate answered %r" % (f,))


def t_move_relayed(tmp):
    """om-migrate PID node B of a job on node A goes through the agent:
    JOB_MOVE to A; A's JOB_MOVING (as JOB_ARRIVING) and image go to B;
    what om-run sends meanwhile waits; once B says JOB_STARTED, A gets
    JOB_KILL (its stopped copy), om-run JOB_MOVED (same job id, B and A's
    CPU time) and B the frames that waited. A move B refuses, or whose B
    is lost, ends with JOB_RESUME to A, and the job goes on there; what A
    still sends of that image is dropped. A node that sends JOB_MOVING
    unasked, or a target that speaks for the job before it starts it, is
    disconnected; the other node and the job's om-run go on."""
    a = Agent(tmp)
    na, nb = a.node(MAC1, speed=5000), a.node(MAC2, speed=100)
    kids = [spawn(["sleep", "60"]) for _ in range(3)]
    cs = [a.ctl() for _ in kids]
    jobs = []
    for k, c in zip(kids, cs):
        job, node, _, _ = c.submit(pid=k.pid, node=na.id)
        check(node == na.id, "not placed on A")
        started_on(na, c, job)
        jobs.append(job)
    j1, j2, j3 = jobs
    c1, c2, c3 = cs
    # the move that lands
    move(a, kids[0].pid, nb.id)
    check(na.recv_frame()[:2] == (ow.T_JOB_MOVE, j1), "no JOB_MOVE to A")
    check({j["job"]: j for j in a.jobs()}[j1]["state"] == 6, "not listed as moving")
    c1.send_frame(ow.T_SIGNAL, ow.job_signal(10, 0, 1, 0), job=j1)  # waits at the agent
    check(no_frame(na, 0.2), "a frame for a moving job went to the node it leaves")
    na.send_frame(ow.T_JOB_MOVING, ow.job_moving(7 * 10**9, 3), job=j1)
    check(nb.recv_frame() == (ow.T_JOB_ARRIVING, j1, 0, ow.job_moving(7 * 10**9, 3)), "no JOB_ARRIVING to B")
    big = bytes(range(256)) * 4096
    for t, payload in ((ow.T_IMAGE_BEGIN, b"hdr"), (ow.T_IMAGE_PAGES, big), (ow.T_IMAGE_END, b"end")):
        na.send_frame(t, payload, job=j1)
        check(nb.recv_frame() == (t, j1, 0, payload), "image frame %d not relayed to B" % t)
    check(no_frame(c1, 0.2), "om-run got part of an image going to another node")
    nb.send_frame(ow.T_JOB_STARTED, job=j1)
    check(na.recv_frame()[:2] == (ow.T_JOB_KILL, j1), "A's stopped copy not killed")
    f = c1.recv_frame()
    check(f[:2] == (ow.T_JOB_MOVED, j1) and ow.job_moved_decode(f[3])[:3] == (7 * 10**9, j1, nb.id),
          "JOB_MOVED: %r" % (f,))
    check(nb.recv_frame()[:2] == (ow.T_SIGNAL, j1), "the signal that waited did not reach B")
    rec = {j["job"]: j for j in a.jobs()}[j1]
    check(rec["node"] == nb.id and rec["state"] == 2 and rec["why"] == 3, "record after the move: %r" % rec)
    check(a.nodes()[MAC1]["jobs"] == 2 and a.nodes()[MAC2]["jobs"] == 1, "job counts: %r" % a.nodes())
    nb.send_frame(ow.T_SYSCALL_REQ, b"\x01" * 10, job=j1, seq=1)
    check(c1.recv_frame()[:2] == (ow.T_SYSCALL_REQ, j1), "B's call for the job not relayed")
    check(re.search(r"job %d: moved from node %d to node %d in \d+ ms" % (j1, na.id, nb.id), a.log()), "not logged")
    # a move the target refuses: the job goes on at A
    move(a, kids[1].pid, nb.id)
    check(na.recv_frame()[:2] == (ow.T_JOB_MOVE, j2), "no JOB_MOVE for job 2")
    na.send_frame(ow.T_JOB_MOVING, ow.job_moving(1, 0), job=j2)
    check(nb.recv_frame()[:2] == (ow.T_JOB_ARRIVING, j2), "no JOB_ARRIVING for job 2")
    nb.send_frame(ow.T_JOB_ERROR, ow.error(ow.E_BUSY, "node is busy"), job=j2)
    check(na.recv_frame()[:2] == (ow.T_JOB_RESUME, j2), "A not told to resume job 2")
    check(nb.recv_frame()[:2] == (ow.T_JOB_KILL, j2), "B not told to drop what it has of job 2")
    na.send_frame(ow.T_IMAGE_BEGIN, b"late", job=j2)  # crossed JOB_RESUME: dropped
    check(no_frame(c2, 0.2), "a late image frame went to om-run")
    rec = {j["job"]: j for j in a.jobs()}[j2]
    check(rec["node"] == na.id and rec["state"] == 2, "job 2 after a refused move: %r" % rec)
    check(re.search(r"job %d: its move from node %d to node %d failed \(node %d refused it: node is busy\)" %
                    (j2, na.id, nb.id, nb.id), a.log()), "refusal not logged")
    na.send_frame(ow.T_SYSCALL_REQ, b"x", job=j2, seq=4)
    check(c2.recv_frame()[:2] == (ow.T_SYSCALL_REQ, j2), "job 2 does not go on at A")
    # a target that speaks for a job it has not started: a lie
    move(a, kids[2].pid, nb.id)
    check(na.recv_frame()[:2] == (ow.T_JOB_MOVE, j3), "no JOB_MOVE for job 3")
    na.send_frame(ow.T_JOB_MOVING, ow.job_moving(1, 0), job=j3)
    check(nb.recv_frame()[:2] == (ow.T_JOB_ARRIVING, j3), "no JOB_ARRIVING for job 3")
    nb.send_frame(ow.T_SYSCALL_REQ, b"x", job=j3)
    nb.expect_closed()
    f = na.recv_frame()
    check(f[:2] == (ow.T_JOB_RESUME, j3), "A not told to resume job 3 when B was dropped: %r" % (f,))
    check(c1.recv_frame()[:2] == (ow.T_NODE_LOST, j1), "job 1's om-run not told B was lost")
    rec = {j["job"]: j for j in a.jobs()}[j3]
    check(rec["node"] == na.id and rec["state"] == 2, "job 3 after its target was lost: %r" % rec)
    # JOB_MOVING never asked for: the node is disconnected
    na.send_frame(ow.T_JOB_MOVING, ow.job_moving(1, 0), job=j2)
    na.expect_closed()
    check(c2.recv_frame()[:2] == (ow.T_NODE_LOST, j2), "job 2's om-run not told A was lost")
    check(a.alive(), "agent died")


def asked_to_move(a, na, nb):
    """A job started on na that om-migrate sends to nb: (its process,
    its om-run connection, its job), once na has JOB_MOVE."""
    k = spawn(["sleep", "60"])
    c = a.ctl()
    job, _, _, _ = c.submit(pid=k.pid, node=na.id)
    started_on(na, c, job)
    move(a, k.pid, nb.id)
    check(na.recv_frame()[:2] == (ow.T_JOB_MOVE, job), "no JOB_MOVE")
    return k, c, job


def t_move_crossed_by_home(tmp):
    """The job goes home (a call the node lacks) just as JOB_MOVE is on its
    way: its om-run hears the target before JOB_HOME (home sends it on),
    the node's answer (JOB_MOVE_REFUSED, no such job) that comes amid the
    image going home is dropped, and the node stays."""
    a = Agent(tmp)
    na, nb = a.node(MAC1), a.node(MAC2)
    k, c, job = asked_to_move(a, na, nb)
    na.send_frame(ow.T_JOB_HOME, ow.job_home(1, "a call", 5), job=job)
    na.send_frame(ow.T_IMAGE_BEGIN, b"hdr", job=job)
    na.send_frame(ow.T_JOB_MOVE_REFUSED, ow.error(ow.E_STATE, "no such job here"), job=job)
    na.send_frame(ow.T_IMAGE_END, b"end", job=job)
    f = c.recv_frame()
    check(f == (ow.T_CTL_MIGRATE, job, 0, ow.job_migrate(k.pid, nb.id)), "om-run not told the target first: %r" % (f,))
    for t in (ow.T_JOB_HOME, ow.T_IMAGE_BEGIN, ow.T_IMAGE_END):
        check(c.recv_frame()[:2] == (t, job), "frame %d not relayed home" % t)
    check(no_frame(nb, 0.2), "the target heard of a job that went home")
    a.check_up(MAC1)
    check(a.nodes()[MAC2]["jobs"] == 0, "the target's core still taken")


def t_move_again_while_stale(tmp):
    """A move asked again at once after one failed, while the node may
    still send frames of the failed one: it goes through home, and the
    late frames are dropped; the node stays."""
    a = Agent(tmp)
    na, nb, nc = a.node(MAC1), a.node(MAC2), a.node(MAC3)
    k, c, job = asked_to_move(a, na, nb)
    na.send_frame(ow.T_JOB_MOVING, ow.job_moving(1, 0), job=job)
    check(nb.recv_frame()[:2] == (ow.T_JOB_ARRIVING, job), "no JOB_ARRIVING")
    nb.send_frame(ow.T_JOB_ERROR, ow.error(ow.E_BUSY, "busy"), job=job)
    check(na.recv_frame()[:2] == (ow.T_JOB_RESUME, job), "no JOB_RESUME")
    move(a, k.pid, nc.id)
    check(na.recv_frame()[:2] == (ow.T_MIGRATE_HOME, job), "the second move not through home")
    check(c.recv_frame() == (ow.T_CTL_MIGRATE, job, 0, ow.job_migrate(k.pid, nc.id)), "om-run not told")
    na.send_frame(ow.T_IMAGE_PAGES, b"late", job=job)  # sent before it read JOB_RESUME
    na.send_frame(ow.T_SYSCALL_REQ, b"x", job=job, seq=3)
    check(c.recv_frame()[:2] == (ow.T_SYSCALL_REQ, job), "the job's call after the late frame")
    a.check_up(MAC1)


def t_move_stalls(tmp):
    """A source that never answers JOB_MOVE (a hung node that still
    heartbeats) does not keep the job stopped and om-run's frames held:
    after 15 s the move fails (JOB_RESUME), the held signal goes to the
    source, the target's core is free again."""
    a = Agent(tmp)
    na, nb = a.node(MAC1), a.node(MAC2)
    k, c, job = asked_to_move(a, na, nb)
    c.send_frame(ow.T_SIGNAL, ow.job_signal(10, 0, 1, 0), job=job)
    check(a.nodes()[MAC2]["jobs"] == 1, "the target's core not reserved")
    f = None
    for _ in range(18):  # heartbeats keep both nodes up
        na.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1000, 0, 1 << 29, 1))
        nb.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1000, 0, 1 << 29, 0))
        try:
            f = na.recv_frame(1.0)
        except (TimeoutError, socket.timeout):
            continue
        break
    check(f is not None and f[:2] == (ow.T_JOB_RESUME, job), "no JOB_RESUME after the stall: %r" % (f,))
    check(na.recv_frame()[:2] == (ow.T_SIGNAL, job), "the held signal not sent to the source")
    check(a.nodes()[MAC2]["jobs"] == 0, "the target's core still taken")
    check(re.search(r"failed \(no word of it from the nodes for 15 s\)", a.log()), "stall not logged")


def t_job_rules(tmp):
    a = Agent(tmp)
    n = a.node(MAC1)
    c = a.ctl()
    job, _, _, _ = c.submit()
    other = a.ctl()
    other.send_frame(ow.T_SYSCALL_REP, b"x", job=job)  # not its job
    other.expect_error(ow.E_STATE)
    c2 = a.ctl()
    c2.send_frame(ow.T_JOB_KILL, job=job)  # agent-only type from om-run
    c2.expect_error(ow.E_STATE)
    c3 = a.ctl()
    c3.send_frame(ow.T_SIGNAL, ow.job_signal(0), job=job)  # not its job either
    c3.expect_error(ow.E_STATE)
    c4 = a.ctl()
    job4, _, _, _ = c4.submit()
    c4.send_frame(ow.T_JOB_CONTINUE, b"x", job=job4)  # must be empty
    c4.expect_error(ow.E_TRAILING)
    check(n.recv_frame()[:2] == (ow.T_JOB_KILL, job4), "no JOB_KILL after a bad JOB_CONTINUE")
    c.send_frame(ow.T_SIGNAL, ow.job_signal(99), job=job)  # bad signal
    c.expect_error(ow.E_RANGE)
    # the job ended with its om-run: the node got JOB_KILL
    check(n.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL after a failed om-run")
    # a node sending a home->node type is refused
    c = a.ctl()
    job, _, _, _ = c.submit()
    n.send_frame(ow.T_SYSCALL_REP, b"x", job=job)
    n.expect_error(ow.E_STATE)
    f = c.recv_frame()
    check(f[:2] == (ow.T_NODE_LOST, job), "no NODE_LOST after the node failed: %r" % (f,))
    # a JOB_STOPPED with a signal that is no stop signal, one before the
    # job started, a short SIGNAL_SEEN, a CALL_INTERRUPT before the job
    # started or with trailing bytes are refused the same way
    for mac, what, ftype, payload, started, err in (
            (MAC2, "SIGKILL", ow.T_JOB_STOPPED, ow.job_stopped(9), True, ow.E_RANGE),
            (MAC3, "not started", ow.T_JOB_STOPPED, ow.job_stopped(20), False, ow.E_STATE),
            (MAC1, "short SIGNAL_SEEN", ow.T_SIGNAL_SEEN, b"\x01", True, ow.E_TRUNC),
            (MAC2, "early CALL_INTERRUPT", ow.T_CALL_INTERRUPT, ow.call_interrupt(1), False, ow.E_STATE),
            (MAC1, "early SYSCALL_REQ", ow.T_SYSCALL_REQ, b"\x01" * 60, False, ow.E_STATE),
            (MAC3, "long CALL_INTERRUPT", ow.T_CALL_INTERRUPT, ow.call_interrupt(1) + b"x", True,
             ow.E_TRAILING)):
        n = a.node(mac)
        c = a.ctl()
        job, node, _, _ = c.submit()
        check(node == n.id, "%s: not placed on the new node" % what)
        if started:
            n.send_frame(ow.T_JOB_STARTED, job=job)
            check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "%s: JOB_STARTED" % what)
        n.send_frame(ftype, payload, job=job)
        n.expect_error(err)
        check(c.recv_frame()[:2] == (ow.T_NODE_LOST, job), "no NODE_LOST after %s" % what)
    # a pid that is neither the caller nor its child
    c = a.ctl()
    c.send_frame(ow.T_CTL_JOB_SUBMIT, fake_submit(pid=1))
    c.expect_error(ow.E_RANGE)
    c = a.ctl()
    c.send_frame(ow.T_CTL_JOB_SUBMIT, fake_submit()[:-1])
    c.expect_error(ow.E_TRUNC)


def t_job_node_lost(tmp):
    a = Agent(tmp, "--heartbeat-ms", "100", "--down-after", "500", "--grace", "1000", "--drop-after", "5000")
    n = a.node(MAC1)
    c = a.ctl()
    job, node, _, _ = c.submit(cmd="sleep 100")
    n.close()  # it may connect again within the grace: lost only after
    f = c.recv_frame(timeout=3)
    check(f is not None and f[:2] == (ow.T_NODE_LOST, job), "NODE_LOST: %r" % (f,))
    nid, reason = ow.node_lost_decode(f[3])
    check(nid == node and "grace 1000 ms" in reason, "NODE_LOST payload: %d %r" % (nid, reason))
    check(a.jobs() == [], "lost job still listed")
    check(re.search(r"job %d .*ended: node lost" % job, a.log()), "not logged")
    # silent (but connected) node: down by timeout, NODE_LOST and JOB_KILL
    n = a.node(MAC2)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n.id, "placed on %d" % node)
    f = c.recv_frame(timeout=3)
    check(f is not None and f[:2] == (ow.T_NODE_LOST, job), "NODE_LOST on silence: %r" % (f,))
    check(n.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL to the silent node")
    n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1, 0, 1 << 29, 0))
    wait_for(lambda: a.nodes()[MAC2]["state"] == "up", 2, "the node to come back")
    check(a.nodes()[MAC2]["jobs"] == 0, "lost job still counted")


ME = (os.getpid(), os.getuid())  # a claim's process at home: this test's
REATTACH_ARGS = ("--heartbeat-ms", "100", "--down-after", "500", "--grace", "1500", "--drop-after", "5000")


def started_job(a, n):
    """A job placed on n and started there: (ctl, job, the PLACED payload)."""
    c = a.ctl()
    c.send_frame(ow.T_CTL_JOB_SUBMIT, fake_submit())
    f = c.recv_frame()
    check(f is not None and f[0] == ow.T_CTL_JOB_PLACED, "submit answered %r" % (f,))
    job, node, _, _ = ow.job_placed_decode(f[3])
    check(node == n.id, "placed on %d" % node)
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED")
    return c, job, f[3]


def t_job_node_reconnects(tmp):
    # A node whose connection closes keeps its jobs through the grace; back
    # with the same link key it claims them (JOB_REATTACH, relayed home with
    # its id) and they go on; back with a new key (rebooted) they are lost.
    a = Agent(tmp, *REATTACH_ARGS)
    priv, pub = omlink.generate_keypair()
    n = a.node(MAC1, static=priv)
    c, job, placed = started_job(a, n)
    check(pub in placed, "CTL_JOB_PLACED does not carry the node's key")
    n.close()
    time.sleep(0.3)
    n = a.node(MAC1, static=priv)
    n.send_frame(ow.T_JOB_REATTACH, ow.job_reattach(*ME, waiting=7, signals_in=2), job=job, seq=6)
    f = c.recv_frame()
    check(f is not None and f[:3] == (ow.T_JOB_REATTACH, job, 6), "JOB_REATTACH home: %r" % (f,))
    check(ow.job_reattach_decode(f[3]) == (n.id,) + ME + (7, 2, 0, 0), "relayed as %r" % (ow.job_reattach_decode(f[3]),))
    check(n.recv_frame() == (ow.T_JOB_REATTACHED, job, 0, b""), "no JOB_REATTACHED")
    n.send_frame(ow.T_SYSCALL_REQ, b"\x01" * 10, job=job, seq=7)
    check(c.recv_frame() == (ow.T_SYSCALL_REQ, job, 7, b"\x01" * 10), "its call after the claim")
    check("holds it again" in a.log(), "not logged")
    # rebooted (a new key): lost at once
    n.close()
    time.sleep(0.3)
    n2 = a.node(MAC1)
    f = c.recv_frame(timeout=1)
    check(f is not None and f[:2] == (ow.T_NODE_LOST, job), "NODE_LOST after a reboot: %r" % (f,))
    check("new key" in ow.node_lost_decode(f[3])[1], "reason: %r" % (f,))
    a.check_up(MAC1)


def t_job_reattach_after_agent_restart(tmp):
    # The agent killed under a running job: on the next agent the node
    # (its key) and om-run (naming that key) each claim the job, in either
    # order; it goes on under its id. Claims that do not pair (another
    # key) end after the grace: NODE_LOST to om-run, JOB_KILL to the node;
    # a node claiming another node's job, or a malformed claim, at once.
    a = Agent(tmp, *REATTACH_ARGS)
    priv, pub = omlink.generate_keypair()
    n = a.node(MAC1, static=priv)
    c, job, _ = started_job(a, n)
    a.proc.kill()
    a.proc.wait()
    again = os.path.join(tmp, "again")  # its own log; the same key and socket
    os.makedirs(again)
    shutil.copy(a.key_file, again)
    a = Agent(again, *REATTACH_ARGS, control=a.control)
    # another process claims the job first, with the node's key: its pid
    # is not the job's, so the node's claim does not pair with it
    other_child = spawn(["sleep", "30"])
    thief = a.ctl()
    thief.send_frame(ow.T_CTL_JOB_REATTACH, ow.ctl_reattach(job, pub, fake_submit(pid=other_child.pid)))
    n = a.node(MAC1, static=priv)
    n.send_frame(ow.T_JOB_REATTACH, ow.job_reattach(*ME, waiting=5), job=job, seq=4)
    try:
        f = thief.recv_frame(timeout=0.5)
    except socket.timeout:
        f = None
    check(f is None, "the other claim got %r" % (f,))
    c = a.ctl()
    c.send_frame(ow.T_CTL_JOB_REATTACH, ow.ctl_reattach(job, pub, fake_submit()))
    f = c.recv_frame()
    check(f is not None and f[:3] == (ow.T_JOB_REATTACH, job, 4), "JOB_REATTACH home: %r" % (f,))
    check(ow.job_reattach_decode(f[3])[:4] == (n.id,) + ME + (5,), "relayed as %r" % (ow.job_reattach_decode(f[3]),))
    check(n.recv_frame() == (ow.T_JOB_REATTACHED, job, 0, b""), "no JOB_REATTACHED")
    n.send_frame(ow.T_SYSCALL_REQ, b"\x01" * 10, job=job, seq=5)
    check(c.recv_frame() == (ow.T_SYSCALL_REQ, job, 5, b"\x01" * 10), "its call after the claim")
    c.send_frame(ow.T_SYSCALL_REP, b"\x02" * 10, job=job, seq=5)
    check(n.recv_frame() == (ow.T_SYSCALL_REP, job, 5, b"\x02" * 10), "the answer after the claim")
    check([(j["job"], j["node"]) for j in a.jobs()] == [(job, n.id)], "listed: %r" % a.jobs())
    # om-run first this time, naming another key: neither claim pairs,
    # both end after the grace
    other = job + 1000
    c2 = a.ctl()
    c2.send_frame(ow.T_CTL_JOB_REATTACH, ow.ctl_reattach(other, b"\x07" * 32, fake_submit()))
    n.send_frame(ow.T_JOB_REATTACH, ow.job_reattach(*ME), job=other)
    f = None
    for _ in range(40):  # the grace, the node heard from meanwhile
        n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1, 0, 1 << 29, 1, listed=[(job, 1, 1)]))
        try:
            f = c2.recv_frame(timeout=0.1)
            break
        except socket.timeout:
            pass
    check(f is not None and f[:2] == (ow.T_NODE_LOST, other), "NODE_LOST for the unpaired claim: %r" % (f,))
    check(ow.node_lost_decode(f[3])[0] == 0 and "no node claimed it" in ow.node_lost_decode(f[3])[1],
          "reason: %r" % (f,))
    f = n.recv_frame(timeout=4)
    check(f is not None and f[:2] == (ow.T_JOB_KILL, other), "no JOB_KILL for the node's unpaired claim %d: %r" % (other, f))
    # om-run claiming a live job's id, or a pid not its own: refused
    c3 = a.ctl()
    c3.send_frame(ow.T_CTL_JOB_REATTACH, ow.ctl_reattach(job, pub, fake_submit()))
    f = c3.recv_frame()
    check(f is not None and f[:2] == (ow.T_NODE_LOST, job) and "another job's" in ow.node_lost_decode(f[3])[1],
          "a second claim of a live job: %r" % (f,))
    c4 = a.ctl()
    c4.send_frame(ow.T_CTL_JOB_REATTACH, ow.ctl_reattach(other + 1, pub, fake_submit(pid=1)))
    c4.expect_error(ow.E_RANGE)
    # another node claiming the job: JOB_KILL, the job stays where it is
    n2 = a.node(MAC2)
    n2.send_frame(ow.T_JOB_REATTACH, ow.job_reattach(*ME), job=job)
    check(n2.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL for another node's job")
    check([(j["job"], j["node"]) for j in a.jobs()] == [(job, n.id)], "listed: %r" % a.jobs())
    # malformed claims drop the connection that sent them
    n2.send_frame(ow.T_JOB_REATTACH, b"\x00" * 7, job=9)
    n2.expect_error(ow.E_TRUNC)
    c3.send_frame(ow.T_CTL_JOB_REATTACH, b"\x00" * 20)
    c3.expect_error(ow.E_TRUNC)
    a.check_up(MAC1)


def t_checkpoint_asked(tmp):
    # om-checkpoint PID FILE: the agent passes CTL_CHECKPOINT to the job's
    # om-run and answers the asker with it; a relative path, a pid that is
    # no job, a job at home are refused.
    a = Agent(tmp)
    n = a.node(MAC1)
    c, job, _ = started_job(a, n)
    want = ow.ctl_checkpoint(os.getpid(), "/tmp/saved.ckpt")
    asker = a.ctl()
    asker.send_frame(ow.T_CTL_CHECKPOINT, want)
    check(asker.recv_frame() == (ow.T_CTL_CHECKPOINT, 0, 0, want), "the asker's answer")
    check(c.recv_frame() == (ow.T_CTL_CHECKPOINT, job, 0, want), "om-run was not asked")
    check("asks for a checkpoint into /tmp/saved.ckpt" in a.log(), "not logged")

    def as_nobody():  # another user: not its job
        other = a.ctl()
        other.send_frame(ow.T_CTL_CHECKPOINT, want)
        f = other.recv_frame()
        return ow.error_decode(f[3])[1] if f is not None and f[0] == ow.T_ERROR else repr(f)
    said = as_user(a, as_nobody)
    check(said == "pid %d: no such job of yours" % os.getpid(), "another user asked: %r" % said)
    for payload, code in ((ow.ctl_checkpoint(os.getpid(), "saved.ckpt"), ow.E_RANGE),
                          (ow.ctl_checkpoint(4242424, "/tmp/x"), ow.E_STATE),
                          (ow.u32(os.getpid()), ow.E_TRUNC)):
        bad = a.ctl()
        bad.send_frame(ow.T_CTL_CHECKPOINT, payload)
        bad.expect_error(code)
    home = a.ctl()
    _, node, _, _ = home.submit(pid=os.getpid(), flags=ow.JOB_F_HOME)
    c.close()  # its job on the node ends; the record at home stays
    wait_for(lambda: all(j["node"] == 0 for j in a.jobs()), 3, "the job on the node to end")
    asker = a.ctl()
    asker.send_frame(ow.T_CTL_CHECKPOINT, want)
    asker.expect_error(ow.E_STATE)
    a.check_up(MAC1)


def t_job_waits_for_silent_node(tmp):
    # A node silent past down_after is down (no new jobs) but keeps its
    # jobs until the grace is over; heard again in time, it goes on.
    a = Agent(tmp, "--heartbeat-ms", "100", "--down-after", "400", "--grace", "2500", "--drop-after", "5000")
    check("grace 2500 ms" in a.log(), "the grace is not logged: %r" % a.log()[-500:])
    n = a.node(MAC1)
    check(n.grace_ms == 2500, "WELCOME's grace: %d" % n.grace_ms)
    c = a.ctl()
    job, node, _, _ = c.submit()
    wait_for(lambda: a.nodes()[MAC1]["state"] == "down", 2, "silence to mark it down")
    try:
        f = c.recv_frame(timeout=0.5)
    except socket.timeout:
        f = "nothing"
    check(f == "nothing", "om-run was told something while the node was down: %r" % (f,))
    check([j["job"] for j in a.jobs()] == [job], "the job is gone while its node is down: %r" % a.jobs())
    check(re.search(r"node %d: its 1 job\(s\) wait up to 2500 ms for it" % node, a.log()), "not logged")
    _, other, _, reason = a.ctl().submit()
    check(other == 0, "a job placed on a down node: %r" % reason)
    n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1, 0, 1 << 29, 1, listed=[(job, 0, 1)]))
    wait_for(lambda: a.nodes()[MAC1]["state"] == "up", 2, "the node to come back")
    check([j["job"] for j in a.jobs()] == [job] and a.nodes()[MAC1]["jobs"] == 1, "the job did not wait")
    # Silent past the grace: now it is lost, and the node told to drop it.
    t0 = time.monotonic()
    f = c.recv_frame(timeout=5)
    check(f is not None and f[:2] == (ow.T_NODE_LOST, job), "NODE_LOST after the grace: %r" % (f,))
    check(time.monotonic() - t0 >= 2.0, "lost %.1f s after the last heartbeat" % (time.monotonic() - t0))
    check("grace 2500 ms" in ow.node_lost_decode(f[3])[1], "NODE_LOST's reason: %r" % (f,))
    check(n.recv_frame()[:2] == (ow.T_JOB_KILL, job), "no JOB_KILL to the silent node")


def t_job_home_gone(tmp):
    a = Agent(tmp)
    n = a.node(MAC1, cores=1)
    c = a.ctl()
    job, _, _, _ = c.submit()
    c2 = a.ctl()
    _, node, _, reason = c2.submit()
    check(node == 0 and reason == "all cores busy", "second job on a 1-core node: %r" % reason)
    c.close()
    f = n.recv_frame()
    check(f is not None and f[:2] == (ow.T_JOB_KILL, job), "JOB_KILL: %r" % (f,))
    wait_for(lambda: a.nodes()[MAC1]["jobs"] == 0, 2, "the core to be free")
    _, node, _, _ = c2.submit()
    check(node == n.id, "core not reused")


def t_close_inside_close(tmp):
    """A node whose socket was reset, and the two om-runs with a job on it
    closing at the same moment: the first om-run's close sends JOB_KILL to
    the node, which fails and closes the node, whose loss tells the second
    om-run, whose socket fails too. Every close is ended after the turn
    that asked for it, none inside another's (issue: a use-after-free in
    jobs_home_gone / jobs_node_lost). Many rounds, so the three arrive in
    every order; the agent stays up, clean (the asan/ run), with nothing
    left of them."""
    a = Agent(tmp)
    for r in range(30):
        mac = "52:54:00:aa:%02x:%02x" % (r >> 8, r & 0xff)
        n = a.node(mac, cores=2)
        homes = [a.ctl() for _ in range(2)]
        for c in homes:
            job, node, _, _ = c.submit()
            check(node == n.id, "round %d: placed on %d" % (r, node))
        n.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        n.close()  # a reset, not a FIN
        for c in homes:
            c.close()
    wait_for(lambda: a.jobs() == [], 5, "the jobs to be gone")
    check(all(v["state"] != "up" for v in a.nodes().values()), "a reset node still up: %r" % a.nodes())
    rc, out, err = a.mon()
    check(rc == 0, "om-mon after the closes: %d %r" % (rc, err))


def t_parent_in_call_frees_its_core(tmp):
    """A shell on a 1-core node that forwards a call (its wait for the
    child it started) leaves its core to that child's exec at once, before
    any heartbeat says the shell is not runnable; a call answered takes
    the core back."""
    a = Agent(tmp)
    n = a.node(MAC1, cores=1)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == n.id, "the shell not placed")
    started_on(n, c, job)
    kids = [spawn(["sleep", "60"]) for _ in range(2)]
    _, node, _, reason = a.ctl().submit(pid=kids[0].pid)
    check(node == 0 and reason == "all cores busy, its parent's among them", "a child while its parent computes: %r" % reason)
    n.send_frame(ow.T_SYSCALL_REQ, b"\x3d" * 8, job=job, seq=1)  # wait4, say
    check(c.recv_frame()[:2] == (ow.T_SYSCALL_REQ, job), "the call not relayed")
    c2 = a.ctl()
    _, node, _, reason = c2.submit(pid=kids[0].pid)
    check(node == n.id, "a child while its parent waits at home: %r" % reason)
    c.send_frame(ow.T_SYSCALL_REP, b"\0" * 8, job=job, seq=1)
    check(n.recv_frame()[:2] == (ow.T_SYSCALL_REP, job), "the reply not relayed")
    _, node, _, reason = a.ctl().submit(pid=kids[1].pid)
    check(node == 0 and reason == "all cores busy, its parent's among them", "after the reply: %r" % reason)


def t_exec_holds_its_core(tmp):
    """A process whose program on a 1-core node execs keeps that core for
    its new program: a job placed in between finds all cores busy, the
    new program is placed there; a hold not taken up ends after
    NODE_HOLD_MS (1 s)."""
    a = Agent(tmp)
    n = a.node(MAC1, cores=1)
    c = a.ctl()
    kids = [spawn(["sleep", "60"]) for _ in range(2)]
    for k in range(2):
        job, node, _, _ = c.submit()
        check(node == n.id, "round %d: not placed" % k)
        started_on(n, c, job)
        n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXECED, 0), job=job)
        check(c.recv_frame()[:2] == (ow.T_JOB_EXIT, job), "round %d: the exec not relayed" % k)
        _, node, _, reason = a.ctl().submit(pid=kids[k].pid)
        check(node == 0 and reason == "all cores busy", "round %d: another job took the core: %r" % (k, reason))
    time.sleep(1.2)
    _, node, _, reason = a.ctl().submit(pid=kids[0].pid)
    check(node == n.id, "the hold did not end: %r" % reason)


def t_job_cores(tmp):
    """A job that asks for cores (om-run --cores) goes to a node with that
    many free and holds them all until it ends; when no node has them, or
    none has them free, it is not placed and the reason says which."""
    a = Agent(tmp)
    n1 = a.node(MAC1, cores=1)
    n4 = a.node(MAC2, cores=4)
    kids = [spawn(["sleep", "60"]) for _ in range(4)]
    _, node, _, reason = a.ctl().submit(pid=kids[0].pid, cores=8)
    check(node == 0 and reason == "no node has 8 cores", "8 cores: %r" % reason)
    _, node, _, reason = a.ctl().submit(pid=kids[0].pid, cores=65535, node=n4.id)
    check(node == 0 and reason == "node %d has fewer than 65535 cores" % n4.id, "by name: %r" % reason)
    c = a.ctl()
    job, node, _, reason = c.submit(cores=3)
    check(node == n4.id, "3 cores: %r" % reason)
    started_on(n4, c, job)
    check(a.nodes()[MAC2]["jobs"] == 1, "the wide job's count")
    _, node, _, reason = a.ctl().submit(pid=kids[1].pid, cores=2)
    check(node == 0 and reason == "no node has 2 cores free", "2 more cores: %r" % reason)
    c1 = a.ctl()
    _, node, _, _ = c1.submit(pid=kids[2].pid)
    check(node in (n1.id, n4.id), "one core: not placed")
    c2 = a.ctl()
    _, node2, _, reason = c2.submit(pid=kids[3].pid)
    check(node2 in (n1.id, n4.id) and node2 != node, "the last free core: %r" % reason)
    _, node, _, reason = a.ctl().submit()
    check(node == 0 and reason == "all cores busy", "every core taken: %r" % reason)
    c.close()
    wait_for(lambda: a.nodes()[MAC2]["jobs"] <= 1, 2, "the wide job to end")
    _, node, _, reason = a.ctl().submit(pid=kids[1].pid, cores=4)
    check(node == 0 and reason == "no node has 4 cores free", "4 cores with one taken: %r" % reason)
    c3 = a.ctl()
    job, node, _, reason = c3.submit(pid=kids[1].pid, cores=3)
    check(node == n4.id, "its cores came back: %r" % reason)
    # Its program execs: all three cores stay its own until it is placed again.
    started_on(n4, c3, job)
    n4.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXECED, 0), job=job)
    check(c3.recv_frame()[:2] == (ow.T_JOB_EXIT, job), "the exec not relayed")
    _, node, _, reason = a.ctl().submit(pid=kids[0].pid, cores=2)
    check(node == 0 and reason == "no node has 2 cores free", "its held cores were taken: %r" % reason)
    _, node, _, reason = c3.submit(pid=kids[1].pid, cores=3)
    check(node == n4.id, "the held cores were not its own: %r" % reason)


def t_job_node_shared(tmp):
    """Asked for by name, a node shares its core with more jobs, up to the
    most a node runs (OM_NODE_JOBS_MAX, 16); the automatic choice does not."""
    a = Agent(tmp)
    n = a.node(MAC1, cores=1)
    conns = []
    for k in range(16):
        c = a.ctl()
        conns.append(c)
        _, node, _, reason = c.submit(node=n.id)
        check(node == n.id, "job %d by name: %r" % (k + 1, reason))
    _, node, _, reason = a.ctl().submit()
    check(node == 0 and reason == "all cores busy", "automatic choice on a busy node: %r" % reason)
    _, node, _, reason = a.ctl().submit(node=n.id)
    check(node == 0 and reason == "node %d runs 16 jobs already, its most" % n.id, "17th job: %r" % reason)


def t_job_home_record(tmp):
    """A deputy records its process at home (OM_JOB_F_HOME): it is listed
    with node 0, state home; om-migrate PID node N is passed to its deputy;
    a new placement of the pid ends the record, and so does JOB_KILL; any
    other job frame for it is an error."""
    a = Agent(tmp)
    n = a.node(MAC1, cores=2)
    c = a.ctl()
    rec, node, _, reason = c.submit(flags=1, cmd="sh -c x")
    check(rec >= 1 and node == 0 and reason == "at home", "home record: %r" % ((rec, node, reason),))
    jobs = a.jobs()
    check(len(jobs) == 1 and jobs[0]["job"] == rec and jobs[0]["node"] == 0 and jobs[0]["state"] == 5,
          "listed: %r" % jobs)
    rc, out, err = a.mon("--jobs")
    row = out.splitlines()[1].split()
    check(rc == 0 and row[1] == "home" and row[5] == "home", "om-mon --jobs: %r" % out)
    check(a.nodes()[MAC1]["jobs"] == 0, "a home record counted on a node")
    t = ctl_migrate(a.control, os.getpid())
    check(t == ow.T_ERROR, "home -> home accepted: %d" % t)
    m = Ctl(a.control)
    m.send_frame(ow.T_CTL_MIGRATE, ow.job_migrate(os.getpid(), n.id))
    check(m.recv_frame()[0] == ow.T_CTL_MIGRATE, "migrate to node refused")
    check(c.recv_frame() == (ow.T_CTL_MIGRATE, rec, 0, ow.job_migrate(os.getpid(), n.id)),
          "the deputy was not told where its process goes")
    # the deputy places it: the record ends, the placement is a new job
    job, node, _, _ = c.submit()
    check(node == n.id and job != rec and [j["job"] for j in a.jobs()] == [job], "after placing: %r" % a.jobs())
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED")
    n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_EXIT, job), "JOB_EXIT")
    rec2, _, _, _ = c.submit(flags=1)
    c.send_frame(ow.T_JOB_KILL, job=rec2)
    wait_for(lambda: a.jobs() == [], 2, "JOB_KILL to end the home record")
    rec3, _, _, _ = c.submit(flags=1)
    c.send_frame(ow.T_SIGNAL, ow.job_signal(2), job=rec3)
    c.expect_error(ow.E_STATE)
    check(a.alive(), "agent died")


def t_job_placement_reasons(tmp):
    a = Agent(tmp)
    c = a.ctl()
    check(c.submit()[1:] == (0, "", "no node is up"), "no node")
    a.node(MAC1, leaf7_ebx=NO_AVX2)
    a.node(MAC2, leaf7_ebx=NO_AVX2)
    job, node, _, reason = c.submit()
    check((job, node, reason) == (0, 0, "no node has AVX2"), "AVX2: %r" % reason)
    _, node, _, reason = c.submit(xcr0=0x207)
    check(node == 0 and reason == "no node has AVX2", "first missing feature: %r" % reason)
    _, node, _, reason = c.submit(leaf7_ebx=0, xcr0=0x207)  # PKRU state: the node has xcr0 0x1f
    check(node == 0 and reason == "no node has XCR0 bit 9 (PKRU)", "xcr0: %r" % reason)
    _, node, _, reason = c.submit(leaf7_ebx=0, mem=1 << 40)
    check(node == 0 and reason == "no node has 1048576 MiB free", "mem: %r" % reason)
    _, node, _, reason = c.submit(leaf7_ebx=0, flags=1)
    check(node == 0 and "home" in reason, "--home flag: %r" % reason)
    n3 = a.node(MAC3)
    _, node, _, _ = c.submit()
    check(node == n3.id, "AVX2 node not chosen")
    # --node: honoured when it qualifies, else explained
    _, node, _, _ = c.submit(leaf7_ebx=0, node=1)
    check(node == 1, "preferred node 1 not used")
    _, node, _, reason = c.submit(node=1)
    check(node == 0 and reason == "node 1 has no AVX2", "pref lacks: %r" % reason)
    _, node, _, reason = c.submit(node=99)
    check(node == 0 and reason == "no node 99", "pref missing: %r" % reason)
    check("job not placed" in a.log() and "no node has AVX2" in a.log(), "not logged")


def t_job_uid_separation(tmp):
    a = Agent(tmp)
    n = a.node(MAC1)
    os.chmod(tmp, 0o755)
    os.chmod(os.path.dirname(a.control), 0o755)
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # a user's om-run: submits, reports, then waits to be killed
        try:
            os.close(rd)
            os.setgid(65534)
            os.setuid(65534)
            c = Ctl(a.control)
            job = c.submit()[0]
            c.send_frame(ow.T_CTL_JOBS)
            seen = len(ow.jobs_reply_decode(c.recv_frame()[3]))
            os.write(wr, b"%d %d" % (job, seen))
            time.sleep(30)
        finally:
            os._exit(0)
    try:
        os.close(wr)
        job, seen = map(int, os.read(rd, 64).split())
        check(job >= 1 and seen == 1, "the user's own view: job %d, sees %d" % (job, seen))
        c = a.ctl()
        mine, _, _, _ = c.submit()
        jobs = {j["job"]: j for j in a.jobs()}
        check(set(jobs) == {job, mine} and jobs[job]["uid"] == 65534, "root sees: %r" % jobs)
        rc, out, err = a.mon("--jobs")
        check(rc == 0 and len(out.splitlines()) == 3, "root om-mon --jobs: %r" % out)
        p = subprocess.run([MON, "--control", a.control, "--jobs"], capture_output=True,
                           timeout=10, preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        lines = p.stdout.decode().splitlines()
        check(p.returncode == 0 and len(lines) == 2 and lines[1].split()[0] == str(job),
              "user om-mon --jobs: %r" % lines)
        # a user cannot migrate root's job; root can migrate the user's
        t = ctl_migrate(a.control, os.getpid(), as_uid=65534)
        check(t == ow.T_ERROR, "user migrated root's job: answer type %d" % t)
        t = ctl_migrate(a.control, pid)
        check(t == ow.T_CTL_MIGRATE, "root migrate: answer type %d" % t)
        check(n.recv_frame()[:2] == (ow.T_MIGRATE_HOME, job), "MIGRATE_HOME not sent to the node")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def ctl_migrate(control, pid, as_uid=None):
    """om-migrate's request for pid, from a forked child running as as_uid
    (so its credentials count); returns the type of the agent's answer, 0
    for none."""
    child = os.fork()
    if child == 0:
        t = 0
        try:
            if as_uid is not None:
                os.setgid(as_uid)
                os.setuid(as_uid)
            c = Ctl(control)
            c.send_frame(ow.T_CTL_MIGRATE, ow.job_migrate(pid))
            f = c.recv_frame()
            t = f[0] if f is not None else 0
        finally:
            os._exit(t)
    _, st = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(st)


def t_job_backpressure(tmp):
    """A home that does not read: the node is paused, not buffered without
    bound, and stays up; reading resumes the flow."""
    a = Agent(tmp, "--heartbeat-ms", "100", "--down-after", "600", "--drop-after", "5000")
    n = a.node(MAC1)
    c = a.ctl()
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    job, _, _, _ = c.submit()
    n.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED")
    chunk = b"p" * (1 << 20)
    sent = 0
    n.s.settimeout(0.5)
    try:
        while sent < 40:
            n.send_frame(ow.T_SYSCALL_REQ, chunk, job=job, seq=sent)
            sent += 1
    except socket.timeout:
        pass
    check(sent < 40, "40 MiB accepted without back-pressure")
    time.sleep(1.0)  # longer than down-after: a paused node is not silent
    check(a.nodes()[MAC1]["state"] == "up", "paused node went down")
    got = 0
    c.s.settimeout(5)
    while got < sent:
        f = c.recv_frame()
        check(f is not None and f[0] == ow.T_SYSCALL_REQ and len(f[3]) == len(chunk), "relay broke")
        got += 1
    check(a.alive() and len(a.jobs()) == 1, "job lost under back-pressure")


def balancing_agent(tmp, *more):
    """An agent whose balancer runs every 100 ms and takes any process."""
    conf = os.path.join(tmp, "balance.conf")
    with open(conf, "w") as f:
        f.write("balance_ms = 100\nbalance_min_cpu_ms = 1\nbalance_min_stay_ms = 1\n" + "".join(more))
    return Agent(tmp, "--config", conf, balance=True)


def no_frame(peer, secs):
    """Whether nothing arrives on peer within secs."""
    try:
        return peer.recv_frame(secs) is None
    except (TimeoutError, socket.timeout):
        return True


def t_balance_spreads(tmp):
    """Two processes want the one core of node A, node B is idle: the
    balancer moves one there: not the one om-migrate put on A (the user's
    choice holds), though it has used more CPU (JOB_MOVE to A: it goes
    through the agent), logs the loads that decided it and
    moves nothing more. A job placed by --node stays; heartbeats that list
    jobs the agent does not know change nothing."""
    a = balancing_agent(tmp)
    na = a.node(MAC1, cores=1)
    kids = [spawn(["sleep", "60"]) for _ in range(3)]
    c1, c2, c3 = a.ctl(), a.ctl(), a.ctl()
    j1, node, _, _ = c1.submit(pid=kids[0].pid)
    check(node == na.id, "first job: node %d" % node)
    # the second came to A by om-migrate from home: pinned there by the user
    rec, _, _, _ = c2.submit(pid=kids[1].pid, flags=1)
    m = a.ctl()
    m.send_frame(ow.T_CTL_MIGRATE, ow.job_migrate(kids[1].pid, na.id))
    check(m.recv_frame()[0] == ow.T_CTL_MIGRATE, "om-migrate refused")
    check(c2.recv_frame()[0] == ow.T_CTL_MIGRATE, "deputy not told")
    j2, node, _, _ = c2.submit(pid=kids[1].pid, node=na.id)
    check(node == na.id, "second job: node %d" % node)
    nb = a.node(MAC2, cores=1)
    for j, c in ((j1, c1), (j2, c2)):
        na.send_frame(ow.T_JOB_STARTED, job=j)
        check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, j), "JOB_STARTED")
    na.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1000, 0, 1 << 30, 2, [(j1, 2 * 10**9, 1), (j2, 5 * 10**9, 1),
                                                                     (4242, 10**10, 1)]))
    nb.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1000, 0, 1 << 30, 0, [(j1, 10**10, 1)]))
    f = na.recv_frame(3)
    check(f[:2] == (ow.T_JOB_MOVE, j1), "node A got %r, not JOB_MOVE for job %d" % (f, j1))
    check(no_frame(c1, 0.1), "its deputy was told of a move through the agent")
    check(re.search(r"job %d: the balancer \(load node %d 2\.00 > 1\.30 x node %d 1\.00\) moves it from "
                    r"node %d to node %d" % (j1, na.id, nb.id, na.id, nb.id), a.log()), "log: %r" % a.log()[-600:])
    check(no_frame(na, 0.5) and no_frame(c2, 0.1), "a second move while the first is in flight")
    # a pinned pair: nothing moves
    j3, node, _, _ = c3.submit(pid=kids[2].pid, node=nb.id)
    nb.send_frame(ow.T_JOB_STARTED, job=j3)
    check(c3.recv_frame()[:2] == (ow.T_JOB_STARTED, j3), "JOB_STARTED")
    nb.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1000, 0, 1 << 30, 1, [(j3, 9 * 10**9, 1)]))
    check(no_frame(nb, 0.5) and no_frame(c3, 0.1), "a job placed with --node was moved")
    check(a.alive(), "agent died")


def t_job_tree_view(tmp):
    """om-mon --jobs shows each process under its parent (its parent at
    home, from /proc), with why it is where it is; JSON has ppid and why."""
    a = Agent(tmp)
    n = a.node(MAC1, cores=4)
    kids = [spawn(["sleep", "60"]) for _ in range(2)]
    cs = [a.ctl() for _ in range(3)]
    cs[0].submit(flags=1, cmd="parent")
    cs[1].submit(pid=kids[0].pid, node=n.id, cmd="child one")
    cs[2].submit(pid=kids[1].pid, flags=1, cmd="child two")
    rc, out, err = a.mon("--jobs")
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 4, "--jobs: %r %r" % (out, err))
    check(lines[1].endswith(" home      parent") and lines[2].endswith(" --node    \\_ child one") and
          lines[3].endswith(" home      \\_ child two") and lines[2].split()[1] == str(n.id), "tree: %r" % lines)
    jobs = {j["command"]: j for j in json.loads(a.mon("--json")[1])["jobs"]}
    check(jobs["child one"]["ppid"] == os.getpid() and jobs["child one"]["why"] == "--node" and
          jobs["parent"]["why"] == "home", "json: %r" % jobs)


def t_migrate_balance(tmp):
    """om-migrate PID balance: the agent applies the balancer's rule to
    that process alone: from a crowded node to an idle one (the answer
    names it), refused when it is best where it is."""
    a = Agent(tmp)
    na = a.node(MAC1, cores=1)
    kids = [spawn(["sleep", "60"]) for _ in range(2)]
    c1, c2 = a.ctl(), a.ctl()
    j1, _, _, _ = c1.submit(pid=kids[0].pid)
    j2, node, _, _ = c2.submit(pid=kids[1].pid, node=na.id)
    check(node == na.id, "second job on node A")
    nb = a.node(MAC2, cores=1)
    for j, c in ((j1, c1), (j2, c2)):
        na.send_frame(ow.T_JOB_STARTED, job=j)
        c.recv_frame()
    p = subprocess.run([MIGRATE, "--control", a.control, str(kids[1].pid), "balance"], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 0 and p.stdout == "om-migrate: job of pid %d is moving to node %d\n" % (kids[1].pid, nb.id),
          "balance: %d %r %r" % (p.returncode, p.stdout, p.stderr))
    check(na.recv_frame(3)[:2] == (ow.T_JOB_MOVE, j2), "node A not asked to move job 2")
    # node A cannot send it on now (a call out): it goes through home
    na.send_frame(ow.T_JOB_MOVE_REFUSED, ow.error(ow.E_STATE, "a call of its is at home"), job=j2)
    check(na.recv_frame(3)[:2] == (ow.T_MIGRATE_HOME, j2), "node A not asked to send job 2 home")
    check(c2.recv_frame(3) == (ow.T_CTL_MIGRATE, j2, 0, ow.job_migrate(kids[1].pid, nb.id)), "deputy not told")
    p = subprocess.run([MIGRATE, "--control", a.control, str(kids[0].pid), "balance"], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 1 and p.stderr == "om-migrate: %d: agent: pid %d stays: node %d is best "
          "(a move in flight)\n" % (kids[0].pid, kids[0].pid, na.id), "stays: %d %r" % (p.returncode, p.stderr))
    # job 2 comes home from A and lands on B (its deputy's SUBMIT naming
    # B): job 1 is best where it is
    na.send_frame(ow.T_JOB_HOME, ow.job_home(2, "asked", -1), job=j2)
    na.send_frame(ow.T_IMAGE_BEGIN, b"h", job=j2)
    na.send_frame(ow.T_IMAGE_END, b"e", job=j2)
    for t in (ow.T_JOB_HOME, ow.T_IMAGE_BEGIN, ow.T_IMAGE_END):
        check(c2.recv_frame()[:2] == (t, j2), "job 2 coming home")
    _, node, _, _ = c2.submit(pid=kids[1].pid, node=nb.id)
    check(node == nb.id, "job 2 did not land on B")
    p = subprocess.run([MIGRATE, "--control", a.control, str(kids[0].pid), "balance"], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 1 and p.stderr.endswith("stays: node %d is best\n" % na.id), "stays: %r" % p.stderr)
    rc, out, err = a.mon("--jobs")
    check(re.search(r"\b%d +\S+ +placed +balancer +\./prog arg" % kids[1].pid, out), "why not balancer: %r" % out)
    check(a.alive(), "agent died")


def busy_child(threads=False):
    code = "import threading,time\n"
    if threads:
        code += "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    code += "while True: pass\n"
    return spawn([sys.executable, "-c", code])


def t_balance_from_home(tmp):
    """A process at home that computes goes to a node with a free core
    (CTL_MIGRATE to its deputy); one that sleeps or has threads stays."""
    a = balancing_agent(tmp)
    kids = [spawn(["sleep", "60"]), busy_child(threads=True), busy_child()]
    conns = [a.ctl() for _ in kids]
    for c, k in zip(conns, kids):
        rec, node, _, _ = c.submit(pid=k.pid, flags=1)
        check(rec >= 1 and node == 0, "home record: %r" % node)
    check(no_frame(conns[2], 0.6), "moved with no node up")
    n = a.node(MAC1, cores=1)
    f = conns[2].recv_frame(12)  # two samples of half a core: slower on a loaded machine
    check(f is not None and f[0] == ow.T_CTL_MIGRATE and f[3] == ow.job_migrate(kids[2].pid, n.id),
          "the busy process was not sent out: %r" % (f,))
    check(re.search(r"the balancer \(busy at home, node %d has a free core\) moves it from home" % n.id,
                    a.log()), "log: %r" % a.log()[-600:])
    check(no_frame(conns[0], 0.1) and no_frame(conns[1], 0.1), "a sleeping or threaded process was moved")


def t_balance_user_moves_do_not_stall(tmp):
    """A user's om-migrate of a sleeping process to node B (which never
    lands) does not keep the balancer away from B: the balancer still
    moves a crowded job there."""
    a = balancing_agent(tmp)
    na = a.node(MAC1, cores=1)
    kids = [spawn(["sleep", "60"]) for _ in range(3)]
    c1, c2, c3 = a.ctl(), a.ctl(), a.ctl()
    j1, _, _, _ = c1.submit(pid=kids[0].pid)
    j2, _, _, _ = c2.submit(pid=kids[1].pid, node=na.id)
    nb = a.node(MAC2, cores=1)
    c3.submit(pid=kids[2].pid, flags=1)
    m = a.ctl()
    m.send_frame(ow.T_CTL_MIGRATE, ow.job_migrate(kids[2].pid, nb.id))
    check(m.recv_frame()[0] == ow.T_CTL_MIGRATE, "om-migrate refused")
    for j, c in ((j1, c1), (j2, c2)):
        na.send_frame(ow.T_JOB_STARTED, job=j)
        check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, j), "JOB_STARTED")
    na.send_frame(ow.T_HEARTBEAT, ow.heartbeat(1000, 0, 1 << 30, 2, [(j1, 10**9, 1), (j2, 10**9, 1)]))
    f = na.recv_frame(3)
    check(f[:2] == (ow.T_JOB_MOVE, j1), "the balancer was stalled by another move: %r" % (f,))


def t_balance_home_gone_mid_round(tmp):
    """A deputy that stops reading: the balancer's first send to it fails
    and closes its connection, ending both its jobs in the middle of the
    round; the second move must not touch them (run under ASan too)."""
    a = balancing_agent(tmp)
    kids = [busy_child(), busy_child()]
    c = a.ctl()
    for k in kids:
        c.submit(pid=k.pid, flags=1)
    time.sleep(0.3)
    c.s.shutdown(socket.SHUT_RD)
    a.node(MAC1, cores=1)
    a.node(MAC2, cores=1)
    wait_for(lambda: "om-run went away" in a.log() or "send:" in a.log() or not a.alive(), 5,
             "the deputy's connection to close")
    time.sleep(0.3)
    check(a.alive() and "AddressSanitizer" not in a.log(), "agent: %r" % a.log()[-1500:])
    check(a.jobs() == [], "jobs left: %r" % a.jobs())


def t_balance_home_cores(tmp):
    """With home_cores = 1 home counts as a place like the nodes: one busy
    process at home and an idle node are balanced already."""
    a = balancing_agent(tmp, "home_cores = 1\n")
    k = busy_child()
    c = a.ctl()
    c.submit(pid=k.pid, flags=1)
    a.node(MAC1, cores=1)
    check(no_frame(c, 1.0), "moved although home has a core for it")


def t_config_file(tmp):
    conf = os.path.join(tmp, "agent.conf")
    ctl = os.path.join(tmp, "conf.sock")
    key = os.path.join(tmp, "conf.key")
    subprocess.run([AGENT, "--genkey", key], capture_output=True, timeout=5, check=True)
    with open(conf, "w") as f:
        f.write("# test\n\nlisten = 127.0.0.1:0   # any port\ncontrol=%s\n"
                "heartbeat_ms = 250\n down_after_ms = 700\nnode_grace_ms = 4000\ndrop_after_ms=9000\n"
                "balance_margin = 1.5\nbalance_min_stay_ms = 4000\nhome_cores = 2\n"
                "key_file = %s\n" % (ctl, key))
    logf = open(os.path.join(tmp, "conf.log"), "wb+")
    p = spawn([AGENT, "--config", conf, "--heartbeat-ms", "300"], stdout=logf, stderr=logf)
    def logtext():
        logf.seek(0)
        return logf.read().decode()
    wait_for(lambda: "listening on" in logtext(), 5, "the agent from the config file")
    log = logtext()
    check("control %s, heartbeat 300 ms, down after 700 ms, grace 4000 ms, drop after 9000 ms" % ctl in log,
          "settings: %r" % log)
    check("balancer: every 1000 ms, margin 1.50, candidates with 1000 ms CPU after 4000 ms, "
          "home offers 2 cores" in log, "balancer settings: %r" % log)
    p.send_signal(signal.SIGTERM)
    check(p.wait(5) == 0, "exit")
    # the shipped example file is valid as it is, and with every key set
    example = os.path.join(ROOT, "server-agent", "agent", "agent.conf")
    text = open(example).read()
    filled = os.path.join(tmp, "filled.conf")
    with open(filled, "w") as f:
        f.write(re.sub(r"(?m)^#(\w+ = )", r"\1", text).replace(
            "/run/om/agent.sock", os.path.join(tmp, "f.sock")).replace(
            "0.0.0.0:7707", "127.0.0.1:0").replace("/etc/om/agent.key", key))
    p = spawn([AGENT, "--config", filled], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(lambda: os.path.exists(os.path.join(tmp, "f.sock")), 5, "the filled example")
    p.send_signal(signal.SIGTERM)
    check(p.wait(5) == 0, "filled example exit")
    bad = [("bogus = 1\n", ":1: bogus: unknown key"),
           ("\n\nheartbeat_ms = 0\n", ":3: heartbeat_ms: not a number"),
           ("listen = nowhere\n", ":1: listen: not ADDR:PORT"),
           ("just words\n", ":1: expected \"key = value\""),
           ("control =\n", ":1: control: missing value"),
           ("down_after_ms = 5\ndown_after_ms = 6\n", ":2: down_after_ms: key given twice"),
           ("down_after_ms = 9000\ndrop_after_ms = 100\n", "--drop-after must be"),
           ("balance = maybe\n", ":1: balance: not yes or no"),
           ("balance_margin = 0.9\n", ":1: balance_margin: not a number from 1.0 to 10.0"),
           ("balance_margin = 1.3x\n", ":1: balance_margin: not a number from 1.0 to 10.0"),
           ("balance_margin = nan\n", ":1: balance_margin: not a number from 1.0 to 10.0"),
           ("home_cores = 1025\n", ":1: home_cores: not a number of cores (0..1024)"),
           ("home_cores = -1\n", ":1: home_cores: not a number of cores (0..1024)"),
           ("home_speed = 1000001\n", ":1: home_speed: not a speed (0..1000000)"),
           ("balance_ms = 0\n", ":1: balance_ms: not a number of milliseconds"),
           ("node_moves = direct\n", ":1: node_moves: not relay or home"),
           ("jobs_per_user = 0\n", ":1: jobs_per_user: not a number of jobs (1..4096)"),
           ("jobs_per_user = 4097\n", ":1: jobs_per_user: not a number of jobs (1..4096)"),
           ("image_start_ms = 0\n", ":1: image_start_ms: not a number of milliseconds"),
           ("buffer_mib = 0\n", ":1: buffer_mib: not a number of MiB (1..1048576)"),
           ("buffer_mib = 1048577\n", ":1: buffer_mib: not a number of MiB (1..1048576)"),
           ("key_file = %s\n" % os.path.join(tmp, "nokey"), "nokey: No such file or directory")]
    for text, want in bad:
        with open(conf, "w") as f:
            f.write(text)
        p = subprocess.run([AGENT, "--config", conf], capture_output=True, timeout=5)
        err = p.stderr.decode()
        check(p.returncode == 2 and err.startswith("om-agent: ") and want in err,
              "%r: exit %d %r" % (text, p.returncode, err))
    p = subprocess.run([AGENT, "--config", os.path.join(tmp, "none.conf")], capture_output=True,
                       timeout=5)
    check(p.returncode == 2 and b"none.conf: No such file or directory" in p.stderr,
          "missing explicit file: %r" % p.stderr)
    # balance = no, or --no-balance: no rounds at all
    with open(conf, "w") as f:
        f.write("balance = no\ncontrol = %s\nlisten = 127.0.0.1:0\nkey_file = %s\n" % (ctl, key))
    for args in (["--config", conf], ["--config", conf, "--no-balance"]):
        logf.seek(0)
        logf.truncate()
        p = spawn([AGENT] + args, stdout=logf, stderr=logf)
        wait_for(lambda: "listening on" in logtext(), 5, "the agent without balancer")
        p.send_signal(signal.SIGTERM)
        check(p.wait(5) == 0 and "balancer" not in logtext(), "balance = no: %r" % logtext())


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, (AGENT, MON), PREFIX, TEST_TIMEOUT, "om-test-"))
