#!/usr/bin/env python3
"""test_drain.py - om-ctl's levers and a node that leaves (its owner is
back), against the real om-agent with fake nodes.

drain, block, unblock, expel and reboot through the real om-ctl; NODE_LEAVING
and NODE_RESTART on a fake node's link; who may pull the levers (root only,
DESIGN.md); bad input (NODE_LEAVING twice or malformed, unknown node ids,
usage errors). Output is one line per test, "PASS name" or "FAIL name:
reason"; exit status 0 iff all passed. Same harness and environment as
test_agent.py (OM_AGENT, OM_MON; OM_CTL picks om-ctl).
"""
import json
import os
import re
import socket
import struct
import subprocess
import sys

import omwire as ow
from harness import (AGENT, CTL, MAC1, MAC2, MAC3, MON, NOBODY, Agent, check, om_ctl, run_tests,
                     spawn, wait_for)

PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "drain/"
TEST_TIMEOUT = 20


def state(a, mac):
    return a.nodes()[mac]["state"], {k: a.nodes()[mac][k] for k in ("blocked", "draining", "leaving")}


def recv_type(peer, ftype, what):
    """The next frame on peer, which must be of type ftype."""
    f = peer.recv_frame()
    check(f is not None and f[0] == ftype, "%s: got %r" % (what, f and (f[0], f[1], f[3][:60])))
    return f

# ---- tests


def t_usage(tmp):
    p = subprocess.run([CTL, "--help"], capture_output=True, timeout=5)
    check(p.returncode == 0 and p.stdout.startswith(b"usage: om-ctl [--control PATH] [--json] "
                                                    b"drain|block|unblock|expel|reboot NODE...\n"),
          "--help: %d %r" % (p.returncode, p.stdout[:80]))
    sock = os.path.join(tmp, "none.sock")
    for args, status, err in (
            ([], 2, b"usage: om-ctl"),
            (["drain"], 2, b"usage: om-ctl"),
            (["--bogus", "drain", "1"], 2, b"om-ctl: unknown option or missing value: '--bogus'\n"),
            (["stop", "1"], 2, b"om-ctl: unknown action 'stop' (drain, block, unblock, expel, reboot, admit or pending)\n"),
            (["block", "1", "x"], 2, b"om-ctl: invalid node id 'x'\n"),
            (["block", "0"], 2, b"om-ctl: invalid node id '0'\n"),
            (["block", "4294967296"], 2, b"om-ctl: invalid node id '4294967296'\n"),
            (["--control", sock, "block", "3"], 1,
             b"om-ctl: node 3: %s: No such file or directory\n" % sock.encode())):
        p = subprocess.run([CTL] + args, capture_output=True, timeout=5)
        check(p.returncode == status and p.stderr.startswith(err) and p.stdout == b"",
              "%r: exit %d, %r %r" % (args, p.returncode, p.stdout, p.stderr))


def t_block_unblock(tmp):
    a = Agent(tmp)
    fast = a.node(MAC1, speed=5000)
    slow = a.node(MAC2, speed=100)
    rc, out, err = om_ctl(a, "block", str(fast.id))
    check((rc, out, err) == (0, "om-ctl: node %d: block: 0 job(s) leaving; now blocked\n" % fast.id, ""),
          "block: %r" % ((rc, out, err),))
    check(state(a, MAC1) == ("up", {"blocked": True, "draining": False, "leaving": False}),
          "om-mon --json: %r" % (state(a, MAC1),))
    rc, out, _ = a.mon()
    row = [ln.split() for ln in out.splitlines() if MAC1 in ln][0]
    check(row[10] == "up,blocked", "om-mon table: %r" % row)
    c = a.ctl()
    _, node, _, _ = c.submit()
    check(node == slow.id, "placed on %d, not the open node %d" % (node, slow.id))
    _, node, _, reason = c.submit(node=fast.id)
    check(node == 0 and reason == "node %d takes no new jobs (blocked)" % fast.id,
          "--node on a blocked node: %r" % reason)
    rc, out, err = om_ctl(a, "block", str(slow.id))
    check(rc == 0, "block the other: %r" % err)
    _, node, _, reason = c.submit()
    check(node == 0 and reason == "no node takes new jobs (blocked, draining or leaving)",
          "both blocked: %r" % reason)
    rc, out, err = om_ctl(a, "unblock", str(slow.id))
    check(rc == 0 and out == "om-ctl: node %d: unblock: 0 job(s) leaving; now open\n" % slow.id,
          "unblock: %r" % ((rc, out, err),))
    rc, out, err = om_ctl(a, "--json", "unblock", str(fast.id))
    check(rc == 0 and json.loads(out) == {"action": "unblock", "nodes": [
        {"node": fast.id, "ok": True, "blocked": False, "draining": False, "leaving": False,
         "moving": 0}]}, "unblock --json: %r" % ((rc, out, err),))
    _, node, _, _ = c.submit()
    check(node == fast.id, "unblocked node not used: %d" % node)
    wait_for(lambda: re.search(r"node %d: block by uid 0; 0 job\(s\) leave; flags now blocked"
                               % fast.id, a.log()), 3, "the log line")


