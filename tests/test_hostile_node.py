#!/usr/bin/env python3
"""test_hostile_node.py - a node that asks the deputy for more than its
job's due (server-agent/deputy/call_limits.h): a fake node takes a real
program's image from om-run, then sends the SYSCALL_REQs a hostile one
would, aimed at the user's other processes and at om-run itself. om-run
refuses each before it runs (EPERM, ESRCH for no such process), says so
on stderr, and every process lives on; the calls that stay inside the job
still run.

Output is one line per test, "PASS hostile_node/name" or "FAIL
hostile_node/name: reason"; exit status 0 iff all passed. Environment:
OM_RUN (default build/om-run), OM_AGENT as for tests/harness.py,
OM_TEST_PREFIX.
"""
import os
import re
import signal
import struct
import subprocess
import sys

import harness
import omwire as ow
from harness import check

RUN = os.environ.get("OM_RUN", os.path.join(harness.ROOT, "build", "om-run"))
PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "hostile_node/"
TEST_TIMEOUT = 30
ALL_FEATURES = dict(leaf1_ecx=0xFFFFFFFF, leaf1_edx=0xFFFFFFFF, leaf7_ebx=0xFFFFFFFF,
                    leaf7_ecx=0xFFFFFFFF, leaf7_edx=0xFFFFFFFF, xcr0=0xFFFFFFFFFFFFFFFF)
EPERM, ESRCH = 1, 3
SYS_KILL, SYS_GETPPID, SYS_SETPRIORITY, SYS_TGKILL, SYS_PIDFD_OPEN = 62, 110, 141, 234, 434
PRIO_USER = 2
NO_UID = 0x7FFFFFFE  # a user with no processes: harmless should a refusal fail


