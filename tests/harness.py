"""harness - what the host tests of om-agent and om-run share: a real
om-agent per test on 127.0.0.1 (ephemeral port, control socket in the
test's temporary directory), fake nodes and control clients that speak the
protocol through omwire, and the runner that bounds each test and kills
every process it started by its pid.

Environment: OM_AGENT, OM_MON pick the binaries (default build/om-agent,
build/om-mon).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import omlink
import omwire as ow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.environ.get("OM_AGENT", os.path.join(ROOT, "build", "om-agent"))
MON = os.environ.get("OM_MON", os.path.join(ROOT, "build", "om-mon"))
MIGRATE = os.path.join(ROOT, "build", "om-migrate")
CTL = os.environ.get("OM_CTL", os.path.join(ROOT, "build", "om-ctl"))
NOBODY = 65534

# ---- what fake nodes and jobs say unless a test says otherwise

MAC1, MAC2, MAC3 = "52:54:00:12:34:56", "52:54:00:ab:cd:ef", "02:00:00:00:00:07"

CPU = dict(vendor="GenuineIntel", model="Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
           family=6, model_id=158, stepping=10, leaf1_ecx=0x7FFAFBFF,
           leaf1_edx=0xBFEBFBFF, leaf7_ebx=0x029C67AF, leaf7_ecx=0x40000000,
           leaf7_edx=0xBC000400, xcr0=0x1F, cores=6)

# What a job may use: SSE2 and AVX2 (leaf 7 EBX bit 5), x87/SSE/AVX state.
JOB_CPU = dict(leaf1_ecx=0, leaf1_edx=1 << 26, leaf7_ebx=1 << 5, leaf7_ecx=0,
               leaf7_edx=0, xcr0=0x7, cores=1)


def fake_hello(mac, nic="virtio-net", mem=512 << 20, speed=1234, boot_ms=4321,
               version="om 0.1", **cpu_over):
    """A HELLO payload: CPU with cpu_over's fields changed."""
    return ow.hello(mac, nic, dict(CPU, **cpu_over), mem, speed, boot_ms, version)


def fake_submit(pid=None, cmd="./prog arg", mem=1 << 20, node=0, flags=0, fork_job=0, fork_seq=0, **cpu_over):
    """A CTL_JOB_SUBMIT payload for this process (or pid): JOB_CPU with
    cpu_over's fields changed."""
    pid = os.getpid() if pid is None else pid
    return ow.job_submit(pid, cmd, dict(CPU, **dict(JOB_CPU, **cpu_over)), mem, node, flags, fork_job, fork_seq)

# ---- checks


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise Fail("timed out waiting for " + what)


PROCS = []  # every process a test started, killed in its finally


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    PROCS.append(p)
    return p

# ---- the agent and its peers


def om_ctl(a, *args, as_uid=None):
    """Runs om-ctl against agent a (as_uid: as that user); returns (status,
    stdout, stderr)."""
    pre = (lambda: (os.setgid(as_uid), os.setuid(as_uid))) if as_uid is not None else None
    p = spawn([CTL, "--control", a.control] + list(args), stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, preexec_fn=pre)
    out, err = p.communicate(timeout=10)
    return p.returncode, out.decode(), err.decode()


class Agent:
    def __init__(self, tmp, *args, control=None, balance=False):
        """balance: run the balancer (off by default: a test's own process
        may be a job's pid, and must not be moved while the test runs)."""
        self.control = control or os.path.join(tmp, "run", "agent.sock")
        self.logpath = os.path.join(tmp, "agent.log")
        self.logf = open(self.logpath, "ab")
        # The link's key; fake nodes authenticate the agent by its public half.
        self.key_file = os.path.join(tmp, "agent.key")
        if not os.path.exists(self.key_file):
            self.pub = bytes.fromhex(subprocess.run(
                [AGENT, "--genkey", self.key_file], capture_output=True, text=True,
                timeout=10, check=True).stdout.strip())
        else:
            self.pub = bytes.fromhex(subprocess.run(
                [AGENT, "--pubkey", "--config", "/dev/null", "--key", self.key_file],
                capture_output=True, text=True, timeout=10, check=True).stdout.strip())
        self.proc = spawn([AGENT, "--config", "/dev/null", "--listen", "127.0.0.1:0",
                           "--control", self.control, "--key", self.key_file] +
                          ([] if balance else ["--no-balance"]) + list(args),
                          stdout=self.logf, stderr=self.logf)
        m = wait_for(lambda: self.proc.poll() is None and
                     re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log()), 5,
                     "the agent to listen (log: %r)" % self.log()[-300:])
        self.port = int(m.group(1))
        self.keep = []  # registered fake nodes stay connected for the test

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            raise Fail("agent did not exit on SIGTERM")

    def node(self, mac=None, static=None, **kw):
        n = Node(self.port, self.pub, static=static)
        if mac is not None:
            n.register(mac, **kw)
        self.keep.append(n)
        return n

    def mon(self, *args, env=None):
        p = spawn([MON, "--control", self.control] + list(args), stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, env=env)
        out, err = p.communicate(timeout=10)
        return p.returncode, out.decode(), err.decode()

    def nodes(self):
        rc, out, err = self.mon("--json")
        check(rc == 0, "om-mon --json exit %d: %s" % (rc, err.strip()))
        try:
            doc = json.loads(out)
        except ValueError as e:
            raise Fail("om-mon --json output is not JSON (%s): %r" % (e, out[:200]))
        return {n["mac"]: n for n in doc["nodes"]}

    def ctl(self):
        return Ctl(self.control)

    def jobs(self):
        c = self.ctl()
        c.send_frame(ow.T_CTL_JOBS)
        f = c.recv_frame()
        check(f is not None and f[0] == ow.T_CTL_JOBS_REPLY, "CTL_JOBS: %r" % (f,))
        c.close()
        return ow.jobs_reply_decode(f[3])

    def check_up(self, mac):
        n = self.nodes().get(mac)
        check(n is not None and n["state"] == "up", "node %s not up: %r" % (mac, n))
        check(self.alive(), "agent died")