def t_drain_elsewhere_or_home(tmp):
    """Each job goes to a free core elsewhere while there is one, the rest
    home; the node takes no new jobs."""
    a = Agent(tmp)
    src = a.node(MAC1, cores=2, speed=5000)
    dst = a.node(MAC2, cores=1, speed=100)
    c1, c2 = a.ctl(), a.ctl()
    j1, n1, _, _ = c1.submit()
    j2, n2, _, _ = c2.submit()
    check(n1 == n2 == src.id, "both on the fast node: %d %d" % (n1, n2))
    rc, out, err = om_ctl(a, "drain", str(src.id))
    check((rc, out, err) == (0, "om-ctl: node %d: drain: 2 job(s) leaving; now draining\n" % src.id, ""),
          "drain: %r" % ((rc, out, err),))
    got = {src.recv_frame()[:2], src.recv_frame()[:2]}
    check(got == {(ow.T_MIGRATE_HOME, j1), (ow.T_MIGRATE_HOME, j2)}, "node got %r" % got)
    log = a.log()
    on = [j for j in (j1, j2) if re.search(r"job %d: om-ctl drain moves it from node %d to node %d, "
                                           r"through home" % (j, src.id, dst.id), log)]
    home = [j for j in (j1, j2) if re.search(r"job %d: om-ctl drain asks for it to come home from "
                                             r"node %d" % (j, src.id), log)]
    check(len(on) == 1 and len(home) == 1, "one elsewhere, one home: %r" % log[-600:])
    c = c1 if on[0] == j1 else c2
    f = recv_type(c, ow.T_CTL_MIGRATE, "om-run of the job that goes on")
    check(f[1] == on[0] and f[3] == ow.job_migrate(os.getpid(), dst.id), "CTL_MIGRATE: %r" % (f,))
    check(state(a, MAC1)[1]["draining"], "not draining")
    _, node, _, _ = a.ctl().submit(cmd="./new")
    check(node != src.id, "a draining node took a job")


def t_drain_late_start(tmp):
    """A job whose image was on its way when the drain came leaves as soon
    as the node says it started (then through the agent: JOB_MOVE)."""
    a = Agent(tmp)
    src = a.node(MAC1, cores=1, speed=5000)
    dst = a.node(MAC2, cores=1, speed=100)
    c = a.ctl()
    job, node, _, _ = c.submit(node=src.id)
    check(node == src.id, "placed on %d" % node)
    rc, out, _ = om_ctl(a, "drain", str(src.id))
    check(rc == 0 and "1 job(s) leaving" in out, "drain: %r" % out)
    check(src.recv_frame()[:2] == (ow.T_MIGRATE_HOME, job), "no MIGRATE_HOME")
    c.recv_frame()  # CTL_MIGRATE to dst
    # the node had not started it yet: it ignored MIGRATE_HOME, now it starts
    src.send_frame(ow.T_JOB_STARTED, job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_STARTED, job), "JOB_STARTED not relayed")
    check(src.recv_frame()[:2] == (ow.T_JOB_MOVE, job), "no JOB_MOVE")
    wait_for(lambda: re.search(r"job %d: its node draining moves it from node %d to node %d" %
                               (job, src.id, dst.id), a.log()), 3, "the log line")


