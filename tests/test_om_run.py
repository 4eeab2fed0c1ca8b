#!/usr/bin/env python3
"""test_om_run.py - runs the real om-run: at home (exit statuses, signals,
the shell's not-found messages, pipes) and against a real om-agent with
fake nodes (tests/harness.py: placement, reasons, a node that refuses).

Output is one line per test, "PASS om_run/name" or "FAIL om_run/name:
reason"; exit status 0 iff all passed. Environment: OM_RUN (default
build/om-run), OM_AGENT, OM_MON as for tests/harness.py, OM_TEST_PREFIX; a
test name on the command line runs only that test.
"""
import json
import os
import re
import signal
import subprocess
import sys

import harness
import omwire as ow
from harness import check

RUN = os.environ.get("OM_RUN", os.path.join(harness.ROOT, "build", "om-run"))
PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "om_run/"
TEST_TIMEOUT = 30
ALL_FEATURES = dict(leaf1_ecx=0xFFFFFFFF, leaf1_edx=0xFFFFFFFF, leaf7_ebx=0xFFFFFFFF,
                    leaf7_ecx=0xFFFFFFFF, leaf7_edx=0xFFFFFFFF, xcr0=0xFFFFFFFFFFFFFFFF)


def om_run(*args, input=None, env=None, timeout=10):
    p = subprocess.run([RUN] + list(args), input=input, capture_output=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def spawn_run(*args, **kw):
    return harness.spawn([RUN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

# ---- front end


def t_usage(tmp):
    rc, out, err = om_run("--help")
    check(rc == 0 and out.startswith("usage: om-run [--node ID] [--cores N] [--home] [--confine | --no-confine] "
                                     "[--allow PATH]\n              [--allow-read PATH] [--allow-tcp] [--stats FILE]\n"
                                     "              [--checkpoint-every SECONDS [--checkpoint-file FILE]] [-v] "
                                     "[--control PATH]\n              PROGRAM [ARGS...]\n"), "--help: %r" % out)
    for bad in ([], ["--bogus", "true"], ["--node"], ["--node", "x", "true"], ["--allow"], ["--allow-read"],
                ["--node", "0", "true"], ["--home", "--node", "1", "true"], ["--cores", "0", "true"],
                ["--cores", "4097", "true"], ["--cores", "2x", "true"], ["--home", "--cores", "2", "true"],
                ["--checkpoint-every", "0.05", "true"], ["--checkpoint-every", "x", "true"],
                ["--checkpoint-file", "f", "true"]):
        rc, out, err = om_run(*bad)
        check(rc == 2 and err.startswith("om-run: ") and "usage:" in err,
              "%r: exit %d %r" % (bad, rc, err))
    rc, out, err = om_run("--home", "--checkpoint-every", "1", "--checkpoint-file", "/nonexistent/x", "true")
    check(rc == 1 and err == "om-run: --checkpoint-file /nonexistent/x: No such file or directory\n",
          "a checkpoint file nowhere: %d %r" % (rc, err))
    # options after PROGRAM belong to it
    rc, out, err = om_run("--home", "echo", "-v", "--home")
    check(rc == 0 and out == "-v --home\n", "program options: %r" % out)


def t_exit_codes(tmp):
    for n in range(256):
        rc, _, _ = om_run("--home", "sh", "-c", "exit %d" % n)
        check(rc == n, "exit %d came back as %d" % (n, rc))


def t_signals(tmp):
    for sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGKILL, signal.SIGTERM, signal.SIGUSR1):
        rc, _, _ = om_run("--home", "sh", "-c", "kill -%d $$" % sig)
        check(rc == -sig, "child died of %d, om-run returned %d" % (sig, rc))
    # through a shell: the status it reports
    p = subprocess.run(["sh", "-c", "%s --home sh -c 'kill -SEGV $$'; echo $?" % RUN],
                       capture_output=True, timeout=10)
    check(p.stdout.decode().strip() == "139", "shell saw %r" % p.stdout)


def t_signal_forwarding(tmp):
    prog = ("import signal,sys,time\n"
            "signal.signal(signal.SIGINT, lambda *a: sys.exit(42))\n"
            "signal.signal(signal.SIGHUP, lambda *a: sys.exit(43))\n"
            "print('ready', flush=True)\n"
            "time.sleep(20)\n")
    for sig, want in ((signal.SIGINT, 42), (signal.SIGHUP, 43)):
        p = spawn_run("--home", sys.executable, "-c", prog)
        check(p.stdout.readline() == b"ready\n", "child did not start")
        p.send_signal(sig)
        check(p.wait(10) == want, "after %d: %r" % (sig, p.returncode))
    for sig in (signal.SIGTERM, signal.SIGQUIT):
        p = spawn_run("--home", "sh", "-c", "echo ready; exec sleep 20")
        check(p.stdout.readline() == b"ready\n", "sleep did not start")
        p.send_signal(sig)
        check(p.wait(10) == -sig, "sleep after %d: om-run %r" % (sig, p.returncode))


def t_not_found(tmp):
    env = dict(os.environ, PATH=tmp + ":/usr/bin:/bin")
    rc, out, err = om_run("--home", "no-such-prog-xyz", env=env)
    check(rc == 127 and err == "om-run: no-such-prog-xyz: command not found\n", "%d %r" % (rc, err))
    rc, out, err = om_run("--home", "./no-such-file")
    check(rc == 127 and err == "om-run: ./no-such-file: No such file or directory\n", "%r" % err)
    plain = os.path.join(tmp, "plain")
    open(plain, "w").write("echo hi\n")
    os.chmod(plain, 0o644)
    os.chmod(tmp, 0o755)
    nobody = lambda: (os.setgid(65534), os.setuid(65534))  # root may execute anything
    p = subprocess.run([RUN, "--home", plain], capture_output=True, preexec_fn=nobody, timeout=10)
    check(p.returncode == 126 and p.stderr.decode() == "om-run: %s: Permission denied\n" % plain,
          "not executable: %d %r" % (p.returncode, p.stderr))
    p = subprocess.run([RUN, "--home", "plain"], capture_output=True, preexec_fn=nobody,
                       env=env, timeout=10)
    check(p.returncode == 126 and p.stderr.decode() == "om-run: plain: Permission denied\n",
          "not executable in PATH: %d %r" % (p.returncode, p.stderr))
    rc, out, err = om_run("--home", tmp)
    check(rc == 126 and err == "om-run: %s: Is a directory\n" % tmp, "directory: %r" % err)
    # a script without #! runs under sh, as execvp does
    os.chmod(plain, 0o755)
    rc, out, err = om_run("--home", plain)
    check(rc == 0 and out == "hi\n", "script: %d %r %r" % (rc, out, err))
    # PATH order and an empty entry (the current directory)
    rc, out, err = om_run("--home", "plain", env=dict(os.environ, PATH="/nonexistent:"),)
    check(rc == 127, "relative to om-run's cwd, not tmp: %d" % rc)
    p = subprocess.run([RUN, "--home", "plain"], capture_output=True, cwd=tmp, timeout=10,
                       env=dict(os.environ, PATH="/nonexistent:"))
    check(p.returncode == 0 and p.stdout == b"hi\n", "empty PATH entry: %r" % p.stderr)


def t_pipes(tmp):
    rc, out, err = om_run("--home", "tr", "a-z", "A-Z", input=b"hello om\n")
    check(rc == 0 and out == "HELLO OM\n", "stdin->stdout: %r" % out)
    data = os.urandom(1 << 20)
    p = subprocess.run([RUN, "--home", "cat"], input=data, capture_output=True, timeout=10)
    check(p.returncode == 0 and p.stdout == data, "1 MiB through cat")
    rc, out, err = om_run("--home", "sh", "-c", "echo out; echo err >&2")
    check(out == "out\n" and err == "err\n", "stderr: %r %r" % (out, err))

# ---- with an agent


def t_no_agent(tmp):
    sock = os.path.join(tmp, "none.sock")
    rc, out, err = om_run("-v", "--control", sock, "echo", "hi")
    check(rc == 0 and out == "hi\n", "no agent: %d %r" % (rc, out))
    check(err == "om-run: running at home: no agent at %s (No such file or directory)\n" % sock,
          "-v: %r" % err)
    rc, out, err = om_run("--control", sock, "echo", "hi")
    check(rc == 0 and err == "", "quiet without -v: %r" % err)


def t_agent_no_nodes(tmp):
    a = harness.Agent(tmp)
    rc, out, err = om_run("-v", "--control", a.control, "sh", "-c", "echo at home; exit 3")
    check(rc == 3 and out == "at home\n", "%d %r" % (rc, out))
    check(err == "om-run: running at home: no node is up\n", "-v: %r" % err)
    env = dict(os.environ, OM_CONTROL=a.control)
    rc, out, err = om_run("-v", "true", env=env)
    check(rc == 0 and "no node is up" in err, "OM_CONTROL: %r" % err)
    check("job not placed" in a.log(), "agent did not log the submit")


def t_agent_node_refuses(tmp):
    """Placed on a fake node, which takes the image and refuses the job
    (JOB_ERROR): om-run submitted the program's own pid and its command
    line, and the program starts at home from its entry point."""
    a = harness.Agent(tmp)
    n = a.node(harness.MAC1, **ALL_FEATURES)
    p = spawn_run("-v", "--control", a.control, "sh", "-c", "echo $$")
    types = []
    while ow.T_IMAGE_END not in types:
        f = n.recv_frame(timeout=10)
        check(f is not None, "the image ended early: %r" % types)
        types.append(f[0])
    job = f[1]
    check(types[0] == ow.T_IMAGE_BEGIN and set(types) <= {ow.T_IMAGE_BEGIN, ow.T_IMAGE_REGION,
                                                          ow.T_IMAGE_PAGES, ow.T_IMAGE_END},
          "image frames %r" % types)
    n.send_frame(ow.T_JOB_ERROR, ow.error(ow.E_BUSY, "no free core"), job=job)
    out, err = p.communicate(timeout=10)
    check(p.returncode == 0, "exit %d %r" % (p.returncode, err))
    pid = int(out)
    m = re.search(r"job %d placed on node 1 \(127\.0\.0\.1\) for uid %d pid (\d+): "
                  r"sh -c echo \$\$" % (job, os.getuid()), a.log())
    check(m and int(m.group(1)) == pid, "placement log %r, program pid %d" % (a.log()[-400:], pid))
    check(re.fullmatch(r"om-run: job %d placed on node 1 \(127\.0\.0\.1\)\n"
                       r"om-run: image sent to node 1: \d+ regions, \d+ pages\n"
                       r"om-run: node 1 refused the job \(no free core\): running at home\n" % job,
                       err.decode()), "-v: %r" % err)
    harness.wait_for(lambda: a.jobs() == [], 2, "the refused job to end")


def t_agent_reasons(tmp):
    # The fake nodes never answer: the job placed on one is lost (and runs
    # at home) once that node has been silent for the grace.
    a = harness.Agent(tmp, "--down-after", "1000", "--grace", "1000")
    a.node(harness.MAC1, leaf1_ecx=0, leaf1_edx=0, leaf7_ebx=0, leaf7_ecx=0, leaf7_edx=0, xcr0=0)
    rc, out, err = om_run("-v", "--control", a.control, "true")
    check(rc == 0 and re.match(r"om-run: running at home: no node has \S", err),
          "feature mismatch: %r" % err)
    rc, out, err = om_run("-v", "--control", a.control, "--node", "7", "true")
    check(rc == 0 and err == "om-run: running at home: no node 7\n", "--node 7: %r" % err)
    a.node(harness.MAC2, cores=1, **ALL_FEATURES)
    rc, out, err = om_run("-v", "--control", a.control, "--cores", "4", "true")
    check(rc == 0 and err == "om-run: running at home: no node has 4 cores\n", "--cores 4: %r" % err)
    rc, out, err = om_run("-v", "--control", a.control, "--node", "2", "true")
    check(rc == 0 and "job " in err and "placed on node 2" in err, "--node 2: %r" % err)


def t_stats_many_processes(tmp):
    """--stats with a tree whose lines fill a pipe many times over: the
    deputies never wait for om-run, every process has its line."""
    a = harness.Agent(tmp)
    stats = os.path.join(tmp, "stats.json")
    rc, out, err = om_run("--control", a.control, "--stats", stats, "sh", "-c",
                          "for i in $(seq 600); do /bin/true padding-for-a-longer-line-of-stats; done",
                          timeout=25)
    check(rc == 0 and out == "" and err == "", "exit %d %r %r" % (rc, out, err))
    with open(stats) as f:
        s = json.load(f)
    cmds = [x["command"] for x in s["list"]]
    check(s["processes"] == 602 and len(cmds) == 602, "%d processes, %d lines" % (s["processes"], len(cmds)))
    check(cmds.count("/bin/true padding-for-a-longer-line-of-stats") == 600 and cmds.count("seq 600") == 1,
          "commands: %r" % sorted(set(cmds)))
    check(a.jobs() == [], "records left at the agent: %r" % a.jobs()[:3])


def t_stats_file_fails_early(tmp):
    """A --stats file that cannot be created is an error before the
    program runs."""
    bad = os.path.join(tmp, "no-such-dir", "stats.json")
    for extra in ([], ["--home"]):
        rc, out, err = om_run(*(extra + ["--stats", bad, "sh", "-c", "echo ran"]))
        check(rc == 1 and out == "" and err == "om-run: --stats %s: No such file or directory\n" % bad,
              "%r: exit %d %r %r" % (extra, rc, out, err))


def t_child_deputy_fds(tmp):
    """A process the program leaves running keeps om-run's stdout only if
    it has it itself: its deputy does not, so $(om-run ...) returns while
    it runs, as natively."""
    a = harness.Agent(tmp)
    script = ("x=$(%s --control %s sh -c 'sleep 100 >/dev/null 2>&1 </dev/null & echo $!'); "
              "kill -0 $x && echo alive $x" % (RUN, a.control))
    p = subprocess.run(["sh", "-c", script], capture_output=True, timeout=25)
    m = re.fullmatch(r"alive (\d+)\n", p.stdout.decode())
    if m:
        os.kill(int(m.group(1)), signal.SIGKILL)
    check(p.returncode == 0 and m, "the background sleep was not alive: %r %r" % (p.stdout, p.stderr))


def t_home_record_after_exec(tmp):
    """A child that execs and stays at home is listed with its new
    command line, not its parent's."""
    a = harness.Agent(tmp)
    p = spawn_run("--control", a.control, "sh", "-c", "sleep 60 & echo $!; wait")
    pid = int(p.stdout.readline())
    try:
        harness.wait_for(lambda: [j for j in a.jobs() if j["pid"] == pid and j["cmd"] == "sleep 60"], 10,
                         "a record of pid %d as 'sleep 60' (records: %r)" % (pid, a.jobs()))
    finally:
        os.kill(pid, signal.SIGKILL)
    p.communicate(timeout=10)
    check(p.returncode == 0, "exit %d" % p.returncode)


def t_restart_at_home(tmp):
    """om-run --restart of a file om-checkpoint --save made (a program
    saved at its entry point): with no agent it runs at home, its files
    opened again where they were; what cannot be given back is refused
    with a clear message, running nothing."""
    ckpt = os.path.join(harness.ROOT, "build", "om-checkpoint")
    prog = os.path.join(tmp, "numbered")
    with open(os.path.join(harness.ROOT, "build", "corpus", "dynamic", "numbered"), "rb") as f, \
            open(prog, "wb") as g:
        g.write(f.read())
    os.chmod(prog, 0o755)
    inp, out, ck, sock = (os.path.join(tmp, n) for n in ("in.txt", "out.txt", "saved.ckpt", "none.sock"))
    with open(inp, "w") as f:
        f.write("in 1\nin 2\nin 3\n")

    def save(stdout_mode="wb", **kw):
        with open(inp, "rb") as i, open(out, stdout_mode) as o:
            r = subprocess.run([ckpt, "--save", ck, prog, "3", "0"], stdin=i, stdout=o, stderr=subprocess.PIPE,
                               timeout=20, **kw)
        check(r.returncode == 0, "--save: %d %s" % (r.returncode, r.stderr))

    save()
    rc, _, err = om_run("--control", sock, "--restart", ck, timeout=20)
    with open(inp, "rb") as i:
        native = subprocess.run([prog, "3", "0"], stdin=i, capture_output=True, timeout=20)
    got = open(out, "rb").read()
    check(rc == native.returncode and got == native.stdout and err == "", "restarted: %d %r %r (native %d %r)"
          % (rc, got, err, native.returncode, native.stdout))
    save("ab")  # appended to: a restart must not append again what the job wrote since
    with open(out, "ab") as o:
        o.write(b"later\n")
    rc, _, err = om_run("--control", sock, "--restart", ck, timeout=20)
    check(rc == 1 and "out.txt grew or shrank since the checkpoint" in err, "appended: %d %r" % (rc, err))
    r, w = os.pipe()
    try:
        os.dup2(r, 5)
        save(pass_fds=(5,))
    finally:
        os.close(r), os.close(w), os.close(5)
    rc, _, err = om_run("--control", sock, "--restart", ck, timeout=20)
    check(rc == 1 and re.search(r"fd 5 \(pipe:\[\d+\]\) cannot be given back", err), "a pipe: %d %r" % (rc, err))
    save()
    with open(prog, "ab") as f:
        f.write(b"\0")
    rc, _, err = om_run("--control", sock, "--restart", ck, timeout=20)
    check(rc == 1 and "numbered, which it runs code from, changed since the checkpoint" in err,
          "its program changed: %d %r" % (rc, err))
    rc, _, err = om_run("--restart", ck, "ls")
    check(rc == 2 and "no PROGRAM with it" in err, "a program too: %d %r" % (rc, err))
    rc, _, err = om_run("--control", sock, "--restart", "/dev/null")
    check(rc == 1 and "not a regular file" in err, "a device: %d %r" % (rc, err))
    # stdout and stderr one open file (2>&1): one again, where it was
    with open(os.path.join(harness.ROOT, "build", "corpus", "dynamic", "numbered"), "rb") as f, \
            open(prog, "wb") as g:
        g.write(f.read())
    with open(inp, "wb") as f:
        f.write(b"in 1\nbad\n")  # numbered says so on stderr, and exits 2
    with open(inp, "rb") as i, open(out, "wb") as o:
        r = subprocess.run([ckpt, "--save", ck, prog, "3", "0"], stdin=i, stdout=o, stderr=o, timeout=20)
    check(r.returncode == 0, "--save 2>&1: %d" % r.returncode)
    rc, _, err = om_run("--control", sock, "--restart", ck, timeout=20)
    with open(inp, "rb") as i:
        native = subprocess.run([prog, "3", "0"], stdin=i, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    got = open(out, "rb").read()
    check(rc == native.returncode == 2 and got == native.stdout and err == "", "2>&1: %d %r %r (native %r)"
          % (rc, got, err, native.stdout))


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]


if __name__ == "__main__":
    sys.exit(harness.run_tests(TESTS, (RUN, harness.AGENT), PREFIX, TEST_TIMEOUT, "om-run-test-"))
