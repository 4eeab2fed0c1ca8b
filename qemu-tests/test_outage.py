"""Nothing lost when a lab PC goes away: a node that goes quiet for a while
(paused, a cable or switch hiccup) keeps its jobs through the agent's grace
period and they go on where they were; a job on a node has its image kept
at home (checkpoints) while it runs."""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

from omtest import BUILD, check, children, cluster, wait_for

OM_RUN = os.path.join(BUILD, "om-run")
OM_CHECKPOINT = os.path.join(BUILD, "om-checkpoint")
NUMBERED = os.path.join(BUILD, "corpus", "static", "numbered")
CLOCKED = os.path.join(BUILD, "corpus", "static", "clocked")


RESTARTED = re.compile(r"node (\d+) was lost; it starts again on node (\d+) from its checkpoint \(after call "
                       r"(\d+); the (\d+) made since are answered from the log\)")


QUICK_GRACE = ("--down-after", "3000", "--grace", "3000")


def numbered_input(count):
    return "".join("in %d\n" % i for i in range(1, count + 1)).encode()


def run_numbered(prefix, lines, extra, period_ms):
    """sh runs prefix + numbered LINES, then cat: what numbered did not
    read of its input comes out after its lines. Returns the Popen."""
    script = '"$@"; echo "exit $?"; cat'
    r, w = os.pipe()
    os.write(w, numbered_input(lines + extra))  # a pipe holds it all
    os.close(w)
    try:
        return subprocess.Popen(["/bin/sh", "-c", script, "sh"] + prefix + [NUMBERED, str(lines), str(period_ms)],
                                stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        os.close(r)


def native_numbered(lines, extra):
    """numbered's output run natively (period 100 ms)."""
    native = run_numbered([], lines, extra, 100)
    return native.communicate(timeout=60)[0]


def one_node(c):
    """A node booted and registered: (the node, its id)."""
    n = c.boot(mem=256)
    c.wait_registered(n)
    return n, c.node_by_mac(n.mac)["id"]


def numbered_on(c, node_id, lines, extra, *more):
    """om-run -v numbered on node_id (a line each 500 ms), its stderr read
    by a thread meanwhile: (the Popen, the stderr lines so far, the thread)."""
    p = run_numbered([OM_RUN, "-v", "--control", c.control, "--node", str(node_id)] + list(more), lines, extra, 500)
    c.procs.append(p)
    err = []
    reader = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)
    reader.start()
    return p, err, reader


def read_until(p, got, n, stderr=None):
    """got and p's stdout up to numbered's line n (os.read: communicate
    later reads past what readline would have buffered); fails if the job
    ends first. stderr: what it said so far, when a thread reads it."""
    while b"line %d:" % n not in got:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            check(False, "the job ended before line %d: %r %s" % (n, got, stderr() if stderr else p.stderr.read()))
        got += chunk
    return got


def test_paused_node_keeps_its_job():
    lines, extra = 14, 2
    native = run_numbered([], lines, extra, 200)
    want, _ = native.communicate(timeout=60)
    check(native.returncode == 0 and want.endswith(b"exit 0\nin 15\nin 16\n"), "native run: %r" % want[-200:])
    with cluster("--down-after", "3000") as c:  # the grace: 30 s, the default
        n, node_id = one_node(c)
        p = run_numbered([OM_RUN, "-v", "--control", c.control, "--node", str(node_id)], lines, extra, 500)
        c.procs.append(p)
        got = read_until(p, b"", 3)
        n.proc.send_signal(signal.SIGSTOP)
        try:
            c.wait_registered(n, timeout=8, state="down")
            time.sleep(7)  # 10 s of silence in all, about
        finally:
            n.proc.send_signal(signal.SIGCONT)
        c.wait_registered(n, timeout=15)
        rest, err = p.communicate(timeout=60)
        got += rest
        log = c.agent_text()
    check(got == want, "output differs from the native run (exit %d):\n%r\n%r\nstderr: %s"
          % (p.returncode, got, want, err.decode()[-1500:]))
    check("its 1 job(s) wait up to 30000 ms for it" in log and "node %d up again" % node_id in log,
          "the agent did not say it waited: %s" % log[-1500:])
    check(b"lost" not in err and b"comes home" not in err, "om-run said: %s" % err.decode()[-1500:])
    print("INFO a node paused for about 10 s (down after 3 s, grace 30 s): its job went on there, "
          "output and input as natively")