def t_expel(tmp):
    a = Agent(tmp)
    src = a.node(MAC1, speed=5000)
    a.node(MAC2, speed=100)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == src.id, "placed on %d" % node)
    rc, out, err = om_ctl(a, "--json", "expel", str(src.id))
    check(rc == 0 and json.loads(out)["nodes"] == [
        {"node": src.id, "ok": True, "blocked": False, "draining": True, "leaving": False,
         "moving": 1}], "expel: %r" % ((rc, out, err),))
    check(src.recv_frame()[:2] == (ow.T_MIGRATE_HOME, job), "no MIGRATE_HOME")
    check(re.search(r"job %d: om-ctl expel asks for it to come home from node %d" % (job, src.id),
                    a.log()), "not sent home: %r" % a.log()[-400:])
    # om-run hears its job stays home (target 0), then JOB_HOME comes
    f = recv_type(c, ow.T_CTL_MIGRATE, "om-run told its job comes home")
    check(f[1] == job and f[3] == ow.job_migrate(os.getpid(), 0), "CTL_MIGRATE: %r" % (f,))
    src.send_frame(ow.T_JOB_HOME, ow.job_home(2, "requested"), job=job)
    f = c.recv_frame()
    check(f[:2] == (ow.T_JOB_HOME, job), "om-run got %r" % (f[:2],))


def t_refusals(tmp):
    """Root only; unknown nodes; a refusal for one node leaves the others done."""
    a = Agent(tmp)
    n = a.node(MAC1)
    os.chmod(tmp, 0o755)
    os.chmod(os.path.dirname(a.control), 0o755)
    for act in ("drain", "block", "unblock", "expel", "reboot"):
        rc, out, err = om_ctl(a, act, str(n.id), as_uid=NOBODY)
        check((rc, out, err) == (1, "", "om-ctl: node %d: agent: %s node %d: permission denied "
                                        "(root only)\n" % (n.id, act, n.id)),
              "%s as a user: %r" % (act, (rc, out, err)))
    check(state(a, MAC1)[1] == {"blocked": False, "draining": False, "leaving": False},
          "a user's lever moved something")
    check("uid %d may not reboot node %d: root only" % (NOBODY, n.id) in a.log(), "refusal not logged")
    rc, out, err = om_ctl(a, "block", "99", str(n.id))
    check((rc, out, err) == (1, "om-ctl: node %d: block: 0 job(s) leaving; now blocked\n" % n.id,
                             "om-ctl: node 99: agent: no node 99\n"), "unknown node: %r" % ((rc, out, err),))
    rc, out, err = om_ctl(a, "--json", "drain", "77")
    check(rc == 1 and json.loads(out) == {"action": "drain", "nodes": [
        {"node": 77, "ok": False, "error": "agent: no node 77"}]}, "--json refusal: %r" % ((rc, out, err),))
    # a node that is down cannot be told to restart
    gone = a.node(MAC2)
    gone.close()
    wait_for(lambda: a.nodes()[MAC2]["state"] == "down", 3, "the node to be down")
    rc, out, err = om_ctl(a, "reboot", str(gone.id))
    check((rc, err) == (1, "om-ctl: node %d: agent: node %d is not connected\n" % (gone.id, gone.id)),
          "reboot of a down node: %r" % ((rc, out, err),))
    check(a.alive(), "agent died")


