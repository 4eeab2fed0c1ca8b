#!/usr/bin/env python3
"""syscall_rtt.py - what a forwarded system call costs against the link it
crosses, and a CPU-bound job on a node against at home.

1. link: a node registers with a minimal agent written here, which then
   times ECHO frames (8 bytes) over the same node-to-agent link that
   forwarded calls use (QEMU user network, TCG unless OM_ACCEL=kvm);
2. calls: bench/progs/syscall_cost.c through om-run on a node, and natively;
3. compute: qemu-tests/demo/primes.c through om-run on a node, and natively.

The link is encrypted (migrate/link_stream.h): MiniAgent's end of it
opens and seals records with libbearssl's ChaCha20-Poly1305 through
ctypes, the node's own cipher at C speed, so that the figures are the
node's and the link's, not pure Python's (tests/omlink.py's, ~7 MB/s,
is the fallback). BuildCluster and MiniAgent(build=..., clear=True) run
another build tree's om-agent and node image, such as make bench's
build/bench-plain, whose records travel unencrypted.

  python3 bench/syscall_rtt.py [ECHOES]

Prints tables and writes bench/results/syscall_rtt.csv."""

import csv
import ctypes
import ctypes.util
import hmac
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "qemu-tests"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import omtest  # noqa: E402
from omtest import ACCEL, BUILD, Cluster, free_port  # noqa: E402
import omlink  # noqa: E402
import omwire as ow  # noqa: E402


def next_frame(link):
    """(type, payload, seq) of the node's next frame."""
    f = link.recv_frame(timeout=60)
    if f is None:
        raise EOFError("node closed the link")
    return f[0], f[3], f[2]


class BuildCluster(Cluster):
    """omtest's Cluster with om-agent and the node image of another build
    tree (build: a directory like BUILD). om-run and om-mon stay BUILD's:
    they only speak to the agent's control socket, which is the same."""

    def __init__(self, build=BUILD, *a, **kw):
        self.build = build
        super().__init__(*a, **kw)

    def start_agent(self):
        # Cluster.start_agent takes om-agent from omtest.BUILD when called:
        # pointed at our tree for the call, it stays the one way to start.
        saved = omtest.BUILD
        omtest.BUILD = self.build
        try:
            super().start_agent()
        finally:
            omtest.BUILD = saved

    def boot(self, *a, kernel="om-node.elf", **kw):
        if kernel is not None:
            kernel = os.path.join(self.build, kernel)  # an absolute path stays so in omtest
        return super().boot(*a, kernel=kernel, **kw)


def _bearssl():
    """(poly1305 run, chacha20 run) of libbearssl's shared library, or None.
    The node uses the same release (Makefile, BEARSSL)."""
    for name in ("libbearssl.so.0", ctypes.util.find_library("bearssl")):
        try:
            lib = ctypes.CDLL(name) if name else None
        except OSError:
            lib = None
        if lib is not None:
            break
    else:
        return None
    args = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
            ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    # The fastest implementations this CPU runs (the same output as the
    # node's portable ones), the portable ones otherwise.
    lib.br_poly1305_ctmulq_get.restype = lib.br_chacha20_sse2_get.restype = ctypes.c_void_p
    fast = lib.br_poly1305_ctmulq_get()
    if fast:
        run = ctypes.CFUNCTYPE(None, *args)(fast)
    else:
        run = lib.br_poly1305_ctmul_run
        run.argtypes, run.restype = args, None
    chacha = lib.br_chacha20_sse2_get() or ctypes.cast(lib.br_chacha20_ct_run, ctypes.c_void_p).value
    return run, chacha


_BEARSSL = _bearssl()


