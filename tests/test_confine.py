#!/usr/bin/env python3
"""test_confine.py - om-run --confine (server-agent/deputy/confine.h): the
program's process at home is confined with Landlock to its working
directory and the paths its user names, so that a node's forwarded calls
reach nothing else. At home, Debian's own programs find files outside
denied (EACCES), those inside, --allow'ed and --allow-read'ed ones as
allowed, TCP refused unless --allow-tcp, and signals to processes outside
refused (the guard, and Landlock ABI 6), prlimit and renice of processes
outside refused (the guard, which ends with the job), Unix sockets and
typing into the terminal refused (a seccomp filter); a fake
node's forwarded openat outside fails with EACCES while one in the
working directory works; agent.conf's
`confine` travels to om-run (CTL_POLICY) and --confine / --no-confine
override it; a kernel without Landlock (simulated with a seccomp filter
on landlock_create_ruleset, ENOSYS or EOPNOTSUPP as such kernels answer)
runs nothing when confinement is asked for.

Output is one line per test, "PASS confine/name" or "FAIL confine/name:
reason"; exit status 0 iff all passed. Environment: OM_RUN (default
build/om-run), OM_AGENT as for tests/harness.py, OM_TEST_PREFIX.
"""
import ctypes
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import harness
import omwire as ow
from harness import check

RUN = os.environ.get("OM_RUN", os.path.join(harness.ROOT, "build", "om-run"))
PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "confine/"
TEST_TIMEOUT = 60
ALL_FEATURES = dict(leaf1_ecx=0xFFFFFFFF, leaf1_edx=0xFFFFFFFF, leaf7_ebx=0xFFFFFFFF,
                    leaf7_ecx=0xFFFFFFFF, leaf7_edx=0xFFFFFFFF, xcr0=0xFFFFFFFFFFFFFFFF)
EACCES, ENOSYS, EOPNOTSUPP = 13, 38, 95
SYS_WRITE, SYS_SOCKET, SYS_CONNECT, SYS_OPENAT = 1, 41, 42, 257
SYS_LANDLOCK_CREATE_RULESET = 444
AT_FDCWD, O_WRONLY, O_CREAT = -100, 1, 0o100
NO_LANDLOCK = "this kernel has no Landlock (Linux 5.13 or later, CONFIG_SECURITY_LANDLOCK)"