def t_node_leaving(tmp):
    """The owner is back: the agent sends the node's jobs on (elsewhere or
    home), takes no new ones there, and forgets it all when the node says
    HELLO again after its restart."""
    a = Agent(tmp)
    src = a.node(MAC1, cores=1, speed=5000)
    dst = a.node(MAC2, cores=1, speed=100)
    c = a.ctl()
    job, node, _, _ = c.submit()
    check(node == src.id, "placed on %d" % node)
    src.send_frame(ow.T_NODE_LEAVING, ow.node_leaving(ow.LEAVE_OWNER, "a key was pressed"))
    f = recv_type(c, ow.T_CTL_MIGRATE, "om-run told where its job goes on")
    check(f[1] == job and f[3] == ow.job_migrate(os.getpid(), dst.id), "CTL_MIGRATE: %r" % (f,))
    check(state(a, MAC1) == ("up", {"blocked": False, "draining": False, "leaving": True}),
          "state: %r" % (state(a, MAC1),))
    wait_for(lambda: re.search(r"node %d leaves \(owner back: a key was pressed\); 1 job\(s\) go "
                               r"elsewhere or home" % src.id, a.log()), 3, "the log line")
    _, node, _, _ = a.ctl().submit(node=src.id)
    check(node == 0, "a leaving node took a job")
    # the node's own JOB_HOME reaches om-run after the CTL_MIGRATE
    src.send_frame(ow.T_JOB_HOME, ow.job_home(2, "the owner is back"), job=job)
    check(c.recv_frame()[:2] == (ow.T_JOB_HOME, job), "JOB_HOME not relayed")
    src.send_frame(ow.T_BYE)
    src.expect_closed()
    again = a.node(MAC1, cores=1, speed=5000)
    check(again.id == src.id and state(a, MAC1)[1]["leaving"] is False, "still leaving after HELLO")


def t_node_leaving_bad(tmp):
    """Malformed or repeated NODE_LEAVING: ERROR, the node is disconnected
    (its jobs are lost to their om-runs), the agent goes on."""
    a = Agent(tmp)
    for payload, job, code in ((ow.node_leaving(0, "x"), 0, ow.E_RANGE),
                               (ow.node_leaving(3, "x"), 0, ow.E_RANGE),
                               (ow.node_leaving(1, "x") + b"!", 0, ow.E_TRAILING),
                               (ow.u8(1), 0, ow.E_TRUNC),
                               (ow.node_leaving(1, "x"), 5, ow.E_RANGE)):
        n = a.node(MAC3)
        n.send_frame(ow.T_NODE_LEAVING, payload, job=job)
        n.expect_error(code)
    n = a.node(MAC1)
    c = a.ctl()
    job, _, _, _ = c.submit()
    n.send_frame(ow.T_NODE_LEAVING, ow.node_leaving(ow.LEAVE_OWNER, "key"))
    n.send_frame(ow.T_NODE_LEAVING, ow.node_leaving(ow.LEAVE_OWNER, "key"))
    frames = n.expect_closed()
    errs = [ow.error_decode(f[3]) for f in frames if f[0] == ow.T_ERROR]
    check(errs == [(ow.E_STATE, "NODE_LEAVING twice")], "second NODE_LEAVING: %r" % errs)
    f = recv_type(c, ow.T_CTL_MIGRATE, "om-run told its job comes home (no other node)")
    check(f[3] == ow.job_migrate(os.getpid(), 0), "CTL_MIGRATE: %r" % (f,))
    f = c.recv_frame()
    check(f is not None and f[:2] == (ow.T_NODE_LOST, job), "om-run not told: %r" % (f,))
    # a NODE_LEAVING before HELLO is no better
    n = a.node()
    n.send_frame(ow.T_NODE_LEAVING, ow.node_leaving(ow.LEAVE_OWNER, "key"))
    n.expect_error(ow.E_STATE)
    check(a.alive(), "agent died")


