"""omwire - the om wire protocol in Python, for every test and benchmark.

docs/protocol.md is the spec (section numbers below are its own); the C
side is migrate/proto.h, migrate/job_msg.h and migrate/image.h. This
module is the one Python rendering of it: the frame header, the type and
error numbers, and encoders and decoders of the payloads the tests speak.
Nothing else in tests/, qemu-tests/ or bench/ packs a frame by hand.

Encoders return bytes and check nothing, so a test can build a malformed
payload on purpose (a field cut short, a string too long). Decoders check
lengths and raise ProtocolError on a short or trailing payload.

Importing it: tests/*.py find it next to them; qemu-tests/ and bench/ put
tests/ on sys.path first.
"""
import socket
import struct

# ---- 2. frame header

MAGIC, VERSION = 0x6D6F, 16
HDR = struct.Struct("<HBBIII")  # magic, version, type, length, job, seq
HDR_SIZE = HDR.size
MAX_PAYLOAD = 1 << 20

# ---- 4. message types

(T_ERROR, T_HELLO, T_WELCOME, T_HEARTBEAT, T_ECHO, T_ECHO_REPLY, T_BYE, T_NODE_LEAVING,
 T_NODE_RESTART) = range(1, 10)
(T_IMAGE_BEGIN, T_IMAGE_REGION, T_IMAGE_PAGES, T_IMAGE_END, T_JOB_STARTED, T_JOB_ERROR,
 T_SYSCALL_REQ, T_SYSCALL_REP, T_SIGNAL, T_JOB_EXIT, T_JOB_HOME, T_MIGRATE_HOME,
 T_JOB_KILL, T_NODE_LOST, T_JOB_STOPPED, T_JOB_CONTINUE, T_SIGNAL_SEEN,
 T_CALL_INTERRUPT, T_JOB_FORK, T_JOB_MOVE, T_JOB_MOVING, T_JOB_MOVE_REFUSED, T_JOB_RESUME,
 T_JOB_ARRIVING, T_JOB_MOVED, T_IMAGE_THREAD, T_CHECKPOINT, T_CHECKPOINT_TAKEN, T_JOB_REATTACH,
 T_JOB_REATTACHED, T_DECISIONS) = range(16, 47)
(T_CTL_NODES, T_CTL_NODES_REPLY, T_CTL_JOB_SUBMIT, T_CTL_JOB_PLACED, T_CTL_JOBS,
 T_CTL_JOBS_REPLY, T_CTL_MIGRATE, T_CTL_NODE, T_CTL_NODE_REPLY, T_CTL_ADMIT, T_CTL_ADMIT_REPLY,
 T_CTL_PENDING, T_CTL_PENDING_REPLY, T_CTL_POLICY, T_CTL_POLICY_REPLY, T_CTL_JOB_REATTACH,
 T_CTL_CHECKPOINT) = range(64, 81)
T_CKPT_HOME, T_CKPT_ENTRY = 81, 82  # checkpoint files only

# ---- ERROR codes (section 4, "ERROR (1)")

E_MAGIC, E_VERSION, E_TOOBIG, E_TYPE, E_TRUNC, E_TRAILING, E_RANGE = range(-2, -9, -1)
E_STATE, E_BUSY, E_ADMIT = -10, -11, -12

# JOB_EXIT kinds
EXIT_EXITED, EXIT_SIGNALED, EXIT_EXECED = 1, 2, 3


class ProtocolError(Exception):
    """A frame or payload that breaks the protocol."""


def frame(ftype, payload=b"", job=0, seq=0, version=VERSION, magic=MAGIC, length=None):
    """A whole frame; length overrides the header's length field (for tests
    that lie about it)."""
    n = len(payload) if length is None else length
    return HDR.pack(magic, version, ftype, n, job, seq) + payload


def header(data):
    """(magic, version, type, length, job, seq) of the header at data[0:16]."""
    return HDR.unpack_from(data)

# ---- 3. field encodings


def u8(v):
    return struct.pack("<B", v)


def u32(v):
    return struct.pack("<I", v)


def i32(v):
    return struct.pack("<i", v)


def i64(v):
    return struct.pack("<q", v)


def wstr(s):
    """str(N): u16 byte count, then the bytes (no limit checked here)."""
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<H", len(b)) + b


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