def test_checkpoints_while_it_runs():
    """om-run --checkpoint-every: the node sends the job's image home
    every second, or as often as its cost allows (5 % of the job's time),
    while it runs there, and it goes on as if nothing happened; after the
    first, what changed since the last (smaller); the file is a whole image
    om-checkpoint reads."""
    lines, extra = 20, 1
    want = native_numbered(lines, extra)
    with cluster() as c:
        n, node_id = one_node(c)
        ck = os.path.join(c.dir, "numbered.ckpt")
        p = run_numbered([OM_RUN, "-v", "--control", c.control, "--node", str(node_id), "--checkpoint-every", "1",
                          "--checkpoint-file", ck], lines, extra, 500)
        c.procs.append(p)
        got, err = p.communicate(timeout=90)
        err = err.decode()
        taken = re.findall(r"checkpoint (\d+) from node %d: (\d+) bytes( \(what changed since the last\))?; "
                           r"the job waited (\d+) ms" % node_id, err)
        check(got == want, "output differs from the native run:\n%r\n%r\nstderr: %s" % (got, want, err[-1500:]))
        check(len(taken) >= 2 and [int(t[0]) for t in taken] == list(range(1, len(taken) + 1)),
              "checkpoints said: %r\n%s" % (taken, err[-1500:]))
        left = [f for f in os.listdir(c.dir) if f.startswith("numbered.ckpt.")]
        check(os.stat(ck).st_mode & 0o777 == 0o600 and not left, "the file's mode, or left: %r" % left)
        info = subprocess.run([OM_CHECKPOINT, "--info", ck], capture_output=True, text=True, timeout=30)
        check(info.returncode == 0 and "regions:" in info.stdout, "om-checkpoint --info: %d %s %s"
              % (info.returncode, info.stdout[-500:], info.stderr[-500:]))
        deltas = [int(t[1]) for t in taken[1:] if t[2]]
        check(not taken[0][2] and deltas and max(deltas) < int(taken[0][1]),
              "the first whole, smaller ones of what changed after: %r" % (taken,))
        waited = sorted(int(t[3]) for t in taken)
        print("INFO numbered on a node with --checkpoint-every 1: %d checkpoints, the first whole (%d KiB), %d of "
              "what changed (%d KiB the largest); the job waited %d ms (median) for each (TCG); output as natively"
              % (len(taken), int(taken[0][1]) // 1024, len(deltas), max(deltas) // 1024, waited[len(waited) // 2]))


def test_node_killed_job_restarts_from_checkpoint():
    """The PC under a job is switched off (its QEMU killed), twice, at
    random moments: each time the job starts again on another node from
    its last checkpoint; the calls it made since are answered from the
    deputy's log, not run again, so its output is the native run's byte
    for byte (nothing missing, nothing twice) and its input was read
    exactly once."""
    lines, extra = 18, 2
    rnd = random.Random()
    kills = [rnd.randint(5, 8), rnd.randint(11, 15)]  # a checkpoint is asked for after 1 s
    want = native_numbered(lines, extra)
    # A closed connection waits for the node to connect again, up to the
    # grace: the shortest (down-after) here.
    with cluster(*QUICK_GRACE) as c:
        nodes = [c.boot(mem=256) for _ in range(3)]
        for n in nodes:
            c.wait_registered(n)
        by_id = {c.node_by_mac(n.mac)["id"]: n for n in nodes}
        first = min(by_id)
        ck = os.path.join(c.dir, "numbered.ckpt")
        p, err, reader = numbered_on(c, first, lines, extra, "--checkpoint-every", "1", "--checkpoint-file", ck)
        got, on, restarts = b"", first, []
        for k in kills:
            got = read_until(p, got, k, lambda: b"".join(err).decode())
            by_id[on].proc.kill()
            said = wait_for(lambda: RESTARTED.search(b"".join(err).decode(), restarts[-1].end() if restarts else 0),
                            60, "om-run to restart the job after line %d" % k)
            check(int(said.group(1)) == on, "restarted after node %s, killed %d" % (said.group(1), on))
            restarts.append(said)
            on = int(said.group(2))
        rest, _ = p.communicate(timeout=120)
        got += rest
        reader.join(5)
        err = b"".join(err).decode()
    check(got == want, "output differs from the native run (exit %d):\n%r\n%r\nstderr: %s"
          % (p.returncode, got, want, err[-2500:]))
    print("INFO numbered's node killed after lines %d and %d: each time it started again on another node from "
          "its checkpoint (%s); output and input as natively"
          % (kills[0], kills[1], "; ".join("after call %s, %s calls answered from the log" % (m.group(3), m.group(4))
                                           for m in restarts)))


CLOCKED_LINE = re.compile(rb"line (\d+): mono (\d+), reads (\d+), rand [0-9a-f]{32}, ticks (\d+), "
                          rb"sum [0-9a-f]{16}, left (\d+)\n")
CHECKPOINT_SAID = re.compile(r"checkpoint (\d+) from node")


def test_node_decisions_replayed_after_restart():
    """What a node decides for a job on its own (the clocks it reads,
    random bytes from its RDRAND, where its interval timer's signals
    came) goes home with the job's next call and is logged with it. Its
    node switched off, the job restarts from its checkpoint; the new node
    reads it the same values again and delivers it the same signals at
    the same instructions up to the last call it had made, so it writes
    again what it had written (home checks it byte for byte, and answers
    from the log) and goes on. Each line comes once, in order, the clocks
    never go backwards."""
    lines = 24
    with cluster(*QUICK_GRACE) as c:
        nodes = [c.boot(mem=256, extra=["-cpu", "max"]) for _ in range(2)]
        for n in nodes:
            c.wait_registered(n)
        by_id = {c.node_by_mac(n.mac)["id"]: n for n in nodes}
        first = min(by_id)
        ck = os.path.join(c.dir, "clocked.ckpt")
        p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(first), "--checkpoint-every", "2",
                              "--checkpoint-file", ck, CLOCKED, str(lines), "200", "ticking"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        c.procs.append(p)
        err = []
        reader = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)
        reader.start()
        said = lambda: b"".join(err).decode()
        # Killed two lines after a checkpoint, well before the next: the
        # restart makes those lines' calls and decisions again.
        got, n, seen, seen_at, after = b"", 0, 0, 0, 0
        while not (seen and after >= 2 and time.monotonic() - seen_at < 1.5):
            n += 1
            check(n <= lines - 3, "no checkpoint in time to kill the node after it: %s" % said()[-1500:])
            got = read_until(p, got, n, said)
            count = len(CHECKPOINT_SAID.findall(said()))
            if count != seen:
                seen, seen_at, after = count, time.monotonic(), 0
            else:
                after += 1
        by_id[first].proc.kill()
        restarted = wait_for(lambda: RESTARTED.search(said()), 60, "om-run to restart the job")
        rest, _ = p.communicate(timeout=120)
        got += rest
        reader.join(5)
        err = said()
    found = CLOCKED_LINE.findall(got)
    check(p.returncode == 0 and len(CLOCKED_LINE.sub(b"", got)) == 0 and
          [int(m[0]) for m in found] == list(range(1, lines + 1)),
          "exit %d, lines not each once in order:\n%r\nstderr: %s" % (p.returncode, got, err[-2500:]))
    mono = [int(m[1]) for m in found]
    check(mono == sorted(mono), "the monotonic clock went backwards across the restart: %r" % mono)
    check(int(restarted.group(4)) > 0, "the restart answered no call from the log: %s" % err[-1500:])
    print("INFO its node killed after line %d, the job started again from its checkpoint after call %s; %s calls "
          "made again with the node's decisions replayed (%s clock readings and %s timer signals by the last "
          "line, %d sleeps cut short saying the time left), each line once"
          % (n, restarted.group(3), restarted.group(4), found[-1][2].decode(), found[-1][3].decode(),
             sum(1 for m in found if int(m[4]) > 0)))


def test_silent_past_grace_restarts_and_stale_job_dies():
    """A node paused longer than the grace: its job starts again on
    another node from its checkpoint; when the paused node goes on, its
    copy of the job is killed there (the agent told it to drop it), never
    run twice: the output is still the native run's."""
    lines, extra = 14, 1
    want = native_numbered(lines, extra)
    with cluster("--down-after", "2000", "--grace", "4000") as c:
        a, b = c.boot(mem=256), c.boot(mem=256)
        for n in (a, b):
            c.wait_registered(n)
        ida, idb = (c.node_by_mac(n.mac)["id"] for n in (a, b))
        ck = os.path.join(c.dir, "numbered.ckpt")
        p = run_numbered([OM_RUN, "-v", "--control", c.control, "--node", str(ida), "--checkpoint-every", "1",
                          "--checkpoint-file", ck], lines, extra, 500)
        c.procs.append(p)
        got = read_until(p, b"", 5)
        a.proc.send_signal(signal.SIGSTOP)
        try:
            wait_for(lambda: "NODE_LOST sent to om-run" in c.agent_text(), 15, "the grace to run out")
            # (paused until the job is placed again: else it may go back to a)
            wait_for(lambda: re.search(r"job \d+ placed on node %d " % idb, c.agent_text()), 15,
                     "the job to be placed again")
        finally:
            a.proc.send_signal(signal.SIGCONT)
        rest, err = p.communicate(timeout=120)
        got += rest
        err = err.decode()
        a.wait_serial("killed (its deputy is gone)", timeout=15)
    check(got == want, "output differs from the native run (exit %d):\n%r\n%r\nstderr: %s"
          % (p.returncode, got, want, err[-2500:]))
    m = RESTARTED.search(err)
    check(m and int(m.group(1)) == ida and int(m.group(2)) == idb, "no restart on node %d said: %s" % (idb, err[-1500:]))
    print("INFO a node paused past the grace (4 s): its job started again on another node from its checkpoint; "
          "the paused node, going on, dropped its copy; output and input as natively")


def test_debian_gzip_survives_its_node():
    """Debian's gzip under --checkpoint-every, its node switched off
    halfway: it starts again on the other node from its checkpoint and
    the .gz is byte for byte the native one (what it had read and written
    is not read or written again)."""
    gzip = shutil.which("gzip")
    check(gzip, "gzip is missing")
    with cluster(*QUICK_GRACE) as c:
        src = os.path.join(c.dir, "in.txt")
        with open(src, "w") as f:  # some MB of text that compresses, as logs do
            for i in range(120000):
                f.write("%08d lab pc %d ran job %d for %d ms\n" % (i, i % 97, i * 7 % 1009, i * 31 % 4099))
        with open(os.path.join(c.dir, "native.gz"), "wb") as out:
            subprocess.run([gzip, "-9", "-c", src], stdout=out, check=True, timeout=60)
        want = open(os.path.join(c.dir, "native.gz"), "rb").read()
        a, b = c.boot(mem=256), c.boot(mem=256)
        for n in (a, b):
            c.wait_registered(n)
        ida, idb = (c.node_by_mac(n.mac)["id"] for n in (a, b))
        dst = os.path.join(c.dir, "om.gz")
        with open(dst, "wb") as out:
            p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(ida), "--checkpoint-every",
                                  "1", "--checkpoint-file", os.path.join(c.dir, "gzip.ckpt"), gzip, "-9", "-c", src],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        c.procs.append(p)
        wait_for(lambda: os.path.getsize(dst) > len(want) // 2 or p.poll() is not None, 120, "half of the .gz")
        if p.poll() is not None:
            check(False, "gzip ended before half its output: %s" % p.stderr.read().decode()[-1500:])
        a.proc.kill()
        _, err = p.communicate(timeout=180)
        err = err.decode()
        got = open(dst, "rb").read()
    check(p.returncode == 0 and got == want, "gzip through a restart: exit %d, %d bytes against %d native; %s"
          % (p.returncode, len(got), len(want), err[-2000:]))
    m = RESTARTED.search(err)
    check(m and int(m.group(2)) == idb, "no restart said: %s" % err[-1500:])
    print("INFO Debian's gzip -9 (%d KB of .gz): its node killed halfway, it started again on the other node from "
          "its checkpoint (after call %s, %s calls answered from the log); the .gz is the native one"
          % (len(want) // 1024, m.group(3), m.group(4)))


def test_agent_killed_and_restarted():
    """om-agent killed (SIGKILL, a crash) and started again, then stopped
    (SIGTERM, an upgrade) and started again, while numbered runs on a node
    and reads its input: the node and om-run connect to the new agent and
    claim the job, which goes on; output and input as natively."""
    lines, extra = 16, 2
    want = native_numbered(lines, extra)
    with cluster() as c:
        n, node_id = one_node(c)
        p, err, reader = numbered_on(c, node_id, lines, extra)
        got = read_until(p, b"", 3, lambda: b"".join(err).decode())
        c.stop_agent(signal.SIGKILL)
        time.sleep(1)
        c.start_agent()
        wait_for(lambda: "holds it again" in c.agent_text(), 30, "the node to claim its job on the new agent")
        got = read_until(p, got, 9, lambda: b"".join(err).decode())
        c.stop_agent(signal.SIGTERM)
        c.start_agent()
        got += p.stdout.read()  # stderr is the reader's
        p.wait(timeout=60)
        reader.join(5)
        err = b"".join(err).decode()
        log = c.agent_text()
    check(got == want, "output differs from the native run (exit %d):\n%r\n%r\nstderr: %s\nagent: %s"
          % (p.returncode, got, want, err[-2500:], log[-4000:]))
    # (om-run may reach a dying agent's socket first, and try again)
    check(log.count("holds it again") == 2 and err.count("holds the job again") == 2,
          "the job was not claimed twice: %s\n%s" % (log[-3000:], err[-1500:]))
    check("was lost" not in err, "om-run said: %s" % err[-1500:])
    print("INFO the agent killed (SIGKILL) and stopped (SIGTERM) under numbered on a node, each time started "
          "again: the job went on there; output and input as natively")


def test_om_checkpoint_saves_a_running_job():
    """om-checkpoint PID FILE saves a job that runs on a node without
    --checkpoint-every in FILE, which om-checkpoint --info reads; FILE is
    then the job's checkpoint: its node switched off, the job starts again
    on the other node from it; output and input as natively."""
    lines, extra = 14, 2
    want = native_numbered(lines, extra)
    with cluster(*QUICK_GRACE) as c:
        a, b = c.boot(mem=256), c.boot(mem=256)
        for n in (a, b):
            c.wait_registered(n)
        ida, idb = (c.node_by_mac(n.mac)["id"] for n in (a, b))
        p, err, reader = numbered_on(c, ida, lines, extra)
        got = read_until(p, b"", 3, lambda: b"".join(err).decode())
        om_run = children(p.pid)[0]
        program = children(om_run)[0]
        ck = os.path.join(c.dir, "saved.ckpt")
        ask = subprocess.run([OM_CHECKPOINT, "--control", c.control, str(program), ck], capture_output=True,
                             text=True, timeout=90)
        check(ask.returncode == 0 and "saved in %s" % ck in ask.stdout, "om-checkpoint: %d %s %s"
              % (ask.returncode, ask.stdout, ask.stderr))
        info = subprocess.run([OM_CHECKPOINT, "--info", ck], capture_output=True, text=True, timeout=30)
        check(info.returncode == 0 and "regions:" in info.stdout, "--info: %s %s" % (info.stdout, info.stderr))
        size = os.path.getsize(ck)
        bad = subprocess.run([OM_CHECKPOINT, "--control", c.control, "999999", ck], capture_output=True,
                             text=True, timeout=30)
        check(bad.returncode == 1 and "999999: agent: pid 999999: no such job of yours" in bad.stderr, "no such job: %d %s"
              % (bad.returncode, bad.stderr))
        got = read_until(p, got, 6, lambda: b"".join(err).decode())
        a.proc.kill()
        got += p.stdout.read()
        p.wait(timeout=60)
        reader.join(5)
        err = b"".join(err).decode()
    check(got == want, "output differs from the native run (exit %d):\n%r\n%r\nstderr: %s"
          % (p.returncode, got, want, err[-2500:]))
    m = RESTARTED.search(err)
    check(m and int(m.group(2)) == idb, "no restart from the saved file: %s" % err[-1500:])
    print("INFO om-checkpoint PID FILE saved numbered running on a node (%d KiB); its node killed later, it "
          "started again from that file (after call %s, %s calls answered from the log); output as natively"
          % (size // 1024, m.group(3), m.group(4)))


def file_has(path, text, timeout, what):
    wait_for(lambda: os.path.exists(path) and text in open(path, "rb").read(), timeout, what)


def test_restart_from_a_saved_file():
    """om-checkpoint PID FILE saves the dynamic numbered, which reads an
    input file and writes an output file on a node; the job and its
    om-run are killed; om-run --restart FILE continues it on the node,
    reading and writing each file from where the checkpoint had it: the
    output file ends as a native run's, with its exit status. Refused,
    with a clear message: FILE cut short, FILE corrupt, the input file
    changed since."""
    lines = 12
    numbered = os.path.join(BUILD, "corpus", "dynamic", "numbered")
    with cluster() as c:
        infile, out, native = (os.path.join(c.dir, f) for f in ("in.txt", "out.txt", "native.txt"))
        with open(infile, "wb") as f:
            f.write(numbered_input(lines))
        with open(infile, "rb") as i, open(native, "wb") as o:
            native_rc = subprocess.run([numbered, str(lines), "100"], stdin=i, stdout=o, timeout=60).returncode
        n, node_id = one_node(c)
        with open(infile, "rb") as i, open(out, "wb") as o:
            p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(node_id), numbered,
                                  str(lines), "500"], stdin=i, stdout=o, stderr=subprocess.PIPE)
        c.procs.append(p)
        file_has(out, b"line 3:", 90, "numbered's line 3 on its node")
        program = children(p.pid)[0]
        ck = os.path.join(c.dir, "saved.ckpt")
        ask = subprocess.run([OM_CHECKPOINT, "--control", c.control, str(program), ck], capture_output=True,
                             text=True, timeout=90)
        check(ask.returncode == 0, "om-checkpoint: %d %s %s" % (ask.returncode, ask.stdout, ask.stderr))
        file_has(out, b"line 6:", 60, "numbered's line 6, after its checkpoint")
        p.kill()  # om-run: its home process goes with it, the agent ends the job on the node
        p.wait(timeout=30)
        wait_for(lambda: not json.loads(c.mon("--json").stdout)["jobs"], 30, "the agent to forget the job")

        def restart(path):
            return subprocess.run([OM_RUN, "-v", "--control", c.control, "--restart", path],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
        data = open(ck, "rb").read()
        cut, bad = os.path.join(c.dir, "cut.ckpt"), os.path.join(c.dir, "bad.ckpt")
        open(cut, "wb").write(data[:len(data) // 2])
        open(bad, "wb").write(data[:40] + bytes(b ^ 0xff for b in data[40:48]) + data[48:])
        for path, says in ((cut, "it is cut short"), (bad, "is not a checkpoint om-run can restart")):
            r = restart(path)
            check(r.returncode == 1 and says in r.stderr, "--restart %s: %d %s" % (path, r.returncode, r.stderr))
        r = restart(ck)
        got = open(out, "rb").read()
        want = open(native, "rb").read()
        check(r.returncode == native_rc and got == want, "restarted: exit %d (native %d)\n%r\n%r\n%s"
              % (r.returncode, native_rc, got, want, r.stderr[-2500:]))
        check("is the saved process now" in r.stderr and "placed on node %d" % node_id in r.stderr,
              "not restarted on the node: %s" % r.stderr[-1500:])
        with open(infile, "ab") as f:
            f.write(b"more\n")
        r = restart(ck)
        check(r.returncode == 1 and "in.txt changed since the checkpoint" in r.stderr,
              "a changed input file: %d %s" % (r.returncode, r.stderr))
    print("INFO om-run --restart FILE continued the dynamic numbered, saved on its node and killed, on the "
          "node from its input and output files' positions: output file as natively; a cut, a corrupt file "
          "and a changed input refused")
