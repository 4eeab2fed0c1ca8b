"""Bad job input reaches a real node: a corrupt image is refused with
JOB_ERROR and logged, frames for no image or no call in flight are logged
and dropped, and the node stays registered and runs the next job."""

import os
import struct
import subprocess
import sys
import tempfile

from omtest import BUILD, ROOT, check, cluster, wait_for

sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402  (a raw control connection)
import omwire as ow  # noqa: E402


def placed_job(ctl):
    job, node, _, reason = ctl.submit(pid=os.getpid())
    check(node != 0, "not placed: %s" % reason)
    return job


# What any x86-64 node has.
BASELINE = dict(vendor="", model="", family=0, model_id=0, stepping=0, leaf1_ecx=0,
                leaf1_edx=(1 << 0) | (1 << 25) | (1 << 26), leaf7_ebx=0, leaf7_ecx=0, leaf7_edx=0,
                xcr0=3, cores=1)


def real_image():
    """The frames of a real image (om-checkpoint --save of a corpus program,
    without the home record its file begins with)."""
    with tempfile.TemporaryDirectory(prefix="om-img-") as d:
        path = os.path.join(d, "img")
        prog = os.path.join(BUILD, "corpus", "static", "exitcode")
        r = subprocess.run([os.path.join(BUILD, "om-checkpoint"), "--save", path, prog, "0"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        check(r.returncode == 0, "om-checkpoint --save: %d %r" % (r.returncode, r.stderr))
        return [f for f in ow.split_frames(open(path, "rb").read())
                if f[0] not in (ow.T_CKPT_HOME, ow.T_CKPT_ENTRY)]


def bad_mxcsr_image():
    """A real image with MXCSR bit 16 set, asking for no more than the
    x86-64 baseline."""
    frames = real_image()
    ftype, job, seq, p = frames[0]
    check(ftype == ow.T_IMAGE_BEGIN, "the image does not start with IMAGE_BEGIN")
    frames[0] = (ftype, job, seq, ow.image_begin_patch(p, mxcsr=0x11f80, cpu_fields=BASELINE))
    return frames


def test_bad_job_input():
    with cluster() as c:
        n = c.boot("virtio-net-pci", mem=256, extra=["-cpu", "max"])
        c.wait_registered(n)
        ctl = harness.Ctl(c.control)
        try:
            # A truncated IMAGE_BEGIN: refused, the reason travels home.
            job = placed_job(ctl)
            ctl.send_frame(ow.T_IMAGE_BEGIN, b"\x01\x02\x03", job=job)
            f = ctl.recv_frame(timeout=20)
            check(f is not None and f[0] == ow.T_JOB_ERROR and f[1] == job, "no JOB_ERROR: %r" % (f,))
            n.wait_serial("job %d: refused: bad IMAGE_BEGIN" % job, timeout=10)

            # A real image whose MXCSR has a bit no CPU accepts (restoring it
            # would fault in the node's kernel): refused, with the reason.
            job = placed_job(ctl)
            for ftype, _, seq, p in bad_mxcsr_image():
                ctl.send_frame(ftype, p, job=job, seq=seq)
                if ftype == ow.T_IMAGE_BEGIN:
                    break
            f = ctl.recv_frame(timeout=20)
            check(f is not None and f[0] == ow.T_JOB_ERROR and b"MXCSR 0x11f80 has bits this CPU lacks" in f[3],
                  "no JOB_ERROR for the MXCSR: %r" % (f,))
            n.wait_serial("job %d: refused: bad IMAGE_BEGIN: MXCSR 0x11f80" % job, timeout=10)

            # Threads in an image: a header that announces two, then a
            # region; and a thread that none announced.
            frames = real_image()
            job = placed_job(ctl)
            ftype, _, seq, p = frames[0]
            check(frames[1][0] == ow.T_IMAGE_REGION, "the image's second frame: %r" % (frames[1][0],))
            ctl.send_frame(ftype, ow.image_begin_patch(p[:-8] + struct.pack("<I", 2) + p[-4:], cpu_fields=BASELINE),
                           job=job, seq=seq)
            ctl.send_frame(ow.T_IMAGE_REGION, frames[1][3], job=job)
            f = ctl.recv_frame(timeout=20)
            check(f is not None and f[0] == ow.T_JOB_ERROR and b"fewer threads than the header announced" in f[3],
                  "no JOB_ERROR for threads announced: %r" % (f,))
            job = placed_job(ctl)
            ctl.send_frame(ftype, ow.image_begin_patch(p, cpu_fields=BASELINE), job=job, seq=seq)
            ctl.send_frame(ow.T_IMAGE_THREAD, struct.pack("<I", 5), job=job)
            f = ctl.recv_frame(timeout=20)
            check(f is not None and f[0] == ow.T_JOB_ERROR and b"bad IMAGE_THREAD" in f[3],
                  "no JOB_ERROR for a thread not announced: %r" % (f,))

            # Pages with no image, and a reply to a call nobody made: logged
            # and dropped on the node. (The refused job is over: a new one.)
            job = placed_job(ctl)
            ctl.send_frame(ow.T_IMAGE_PAGES, ow.image_pages_header(0, 0, 1) + b"\0" * 4096, job=job)
            ctl.send_frame(ow.T_SYSCALL_REP, ow.sysrep(0), job=job, seq=7)
            n.wait_serial("IMAGE_PAGES for no image in progress, ignored", timeout=10)
            n.wait_serial("SYSCALL_REP seq 7 matches no call in flight, ignored", timeout=10)
        finally:
            ctl.close()

        # The node is still in the cluster and runs a real job.
        info = c.wait_registered(n)
        check(info["last_seen_ms"] < 3000, "the node went quiet")
        prog = os.path.join(BUILD, "corpus", "static", "exitcode")
        check(os.path.exists(prog), "%s missing: make corpus" % prog)
        r = subprocess.run([os.path.join(BUILD, "om-run"), "-v", "--control", c.control, prog, "7"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        check(r.returncode == 7 and b"running on node" in r.stderr, "next job: %d %r" % (r.returncode, r.stderr))
        wait_for(lambda: "exited with status 7" in n.serial(), 10, "the node to run the next job")
        check("panic" not in n.serial(), "the node panicked")
