"""om-run --confine on a real node (server-agent/deputy/confine.h): the
agent's settings say `confine = yes`, so om-run confines the program's
process at home with Landlock to its working directory and the paths
named. The program runs on the node; its forwarded open of a file
outside those fails with EACCES, and so does listing that file's
directory and writing an --allow-read file, while making, writing and
renaming files in the working directory and reading the --allow-read file
work; a child it forks on the node and the program it execs (at home, as a
call) are confined as well. With --no-confine the same open succeeds."""

import os
import shutil
import subprocess
import tempfile

from omtest import BUILD, ROOT, check, cluster

OM_RUN = os.path.join(BUILD, "om-run")
PROG = os.path.join(BUILD, "tests", "progs", "confine-probe")

WANT = b"""open outside: EACCES
list outside: EACCES
create in cwd: OK
write in cwd: OK
mkdir in cwd: OK
rename in cwd: OK
read readonly: OK
read: OK
write readonly: EACCES
child: open outside: EACCES
child: exited 0
after exec: open outside: EACCES
"""


def test_confined_job_on_node():
    check(os.path.exists(PROG), "%s missing: make %s" % (PROG, os.path.relpath(PROG, ROOT)))
    top = tempfile.mkdtemp(prefix="om-qt-confine-")
    try:
        job, outside, ro = (os.path.join(top, d) for d in ("job", "outside", "ro"))
        for d in (job, outside, ro):
            os.mkdir(d)
        secret, data = os.path.join(outside, "secret"), os.path.join(ro, "data")
        for f in (secret, data):
            with open(f, "w") as fh:
                fh.write("not for the node\n" if f == secret else "data\n")
        conf = os.path.join(top, "agent.conf")
        with open(conf, "w") as f:
            f.write("confine = yes\n")
        with cluster("--no-balance", "--config", conf) as c:
            n = c.boot(mem=256, extra=["-cpu", "max"])
            c.wait_registered(n)
            nid = c.node_by_mac(n.mac)["id"]
            run = [OM_RUN, "-v", "--control", c.control, "--node", str(nid)]
            p = subprocess.run(run + ["--allow-read", ro, PROG, secret, data], cwd=job,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
            err = p.stderr.decode("utf-8", "replace")
            check("om-run: confined (the agent's choice, confine = yes; Landlock ABI" in err,
                  "om-run did not confine the job: %s" % err[-1500:])
            check(("running on node %d" % nid) in err, "the program did not run on node %d: %s" % (nid, err[-1500:]))
            check(p.returncode == 0 and p.stdout == WANT,
                  "om-run: %d\n%s\nstderr: %s" % (p.returncode, p.stdout.decode(), err[-2000:]))
            with open(os.path.join(job, "sub", "made")) as f:
                check(f.read() == "made here\n", "the file made in the working directory")
            check("exited with status 0" in n.serial(), "the job did not end on the node:\n" + n.serial()[-1500:])

            # The agent's choice is a default: the user may run unconfined.
            shutil.rmtree(os.path.join(job, "sub"))
            p = subprocess.run(run + ["--no-confine", PROG, secret, data], cwd=job,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
            err = p.stderr.decode("utf-8", "replace")
            check(p.returncode == 0 and p.stdout.startswith(b"open outside: OK\nlist outside: OK\n")
                  and b"write readonly: OK\n" in p.stdout and "confined" not in err,
                  "--no-confine: %d\n%s\nstderr: %s" % (p.returncode, p.stdout.decode(), err[-2000:]))
            print("INFO on node %d a confined job's open outside its working directory got EACCES "
                  "(so did its child and the program it exec'd); --no-confine reached the file" % nid)
    finally:
        shutil.rmtree(top, ignore_errors=True)