def sysreq(nr, *args):
    """The SYSCALL_REQ payload of a call without buffers, from the calling
    thread 0 (migrate/syscall_codec.h: u32 nr, u32 tid, six u64 arguments;
    a negative argument as the register holds it). Only a node sends one,
    so omwire has no encoder for it."""
    regs = [a & 0xFFFFFFFFFFFFFFFF for a in args] + [0] * (6 - len(args))
    return struct.pack("<II6Q", nr, 0, *regs)


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(x) for x in f.read().split()]


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def t_node_asks_outside_job(tmp):
    a = harness.Agent(tmp)
    n = a.node(harness.MAC1, **ALL_FEATURES)
    victim = harness.spawn(["sleep", "60"], stdin=subprocess.DEVNULL, start_new_session=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    p = harness.spawn([RUN, "-v", "--control", a.control, "sleep", "60"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    types = []
    while ow.T_IMAGE_END not in types:
        f = n.recv_frame(timeout=10)
        check(f is not None, "the image ended early: %r" % types)
        types.append(f[0])
    job = f[1]
    n.send_frame(ow.T_JOB_STARTED, job=job)
    program = children(p.pid)
    check(len(program) == 1, "om-run's children: %r" % program)
    program = program[0]

    seq = [0]

    def call(nr, *args):
        seq[0] += 1
        n.send_frame(ow.T_SYSCALL_REQ, sysreq(nr, *args), job=job, seq=seq[0])
        f = n.recv_frame(timeout=10)
        check(f is not None and f[0] == ow.T_SYSCALL_REP and f[2] == seq[0] and len(f[3]) == 8,
              "no reply to call %d: %r" % (nr, f))
        return struct.unpack("<q", f[3])[0]

    refused = [
        ((SYS_KILL, victim.pid, signal.SIGKILL), -EPERM),
        ((SYS_KILL, victim.pid, 0), -EPERM),
        ((SYS_KILL, -victim.pid, signal.SIGKILL), -EPERM),
        ((SYS_KILL, -1, 0), -EPERM),
        ((SYS_KILL, p.pid, signal.SIGKILL), -EPERM),  # om-run, the program's parent
        ((SYS_TGKILL, victim.pid, victim.pid, signal.SIGKILL), -EPERM),
        ((SYS_PIDFD_OPEN, victim.pid, 0), -EPERM),
        ((SYS_SETPRIORITY, PRIO_USER, NO_UID, 19), -EPERM),
        ((SYS_KILL, gone.pid, signal.SIGKILL), -ESRCH),
        ((SYS_KILL, -gone.pid, 0), -ESRCH),
    ]
    for args, want in refused:
        got = call(*args)
        check(got == want, "%r: %d, expected %d" % (args, got, want))
    # Inside the job: the program itself, its group, a call naming no one.
    check(call(SYS_KILL, program, 0) == 0, "kill(program, 0) refused")
    check(call(SYS_KILL, 0, 0) == 0, "kill(0, 0) refused")
    check(call(SYS_GETPPID) == p.pid, "getppid is not om-run's pid")
    check(alive(victim.pid) and alive(p.pid) and alive(program), "a process died")

    n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job, seq=seq[0])
    out, err = p.communicate(timeout=10)
    err = err.decode()
    check(p.returncode == 0, "om-run exited %d: %r" % (p.returncode, err[-1000:]))
    said = ("om-run: refused kill(%d, SIGKILL) from node 1: pid %d is not in this job\n"
            % (victim.pid, victim.pid))
    check(said in err, "om-run did not say %r: %r" % (said, err[-1500:]))
    check("om-run: refused kill(-1, 0) from node 1: -1 names every process the user may signal\n" in err,
          "a probe's refusal with -v: %r" % err[-1500:])
    check("om-run: refused setpriority(2, %d, 19) from node 1: a user's processes are not all in this job\n"
          % NO_UID in err, "setpriority: %r" % err[-1500:])
    check(alive(victim.pid), "the victim died")


def take_image(n):
    """The frames of one image, up to its END: returns its job id."""
    types = []
    while ow.T_IMAGE_END not in types:
        f = n.recv_frame(timeout=10)
        check(f is not None, "the image ended early: %r" % types)
        types.append(f[0])
    return f[1]


def t_calls_out_of_order(tmp):
    # A call repeated, one skipped, a frame naming a call never sent: each
    # ends the process with the numbers said, nothing runs twice.
    cases = [("repeated", [1, 1], "node 1 sent call 1, but call 2 was next"),
             ("skipped", [1, 3], "node 1 sent call 3, but call 2 was next"),
             ("ahead", [1, ("exit", 2)], "node 1's JOB_EXIT came after call 2, but call 1 is the last it sent")]
    for name, steps, said in cases:
        os.makedirs(os.path.join(tmp, name))
        a = harness.Agent(os.path.join(tmp, name))
        n = a.node(harness.MAC1, **ALL_FEATURES)
        p = harness.spawn([RUN, "--control", a.control, "sleep", "60"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        job = take_image(n)
        n.send_frame(ow.T_JOB_STARTED, job=job)
        program = children(p.pid)[0]
        writes = 0
        for step in steps:
            if isinstance(step, tuple):
                n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job, seq=step[1])
                continue
            n.send_frame(ow.T_SYSCALL_REQ, write_req(b"x"), job=job, seq=step)
        out, err = p.communicate(timeout=10)
        err = err.decode()
        check(p.returncode != 0 and ("om-run: pid %d (sleep): %s" % (program, said)) in err,
              "%s: exit %d, %r" % (name, p.returncode, err[-800:]))
        check(re.sub(r"om-run: [^\n]*\n", "", err) == "x", "%s: its write did not run once: %r" % (name, err))
        harness.wait_for(lambda: not alive(program), 5, "%s: the process to die (SIGKILL)" % name)
        a.stop()


SYS_WRITE, SYS_CLOCK_GETTIME = 1, 228


def write_req(data, count=None):
    """write(2, 0x1000, ...) from the node: its buffer follows the request."""
    return (struct.pack("<II6Q", SYS_WRITE, 0, 2, 0x1000, len(data) if count is None else count, 0, 0, 0)
            + struct.pack("<I", len(data)) + data)


def write_call(node, job, seq, data):
    node.send_frame(ow.T_SYSCALL_REQ, write_req(data), job=job, seq=seq)
    f = node.recv_frame(timeout=10)
    check(f is not None and f[0] == ow.T_SYSCALL_REP and f[2] == seq, "no reply to call %d: %r" % (seq, f))


def checkpointed_after_3(d):
    """om-run -v sleep 60 on a fake node 1, with checkpoints: its calls 1-3
    write "x", then it answers CHECKPOINT with its first image, saying 3
    calls made. Returns (agent, node 1, the Popen, job id, the process)."""
    a = harness.Agent(d)
    n1 = a.node(harness.MAC1, **ALL_FEATURES)
    ck = os.path.join(d, "job.ckpt")
    p = harness.spawn([RUN, "-v", "--control", a.control, "--checkpoint-every", "0.5", "--checkpoint-file", ck,
                       "sleep", "60"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    frames = []
    while not frames or frames[-1][0] != ow.T_IMAGE_END:
        f = n1.recv_frame(timeout=10)
        check(f is not None, "the image ended early")
        frames.append(f)
    job = frames[0][1]
    program = children(p.pid)[0]
    n1.send_frame(ow.T_JOB_STARTED, job=job)
    for seq in (1, 2, 3):
        write_call(n1, job, seq, b"x")
    f = n1.recv_frame(timeout=10)
    check(f is not None and f[:3] == (ow.T_CHECKPOINT, job, 3), "no CHECKPOINT after call 3: %r" % (f,))
    n1.send_frame(ow.T_CHECKPOINT_TAKEN, ow.error(0, ""), job=job, seq=3)
    for t, _, _, payload in frames:  # its image as it came, saying 3 calls made
        n1.send_frame(t, payload[:-4] + struct.pack("<I", 3) if t == ow.T_IMAGE_BEGIN else payload, job=job, seq=3)
    return a, n1, p, job, program


def lose_node(a, n1, decisions_in_image=None):
    """Node 1 lost, node 2 gets the job from its checkpoint: returns node 2
    and the job's id there, started. Dropped by the agent (a frame of no
    known type), node 1's jobs are lost at once, not after the grace a
    closed link waits for. Within the image node 2 must get how long the
    replay lasts (until call 5) and decisions_in_image, the decisions
    before call 4 (None: none)."""
    n2 = a.node(harness.MAC2, **ALL_FEATURES)
    n1.send_frame(250)
    types, decided = [], []
    while ow.T_IMAGE_END not in types:
        f = n2.recv_frame(timeout=15)
        check(f is not None, "no image on node 2: %r" % types)
        if f[0] == ow.T_IMAGE_BEGIN:
            check(struct.unpack("<I", f[3][-4:])[0] == 3, "the image does not say 3 calls")
        if f[0] == ow.T_DECISIONS:
            decided.append(f[3])
        else:
            types.append(f[0])
    until = ow.decision(ow.DEC_UNTIL, 0, 0, (5, 0, 0, 0))
    check(decided == [until] + ([decisions_in_image] if decisions_in_image else []),
          "the decisions sent with the image: %r" % decided)
    job2 = f[1]
    n2.send_frame(ow.T_JOB_STARTED, job=job2, seq=3)
    return n2, job2


def t_restart_replays_and_catches_divergence(tmp):
    # A job checkpointed after call 3 whose node goes after call 5 starts
    # again on another node: its call 4 again is answered from the log
    # (not run: its write is not done twice), and a call 5 unlike the
    # first one (other arguments, or the same with other bytes) ends it
    # with both said.
    cases = [("args", write_req(b"zz"), "its call 5 is write(0x2, 0x1000, 0x2, ...), but was write(0x2, 0x1000, "
                                        "0x1, ...): it went another way this time; the process is killed"),
             ("bytes", write_req(b"q"), "its call 5 is write as the first time, but with other bytes (a path, "
                                        "what it writes): it went another way this time; the process is killed")]
    for name, call5, said in cases:
        d = os.path.join(tmp, name)
        os.makedirs(d)
        a, n1, p, job, program = checkpointed_after_3(d)
        for seq in (4, 5):
            write_call(n1, job, seq, b"x")
        n2, job2 = lose_node(a, n1)
        write_call(n2, job2, 4, b"x")  # the same call 4: answered from the log
        n2.send_frame(ow.T_SYSCALL_REQ, call5, job=job2, seq=5)
        out, err = p.communicate(timeout=15)
        err = err.decode()
        check(re.sub(r"om-run: [^\n]*\n", "", err) == "xxxxx", "%s: writes done: %r" % (name, err))
        check("it starts again on node 2 from its checkpoint (after call 3; the 2 made since are answered "
              "from the log)" in err, "%s: no restart said: %r" % (name, err[-1500:]))
        check(said in err, "%s: no divergence said: %r" % (name, err[-1500:]))
        harness.wait_for(lambda: not alive(program), 5, "the process to die")
        a.stop()


def t_restart_gives_back_decisions(tmp):
    # What node 1 decided on its own (a clock reading) before calls 4 and
    # 5 is logged with them: node 2, restarting the job, gets the first
    # with the image and the second ahead of call 4's answer; the same
    # again is answered from the log, other bytes end the job, said. A
    # node 1 that lost some of its decisions leaves nothing to replay: no
    # restart.
    ts = lambda sec: struct.pack("<qq", sec, 5)
    clock = lambda sec: ow.decision(ow.DEC_CALL, SYS_CLOCK_GETTIME, 0, (1, 0x2000, 0, 0), [(0x2000, ts(sec))])
    cases = [("same", clock(8), None),
             ("other", clock(9), "its decision 1 on the node before call 5, clock_gettime(0x1, 0x2000, ...) = 0, "
                                 "wrote other bytes than the first time: it went another way this time; the "
                                 "process is killed"),
             ("lost", None, "the node lost some of its decisions, or they are more than a node takes back: no "
                            "restart from a checkpoint before call 4 unless one is taken first")]
    for name, again, said in cases:
        d = os.path.join(tmp, name)
        os.makedirs(d)
        a, n1, p, job, program = checkpointed_after_3(d)
        before4 = clock(7) if again else ow.decision(ow.DEC_LOST, 0)
        n1.send_frame(ow.T_DECISIONS, before4, job=job, seq=3)
        write_call(n1, job, 4, b"x")
        n1.send_frame(ow.T_DECISIONS, clock(8), job=job, seq=4)
        write_call(n1, job, 5, b"x")
        if not again:  # nothing to restart from: the job is lost with its node
            n1.send_frame(250)
            out, err = p.communicate(timeout=15)
            err = err.decode()
            check(p.returncode == 251 and said in err and "starts again" not in err,
                  "%s: exit %d, %r" % (name, p.returncode, err[-1500:]))
            a.stop()
            continue
        n2, job2 = lose_node(a, n1, clock(7))
        n2.send_frame(ow.T_DECISIONS, clock(7), job=job2, seq=3)
        n2.send_frame(ow.T_SYSCALL_REQ, write_req(b"x"), job=job2, seq=4)
        f = n2.recv_frame(timeout=10)
        check(f is not None and f[:3] == (ow.T_DECISIONS, job2, 4) and f[3] == clock(8),
              "%s: node 2 did not get the decisions before call 5 ahead of call 4's answer: %r" % (name, f))
        f = n2.recv_frame(timeout=10)
        check(f is not None and f[0] == ow.T_SYSCALL_REP and f[2] == 4, "%s: no answer to call 4: %r" % (name, f))
        n2.send_frame(ow.T_DECISIONS, again, job=job2, seq=4)
        write_call(n2, job2, 5, b"x") if not said else n2.send_frame(ow.T_SYSCALL_REQ, write_req(b"x"), job=job2,
                                                                     seq=5)
        if not said:
            n2.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job2, seq=5)
        out, err = p.communicate(timeout=15)
        err = err.decode()
        check(re.sub(r"om-run: [^\n]*\n", "", err) == "xxxxx", "%s: writes done: %r" % (name, err))
        if said:
            check(said in err, "%s: no divergence said: %r" % (name, err[-1500:]))
            harness.wait_for(lambda: not alive(program), 5, "the process to die")
        else:
            check(p.returncode == 0, "%s: exit %d: %r" % (name, p.returncode, err[-1500:]))
        a.stop()


def t_site_checkpoints(tmp):
    # agent.conf's checkpoint_every_ms reaches om-run (CTL_POLICY): a job
    # that did not ask is checkpointed all the same, into the default file,
    # which goes when om-run ends; checkpoint_max_pct is said too.
    a = harness.agent_with(tmp, "checkpoint_every_ms = 300\ncheckpoint_max_pct = 10\n")
    c = a.ctl()
    c.send_frame(ow.T_CTL_POLICY)
    f = c.recv_frame()
    check(f is not None and ow.policy_decode(f[3]) == (0, 300, 10), "the policy: %r" % (f,))
    n = a.node(harness.MAC1, **ALL_FEATURES)
    p = harness.spawn([RUN, "-v", "--control", a.control, "sleep", "60"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    f = None
    while f is None or f[0] != ow.T_IMAGE_END:
        f = n.recv_frame(timeout=10)
        check(f is not None, "the image ended early")
    job = f[1]
    n.send_frame(ow.T_JOB_STARTED, job=job)
    f = n.recv_frame(timeout=10)
    check(f is not None and f[:2] == (ow.T_CHECKPOINT, job), "no CHECKPOINT as agent.conf asks: %r" % (f,))
    ckpts = [x for x in os.listdir(os.path.expanduser("~/.cache/om")) if x == "om-run.%d.ckpt" % p.pid]
    n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job)
    _, err = p.communicate(timeout=15)
    check(p.returncode == 0, "om-run: %r %s" % (p.returncode, err.decode()[-800:]))
    check(not os.path.exists(os.path.expanduser("~/.cache/om/om-run.%d.ckpt" % p.pid)) and ckpts == [],
          "the default file is left (or was made before any image): %r" % ckpts)


def t_child_deputy_says_why_it_killed(tmp):
    # Without -v a child's deputy holds none of om-run's descriptors, yet
    # why its process died is said on om-run's stderr (late_stderr.h),
    # here a file: a node's bad frame makes the agent drop the node.
    a = harness.Agent(tmp)
    n = a.node(harness.MAC1, **ALL_FEATURES)
    err_path = os.path.join(tmp, "stderr")
    with open(err_path, "wb") as err_file:
        p = harness.spawn([RUN, "--control", a.control, "sh", "-c", "sleep 60; echo after"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_file)
    n.send_frame(ow.T_JOB_ERROR, ow.error(ow.E_BUSY, "not the shell"), job=take_image(n))
    job = take_image(n)  # sleep's, from the shell's child's deputy
    n.send_frame(ow.T_JOB_STARTED, job=job)
    n.send_frame(ow.T_JOB_STOPPED, b"\x01", job=job)  # a payload too short
    out, _ = p.communicate(timeout=10)
    with open(err_path) as f:
        err = f.read()
    check(p.returncode == 0 and out == b"after\n", "om-run: %d %r %r" % (p.returncode, out, err))
    check(err == "om-run: node 1 (127.0.0.1) was lost while running sleep\nKilled\n", "stderr: %r" % err)


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]

if __name__ == "__main__":
    sys.exit(harness.run_tests(TESTS, (RUN, harness.AGENT), PREFIX, TEST_TIMEOUT, "om-hostile-test-"))
