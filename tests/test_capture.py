#!/usr/bin/env python3
"""test_capture.py - om-checkpoint end to end: capture at the entry point,
restore, run; output and exit status must equal a native run byte for byte.

Programs (tests/progs/, built by make into build/tests/progs/): hello.c as
static glibc, static-pie glibc, dynamic glibc and static musl; xmm_entry.c
(no libc) checks the FPU/SSE/AVX state at entry, which --roundtrip clobbers
before restoring. Also: exec failures (127/126), death by a signal, --save
and --info, and truncated or corrupted image files given to --info (a clear
error and exit status 1, never a crash; also against the ASan build).

Output is one line per test, "PASS capture/name" or "FAIL capture/name:
reason"; exit status 0 iff all passed. OM_CHECKPOINT and OM_CHECKPOINT_ASAN
pick the binaries (default build/om-checkpoint, build/tests/om-checkpoint).
"""
import os
import random
import re
import struct
import signal
import subprocess
import sys
import tempfile

import omwire as ow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CKPT = os.environ.get("OM_CHECKPOINT", os.path.join(ROOT, "build", "om-checkpoint"))
CKPT_ASAN = os.environ.get("OM_CHECKPOINT_ASAN",
                           os.path.join(ROOT, "build", "tests", "om-checkpoint"))
PROGS = os.path.join(ROOT, "build", "tests", "progs")
PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "capture/"
TIMEOUT = 60
HELLO_VARIANTS = ["hello-static", "hello-static-pie", "hello-dynamic", "hello-musl"]


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def child_setup():
    # Inherited signal state the image must carry: SIGUSR1 ignored, SIGUSR2
    # blocked; a umask that is not the default.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    os.umask(0o027)


def run(argv, **kw):
    env = dict(os.environ, OM_TEST_VAR="value with spaces")
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          timeout=TIMEOUT, preexec_fn=child_setup, **kw)


def same_as_native(argv):
    native = run(argv)
    rt = run([CKPT, "--roundtrip"] + argv)
    check(rt.stderr == native.stderr,
          "stderr differs: %r vs native %r" % (rt.stderr[-300:], native.stderr[-300:]))
    check(rt.stdout == native.stdout,
          "stdout differs:\n%s\n--- native:\n%s" % (rt.stdout.decode(errors="replace")[-500:],
                                                  native.stdout.decode(errors="replace")[-500:]))
    check(rt.returncode == native.returncode,
          "exit status %d, native %d" % (rt.returncode, native.returncode))
    return native


def make_hello_test(name):
    def t(tmp):
        prog = os.path.join(PROGS, name)
        native = same_as_native([prog, "one", "two words", ""])
        check(native.returncode == 3, "hello exits with 3, got %d" % native.returncode)
        out = native.stdout.decode()
        check("ignored: 10" in out and "blocked: 12" in out and "umask: 027" in out,
              "the inherited signal state / umask did not show: %r" % out[-300:])
    t.__name__ = "roundtrip_" + name.replace("-", "_")
    return t


def t_roundtrip_fpu_state(tmp):
    prog = os.path.join(PROGS, "xmm_entry")
    native = same_as_native([prog])
    check(native.stdout == b"fpu state ok\n" and native.returncode == 0,
          "native run: %r %d" % (native.stdout, native.returncode))


def t_roundtrip_killed_by_signal(tmp):
    native = same_as_native(["/bin/sh", "-c", "echo from sh; kill -TERM $$"])
    check(native.returncode == -signal.SIGTERM, "native sh did not die of SIGTERM")


def t_roundtrip_python(tmp):
    same_as_native([sys.executable, "-S", "-c",
                    "import sys, zlib; print(sys.argv, zlib.crc32(bytes(range(256)) * 4096))",
                    "x"])


def t_exec_failures(tmp):
    r = run([CKPT, "--roundtrip", "/nonexistent/prog"])
    check(r.returncode == 127, "missing program: status %d" % r.returncode)
    check(r.stderr == b"om-checkpoint: /nonexistent/prog: No such file or directory\n",
          "missing program: %r" % r.stderr)
    r = run([CKPT, "--roundtrip", "no-such-command-om"])
    check(r.returncode == 127, "missing command in PATH: status %d" % r.returncode)
    plain = os.path.join(tmp, "plain")
    with open(plain, "w") as f:
        f.write("not executable\n")
    os.chmod(plain, 0o644)
    r = run([CKPT, "--roundtrip", plain])
    check(r.returncode == 126, "non-executable: status %d" % r.returncode)
    check(b"Permission denied" in r.stderr, "non-executable: %r" % r.stderr)
    r = run([CKPT, "--bogus"])
    check(r.returncode == 1 and b"usage:" in r.stderr, "bad option: %r" % r.stderr)


def save(tmp, prog, name="img"):
    path = os.path.join(tmp, name)
    r = run([CKPT, "--save", path, prog, "a"])
    check(r.returncode == 0, "--save failed: %r" % r.stderr)
    return path


def t_save_info(tmp):
    for name in ("hello-dynamic", "hello-static", "hello-musl"):
        path = save(tmp, os.path.join(PROGS, name), name)
        for ck in (CKPT, CKPT_ASAN):
            r = run([ck, "--info", path])
            out = r.stdout.decode()
            check(r.returncode == 0, "%s --info %s: %r" % (ck, name, r.stderr))
            for want in ("registers:", "xsave:", "regions:", "total:", " stack ", " vdso ",
                         " reserved "):
                check(want in out, "%s: --info lacks %r" % (name, want))


