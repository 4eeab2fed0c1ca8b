#!/usr/bin/env python3
"""test_claims.py - the CPU figures nodes claim, checked against what their
jobs get (server-agent/agent/claims.h, docs/security.md): fake nodes over
the encrypted link run fake jobs and list them in their heartbeats with
the CPU time a machine of their kind would count, from their own clock.
One that claims 16 cores and gives its 16 runnable jobs the time of 4 is
flagged; one that has its 16 cores, and one that shares 8 cores among 16
jobs (om-run --node), are not; one that reports more CPU time than its
cores can give is flagged at once. The flag is logged once, shown by
om-mon, kept over a reconnect with the same key and gone with a new one.
Environment as test_agent.py (OM_AGENT, OM_MON)."""
import os
import re
import sys
import time

import omwire as ow
from harness import AGENT, MAC1, MAC2, MAC3, MON, Agent, check, run_tests, wait_for

PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "claims/"
TEST_TIMEOUT = 30
JOBS = 16


class Machine:
    """A fake node n and its jobs, all started at once, each counting
    share x the time since as its CPU time (share 1: a core of its own)."""

    def __init__(self, a, mac, cores, share, jobs=JOBS):
        self.n = a.node(mac, cores=cores)
        self.share = share
        self.booted = time.monotonic()
        c = a.ctl()
        self.jobs = [c.submit(node=self.n.id)[0] for _ in range(jobs)]
        check(all(self.jobs), "not all placed on node %d" % self.n.id)
        for job in self.jobs:
            self.n.send_frame(ow.T_JOB_STARTED, job=job)
        self.started = time.monotonic()
        self.c = c  # keeps the jobs' home connection open

    def heartbeat(self, share=None):
        now = time.monotonic()
        cpu_ns = int((now - self.started) * (self.share if share is None else share) * 1e9)
        uptime_ms = 4321 + int((now - self.booted) * 1000)
        self.n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(uptime_ms, 1000 * len(self.jobs), 256 << 20,
                                                       len(self.jobs),
                                                       [(j, cpu_ns, 1) for j in self.jobs]))


HEARTBEAT_MS = 400  # the agent's --heartbeat-ms where nodes beat on time


def beat_until(machines, pred, what, timeout=20):
    """Heartbeats from every machine every HEARTBEAT_MS (on time: the
    number of runnable jobs stays the same) until pred()."""
    end = time.monotonic() + timeout
    while not pred():
        check(time.monotonic() < end, "timed out waiting for " + what)
        for m in machines:
            m.heartbeat()
        time.sleep(HEARTBEAT_MS / 1000)


def t_cores_checked(tmp):
    a = Agent(tmp, "-v", "--heartbeat-ms", str(HEARTBEAT_MS))
    honest = Machine(a, MAC1, cores=16, share=1.0)
    liar = Machine(a, MAC2, cores=16, share=0.25)  # 4 cores' worth for 16 jobs
    sharing = Machine(a, MAC3, cores=8, share=0.5)  # 16 jobs on 8 cores, as --node places them
    ids = {m.n.id: m for m in (honest, liar, sharing)}
    held = r"node (\d+): its claims hold: its runnable jobs got [\d.]+ of the [\d.]+ core-seconds"
    beat_until(ids.values(), lambda: "its CPU claims look false" in a.log() and
               {int(x) for x in re.findall(held, a.log())} >= {honest.n.id, sharing.n.id},
               "the liar flagged and the others judged")
    flagged = re.findall(r"node (\d+) \(key ([0-9a-f-]+)\): its CPU claims look false: its runnable jobs "
                         r"got ([\d.]+) of the ([\d.]+) core-seconds its 16 cores would give them; "
                         r"om-mon shows it suspect", a.log())
    check(len(flagged) == 1 and int(flagged[0][0]) == liar.n.id and flagged[0][1] == liar.n.s.fingerprint,
          "flagged: %r" % a.log()[-800:])
    got, want = float(flagged[0][2]), float(flagged[0][3])
    check(want >= 30 and got < want / 2, "the figures: %r" % (flagged,))
    check(str(liar.n.id) not in re.findall(held, a.log()), "the liar's claims held once")
    for _ in range(5):  # logged once
        liar.heartbeat()
        time.sleep(HEARTBEAT_MS / 1000)
    check(a.log().count("its CPU claims look false") == 1, "logged again")
    nodes = a.nodes()
    check((nodes[MAC1]["claims"], nodes[MAC2]["claims"], nodes[MAC3]["claims"]) == ("ok", "cores", "ok"),
          "om-mon --json: %r" % [(n["id"], n["claims"]) for n in nodes.values()])
    rc, out, err = a.mon()
    rows = {line.split()[1]: line.split() for line in out.splitlines()[1:]}
    check(rc == 0 and rows[MAC2][10] == "up,suspect" and rows[MAC1][10] == "up" and
          rows[MAC2][12] == liar.n.s.fingerprint, "om-mon: %r" % out)


def t_intermittent_jobs_not_flagged(tmp):
    """An honest node whose jobs block now and then (a call forwarded
    home, a sleep) sends a heartbeat soon after each change in how many
    want a core (net/agent_link.c): a job may be runnable whenever one is
    sent and still get far less than a core in between. Such windows
    prove nothing and are not counted."""
    a = Agent(tmp, "-v")  # heartbeats every 1000 ms unless something changes
    m = Machine(a, MAC1, cores=16, share=0.3)  # each job runs 30% of the time
    end = time.monotonic() + 6  # 60 windows of 1.6 core-seconds: 96, all runnable at both ends
    while time.monotonic() < end:
        m.heartbeat()
        time.sleep(0.1)
    check("its CPU claims look false" not in a.log(), "an honest node flagged: %r" % a.log()[-600:])
    check(a.nodes()[MAC1]["claims"] == "ok", "shown suspect")


def t_cpu_time_checked(tmp):
    a = Agent(tmp)
    key = os.urandom(32)
    n = a.node(MAC1, static=key, cores=2)
    job = a.ctl().submit(node=n.id)[0]
    n.send_frame(ow.T_JOB_STARTED, job=job)
    # one job, 100 s of CPU time a moment after its node registered
    n.send_frame(ow.T_HEARTBEAT, ow.heartbeat(5000, 1000, 256 << 20, 1, [(job, 100 * 10**9, 1)]))
    wait_for(lambda: "its CPU claims look false" in a.log(), 5, "the flag")
    check(re.search(r"node 1 \(key %s\): its CPU claims look false: its jobs used 100\.0 s of CPU time in "
                    r"[\d.]+ s on 2 cores; om-mon shows it suspect" % n.s.fingerprint, a.log()),
          "log: %r" % a.log()[-500:])
    check(a.nodes()[MAC1]["claims"] == "cpu-time", "not shown")
    # the same key again (a reconnect): still flagged; a new key (a reboot): not
    n.close()
    wait_for(lambda: a.nodes()[MAC1]["state"] == "down", 5, "the node down")
    n = a.node(MAC1, static=key, cores=2)
    check(a.nodes()[MAC1]["claims"] == "cpu-time", "a reconnect cleared the flag")
    n.close()
    wait_for(lambda: a.nodes()[MAC1]["state"] == "down", 5, "the node down")
    a.node(MAC1, cores=2)
    check(a.nodes()[MAC1]["claims"] == "ok", "a new key kept the flag")
    check(a.log().count("its CPU claims look false") == 1, "logged again")


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, (AGENT, MON), PREFIX, TEST_TIMEOUT, "om-test-"))