def agent_with(tmp, text, *args, name="a"):
    """An agent with these settings (agent.conf's text) and options, in its
    own directory tmp/name."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        f.write(text)
    return Agent(d, "--config", conf, *args)


class Peer(ow.Peer):
    """An om connection a test expects things of."""

    def expect_closed(self, timeout=3):
        """Reads to end of stream; returns the frames that came first."""
        frames, end = [], time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise Fail("connection not closed by the agent")
            try:
                f = self.recv_frame(left)
            except TimeoutError:
                raise Fail("connection not closed by the agent")
            if f is None:
                return frames
            frames.append(f)

    def expect_error(self, code, timeout=3):
        frames = self.expect_closed(timeout)
        errs = [ow.error_decode(f[3])[0] for f in frames if f[0] == ow.T_ERROR]
        check(errs == [code], "expected ERROR %d then close, got %r" %
              (code, [(f[0], f[3][:60]) for f in frames]))


class Node(Peer):
    """A fake node on the agent's TCP port, over the encrypted link
    (tests/omlink.py) with agent_pub as the agent's key; static: its own
    link key (default a fresh one, as a node makes at boot); raw: no
    handshake at all, plaintext as before the link existed."""

    def __init__(self, port, agent_pub, rcvbuf=None, static=None, raw=False):
        s = ow.connect_tcp(port, rcvbuf=rcvbuf)
        if not raw:
            try:
                s = omlink.SecureSocket(s, agent_pub, static_priv=static, error_as_eof=True)
            except BaseException:
                s.close()
                raise
        super().__init__(s)
        self.id = None

    def register(self, mac, **kw):
        """HELLO (fake_hello(mac, **kw)), then the WELCOME: id, hb_ms, time_ns."""
        self.send_frame(ow.T_HELLO, fake_hello(mac, **kw))
        f = self.recv_frame()
        check(f is not None, "no WELCOME for %s (closed)" % mac)
        check(f[0] == ow.T_WELCOME, "expected WELCOME, got type %d %r" % (f[0], f[3][:80]))
        self.id, self.hb_ms, self.time_ns, self.grace_ms = ow.welcome_decode(f[3])
        return self.id


class Ctl(Peer):
    """A raw control connection, speaking frames like om-run does."""

    def __init__(self, path):
        super().__init__(ow.connect_unix(path))

    def submit(self, **kw):
        """Sends CTL_JOB_SUBMIT (fake_submit(**kw)); returns (job, node, addr, reason)."""
        self.send_frame(ow.T_CTL_JOB_SUBMIT, fake_submit(**kw))
        f = self.recv_frame()
        check(f is not None and f[0] == ow.T_CTL_JOB_PLACED, "submit answered %r" % (f,))
        return ow.job_placed_decode(f[3])

# ---- the runner


def run_tests(tests, exes, prefix, timeout, tmp_prefix):
    """Runs each (name, fn) as fn(tmp) in a fresh temporary directory,
    bounded by timeout seconds, killing every process it spawned (by pid);
    prints one PASS or FAIL line per test. argv[1:] may name the tests to
    run. Returns the exit status."""
    def on_alarm(sig, frm):
        raise Fail("test took longer than %d s" % timeout)

    only = set(sys.argv[1:])
    for exe in exes:
        if not os.access(exe, os.X_OK):
            print("FAIL %ssetup: %s is not built" % (prefix, exe))
            return 1
    signal.signal(signal.SIGALRM, on_alarm)
    failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory(prefix=tmp_prefix) as tmp:
            signal.alarm(timeout)
            try:
                fn(tmp)
                print("PASS %s%s" % (prefix, name))
            except Exception as e:  # a test's own bug is a failure too
                failed += 1
                reason = str(e) if isinstance(e, Fail) else "%s: %s" % (type(e).__name__, e)
                print("FAIL %s%s: %s" % (prefix, name, reason.replace("\n", " ")))
            finally:
                signal.alarm(0)
                while PROCS:
                    p = PROCS.pop()
                    if p.poll() is None:
                        os.kill(p.pid, signal.SIGKILL)
                    p.wait()
            sys.stdout.flush()
    return 1 if failed else 0