def landlock_abi():
    """The running kernel's Landlock ABI, 0 without one."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    v = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint(1))
    return max(v, 0)


def without_landlock(errno):
    """A preexec_fn: the process (om-run) finds landlock_create_ruleset
    answering errno, as a kernel without Landlock (ENOSYS) or with it
    disabled at boot (EOPNOTSUPP) does. Seccomp (BPF: load the call
    number, compare, return)."""
    def pre():
        libc = ctypes.CDLL(None, use_errno=True)
        code = [(0x20, 0, 0, 0),                           # ld [0] (nr)
                (0x15, 0, 1, SYS_LANDLOCK_CREATE_RULESET),  # jeq
                (0x06, 0, 0, 0x00050000 | errno),          # ret SECCOMP_RET_ERRNO
                (0x06, 0, 0, 0x7FFF0000)]                  # ret SECCOMP_RET_ALLOW
        filt = ctypes.create_string_buffer(b"".join(struct.pack("<HBBI", *c) for c in code))
        prog = ctypes.create_string_buffer(struct.pack("<H6xQ", len(code), ctypes.addressof(filt)))
        ul = ctypes.c_ulong
        if (libc.prctl(38, ul(1), ul(0), ul(0), ul(0)) != 0 or                  # PR_SET_NO_NEW_PRIVS
                libc.prctl(22, ul(2), ul(ctypes.addressof(prog)), ul(0), ul(0)) != 0):  # PR_SET_SECCOMP
            os._exit(99)
    return pre


def layout(tmp):
    """The job's directory (the working directory), a secret outside it, a
    directory to --allow and one to --allow-read."""
    d = {k: os.path.join(tmp, k) for k in ("job", "outside", "shared", "ro")}
    for p in d.values():
        os.mkdir(p)
    d["secret"] = os.path.join(d["outside"], "secret")
    d["data"] = os.path.join(d["ro"], "data")
    for f, text in ((d["secret"], "secret\n"), (d["data"], "data\n")):
        with open(f, "w") as fh:
            fh.write(text)
    return d


def om_run(args, cwd, **kw):
    p = harness.spawn([RUN] + args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, **kw)
    out, err = p.communicate(timeout=30)
    return p.returncode, out.decode(), err.decode()


def agent_with(tmp, confine):
    conf = os.path.join(tmp, "agent.conf")
    with open(conf, "w") as f:
        f.write("confine = %s\n" % confine)
    return harness.Agent(tmp, "--config", conf)


def t_home_files(tmp):
    d = layout(tmp)
    script = ("cat {secret}; ls {outside}; echo in > here; cat here; echo sh > {shared}/new; cat {shared}/new; "
              "cat {data}; echo x > {ro}/x; ls; echo done").format(**d)
    rc, out, err = om_run(["--home", "--confine", "--allow", d["shared"], "--allow-read", d["ro"],
                           "sh", "-c", script], d["job"])
    check(rc == 0 and out == "in\nsh\ndata\nhere\ndone\n", "om-run: %d, stdout %r, stderr %r" % (rc, out, err))
    check(err == "cat: {secret}: Permission denied\n"
                 "ls: cannot open directory '{outside}': Permission denied\n"
                 "sh: 1: cannot create {ro}/x: Permission denied\n".format(**d), "stderr: %r" % err)
    check(not os.path.exists(os.path.join(d["ro"], "x")), "--allow-read let the program write")
    # Unconfined, the same user reads it.
    rc, out, err = om_run(["--home", "cat", d["secret"]], d["job"])
    check(rc == 0 and out == "secret\n", "unconfined: %d %r %r" % (rc, out, err))


def t_home_tcp(tmp):
    if landlock_abi() < 4:
        print("INFO confine/home_tcp: Landlock ABI %d has no TCP rights: nothing to test" % landlock_abi())
        return
    d = layout(tmp)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    script = "exec 3<>/dev/tcp/127.0.0.1/%d && echo connected" % srv.getsockname()[1]
    rc, out, err = om_run(["--home", "--confine", "bash", "-c", script], d["job"])
    check(rc == 1 and out == "" and "bash: connect: Permission denied\n" in err,
          "confined: %d %r %r" % (rc, out, err))
    rc, out, err = om_run(["--home", "--confine", "--allow-tcp", "bash", "-c", script], d["job"])
    check(rc == 0 and out == "connected\n", "--allow-tcp: %d %r %r" % (rc, out, err))
    srv.close()


def t_home_unix_sockets(tmp):
    """A listening Unix socket outside (an ssh-agent's, say), which
    Landlock does not cover: the seccomp filter refuses the socket itself
    (confine_calls.h); socketpair works."""
    d = layout(tmp)
    path = os.path.join(d["outside"], "agent.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    script = ("import socket\n"
              "a, b = socket.socketpair(); print('pair')\n"
              "try:\n"
              "    s = socket.socket(socket.AF_UNIX); s.connect(%r); print('connected')\n"
              "except OSError as e:\n"
              "    print(e)\n" % path)
    rc, out, err = om_run(["--home", "--confine", "/usr/bin/python3", "-c", script], d["job"])
    check(rc == 0 and out == "pair\n[Errno 13] Permission denied\n", "confined: %d %r %r" % (rc, out, err))
    rc, out, err = om_run(["--home", "/usr/bin/python3", "-c", script], d["job"])
    check(rc == 0 and out == "pair\nconnected\n", "unconfined: %d %r %r" % (rc, out, err))
    srv.close()


def t_home_terminal_input(tmp):
    """TIOCSTI (and TIOCLINUX) would type a command into the user's
    shell, outside the confinement: the filter refuses them (EPERM) while
    other terminal ioctls work. On a pty of the test's own, which an
    unconfined root reaches."""
    d = layout(tmp)
    script = ("import fcntl, termios\n"
              "fcntl.ioctl(0, termios.TCGETS, bytes(64)); print('tcgets')\n"
              "for req, arg in ((termios.TIOCSTI, b'x'), (0x541C, b'\\x02')):\n"
              "    try:\n"
              "        fcntl.ioctl(0, req, arg); print('done')\n"
              "    except OSError as e:\n"
              "        print(e.errno)\n")
    master, slave = os.openpty()
    try:
        def run(args):
            p = harness.spawn([RUN] + args + ["/usr/bin/python3", "-c", script], cwd=d["job"], stdin=slave,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = p.communicate(timeout=30)
            return p.returncode, out.decode(), err.decode()
        rc, out, err = run(["--home", "--confine"])
        check(rc == 0 and out == "tcgets\n1\n1\n", "confined: %d %r %r" % (rc, out, err))
        rc, out, err = run(["--home"])
        check(rc == 0 and out.startswith("tcgets\ndone\n"), "unconfined: %d %r %r" % (rc, out, err))
    finally:
        os.close(master)
        os.close(slave)


def guards():
    """Pids of the guards (confine_guard.h) alive now."""
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read() == "om-run-guard\n":
                    out.append(int(pid))
        except (OSError, ValueError):
            pass
    return out


def t_home_process_calls(tmp):
    """What Landlock does not scope (prlimit, setpriority) and signals on
    any kernel (before 6.12, Landlock has no signal scope): the guard
    answers as the deputy does for a node, for the job's own processes
    and what they exec; the job's own tree stays reachable."""
    d = layout(tmp)
    victim = harness.spawn(["sleep", "60"], stdin=subprocess.DEVNULL, start_new_session=True)
    v = victim.pid
    before = guards()
    script = ("prlimit --pid {v} --nofile=64:64 2>/dev/null; echo $?; renice -n 5 -p {v} >/dev/null 2>&1; echo $?; "
              "kill -9 {v}; echo $?; prlimit --nofile=64:64 sh -c 'ulimit -n'; "
              "sleep 30 & renice -n 3 -p $! >/dev/null; echo $?; kill -9 $!; wait $!; echo $?").format(v=v)
    rc, out, err = om_run(["--home", "--confine", "sh", "-c", script], d["job"])
    said = "om-run: pid %%d (sh): refused kill(%d, SIGKILL): pid %d is not in this job (--confine)\n" % (v, v)
    check(rc == 0 and out == "1\n1\n1\n64\n0\n137\n", "confined: %d %r %r" % (rc, out, err))
    # The guard says it after answering: in either order with the shell's
    # own word (and then the shell's on the child it killed).
    # (It may land between the pieces of the shell's line: taken out, the
    # shell's line is whole.)
    guard_line = re.escape(said).replace("%d", r"\d+")
    check(re.search(guard_line, err) and
          "sh: 1: kill: Operation not permitted\n" in re.sub(guard_line, "", err),
          "confined stderr: %r" % err)
    check(victim.poll() is None, "the victim died")
    with open("/proc/%d/limits" % v) as f:
        check("Max open files            64 " not in f.read(), "the victim's limit changed")
    # The guard ends with the job.
    end = time.monotonic() + 5
    while [g for g in guards() if g not in before]:
        check(time.monotonic() < end, "a guard outlived its job: %r" % guards())
        time.sleep(0.05)
    rc, out, err = om_run(["--home", "sh", "-c", script.split("kill")[0]], d["job"])
    check(rc == 0 and out == "0\n0\n", "unconfined: %d %r %r" % (rc, out, err))


def t_home_groups_and_owners(tmp):
    """Ways around kill's check: joining a group of the same session
    that has processes outside the job (kill(0) would then reach them),
    and making another process a descriptor's signal owner (F_SETOWN,
    then F_SETSIG and O_ASYNC have the kernel signal it). The guard
    refuses both; the job's own stay."""
    d = layout(tmp)
    victim = harness.spawn(["sleep", "60"], stdin=subprocess.DEVNULL, process_group=0)
    script = ("import os, fcntl\n"
              "def t(what, f):\n"
              "    try:\n"
              "        f(); print(what)\n"
              "    except OSError as e:\n"
              "        print(e.errno)\n"
              "r, w = os.pipe()\n"
              "t('owner', lambda: fcntl.fcntl(r, fcntl.F_SETOWN, %d))\n"
              "t('own owner', lambda: fcntl.fcntl(r, fcntl.F_SETOWN, os.getpid()))\n"
              "t('joined', lambda: os.setpgid(0, %d))\n"
              "t('own group', lambda: os.setpgid(0, 0))\n" % (victim.pid, victim.pid))
    rc, out, err = om_run(["--home", "--confine", "/usr/bin/python3", "-c", script], d["job"])
    check(rc == 0 and out == "1\nown owner\n1\nown group\n", "confined: %d %r %r" % (rc, out, err))
    rc, out, err = om_run(["--home", "/usr/bin/python3", "-c", script], d["job"])
    check(rc == 0 and out == "owner\nown owner\njoined\nown group\n", "unconfined: %d %r %r" % (rc, out, err))


def t_home_signals(tmp):
    d = layout(tmp)
    victim = harness.spawn(["sleep", "60"], stdin=subprocess.DEVNULL, start_new_session=True)
    # Outside: refused; its own child: as usual.
    script = "kill -0 %d; echo $?; sleep 30 & kill $!; wait $!; echo $?" % victim.pid
    rc, out, err = om_run(["--home", "--confine", "sh", "-c", script], d["job"])
    check(rc == 0 and out == "1\n143\n" and err.startswith("sh: 1: kill: Operation not permitted\n"),
          "om-run: %d %r %r" % (rc, out, err))
    check(victim.poll() is None, "the victim died")
    rc, out, err = om_run(["--home", "sh", "-c", "kill -0 %d; echo $?" % victim.pid], d["job"])
    check(rc == 0 and out == "0\n", "unconfined: %d %r %r" % (rc, out, err))


def t_no_landlock(tmp):
    d = layout(tmp)
    marker = os.path.join(d["job"], "ran")
    prog = ["sh", "-c", "echo > %s" % marker]
    for errno, why in ((ENOSYS, NO_LANDLOCK),
                       (EOPNOTSUPP, "Landlock is disabled in this kernel (not in its lsm= boot parameter)")):
        rc, out, err = om_run(["--home", "--confine"] + prog, d["job"], preexec_fn=without_landlock(errno))
        check(rc == 1 and err == "om-run: --confine: %s\n" % why, "errno %d: %d %r" % (errno, rc, err))
        check(not os.path.exists(marker), "the program ran unconfined")
    # The agent's choice is kept too: nothing runs, and no child is left.
    a = agent_with(tmp, "yes")
    rc, out, err = om_run(["--control", a.control] + prog, d["job"], preexec_fn=without_landlock(ENOSYS))
    check(rc == 1 and err == "om-run: sh cannot be confined (the agent's choice, confine = yes): %s; "
          "--no-confine runs it unconfined\n" % NO_LANDLOCK, "agent's choice: %d %r" % (rc, err))
    check(not os.path.exists(marker), "the program ran unconfined")
    rc, out, err = om_run(["--control", a.control, "--no-confine"] + prog, d["job"],
                          preexec_fn=without_landlock(ENOSYS))
    check(rc == 0 and os.path.exists(marker), "--no-confine: %d %r" % (rc, err))


def t_policy_frame(tmp):
    for confine, want in (("yes", ow.POLICY_CONFINE), ("no", 0)):
        os.mkdir(os.path.join(tmp, confine))  # an agent's log of its own
        a = agent_with(os.path.join(tmp, confine), confine)
        c = a.ctl()
        c.send_frame(ow.T_CTL_POLICY)
        f = c.recv_frame()
        check(f is not None and f[0] == ow.T_CTL_POLICY_REPLY and ow.policy_decode(f[3]) == (want, 0, 5),
              "confine = %s: %r" % (confine, f))
        c.send_frame(ow.T_CTL_POLICY, b"\0")
        c.expect_error(ow.E_TRAILING)
        a.stop()
    conf = os.path.join(tmp, "bad.conf")
    with open(conf, "w") as f:
        f.write("confine = maybe\n")
    p = subprocess.run([harness.AGENT, "--config", conf, "--listen", "127.0.0.1:0", "--control",
                        os.path.join(tmp, "bad.sock")], capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and p.stderr == "om-agent: %s:1: confine: not yes or no\n" % conf,
          "bad value: %d %r" % (p.returncode, p.stderr))


def node_job(a, n, args, cwd):
    """Starts om-run with args against agent a; the fake node n takes the
    image. Returns (om-run, job, call): call(nr, args, items) sends one
    SYSCALL_REQ and returns its result."""
    p = harness.spawn([RUN, "-v", "--control", a.control] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    types = []
    while ow.T_IMAGE_END not in types:
        f = n.recv_frame(timeout=10)
        check(f is not None, "the image ended early: %r (om-run: %r)" % (types, p.poll()))
        types.append(f[0])
    job = f[1]
    n.send_frame(ow.T_JOB_STARTED, job=job)
    seq = [0]

    def call(nr, args, items=b""):
        """A call from thread 0 (migrate/syscall_codec.h: u32 nr, u32 tid,
        six u64 arguments, then one item per buffer)."""
        seq[0] += 1
        regs = [v & 0xFFFFFFFFFFFFFFFF for v in args] + [0] * (6 - len(args))
        n.send_frame(ow.T_SYSCALL_REQ, struct.pack("<II6Q", nr, 0, *regs) + items, job=job, seq=seq[0])
        f = n.recv_frame(timeout=10)
        if f is None or f[0] != ow.T_SYSCALL_REP or f[2] != seq[0] or len(f[3]) != 8:
            p.kill()
            raise harness.Fail("no reply to call %d: %r; om-run: %r" % (nr, f, p.communicate()[1][-1000:]))
        return struct.unpack("<q", f[3])[0]
    call.made = seq  # the calls so far: the node's frames name the last (docs/protocol.md, Numbering)
    return p, job, call


def buf(data):
    """An IN or STR item: u32 length, the bytes (a STR without its NUL)."""
    return struct.pack("<I", len(data)) + data


def openat(call, path, flags=0, mode=0):
    return call(SYS_OPENAT, [AT_FDCWD, 0x1000, flags, mode], buf(path.encode()))


def t_node_forwarded_calls(tmp):
    d = layout(tmp)
    a = agent_with(tmp, "yes")
    n = a.node(harness.MAC1, **ALL_FEATURES)
    p, job, call = node_job(a, n, ["--allow-read", d["ro"], "sleep", "60"], d["job"])
    got = openat(call, d["secret"])
    check(got == -EACCES, "openat outside: %d" % got)
    fd = openat(call, "inside", O_WRONLY | O_CREAT, 0o644)
    check(fd >= 0, "openat in the working directory: %d" % fd)
    check(call(SYS_WRITE, [fd, 0x1000, 6], buf(b"hello\n")) == 6, "write")
    check(openat(call, d["data"]) >= 0, "openat of --allow-read")
    check(openat(call, d["data"], O_WRONLY) == -EACCES, "openat of --allow-read for writing")
    got = call(SYS_SOCKET, [socket.AF_UNIX, socket.SOCK_STREAM, 0])
    check(got == -EACCES, "socket(AF_UNIX) for the node: %d" % got)
    if landlock_abi() >= 4:
        s = call(SYS_SOCKET, [socket.AF_INET, socket.SOCK_STREAM, 0])
        sin = struct.pack("<HH4s8x", socket.AF_INET, socket.htons(a.port), socket.inet_aton("127.0.0.1"))
        got = call(SYS_CONNECT, [s, 0x1000, len(sin)], buf(sin))
        check(s >= 0 and got == -EACCES, "TCP connect to the agent: socket %d, connect %d" % (s, got))
    n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job, seq=call.made[0])
    out, err = p.communicate(timeout=10)
    err = err.decode()
    check(p.returncode == 0, "om-run exited %d: %r" % (p.returncode, err[-1000:]))
    check("om-run: confined (the agent's choice, confine = yes; Landlock ABI %d)\n" % min(landlock_abi(), 6) in err,
          "om-run did not say it confines: %r" % err[-1000:])
    with open(os.path.join(d["job"], "inside")) as f:
        check(f.read() == "hello\n", "the file in the working directory")

    # --no-confine: the agent's choice is the user's default only.
    p, job, call = node_job(a, n, ["--no-confine", "sleep", "60"], d["job"])
    check(openat(call, d["secret"]) >= 0, "--no-confine: openat outside refused")
    n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job, seq=call.made[0])
    out, err = p.communicate(timeout=10)
    check(p.returncode == 0 and b"confined" not in err, "--no-confine: %d %r" % (p.returncode, err[-500:]))


def t_node_default_unconfined(tmp):
    """Without confine in agent.conf om-run does not confine, unless told."""
    d = layout(tmp)
    a = harness.Agent(tmp)
    n = a.node(harness.MAC1, **ALL_FEATURES)
    for args, want in (([], "ok"), (["--confine"], -EACCES)):
        p, job, call = node_job(a, n, args + ["sleep", "60"], d["job"])
        got = openat(call, d["secret"])
        check((got >= 0) if want == "ok" else got == want, "%r: openat outside: %d" % (args, got))
        n.send_frame(ow.T_JOB_EXIT, ow.job_exit(ow.EXIT_EXITED, 0), job=job, seq=call.made[0])
        out, err = p.communicate(timeout=10)
        check(p.returncode == 0, "%r: om-run exited %d: %r" % (args, p.returncode, err[-500:]))


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]

if __name__ == "__main__":
    if landlock_abi() == 0:
        print("FAIL %ssetup: this kernel has no Landlock (the tests need it)" % PREFIX)
        sys.exit(1)
    sys.exit(harness.run_tests(TESTS, (RUN, harness.AGENT), PREFIX, TEST_TIMEOUT, "om-confine-test-"))
