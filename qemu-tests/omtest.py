"""omtest - the pieces every end-to-end test uses: an om-agent on loopback,
QEMU nodes booting the real image, om-mon queries. Every process started here
is recorded and killed by pid in Cluster.close(), pass or fail."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
ACCEL = os.environ.get("OM_ACCEL", "tcg")


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def free_port():
    """An unused loopback TCP port (the agent binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    """The pids of pid's children (om-run's child is the program), [] when
    it is gone."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def wait_for(pred, timeout, what, interval=0.2):
    """Polls pred() until it returns a true value; fails after timeout s."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise TestFailure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Node:
    """One QEMU guest booting build/om-node.elf (or another image) with
    -kernel, or with no -kernel at all when kernel is None (firmware boots
    from the network: netdev takes extra user-net options such as tftp= and
    bootfile=); extra QEMU arguments (e.g. -bios for OVMF) go last. qmp: a
    QMP socket for qmp() and send_key(); reboot: a guest reset restarts the
    machine (the firmware boots again) instead of ending QEMU."""

    def __init__(self, cluster, name, nic, mac, append, mem, extra, kernel="om-node.elf", netdev="",
                 backend=None, wrap=(), qmp=False, reboot=False):
        self.cluster, self.name, self.nic, self.mac = cluster, name, nic, mac
        self.log = os.path.join(cluster.dir, name + ".serial")
        if backend is None:
            backend = "user,restrict=off" + ("," + netdev if netdev else "")
        args = list(wrap) + [
                shutil.which("qemu-system-x86_64") or "qemu-system-x86_64",
                "-accel", ACCEL, "-m", str(mem), "-nographic"] + ([] if reboot else ["-no-reboot"]) + [
                "-monitor", "none", "-serial", "file:" + self.log,
                "-netdev", backend + ",id=n0",
                "-device", "%s,netdev=n0,mac=%s" % (nic, mac)] + extra
        self.qmp_path = os.path.join(cluster.dir, name + ".qmp") if qmp else None
        if qmp:
            args += ["-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if kernel is not None:
            args += ["-kernel", os.path.join(BUILD, kernel), "-append", append]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.log + ".stderr", "wb"))
        cluster.procs.append(self.proc)

    def serial(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r", "")
        except FileNotFoundError:
            return ""

    def wait_serial(self, text, timeout=60):
        return wait_for(lambda: text in self.serial(), timeout,
                        "%r on %s's console" % (text, self.name))

    def qmp(self, command, **arguments):
        """Runs one QMP command on a fresh connection; returns its "return"
        value (events that arrive first are skipped)."""
        check(self.qmp_path is not None, "%s was booted without qmp=True" % self.name)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(self.qmp_path)
            f = s.makefile("rwb")

            def call(cmd, args=None):
                f.write(json.dumps(dict(execute=cmd, **({"arguments": args} if args else {}))).encode()
                        + b"\n")
                f.flush()
                while True:
                    line = f.readline()
                    check(line, "QMP closed during %s" % cmd)
                    msg = json.loads(line)
                    if "error" in msg:
                        raise TestFailure("QMP %s: %s" % (cmd, msg["error"]))
                    if "return" in msg:
                        return msg["return"]

            check("QMP" in json.loads(f.readline()), "no QMP greeting")
            call("qmp_capabilities")
            return call(command, arguments)
        finally:
            s.close()

    def send_key(self, key):
        """Presses and releases one key (a QEMU qcode, e.g. "a", "ret")."""
        self.qmp("send-key", keys=[{"type": "qcode", "data": key}])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Cluster:
    """A temp dir, an agent on a free loopback port, and the nodes.
    listen_host, port and wrap (a command prefix such as ["ip", "netns",
    "exec", NS]) put the agent elsewhere, e.g. on a bridge in a namespace."""

    def __init__(self, agent_args=(), listen_host="127.0.0.1", port=None, wrap=()):
        self.dir = tempfile.mkdtemp(prefix="om-qt-")
        self.listen_host, self.wrap = listen_host, list(wrap)
        self.port = port if port is not None else free_port()
        self.control = os.path.join(self.dir, "agent.sock")
        self.procs = []
        self.nodes = []
        self.agent_args = list(agent_args)
        self.agent = None
        # The agent's link key; nodes get its public half as om.key=.
        self.key_file = os.path.join(self.dir, "agent.key")
        self.agent_pub = subprocess.run(
            [os.path.join(BUILD, "om-agent"), "--genkey", self.key_file], stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        self.start_agent()

    def start_agent(self):
        self.agent_log = open(os.path.join(self.dir, "agent.log"), "ab")
        self.agent = subprocess.Popen(
            self.wrap + [os.path.join(BUILD, "om-agent"), "--listen", "%s:%d" % (self.listen_host, self.port),
             "--control", self.control, "--key", self.key_file] + self.agent_args,
            stdin=subprocess.DEVNULL, stdout=self.agent_log, stderr=self.agent_log)
        self.procs.append(self.agent)
        wait_for(lambda: os.path.exists(self.control) or self.agent.poll() is not None,
                 10, "the agent's control socket")
        check(self.agent.poll() is None, "om-agent exited at start:\n" + self.agent_text())

    def stop_agent(self, sig=signal.SIGTERM):
        self.agent.send_signal(sig)
        try:
            self.agent.wait(10)
        except subprocess.TimeoutExpired:
            self.agent.kill()
            self.agent.wait()

    def agent_text(self):
        with open(os.path.join(self.dir, "agent.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def boot(self, nic="virtio-net-pci", append=None, mem=128, extra=(), kernel="om-node.elf", netdev="",
             backend=None, wrap=(), mac=None, speed=None, qmp=False, reboot=False):
        """kernel: the image in build/ that QEMU loads with -kernel (None: no
        -kernel); netdev: extra options for the user-net backend; backend: a
        whole -netdev backend instead (e.g. "tap,ifname=tap1,script=no,
        downscript=no"); wrap: a command prefix for QEMU (e.g. ip netns exec);
        speed: om.speed=N, a fixed speed instead of the boot-time measurement
        (which varies by 2-4x under TCG while several nodes boot at once, and
        the balancer rightly moves work off a node that looks slow)."""
        i = len(self.nodes) + 1
        mac = mac or "52:54:00:00:00:%02x" % i
        if append is None:
            append = "om.agent=10.0.2.2:%d" % self.port
        if "om.key=" not in append:
            append += " om.key=" + self.agent_pub
        if speed is not None:
            append += " om.speed=%d" % speed
        n = Node(self, "node%d" % i, nic, mac, append, mem, list(extra), kernel, netdev, backend, wrap,
                 qmp, reboot)
        self.nodes.append(n)
        return n

    def mon(self, *args):
        return subprocess.run([os.path.join(BUILD, "om-mon"), "--control", self.control] + list(args),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)

    def nodes_json(self):
        r = self.mon("--json")
        check(r.returncode == 0, "om-mon --json failed (%d): %s" % (r.returncode, r.stderr))
        return json.loads(r.stdout)["nodes"]

    def node_by_mac(self, mac):
        for n in self.nodes_json():
            if n["mac"] == mac:
                return n
        return None

    def wait_registered(self, node, timeout=90, state="up"):
        return wait_for(lambda: (lambda n: n if n and n["state"] == state else None)(self.node_by_mac(node.mac)),
                        timeout, "%s (%s) to be %s in om-mon" % (node.name, node.mac, state))

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def diagnostics(self):
        """What to show when a test fails: the agent log and each console."""
        out = ["--- agent log ---", self.agent_text()[-3000:]]
        for n in self.nodes:
            out += ["--- %s serial ---" % n.name, n.serial()[-3000:]]
        return "\n".join(out)


class cluster:
    """with cluster(agent_args) as c: ... -- closes (kills by pid) on exit and
    prints the agent log and node consoles if the body failed."""

    def __init__(self, *agent_args):
        self.agent_args = agent_args

    def __enter__(self):
        self.c = Cluster(self.agent_args)
        return self.c

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                print(self.c.diagnostics())
        finally:  # even when printing fails (a closed pipe): kill what we started
            self.c.close()
        return False