class _RecordCipher:
    """One direction's record cipher, omlink's _CipherState interface
    (encrypt / decrypt with the length bytes as ad): libbearssl's
    ChaCha20-Poly1305, or with clear the unencrypted benchmark build's
    records (plaintext and a tag of zeros that nobody checks)."""

    def __init__(self, k, n, clear):
        self.k, self.n, self.clear = k, n, clear

    def _run(self, ad, data, encrypt):
        run, chacha = _BEARSSL
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        tag = ctypes.create_string_buffer(omlink.TAGLEN)
        run(self.k, bytes(4) + self.n.to_bytes(8, "little"), buf, len(data), bytes(ad), len(ad), tag, chacha,
            encrypt)
        return buf.raw, tag.raw

    def encrypt(self, ad, plaintext):
        if self.clear:
            ct, tag = bytes(plaintext), bytes(omlink.TAGLEN)
        else:
            ct, tag = self._run(ad, plaintext, 1)
        self.n += 1
        return ct + tag

    def decrypt(self, ad, ciphertext):
        body, tag = ciphertext[:-omlink.TAGLEN], ciphertext[-omlink.TAGLEN:]
        if not self.clear:
            pt, want = self._run(ad, body, 0)
            if not hmac.compare_digest(want, tag):
                raise omlink.LinkError("a record failed its integrity check")
            body = pt
        self.n += 1
        return bytes(body)


def link_accept(s, static_priv, clear=False):
    """The agent's end of the link over the accepted socket s: omlink's
    handshake, then records through _RecordCipher (omlink's own when
    libbearssl is missing; clear needs no cipher at all)."""
    s.settimeout(60)
    link = omlink.SecureServer(s, static_priv)
    if _BEARSSL is not None or clear:
        link._tx = _RecordCipher(link._tx.k, link._tx.n, clear)
        link._rx = _RecordCipher(link._rx.k, link._rx.n, clear)
    else:
        print("syscall_rtt: libbearssl not loadable: the link's crypto is pure Python (slow)", file=sys.stderr)
    return link


