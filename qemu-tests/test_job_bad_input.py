"""Bad job input reaches a real node: a corrupt image is refused with
JOB_ERROR and logged, frames for no image or no call in flight are logged
and dropped, and the node stays registered and runs the next job."""

import os
import subprocess
import sys

from omtest import BUILD, ROOT, check, cluster, wait_for

sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402  (a raw control connection)
import omwire as ow  # noqa: E402


def placed_job(ctl):
    job, node, _, reason = ctl.submit(pid=os.getpid())
    check(node != 0, "not placed: %s" % reason)
    return job


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