class Reader:
    """Reads fields off a payload in order; end() insists it is used up."""

    def __init__(self, payload, what):
        self.p, self.off, self.what = payload, 0, what

    def _take(self, fmt):
        size = struct.calcsize(fmt)
        if self.off + size > len(self.p):
            raise ProtocolError("%s: payload ends inside a field" % self.what)
        v = struct.unpack_from(fmt, self.p, self.off)
        self.off += size
        return v

    def u8(self):
        return self._take("<B")[0]

    def u32(self):
        return self._take("<I")[0]

    def i32(self):
        return self._take("<i")[0]

    def u64(self):
        return self._take("<Q")[0]

    def raw(self, n):
        if self.off + n > len(self.p):
            raise ProtocolError("%s: payload ends inside a field" % self.what)
        v = self.p[self.off:self.off + n]
        self.off += n
        return v

    def str(self):
        n = self._take("<H")[0]
        if self.off + n > len(self.p):
            raise ProtocolError("%s: string runs past the payload" % self.what)
        s = self.p[self.off:self.off + n].decode()
        self.off += n
        return s

    def cpu(self):
        c = dict(vendor=self.str(), model=self.str())
        for k in CPU_U32:
            c[k] = self.u32()
        c["xcr0"], c["cores"] = self._take("<QH")
        return c

    def end(self):
        if self.off != len(self.p):
            raise ProtocolError("%s: %d trailing bytes" % (self.what, len(self.p) - self.off))

# ---- payloads (section 4)

CPU_U32 = ("family", "model_id", "stepping", "leaf1_ecx", "leaf1_edx", "leaf7_ebx",
           "leaf7_ecx", "leaf7_edx")


def cpu(c):
    """cpu from a dict with vendor, model, the CPU_U32 fields, xcr0, cores."""
    return (wstr(c["vendor"]) + wstr(c["model"])
            + struct.pack("<8IQH", *[c[k] for k in CPU_U32], c["xcr0"], c["cores"]))


def error(code, msg):
    """ERROR and JOB_ERROR."""
    return i32(code) + wstr(msg)


def error_decode(p):
    """(code, msg) of an ERROR or JOB_ERROR payload."""
    r = Reader(p, "ERROR")
    code, msg = r.i32(), r.str()
    r.end()
    return code, msg


def hello(mac, nic, cpu_fields, mem, speed, boot_ms, version):
    return (mac_bytes(mac) + wstr(nic) + cpu(cpu_fields)
            + struct.pack("<QII", mem, speed, boot_ms) + wstr(version))


def welcome(node_id, heartbeat_ms, time_ns, grace_ms=30000):
    return struct.pack("<IIQI", node_id, heartbeat_ms, time_ns, grace_ms)


def welcome_decode(p):
    """(node_id, heartbeat_ms, time_ns, grace_ms)."""
    r = Reader(p, "WELCOME")
    v = (r.u32(), r.u32(), r.u64(), r.u32())
    r.end()
    return v


def heartbeat(uptime_ms, load_milli, mem_free, jobs, listed=()):
    """listed: (job, cpu_ns, runnable) for each job the node runs."""
    return struct.pack("<IIQII", uptime_ms, load_milli, mem_free, jobs, len(listed)) + b"".join(
        struct.pack("<IQB", *x) for x in listed)


def job_signal(signo, code=0, pid=0, uid=0, errnum=0, value=0):
    """SIGNAL: signo, si_code, si_errno, then siginfo's bytes 16..47; here
    laid out as _kill/_rt: si_pid, si_uid, si_value."""
    return struct.pack("<IiiIIQ16x", signo, code, errnum, pid, uid, value)


def call_interrupt(seq):
    return u32(seq)


def signal_seen(count):
    return u32(count)


def job_stopped(signo):
    return u32(signo)


def job_exit(kind, status, core=0, cpu_ns=0):
    return struct.pack("<BIBQ", kind, status, core, cpu_ns)


DEC_CALL, DEC_SIGNAL, DEC_LOST, DEC_UNTIL = 1, 2, 3, 4  # migrate/decision.h
DEC_AT_USER, DEC_AT_CALL = 0, 1


def decision(kind, nr, ret=0, args=(0, 0, 0, 0), outs=()):
    """One DECISIONS entry: outs are (address, bytes) the call wrote."""
    return (struct.pack("<BBHq4Q", kind, len(outs), nr, ret, *args)
            + b"".join(struct.pack("<QI", addr, len(b)) + b for addr, b in outs))


def job_home(reason, text, pending=-1, cpu_ns=0):
    return u32(reason) + wstr(text) + i32(pending) + struct.pack("<Q", cpu_ns)