class MiniAgent:
    """A node registered with a minimal agent written here instead of
    om-agent: the raw node-to-agent link (QEMU user network), nothing
    relayed. extra: QEMU arguments (the callers pass the same -cpu/-smp as
    for their other nodes). build: the tree of the node image; clear: its
    records travel unencrypted (OM_BENCH_UNENCRYPTED_LINK). close() kills
    the node by pid."""

    def __init__(self, extra=(), mem=256, build=BUILD, clear=False):
        port = free_port()
        priv, pub = omlink.generate_keypair()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(1)
        self.ls.settimeout(60)
        c = Cluster.__new__(Cluster)  # a cluster without om-agent: only its node helpers
        c.dir = tempfile.mkdtemp(prefix="om-bench-")
        c.procs, c.nodes, c.port = [], [], port
        self.cluster, self.link = c, None
        try:
            self.node = c.boot("virtio-net-pci", append="om.agent=10.0.2.2:%d om.key=%s" % (port, pub.hex()),
                               mem=mem, extra=list(extra), kernel=os.path.join(build, "om-node.elf"))
            s, _ = self.ls.accept()
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.link = ow.Peer(link_accept(s, priv, clear))
            t, _, _ = next_frame(self.link)
            assert t == ow.T_HELLO
            self.link.send_frame(ow.T_WELCOME, ow.welcome(1, 60000, time.time_ns()))
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.link is not None:
            self.link.close()
        self.cluster.close()
        self.ls.close()

    def echo_rtt(self, count):
        """Median and p90 round trip of an 8-byte ECHO, microseconds."""
        link, samples = self.link, []
        for i in range(count):
            t0 = time.perf_counter()
            link.send_frame(ow.T_ECHO, b"x" * 8, seq=i)
            while True:
                t, _, seq = next_frame(link)
                if t == ow.T_ECHO_REPLY and seq == i:
                    break
            samples.append((time.perf_counter() - t0) * 1e6)
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.9)]

    def echo_stream(self, total, size=64 * 1024, window=8):
        """A raw stream: ECHO frames of size bytes (the node's largest),
        window of them in flight, until total bytes came back. Returns
        MB/s (10^6 bytes/s) of payload each way (the replies carry the
        same bytes back, so the link moves twice that)."""
        import threading
        link, frames = self.link, max(1, total // size)
        payload = bytes(range(256)) * (size // 256)
        room = threading.Semaphore(window)
        err = []

        def sender():
            try:
                for i in range(frames):
                    room.acquire()
                    link.send_frame(ow.T_ECHO, payload, seq=i)
            except OSError as e:
                err.append(e)
        t0 = time.perf_counter()
        th = threading.Thread(target=sender, daemon=True)
        th.start()
        got = 0
        while got < frames:
            t, p, _ = next_frame(link)
            if t == ow.T_ECHO_REPLY:
                if len(p) != size:
                    raise EOFError("ECHO_REPLY of %d bytes, sent %d" % (len(p), size))
                got += 1
                room.release()
        secs = time.perf_counter() - t0
        th.join(10)
        if err:
            raise err[0]
        return frames * size / secs / 1e6


    def oneway_stream(self, total, size=255 * 4096 + 16):
        """A raw one-way stream, as an image travels: ECHO_REPLY frames,
        which the node reads whole and drops, of the size of a full
        IMAGE_PAGES frame, back to back, then one ECHO whose reply says the
        node has taken everything before it. Returns MB/s (10^6 bytes/s)
        of payload."""
        link, frames = self.link, max(1, total // size)
        payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        hdr = ow.frame(ow.T_ECHO_REPLY, length=size)  # the header alone
        t0 = time.perf_counter()
        for _ in range(frames):
            link.send(hdr + payload)
        link.send_frame(ow.T_ECHO, b"x" * 8, seq=0xFFFF)
        while True:
            t, _, seq = next_frame(link)
            if t == ow.T_ECHO_REPLY and seq == 0xFFFF:
                break
        return frames * size / (time.perf_counter() - t0) / 1e6


def echo_rtt(count):
    """Median and p90 ECHO round trip in microseconds, agent side."""
    m = MiniAgent()
    try:
        return m.echo_rtt(count)
    finally:
        m.close()


def syscall_costs(control, n_node, n_native, extra_args=()):
    """bench/progs/syscall_cost.c natively and through om-run (agent at
    control). Returns ({call: us} native, {call: us} node, om-run's stderr)."""
    cost = os.path.join(BUILD, "bench-syscall-cost")
    omrun = [os.path.join(BUILD, "om-run"), "-v", "--control", control]
    native, _ = run([cost, str(n_native), "/etc/services"])
    remote, _ = run(omrun + list(extra_args) + [cost, str(n_node), "/etc/services"])
    return parse(native.stdout), parse(remote.stdout), remote.stderr


def run(cmd, **kw):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, **kw)
    return r, time.monotonic() - t0


def parse(out):
    return {k: float(v) for k, v in (l.split() for l in out.splitlines() if l.strip())}


def main():
    echoes = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    primes = os.path.join(BUILD, "demo-primes")
    rtt_med, rtt_p90 = echo_rtt(echoes)

    c = Cluster()
    try:
        n = c.boot("virtio-net-pci", mem=512, extra=["-cpu", "max"])
        c.wait_registered(n)
        omrun = [os.path.join(BUILD, "om-run"), "--control", c.control]
        calls_native, calls_node, _ = syscall_costs(c.control, 2000, 20000)
        _, t_home = run([primes, "3000000"])
        r, t_node = run(omrun + [primes, "3000000"])
        ran_on_node = "exited with status 0" in n.serial()
    finally:
        c.close()

    print("Link: ECHO round trip node<->agent (%d x 8 bytes, accel %s): median %.1f us, p90 %.1f us"
          % (echoes, ACCEL, rtt_med, rtt_p90))
    print("%-18s %12s %12s %14s" % ("call", "native us", "node us", "node / ECHO"))
    for k in calls_node:
        print("%-18s %12.2f %12.2f %14.2f" % (k, calls_native.get(k, 0), calls_node[k], calls_node[k] / rtt_med))
    print("CPU-bound (primes below 3e6): node %.2f s, home %.2f s, ratio %.2f%s"
          % (t_node, t_home, t_node / t_home, "" if ran_on_node else " (did NOT run on the node)"))

    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "syscall_rtt.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["what", "native_us", "node_us", "ratio_to_echo", "accel"])
        w.writerow(["echo_rtt_median", "", "%.2f" % rtt_med, "1.00", ACCEL])
        for k in calls_node:
            w.writerow([k, "%.2f" % calls_native.get(k, 0), "%.2f" % calls_node[k], "%.2f" % (calls_node[k] / rtt_med), ACCEL])
        w.writerow(["primes_3e6_seconds", "%.3f" % t_home, "%.3f" % t_node, "", ACCEL])


if __name__ == "__main__":
    main()
