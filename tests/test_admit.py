#!/usr/bin/env python3
"""test_admit.py - which nodes may join (agent.conf's admit; docs/security.md):
the pairing policy with the real om-ctl (admit, pending, root only), the
list policy by network and MAC, and the settings that are refused. Fake
nodes speak the encrypted link (tests/omlink.py), each with its own key as
a node makes one at boot. Environment as test_agent.py (OM_AGENT, OM_MON;
OM_CTL picks om-ctl)."""
import json
import os
import subprocess
import sys

import omlink
import omwire as ow
from harness import AGENT, CTL, MAC1, MAC2, MON, NOBODY, agent_with, check, fake_hello, om_ctl, run_tests

PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "admit/"
TEST_TIMEOUT = 20


def refused(a, mac, static=None):
    """A node's HELLO refused with ERROR OM_E_ADMIT: (message, its fingerprint)."""
    n = a.node(static=static)
    n.send_frame(ow.T_HELLO, fake_hello(mac))
    frames = n.expect_closed()
    check([f[0] for f in frames] == [ow.T_ERROR], "%s: got %r" % (mac, frames))
    code, msg = ow.error_decode(frames[0][3])
    check(code == ow.E_ADMIT, "%s: error %d %r" % (mac, code, msg))
    return msg, n.s.fingerprint


def t_pairing(tmp):
    """A node waits, is listed by om-ctl pending, joins after om-ctl admit
    with its fingerprint, on its next try with the same key; a key admitted
    before it asked joins at once; only root admits."""
    a = agent_with(tmp, "admit = pairing\n")
    check("admit pairing" in a.log(), "the policy is not logged: %r" % a.log())
    key = os.urandom(32)
    for tries in (1, 2):
        msg, fp = refused(a, MAC1, static=key)
        check(msg == "not admitted yet: om-ctl admit %s" % fp, "refusal %d: %r" % (tries, msg))
    check(a.nodes() == {}, "listed before admission: %r" % a.nodes())
    check(a.log().count("waits for admission") == 1, "each retry logged: %r" % a.log()[-500:])
    rc, out, err = om_ctl(a, "--json", "pending")
    check(rc == 0, "pending: %d %r" % (rc, err))
    p = json.loads(out)["pending"]
    check(len(p) == 1 and p[0]["key"] == fp and p[0]["mac"] == MAC1 and p[0]["ip"] == "127.0.0.1" and
          p[0]["asks"] == 2, "pending: %r" % p)
    rc, out, _ = om_ctl(a, "pending")
    check(rc == 0 and out.splitlines()[0].split() == ["KEY", "MAC", "ADDRESS", "WAITING", "ASKS"] and
          out.splitlines()[1].split()[:3] == [fp, MAC1, "127.0.0.1"], "pending table: %r" % out)
    for d in (tmp, os.path.dirname(a.control), os.path.dirname(os.path.dirname(a.control))):
        os.chmod(d, 0o755)
    rc, out, err = om_ctl(a, "admit", fp, as_uid=NOBODY)
    check(rc == 1 and "permission denied (root only)" in err, "nobody admitted: %d %r" % (rc, err))
    for bad in ("1a2b-3c4d-5e6f", "1A2B-3C4D-5E6F-7081", "zzzz-3c4d-5e6f-7081"):
        rc, _, err = om_ctl(a, "admit", bad)
        check(rc == 1 and "not a key fingerprint" in err, "%s: %d %r" % (bad, rc, err))
    rc, out, err = om_ctl(a, "admit", fp)
    check(rc == 0 and out == "om-ctl: key %s admitted; node %s at 127.0.0.1 joins at its next try "
          "(within 5 s)\n" % (fp, MAC1), "admit: %d %r %r" % (rc, out, err))
    n = a.node(MAC1, static=key)
    check(n.id == 1 and a.nodes()[MAC1]["state"] == "up", "not registered after admit")
    rc, out, _ = om_ctl(a, "--json", "pending")
    check(rc == 0 and json.loads(out)["pending"] == [], "still pending: %r" % out)
    # A key admitted before its node asked.
    early = os.urandom(32)
    efp = omlink.fingerprint(omlink.x25519_public(early))
    rc, out, _ = om_ctl(a, "admit", efp)
    check(rc == 0 and out == "om-ctl: key %s admitted; no node with it has asked yet\n" % efp, out)
    a.node(MAC2, static=early)
    # Another key is still refused, and a live node's MAC stays its own.
    refused(a, MAC1)
    a.check_up(MAC1)


def t_list(tmp):
    """admit = list: the address must be in admit_nets and the MAC in
    admit_macs (each when given)."""
    a = agent_with(tmp, "admit = list\nadmit_nets = 10.0.0.0/8, 127.0.0.0/8\n"
                   "admit_macs = %s, 02:00:00:00:00:09\n" % MAC1)
    a.node(MAC1)
    msg, _ = refused(a, MAC2)
    check(msg == "address 127.0.0.1 or MAC not in admit_nets/admit_macs", "refusal: %r" % msg)
    check(set(a.nodes()) == {MAC1}, "listed: %r" % a.nodes())
    a.stop()
    b = agent_with(tmp, "admit = list\nadmit_nets = 192.168.1.0/24\n", name="b")
    refused(b, MAC1)
    b.stop()
    c = agent_with(tmp, "admit = list\nadmit_macs = %s\n" % MAC2, name="c")
    c.node(MAC2)
    refused(c, MAC1)


def t_settings_refused(tmp):
    conf = os.path.join(tmp, "bad.conf")
    for text, want in (("admit = maybe\n", "admit: not open, list or pairing"),
                       ("admit = list\n", "admit = list needs admit_nets or admit_macs"),
                       ("admit_nets = 10.0.0.0/8\n", "admit_nets and admit_macs need admit = list"),
                       ("admit = list\nadmit_nets = 10.0.0.0\n", "admit_nets: not a list of A.B.C.D/BITS"),
                       ("admit = list\nadmit_nets = 10.0.0.0/33\n", "admit_nets: not a list of A.B.C.D/BITS"),
                       ("admit = list\nadmit_nets = 10.0.0.0/8,,\n", "admit_nets: not a list of A.B.C.D/BITS"),
                       ("admit = list\nadmit_macs = 52:54:00:12:34\n", "admit_macs: not a list of MAC"),
                       ("admit = list\nadmit_macs = 52:54:00:12:34:567\n", "admit_macs: not a list of MAC")):
        with open(conf, "w") as f:
            f.write(text)
        p = subprocess.run([AGENT, "--config", conf, "--listen", "127.0.0.1:0", "--control",
                            os.path.join(tmp, "x.sock")], capture_output=True, text=True, timeout=5)
        check(p.returncode == 2 and want in p.stderr, "%r: exit %d %r" % (text, p.returncode, p.stderr))


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]


if __name__ == "__main__":
    sys.exit(run_tests(TESTS, (AGENT, MON, CTL), PREFIX, TEST_TIMEOUT, "om-test-"))