def node_lost_decode(p):
    """(node, reason) of a NODE_LOST payload."""
    r = Reader(p, "NODE_LOST")
    v = (r.u32(), r.str())
    r.end()
    return v


def split_frames(data):
    """[(type, job, seq, payload)] of frames concatenated (a checkpoint file)."""
    out, off = [], 0
    while off < len(data):
        magic, ver, ftype, n, job, seq = HDR.unpack_from(data, off)
        if magic != MAGIC or off + HDR_SIZE + n > len(data):
            raise ProtocolError("not a frame at byte %d" % off)
        out.append((ftype, job, seq, data[off + HDR_SIZE:off + HDR_SIZE + n]))
        off += HDR_SIZE + n
    return out


IMAGE_REGS = 21  # general registers at the start of IMAGE_BEGIN


def image_begin_fpu(p):
    """(xsave offset, xsave size, offset of the cpu record) in an IMAGE_BEGIN
    payload (docs/migration.md: registers, xcr0, xsave_size, the area, cpu)."""
    at = IMAGE_REGS * 8 + 8
    size = struct.unpack_from("<I", p, at)[0]
    return at + 4, size, at + 4 + size


def image_begin_patch(p, mxcsr=None, cpu_fields=None):
    """An IMAGE_BEGIN payload with its MXCSR and/or its cpu record replaced."""
    xs, size, cpu_at = image_begin_fpu(p)
    if mxcsr is not None:
        p = p[:xs + 24] + struct.pack("<I", mxcsr) + p[xs + 28:]
    if cpu_fields is not None:
        r = Reader(p[cpu_at:], "IMAGE_BEGIN cpu")
        r.cpu()
        p = p[:cpu_at] + cpu(cpu_fields) + p[cpu_at + r.off:]
    return p


def image_thread(tid, rip, xsave_size, blocked=0):
    """An IMAGE_THREAD payload (migrate/image.h): tid, rip and a zeroed
    FPU area of the header's size; nothing pending, no altstack, rseq or
    robust list."""
    regs = [0] * IMAGE_REGS
    regs[16] = rip  # OM_REG_RIP
    return (struct.pack("<I", tid) + struct.pack("<%dQ" % IMAGE_REGS, *regs) + struct.pack("<I", xsave_size) +
            b"\0" * xsave_size + struct.pack("<QQI", blocked, 0, 0) + struct.pack("<QIQ", 0, 2, 0) +
            struct.pack("<QII", 0, 0, 0) + struct.pack("<QQQQQ", 0, 0, 0, 0, 0))


def image_pages_header(region, first, count):
    """The 16 bytes before an IMAGE_PAGES frame's count x 4096 bytes of data
    (docs/migration.md, "Image")."""
    return struct.pack("<IQI", region, first, count)


def sysrep(result):
    """A SYSCALL_REP carrying only the result (a call with no OUT buffer)."""
    return i64(result)


JOB_F_HOME, JOB_F_FORK = 1, 2


def job_submit(pid, cmd, cpu_fields, mem, node=0, flags=0, fork_job=0, fork_seq=0):
    p = u32(pid) + wstr(cmd) + cpu(cpu_fields) + struct.pack("<QII", mem, node, flags)
    return p + struct.pack("<II", fork_job, fork_seq) if flags & JOB_F_FORK else p


def job_reattach(pid, uid, waiting=0, signals_in=0, stopped=0, exited=0, node=0):
    """JOB_REATTACH (reattach_msg.h): node 0 from a node; pid and uid its
    process's at home."""
    return struct.pack("<IIIIIII", node, pid, uid, waiting, signals_in, stopped, exited)


def job_reattach_decode(p):
    """(node, pid, uid, waiting, signals_in, stopped, exited) of a JOB_REATTACH."""
    r = Reader(p, "JOB_REATTACH")
    v = tuple(r.u32() for _ in range(7))
    r.end()
    return v


def ctl_checkpoint(pid, path):
    """CTL_CHECKPOINT: the job of pid, saved now in path (absolute)."""
    return u32(pid) + wstr(path)


def ctl_reattach(job, key, submit):
    """CTL_JOB_REATTACH: the job, its node's link key, a SUBMIT payload."""
    return u32(job) + key + submit


def job_fork(parent, seq, pid):
    return struct.pack("<III", parent, seq, pid)


def job_moving(cpu_ns, signals_in):
    """JOB_MOVING and JOB_ARRIVING."""
    return struct.pack("<QI", cpu_ns, signals_in)