def t_bad_frames(tmp):
    """Malformed CTL_NODE, and the new frames where they do not belong:
    ERROR with the reason, that connection closed, the agent goes on."""
    a = Agent(tmp)
    n = a.node(MAC1)
    for payload, code in ((ow.ctl_node(0, 1), ow.E_RANGE),
                          (ow.ctl_node(6, 1), ow.E_RANGE),
                          (ow.ctl_node(ow.CTL_BLOCK, 0), ow.E_RANGE),
                          (ow.ctl_node(ow.CTL_BLOCK, 1)[:4], ow.E_TRUNC),
                          (ow.ctl_node(ow.CTL_BLOCK, 1) + b"\0", ow.E_TRAILING)):
        c = a.ctl()
        c.send_frame(ow.T_CTL_NODE, payload)
        c.expect_error(code)
    for ftype in (ow.T_CTL_NODE_REPLY, ow.T_NODE_LEAVING, ow.T_NODE_RESTART):
        c = a.ctl()
        c.send_frame(ftype, b"")
        c.expect_error(ow.E_STATE)
    for ftype, payload in ((ow.T_NODE_RESTART, b""), (ow.T_CTL_NODE, ow.ctl_node(ow.CTL_DRAIN, 1))):
        m = a.node(MAC2)
        m.send_frame(ftype, payload)
        m.expect_error(ow.E_STATE)
    check(state(a, MAC1) == ("up", {"blocked": False, "draining": False, "leaving": False}),
          "a bad frame changed node 1: %r" % (state(a, MAC1),))
    n.send_frame(ow.T_ECHO, b"still here")
    check(n.recv_frame()[:1] == (ow.T_ECHO_REPLY,), "node 1 lost")


def t_bad_replies(tmp):
    """om-ctl against a fake agent: a reply that is malformed, for another
    node, or an ERROR is a refusal (exit 1) with the reason."""
    path = os.path.join(tmp, "fake.sock")
    cases = [
        (ow.frame(ow.T_CTL_NODE_REPLY, struct.pack("<IBI", 3, 8, 0)), "the agent's answer is malformed"),
        (ow.frame(ow.T_CTL_NODE_REPLY, struct.pack("<IBI", 4, 0, 0)), "the agent's answer is malformed"),
        (ow.frame(ow.T_CTL_NODE_REPLY, struct.pack("<IB", 3, 0)), "the agent's answer is malformed"),
        (ow.frame(ow.T_ERROR, ow.error(-10, "nope")), "agent: nope"),
        (b"", "receive:"),
    ]
    for reply, want in cases:
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(5)
        p = spawn([CTL, "--control", path, "block", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        c, _ = srv.accept()
        c.settimeout(5)
        peer = ow.Peer(c)
        f = peer.recv_frame()
        check(f == (ow.T_CTL_NODE, 0, 0, ow.ctl_node(ow.CTL_BLOCK, 3)), "request: %r" % (f,))
        peer.send(reply)
        peer.close()
        srv.close()
        os.unlink(path)
        out, err = p.communicate(timeout=10)
        check(p.returncode == 1 and out == b"" and err.decode().startswith("om-ctl: node 3: ") and
              want in err.decode(), "reply %r: exit %d, %r" % (reply[:24], p.returncode, err))


def t_reboot(tmp):
    a = Agent(tmp)
    src = a.node(MAC1, speed=5000)
    c = a.ctl()
    job, _, _, _ = c.submit()
    rc, out, err = om_ctl(a, "reboot", str(src.id))
    check((rc, out, err) == (0, "om-ctl: node %d: reboot: 1 job(s) leaving; now leaving\n" % src.id, ""),
          "reboot: %r" % ((rc, out, err),))
    f = recv_type(src, ow.T_NODE_RESTART, "the node told to restart")
    check(f[1:] == (0, 0, b""), "NODE_RESTART: %r" % (f,))
    # the node answers as it does for its owner; that is not "twice"
    src.send_frame(ow.T_NODE_LEAVING, ow.node_leaving(ow.LEAVE_RESTART, "om-ctl reboot"))
    check(recv_type(src, ow.T_MIGRATE_HOME, "the job sent home")[1] == job, "wrong job")
    wait_for(lambda: re.search(r"node %d leaves \(restart asked: om-ctl reboot\); 1 job" % src.id,
                               a.log()), 3, "the log line")
    check(a.nodes()[MAC1]["state"] == "up", "node gone before it said BYE")


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, (AGENT, MON, CTL), PREFIX, TEST_TIMEOUT, "om-test-"))
