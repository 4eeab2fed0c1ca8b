"""om-run's end-to-end corpus: small C programs (tests/corpus/, built as
static glibc, static musl and dynamic glibc into build/corpus/KIND/) and
Debian's busybox-static, each run natively and through om-run with the same
argv, environment, stdin and cwd. stdout, stderr and the exit status must be
identical byte for byte, and the node's console must show that the job ran
there (or came home, for the cases that must). One cluster (agent + one
`-cpu max -m 1024` node) per test function serves all its cases."""

import contextlib
import os
import random
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

from omtest import BUILD, ROOT, TestFailure, check, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
BUSYBOX = "/bin/busybox"
RUN_TIMEOUT = 60          # any one run, native or om-run
EXIT_CODES = (0, 1, 7, 42, 127, 128, 200, 255)
ARRIVED = re.compile(r"^job (\d+): arrived \(pid (\d+),", re.M)


def build_corpus():
    r = subprocess.run(["make", "-s", "--no-print-directory", "corpus"], cwd=ROOT,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "make corpus failed:\n" + r.stdout + r.stderr)


def descendants(pid):
    """pid's children, grandchildren, ... (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids = [int(x) for x in f.read().split()]
                out += kids
                todo += kids
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def gone(pid):
    """pid no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


class Runner:
    """Runs processes with a time bound and kills every one it started (and
    whatever they started) by pid in close()."""

    def __init__(self, c, node):
        self.c, self.node = c, node
        self.procs = []
        self.seen = set(int(j) for j, _ in ARRIVED.findall(node.serial()))
        self.where = {"node": 0, "home": 0}
        self.waited = 0.0
        self.env = dict(os.environ, OM_CORPUS="a b=c", LC_ALL="C")
        self.env.pop("GLIBC_TUNABLES", None)

    def spawn(self, argv, stdin=subprocess.DEVNULL, cwd=None, **kw):
        p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=cwd, env=self.env, **kw)
        self.procs.append(p)
        return p

    def finish(self, p, input=None, timeout=RUN_TIMEOUT):
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(p)
            raise TestFailure("%s did not finish within %d s" % (" ".join(p.args), timeout))
        return p.returncode, out, err

    def run(self, argv, input=None, cwd=None, timeout=RUN_TIMEOUT):
        p = self.spawn(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL, cwd=cwd)
        return self.finish(p, input, timeout)

    def node_free(self):
        """Waits until the agent counts no job on the node. The agent takes
        the larger of its own count and the node's last heartbeat's, so a
        node looks busy for up to a heartbeat after a job ended, and an
        om-run started then would run at home ("all cores busy")."""
        t = time.monotonic()
        wait_for(lambda: (lambda n: n and n["jobs"] == 0)(self.c.node_by_mac(self.node.mac)), 10,
                 "the agent to see the node free", interval=0.05)
        self.waited += time.monotonic() - t

    def om(self, *args, verbose=False):
        self.node_free()
        return [OM_RUN] + (["-v"] if verbose else []) + ["--control", self.c.control] + list(args)

    def kill(self, p):
        for q in [p.pid] + descendants(p.pid):
            try:
                os.kill(q, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            p.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            pass

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                self.kill(p)
            else:
                # a program that came home may outlive its om-run
                for q in descendants(p.pid):
                    try:
                        os.kill(q, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    def new_jobs(self):
        """Jobs that arrived on the node since the last call: [(job, pid)]."""
        jobs = [(int(j), int(pid)) for j, pid in ARRIVED.findall(self.node.serial())]
        new = [(j, pid) for j, pid in jobs if j not in self.seen]
        self.seen.update(j for j, _ in new)
        return new

    def outcome(self, job):
        """The node's last word on a job: 'exited with status N', 'killed by
        signal N', 'its execve ran at home' or 'going home (...)'."""
        pat = re.compile(r"^job %d: (exited with status \d+|killed by signal \d+|its execve ran at home|"
                         r"going home \([^)]*\))$" % job,
                         re.M)
        return wait_for(lambda: (lambda m: m.group(1) if m else None)(pat.search(self.node.serial())),
                        10, "the node's verdict on job %d" % job)

    def check_where(self, what, native_rc, home):
        """Exactly one job arrived for this run and ended as the native run
        did (or went home when home is true); home an int N: N jobs or
        more, the program and the children it forked there (a child's exec
        may be placed there again)."""
        new = self.new_jobs()
        want = home if home is not True and home is not False else 1
        check(len(new) == want or (want > 1 and len(new) > want),
              "%s: expected %d jobs on the node, its console shows %r" % (what, want, new))
        home = home is True
        verdict = self.outcome(new[0][0])
        if home:
            check(verdict.startswith("going home ("), "%s: expected it to come home, node says %r"
                  % (what, verdict))
            self.where["home"] += 1
        else:
            want = ("exited with status %d" % native_rc if native_rc >= 0
                    else "killed by signal %d" % -native_rc)
            check(verdict == want, "%s: node says %r, expected %r" % (what, verdict, want))
            self.where["node"] += 1
        return new[0]


def same(what, native, remote):
    """Native and om-run results must be identical: (rc, stdout, stderr)."""
    for i, name in ((1, "stdout"), (2, "stderr")):
        check(native[i] == remote[i], "%s: %s differs\n native: %r\n om-run: %r"
              % (what, name, native[i][-2000:], remote[i][-2000:]))
    check(native[0] == remote[0], "%s: status differs: native %d, om-run %d" % (what, native[0], remote[0]))


def compare(r, argv, what, input=None, cwd=None, home=False, before_each=None):
    if before_each:
        before_each()
    native = r.run(argv, input=input, cwd=cwd)
    if before_each:
        before_each()
    remote = r.run(r.om(*argv), input=input, cwd=cwd)
    same(what, native, remote)
    r.check_where(what, native[0], home)
    return native


def first_line(p, timeout=RUN_TIMEOUT):
    """p's first stdout line, read byte by byte (nothing buffered beyond it),
    within timeout s; b"" if it never came."""
    line, end = b"", time.monotonic() + timeout
    fd = p.stdout.fileno()
    while not line.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        b = os.read(fd, 1)
        if not b:
            break
        line += b
    return line


def interrupted(r, argv, om, sig=signal.SIGINT, ready=b"ready\n"):
    """Starts argv, waits for its first line, sends sig to the program
    (om-run's child under om-run) and returns (rc, stdout, stderr)."""
    p = r.spawn(r.om(*argv) if om else argv)
    line = first_line(p)
    check(line == ready, "%s%s: first line %r" % (argv[0], " (om-run)" if om else "", line))
    target = p.pid
    if om:
        kids = wait_for(lambda: descendants(p.pid), 5, "om-run's child")
        target = kids[0]
    os.kill(target, sig)
    rc, out, err = r.finish(p)
    return rc, line + out, err


def corpus_cases(kind):
    """(name, argv, stdin, home) for one build of the corpus."""
    d = os.path.join(BUILD, "corpus", kind)
    text = b"first line\nsecond\n\n\ttabbed  \xc3\xa9t\xc3\xa9\n" + b"x" * 5000 + b"\nno newline at end"
    cases = [("argv_env", [d + "/argv_env", "one", "two words", "", "\xfcml\xe4ut", "--flag=x y"], None, False),
             ("stdin_echo", [d + "/stdin_echo"], text, False),
             ("stdin_echo empty", [d + "/stdin_echo"], b"", False),
             ("fpu", [d + "/fpu"], None, False),
             ("clock_sleep", [d + "/clock_sleep"], None, False),
             ("sigsegv", [d + "/sigsegv"], None, False),
             ("abort", [d + "/abort"], None, False),
             ("crash", [d + "/crash"], None, False),
             ("divzero", [d + "/divzero"], None, False),
             ("bigmem", [d + "/bigmem"], None, False),
             ("itimers", [d + "/itimers"], None, False),
             ("sigqueue", [d + "/sigqueue"], None, False),
             ("sysmisc", [d + "/sysmisc"], None, False),
             ("fork", [d + "/fork"], None, 2),
             ("forks", [d + "/forks"], None, 9),
             ("execs", [d + "/execs"], None, 5),
             ("home_state", [d + "/home_state"], None, True)]
    cases += [("exit %d" % n, [d + "/exitcode", str(n)], None, False) for n in EXIT_CODES]
    # threads run on the node, from start to end
    cases += [("threads " + m, [d + "/threads", m], None, False)
              for m in ("sum", "pool", "pipe", "signal", "exit", "die")]
    return cases


@contextlib.contextmanager
def corpus_node(cpu="max", smp=1):
    """One node for a corpus run, a Runner on it and an empty work
    directory: yields (runner, work, t0, seconds from t0 to registered);
    kills and removes all of it afterwards. cpu None: QEMU's default CPU
    model (qemu64: no XSAVE, no AVX, no RDRAND, like a pre-2011 PC); smp:
    the node's cores."""
    t0 = time.monotonic()
    with cluster() as c:
        node = c.boot(mem=1024, extra=(["-cpu", cpu] if cpu else []) + ["-smp", str(smp)])
        c.wait_registered(node)
        t_boot = time.monotonic() - t0
        r = Runner(c, node)
        work = tempfile.mkdtemp(prefix="om-corpus-")
        try:
            yield r, work, t0, t_boot
        finally:
            r.close()
            shutil.rmtree(work, ignore_errors=True)


def run_corpus(kind, cpu="max", smp=1):
    build_corpus()
    with corpus_node(cpu, smp) as (r, work, t0, t_boot):
        for name, argv, stdin, home in corpus_cases(kind):
            compare(r, argv, "%s/%s" % (kind, name), input=stdin, cwd=work, home=home)
        # file I/O in the same (empty) directory both times
        fdir = os.path.join(work, "files")
        os.mkdir(fdir)

        def empty():
            check(os.listdir(fdir) == [], "fileio left %r behind" % os.listdir(fdir))
        native = compare(r, [os.path.join(BUILD, "corpus", kind, "fileio"), fdir], "%s/fileio" % kind,
                         cwd=work, before_each=empty)
        check(b"cwd is dir: 1\n" in native[1], "fileio natively: %r" % native[1])
        empty()
        # SIGINT from home reaches the handler on the node
        argv = [os.path.join(BUILD, "corpus", kind, "sigint")]
        native = interrupted(r, argv, False)
        remote = interrupted(r, argv, True)
        check(native == (0, b"ready\ngot 2\n", b""), "sigint natively: %r" % (native,))
        same("%s/sigint" % kind, native, remote)
        r.check_where("%s/sigint" % kind, 0, False)
        # signals from home without a handler: the default action, on the node
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGKILL):
            argv = [os.path.join(BUILD, "corpus", kind, "spin"), "30"]
            what = "%s/spin killed by %s" % (kind, sig.name)
            native = interrupted(r, argv, False, sig, b"spinning\n")
            check(native == (-sig, b"spinning\n", b""), "%s natively: %r" % (what, native))
            same(what, native, interrupted(r, argv, True, sig, b"spinning\n"))
            new = r.new_jobs()
            check(len(new) == 1, "%s: jobs on the node %r" % (what, new))
            want = "killed by signal %d" % sig if sig != signal.SIGKILL else "killed (its deputy is gone)"
            pat = re.compile("^job %d: %s$" % (new[0][0], re.escape(want)), re.M)
            wait_for(lambda: pat.search(r.node.serial()), 10, "%s: the node to say %r" % (what, want))
            r.where["node"] += 1
        # buffers larger than one forwarded call carries (512 KiB)
        bdir = os.path.join(work, "bigio")
        os.mkdir(bdir)
        data = bytes((i * 131 + (i >> 10)) & 0xff for i in range(3 << 19))
        native = compare(r, [os.path.join(BUILD, "corpus", kind, "bigio"), bdir], "%s/bigio" % kind,
                         input=data, cwd=work)
        check(native[0] == 0 and native[1] == data, "bigio natively: %d" % native[0])
        # -v says where it ran; the program's own output is unchanged
        argv = [os.path.join(BUILD, "corpus", kind, "exitcode"), "7"]
        rc, out, err = r.run(r.om(*argv, verbose=True), cwd=work)
        r.check_where("%s/exit 7 -v" % kind, 7, False)
        check(rc == 7 and out == b"exiting with 7\n", "-v run: %d %r" % (rc, out))
        check(re.search(rb"^om-run: running on node \d+ \(", err, re.M), "-v does not say it ran on a node: %r" % err)
        check(all(l.startswith(b"om-run: ") for l in err.splitlines()), "-v stderr: %r" % err)
        rc, out, err = r.run(r.om(os.path.join(BUILD, "corpus", kind, "fork"), verbose=True), cwd=work)
        r.check_where("%s/fork -v" % kind, 0, 2)
        check(rc == 0 and b"forked pid" in err and b"comes home" not in err, "fork -v: %d %r" % (rc, err))
        # an exec runs at home as a call, but for a child with a signal
        # pending or an alarm armed, which comes home with its image
        rc, out, err = r.run(r.om(os.path.join(BUILD, "corpus", kind, "execs"), verbose=True), cwd=work)
        r.check_where("%s/execs -v" % kind, 0, 5)
        check(rc == 0 and err.count(b"its execve ran at home") == 2 and err.count(b"comes home from node") == 2,
              "execs -v: %d %r" % (rc, err[-3000:]))
        print("INFO corpus %s on -cpu %s -smp %d: %d cases on the node, %d came home, 0 failed; node up in %.1f s, "
              "cases %.1f s (%.1f s of it waiting for the agent to see the node free)"
              % (kind, cpu or "(QEMU's default)", smp, r.where["node"], r.where["home"], t_boot,
                 time.monotonic() - t0 - t_boot, r.waited))


def test_corpus_static():
    run_corpus("static")


def test_corpus_musl():
    """On a node with four cores (kernel/smp.c): each case as on one."""
    run_corpus("musl", smp=4)


def test_corpus_dynamic():
    run_corpus("dynamic")


# QEMU's default CPU model has no XSAVE: the node keeps x87/SSE state with
# FXSAVE, and a dynamic program's libc was told at home to leave out what
# the node lacks.
def test_corpus_static_default_cpu_two_cores():
    run_corpus("static", None, smp=2)


def test_corpus_musl_default_cpu():
    run_corpus("musl", None)


def test_corpus_dynamic_default_cpu():
    run_corpus("dynamic", None)


def test_corpus_busybox():
    """Debian's busybox-static: real programs, and a shell that forks."""
    check(os.access(BUSYBOX, os.X_OK), "%s missing: run 'make setup' (busybox-static)" % BUSYBOX)
    with corpus_node() as (r, work, t0, t_boot):
        rnd = random.Random(7)
        with open(os.path.join(work, "nums"), "w") as f:
            f.write("".join("%d\n" % rnd.randint(-1000, 100000) for _ in range(5000)))
        with open(os.path.join(work, "words"), "w") as f:
            f.write("".join("".join(rnd.choice("abcdefghij ") for _ in range(rnd.randint(0, 14))) + "\n"
                            for _ in range(4000)))
        with open(os.path.join(work, "blob"), "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(300000)))
        for name, args in (("sha256sum", ["sha256sum", "blob", "nums"]),
                           ("sort", ["sort", "words"]),
                           ("sort -n", ["sort", "-n", "nums"]),
                           ("awk", ["awk", "{s+=$1} END {print s}", "nums"]),
                           ("sha256sum missing", ["sha256sum", "no-such-file"])):
            compare(r, [BUSYBOX] + args, "busybox/" + name, cwd=work)
        words = open(os.path.join(work, "words"), "rb").read()
        compare(r, [BUSYBOX, "sort", "-r"], "busybox/sort stdin", input=words, cwd=work)
        # gzip | gunzip: two om-runs in a shell pipeline
        pipe = "%s | %s; echo \"status ${PIPESTATUS[*]}\"" % (
            " ".join(r.om(BUSYBOX, "gzip", "-c", "blob")), " ".join(r.om(BUSYBOX, "gunzip")))
        rc, out, err = r.run(["bash", "-c", pipe], cwd=work)
        blob = open(os.path.join(work, "blob"), "rb").read()
        check(rc == 0 and out == blob + b"status 0 0\n" and err == b"",
              "gzip | gunzip through om-run: rc %d, %d bytes out (want %d), err %r" % (rc, len(out),
                                                                                     len(blob) + 13, err))
        jobs = r.new_jobs()
        for j, _ in jobs:
            check(r.outcome(j) == "exited with status 0", "pipeline job %d: %r" % (j, r.outcome(j)))
        r.where["node"] += len(jobs)
        ran = len(jobs)
        # one om-run of a shell: it forks on the node; each child's exec
        # runs at home, and the programs are placed again (as many as the
        # node has room for); the shell execs the last command itself
        script = "%s gzip -c blob | %s gunzip | %s sha256sum; %s echo done" % ((BUSYBOX,) * 4)
        argv = [BUSYBOX, "sh", "-c", script]
        same("busybox/sh pipeline", r.run(argv, cwd=work), r.run(r.om(*argv), cwd=work))
        tree = r.new_jobs()
        forked = re.findall(r"^job %d: forked job \d+" % tree[0][0], r.node.serial(), re.M) if tree else []
        check(len(tree) >= 4 and len(forked) == 3,
              "busybox/sh pipeline: the shell should stay on the node and fork its three children there; "
              "the node shows %r, forks %r" % ([(j, r.outcome(j)) for j, _ in tree], forked))
        for j, _ in tree:
            check(r.outcome(j) in ("exited with status 0", "its execve ran at home"),
                  "busybox/sh pipeline: job %d %r" % (j, r.outcome(j)))
        r.where["node"] += len(tree)
        print("INFO corpus busybox: %d cases on the node (gzip | gunzip: %d of 2 on the node), %d came home, "
              "0 failed; node up in %.1f s, cases %.1f s (%.1f s of it waiting for the agent to see the node free)"
              % (r.where["node"], ran, r.where["home"], t_boot, time.monotonic() - t0 - t_boot, r.waited))


def test_corpus_node_lost():
    """The node's QEMU dies under a running job: om-run says so and exits 251
    (after the grace, 5 s here, for the node to connect again)."""
    build_corpus()
    with cluster("--grace", "5000") as c:
        node = c.boot(mem=1024, extra=["-cpu", "max"])
        c.wait_registered(node)
        r = Runner(c, node)
        try:
            spin = os.path.join(BUILD, "corpus", "static", "spin")
            p = r.spawn(r.om(spin, "60"))
            check(first_line(p) == b"spinning\n", "spin did not start")
            jobs = wait_for(lambda: ARRIVED.findall(node.serial()), 10, "the job on the node")
            pid = int(jobs[0][1])
            time.sleep(0.5)
            check(p.poll() is None, "om-run ended early: %r" % (p.poll(),))
            t = time.monotonic()
            node.kill()
            rc, out, err = r.finish(p, timeout=15)
            secs = time.monotonic() - t
            check(rc == 251, "om-run exited %d after the node died, expected 251; stderr %r" % (rc, err))
            check(re.fullmatch(rb"om-run: node \d+ \([^)]+\) was lost while running %s\n" % re.escape(spin.encode()),
                               err), "om-run said %r" % err)
            check(out == b"", "stdout after the loss: %r" % out)
            wait_for(lambda: gone(pid), 5, "the program (pid %d) to be gone" % pid)
            print("INFO corpus node lost: om-run exited 251 %.1f s after the node's QEMU was killed" % secs)
        finally:
            r.close()


def test_signal_in_forwarded_read():
    """A signal sent while the job waits in a forwarded read() reaches it at
    once, as natively: without SA_RESTART the handler runs and read() fails
    with EINTR; with no handler SIGINT ends the program (busybox cat)."""
    build_corpus()
    with cluster() as c:
        node = c.boot(mem=1024, extra=["-cpu", "max"])
        c.wait_registered(node)
        r = Runner(c, node)
        bad = []
        try:
            for kind in ("static", "musl", "dynamic"):
                progs = [([os.path.join(BUILD, "corpus", kind, "sigread")], b"ready\n")]
                if kind == "static":
                    progs.append(([BUSYBOX, "cat"], None))
                for argv, ready in progs:
                    res = []
                    for om in (False, True):
                        p = r.spawn(r.om(*argv) if om else argv, stdin=subprocess.PIPE)
                        if ready:
                            check(first_line(p) == ready, "%s did not start" % argv[0])
                        time.sleep(0.5)
                        target = wait_for(lambda: descendants(p.pid), 5, "om-run's child")[0] if om else p.pid
                        os.kill(target, signal.SIGINT)
                        try:
                            p.wait(3)
                            ended = "ended"
                        except subprocess.TimeoutExpired:
                            ended = "still running 3 s after SIGINT"
                        rc, out, err = r.finish(p, timeout=10)  # closes stdin
                        res.append((ended, rc, (ready or b"") + out, err))
                    print("%s %s: native %r, om-run %r" % (kind, os.path.basename(argv[0]), res[0], res[1]))
                    if res[0] != res[1]:
                        bad.append("%s/%s" % (kind, os.path.basename(argv[0])))
            check(not bad, "differs from the native run: %s" % ", ".join(bad))
        finally:
            r.close()


def test_back_to_back_placement():
    """An om-run started right after a job that lived through a heartbeat
    goes to the (free) node: the agent counts its own jobs, not the last
    heartbeat's, which still shows the finished one."""
    build_corpus()
    with cluster() as c:
        node = c.boot(mem=1024, extra=["-cpu", "max"])
        c.wait_registered(node)
        r = Runner(c, node)
        try:
            rc, _, _ = r.run(r.om(os.path.join(BUILD, "corpus", "static", "spin"), "2"))
            check(rc == 0, "spin 2: %d" % rc)
            argv = [OM_RUN, "-v", "--control", c.control, os.path.join(BUILD, "corpus", "static", "exitcode"), "0"]
            rc, out, err = r.run(argv)
            print("second om-run: %r" % err)
            check(b"running on node" in err, "the job right after another did not go to the free node: %r" % err)
        finally:
            r.close()