def t_info_truncated(tmp):
    path = save(tmp, os.path.join(PROGS, "hello-static"))
    data = open(path, "rb").read()
    cuts = sorted(set([0, 1, 15, 16, 17, 100, len(data) - 1, len(data) - 12, len(data) - 16] +
                      random.Random(1).sample(range(len(data)), 25)))
    bad = os.path.join(tmp, "bad")
    for ck in (CKPT, CKPT_ASAN):
        for cut in cuts:
            with open(bad, "wb") as f:
                f.write(data[:cut])
            r = run([ck, "--info", bad])
            check(r.returncode == 1, "cut at %d: status %d (%r)" % (cut, r.returncode,
                                                                   r.stderr[-300:]))
            check(b"invalid image" in r.stderr, "cut at %d: %r" % (cut, r.stderr[-300:]))


def image_start(data):
    """Where a checkpoint file's image begins, after its home record, and
    where its first pages do: its header and regions lie between."""
    at, start = 0, None
    for ftype, _, _, p in ow.split_frames(data):
        if ftype == ow.T_IMAGE_BEGIN:
            start = at
        if ftype == ow.T_IMAGE_PAGES:
            return start, at + ow.HDR_SIZE
        at += ow.HDR_SIZE + len(p)
    raise AssertionError("no IMAGE_BEGIN and IMAGE_PAGES")


def t_info_corrupt(tmp):
    path = save(tmp, os.path.join(PROGS, "hello-dynamic"))
    data = open(path, "rb").read()
    rng = random.Random(42)
    bad = os.path.join(tmp, "bad")
    rejected = 0
    start, pages = image_start(data)
    for i in range(60):
        b = bytearray(data)
        # The image's header and regions: favour them.
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(start, pages) if rng.random() < 0.8 else rng.randrange(len(b))
            b[at] ^= 1 << rng.randrange(8)
        with open(bad, "wb") as f:
            f.write(bytes(b))
        r = run([CKPT_ASAN if i % 2 else CKPT, "--info", bad])
        check(r.returncode in (0, 1), "mutation %d: status %d %r" % (i, r.returncode,
                                                                     r.stderr[-400:]))
        if r.returncode == 1:
            check(b"invalid image" in r.stderr, "mutation %d: %r" % (i, r.stderr[-300:]))
            rejected += 1
    check(rejected > 0, "no corruption was noticed")
    # Garbage and a second image appended.
    with open(bad, "wb") as f:
        f.write(data + b"garbage")
    r = run([CKPT, "--info", bad])
    check(r.returncode == 1 and b"invalid image" in r.stderr, "trailing garbage accepted")
    with open(bad, "wb") as f:
        f.write(data + data)
    r = run([CKPT, "--info", bad])
    check(r.returncode == 1 and b"invalid image" in r.stderr, "two images accepted")


def t_info_threads(tmp):
    """Threads in an image file: a header that announces one and the
    IMAGE_THREAD after it are shown; a thread with the header's tid, or
    fewer than announced, make it invalid."""
    path = save(tmp, os.path.join(PROGS, "hello-static"))
    frames = ow.split_frames(open(path, "rb").read())
    r = run([CKPT, "--info", path])
    m = re.search(rb"threads besides tid (\d+): 0\n", r.stdout)
    check(r.returncode == 0 and m, "--info of a one-thread image: %r" % r.stdout[-500:])
    tid = int(m.group(1))
    home = [f for f in frames if f[0] in (ow.T_CKPT_HOME, ow.T_CKPT_ENTRY)]
    frames = frames[len(home):]
    begin = frames[0][3]
    xsave_size = ow.image_begin_fpu(begin)[1]
    bad = os.path.join(tmp, "threads")

    def write(count, threads):
        with open(bad, "wb") as f:
            for ftype, job, seq, p in home:
                f.write(ow.frame(ftype, p, job, seq))
            # thread_count, then calls, end the header
            f.write(ow.frame(ow.T_IMAGE_BEGIN, begin[:-8] + struct.pack("<I", count) + begin[-4:]))
            for t in threads:
                f.write(ow.frame(ow.T_IMAGE_THREAD, ow.image_thread(t, 0x401000, xsave_size, blocked=1 << 9)))
            for ftype, job, seq, p in frames[1:]:
                f.write(ow.frame(ftype, p, job, seq))

    write(1, [tid + 1])
    for ck in (CKPT, CKPT_ASAN):
        r = run([ck, "--info", bad])
        check(r.returncode == 0 and b"threads besides tid %d: 1\n" % tid in r.stdout and
              b"thread %d: rip 0x401000 " % (tid + 1) in r.stdout, "%s --info, one more thread: %r %r"
              % (ck, r.stdout[-600:], r.stderr[-300:]))
    for count, threads, why in ((1, [tid], b"the header's again"), (2, [tid + 1], b"fewer threads"),
                                (0, [tid + 1], b"more threads")):
        write(count, threads)
        r = run([CKPT, "--info", bad])
        check(r.returncode == 1 and b"invalid image" in r.stderr and why in r.stderr,
              "%d announced, %r sent: %d %r" % (count, threads, r.returncode, r.stderr[-300:]))


TESTS = [make_hello_test(n) for n in HELLO_VARIANTS] + [
    t_roundtrip_fpu_state, t_roundtrip_killed_by_signal, t_roundtrip_python,
    t_exec_failures, t_save_info, t_info_truncated, t_info_corrupt, t_info_threads]


def main():
    only = sys.argv[1:]
    failed = 0
    for t in TESTS:
        name = t.__name__[2:] if t.__name__.startswith("t_") else t.__name__
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                t(tmp)
                print("PASS %s%s" % (PREFIX, name))
            except Exception as e:
                reason = str(e) if isinstance(e, Fail) else "%s: %s" % (type(e).__name__, e)
                print("FAIL %s%s: %s" % (PREFIX, name, reason.replace("\n", "\n    ")))
                failed += 1
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
