"""The deputy is its job's authority and no more
(server-agent/deputy/call_limits.h): a program on a node that signals a
process of the same user outside its job, by kill, its group, tgkill,
tkill or a pidfd, gets EPERM (ESRCH for a pid no process has), and the
process lives on; the program still signals and reaps a child of its own
as natively. om-run says what it refused."""

import os
import subprocess

from omtest import BUILD, ROOT, check, cluster

OM_RUN = os.path.join(BUILD, "om-run")
PROG = os.path.join(BUILD, "tests", "progs", "reach-out")

WANT = b"""kill: EPERM
kill 0: EPERM
kill group: EPERM
kill -1 0: EPERM
tgkill: EPERM
tkill: EPERM
pidfd_open: EPERM
kill gone: ESRCH
pidfd_open gone: ESRCH
kill group gone: ESRCH
child pidfd_open: OK
child pidfd_send_signal 0: OK
child kill: OK
child: killed by signal 9
"""


def test_node_cannot_reach_outside_job():
    check(os.path.exists(PROG), "%s missing: make %s" % (PROG, os.path.relpath(PROG, ROOT)))
    # The victim: the user's, in a group of its own, not om-run's.
    victim = subprocess.Popen(["/bin/sleep", "600"], stdin=subprocess.DEVNULL, start_new_session=True)
    gone = subprocess.Popen(["/bin/true"], stdin=subprocess.DEVNULL)
    gone.wait()
    try:
        with cluster("--no-balance") as c:
            n = c.boot(mem=256, extra=["-cpu", "max"])
            c.wait_registered(n)
            nid = c.node_by_mac(n.mac)["id"]
            p = subprocess.run([OM_RUN, "-v", "--control", c.control, "--node", str(nid), PROG,
                                str(victim.pid), str(gone.pid)],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
            err = p.stderr.decode("utf-8", "replace")
            check(("running on node %d" % nid) in err, "the program did not run on node %d: %s" % (nid, err[-1500:]))
            check(victim.poll() is None, "the victim was killed (%r)" % victim.returncode)
            check(p.returncode == 0 and p.stdout == WANT,
                  "om-run: %d\n%s\nstderr: %s" % (p.returncode, p.stdout.decode(), err[-2000:]))
            said = "refused kill(%d, SIGKILL) from node %d: pid %d is not in this job" % (victim.pid, nid, victim.pid)
            check(said in err, "om-run did not say %r: %s" % (said, err[-2000:]))
            check("refused pidfd_open(%d, 0)" % victim.pid in err and
                  "refused kill(-1, 0) from node %d: -1 names every process" % nid in err,
                  "om-run's refusals: %s" % err[-2000:])
            check("exited with status 0" in n.serial(), "the job did not end on the node:\n" + n.serial()[-1500:])
            print("INFO a program on node %d tried kill, its group, tgkill, tkill and pidfd_open on pid %d "
                  "outside its job: each EPERM, the process lives; its own child it killed" % (nid, victim.pid))
    finally:
        victim.kill()
        victim.wait()