def job_moved_decode(p):
    """(cpu_ns, job, node, addr) of a JOB_MOVED payload."""
    r = Reader(p, "JOB_MOVED")
    cpu_ns = r.u64()
    job, node = r.u32(), r.u32()
    r.cpu()
    addr = r.str()
    r.raw(32)  # the node's link key
    r.str()
    r.end()
    return cpu_ns, job, node, addr


def job_placed_decode(p):
    """(job, node, addr, reason) of a CTL_JOB_PLACED payload."""
    r = Reader(p, "CTL_JOB_PLACED")
    job, node, addr = r.u32(), r.u32(), ""
    if node:
        r.cpu()
        addr = r.str()
        r.raw(32)  # the node's link key
    reason = r.str()
    r.end()
    return job, node, addr, reason


def list_count(p):
    """The count that opens a CTL_NODES_REPLY or CTL_JOBS_REPLY."""
    return Reader(p, "list").u32()


def jobs_reply_decode(p):
    """[dict] of a CTL_JOBS_REPLY payload."""
    r = Reader(p, "CTL_JOBS_REPLY")
    out = []
    for _ in range(r.u32()):
        out.append(dict(job=r.u32(), node=r.u32(), uid=r.u32(), pid=r.u32(), ppid=r.u32(), why=r.u8(),
                        cmd=r.str(), runtime_ms=r.u64(), state=r.u8()))
    r.end()
    return out


def job_migrate(pid, target=0):
    """CTL_MIGRATE: pid, target (0 = home)."""
    return struct.pack("<II", pid, target)


POLICY_CONFINE = 1


def policy_decode(p):
    """(flags (POLICY_*), checkpoint every ms, checkpoints' most % of a
    job's time) of a CTL_POLICY_REPLY payload."""
    r = Reader(p, "CTL_POLICY_REPLY")
    v = (r.u32(), r.u32(), r.u32())
    r.end()
    return v


# NODE_LEAVING reasons, CTL_NODE actions, node flags
LEAVE_OWNER, LEAVE_RESTART = 1, 2
CTL_DRAIN, CTL_BLOCK, CTL_UNBLOCK, CTL_EXPEL, CTL_REBOOT = range(1, 6)
NODE_F_BLOCKED, NODE_F_DRAINING, NODE_F_LEAVING = 1, 2, 4


def node_leaving(reason, text):
    """NODE_LEAVING: reason u8, text str(64)."""
    return u8(reason) + wstr(text)


def ctl_node(action, node):
    """CTL_NODE: action u8, node u32."""
    return struct.pack("<BI", action, node)


def ctl_node_reply_decode(p):
    """CTL_NODE_REPLY: (node, flags, moving)."""
    r = Reader(p, "CTL_NODE_REPLY")
    out = (r.u32(), r.u8(), r.u32())
    r.end()
    return out

# ---- 1. transport: frames over a stream socket


def connect_tcp(port, host="127.0.0.1", timeout=5, rcvbuf=None):
    """A TCP socket connected to host:port (rcvbuf: a small SO_RCVBUF, set
    before connecting so it bounds the window)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def connect_unix(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class Peer:
    """One end of an om connection over a connected stream socket s (TCP
    or Unix): sends frames, reads them whole."""

    def __init__(self, s):
        self.s = s
        self.buf = bytearray()

    def send(self, data):
        self.s.sendall(data)

    def send_frame(self, *a, **kw):
        self.s.sendall(frame(*a, **kw))

    def _fill(self, n):
        while len(self.buf) < n:
            try:
                d = self.s.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError:
                d = b""
            if not d:
                return False
            self.buf += d
        return True

    def recv_frame(self, timeout=5):
        """(type, job, seq, payload), or None at end of stream; socket.timeout
        when nothing whole came within timeout seconds; ProtocolError for a
        header that is not om's."""
        self.s.settimeout(timeout)
        if not self._fill(HDR_SIZE):
            return None
        magic, ver, ftype, length, job, seq = HDR.unpack_from(self.buf)
        if magic != MAGIC or ver != VERSION:
            raise ProtocolError("bad frame header %r" % bytes(self.buf[:HDR_SIZE]))
        if not self._fill(HDR_SIZE + length):
            return None
        payload = bytes(self.buf[HDR_SIZE:HDR_SIZE + length])
        del self.buf[:HDR_SIZE + length]
        return ftype, job, seq, payload

    def close(self):
        self.s.close()
