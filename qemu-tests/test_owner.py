"""The owner comes back (issue 10): a key pressed at a node's own keyboard
(QEMU's PS/2 keyboard, through QMP send-key) sends its jobs elsewhere or
home, nothing lost, and restarts the PC, which boots again through its
firmware into the boot menu's default entry; om-ctl reboot does the same
from the server. Outputs are a native run's."""

import os
import re
import socket
import subprocess
import sys
import time

from omtest import BUILD, ROOT, check, children, cluster, wait_for
from pxeboot import OVMF, console, om_ipxe, tftp_dir

sys.path.insert(0, os.path.join(ROOT, "tests"))
import omlink  # noqa: E402
import omwire as ow  # noqa: E402

OM_RUN = os.path.join(BUILD, "om-run")
OM_CTL = os.path.join(BUILD, "om-ctl")
BURN = os.path.join(BUILD, "corpus", "static", "burn")
BURN_ARGS = ["owner", "1500"]  # some seconds on a TCG node: time to press a key
TIMEOUT = 240


def arrived(node, times=1):
    return len(re.findall(r"^job \d+: arrived", node.serial(), re.M)) >= times


def boots(node):
    """How many times the node's firmware started (SeaBIOS prints its
    banner on the serial console at every reset)."""
    return node.serial().count("SeaBIOS (version")


def run_moving(c, argv, node_id, act):
    """om-run argv on node node_id; act() once the job has arrived there.
    Returns om-run's CompletedProcess-like (status, stdout, stderr)."""
    p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, "--node", str(node_id)] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        act()
        out, err = p.communicate(timeout=TIMEOUT)
        return p.returncode, out, err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_owner_back_key():
    """Two nodes; burn runs on the first; a key at its keyboard: the job
    goes on on the other node (through home), its output is a native
    run's, and the first node says why, restarts and registers again."""
    argv = [BURN] + BURN_ARGS
    native = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    # No balancer: once the first node is back it may rightly move the job
    # again, and this test follows the move the owner caused.
    with cluster("--no-balance") as c:
        a = c.boot(mem=256, qmp=True, reboot=True)
        b = c.boot(mem=256)
        ida = c.wait_registered(a)["id"]
        idb = c.wait_registered(b)["id"]

        def press():
            wait_for(lambda: arrived(a), 60, "the job to arrive on node %d" % ida)
            a.send_key("a")

        rc, out, err = run_moving(c, argv, ida, press)
        check(rc == native.returncode == 0 and out == native.stdout,
              "om-run: %d %r, natively %r; stderr %r" % (rc, out, native.stdout, err[-1500:]))
        con = a.serial()
        check("leave: owner is back: sending jobs away, then restarting" in con, "no message on node %d" % ida)
        check(re.search(r"^job \d+: going home \(the owner is back\)$", con, re.M) and
              re.search(r"^job \d+: image sent home$", con, re.M), "the job did not leave node %d" % ida)
        check(re.search(r"job \d+: its node leaving moves it from node %d to node %d, through home"
                        % (ida, idb), c.agent_text()), "the agent did not send it on to node %d" % idb)
        check(re.search(r"^job \d+: exited with status 0$", b.serial(), re.M),
              "the job did not end on node %d" % idb)
        wait_for(lambda: boots(a) == 2, 60, "node %d to restart" % ida)
        con = a.serial()
        check("leave: jobs gone, said goodbye to the agent\nagent: connection lost" in con and
              "leave: restarting the PC" in con, "no orderly goodbye: %r" % con[-800:])
        check(re.search(r"node %d leaves \(owner back: a key was pressed or the mouse moved\); 1 job"
                        % ida, c.agent_text()), "the agent did not log the node leaving")
        wait_for(lambda: "node %d re-registered" % ida in c.agent_text(), 90, "node %d to come back" % ida)
        check(c.node_by_mac(a.mac)["leaving"] is False, "still leaving after its restart")
        print("INFO a key at node %d: its job went on on node %d, output as native; the node restarted"
              % (ida, idb))


def test_ctl_reboot():
    """One node; om-ctl reboot while burn runs there: the job comes home
    (no other node) and ends there with a native run's output; the node
    restarts."""
    argv = [BURN] + BURN_ARGS
    native = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    with cluster() as c:
        a = c.boot(mem=256, reboot=True)
        ida = c.wait_registered(a)["id"]
        said = []

        def reboot():
            wait_for(lambda: arrived(a), 60, "the job to arrive")
            said.append(subprocess.run([OM_CTL, "--control", c.control, "reboot", str(ida)],
                                       capture_output=True, text=True, timeout=10))

        rc, out, err = run_moving(c, argv, ida, reboot)
        r = said[0]
        check((r.returncode, r.stdout, r.stderr) ==
              (0, "om-ctl: node %d: reboot: 1 job(s) leaving; now leaving\n" % ida, ""), "om-ctl: %r" % r)
        check(rc == native.returncode == 0 and out == native.stdout,
              "om-run: %d %r, natively %r; stderr %r" % (rc, out, native.stdout, err[-1500:]))
        check(b"comes home from node %d (the node restarts)" % ida in err, "om-run -v: %r" % err[-800:])
        wait_for(lambda: boots(a) == 2, 60, "the node to restart")
        check("leave: the agent asks for a restart: sending jobs away, then restarting" in a.serial(),
              "no message on the node")
        wait_for(lambda: "node %d re-registered" % ida in c.agent_text(), 90, "the node to come back")


def test_owner_back_menu():
    """PXE through iPXE, menu default "lab" (the lab's terminal): "c"
    picks compute mode; a key at the node restarts the PC, and the menu's
    default entry runs by itself."""
    with cluster() as c:
        lab = "#!ipxe\necho lab-menu-reached\nprompt --timeout 60000 stop ||\n"
        tftp = tftp_dir(c, {"om.ipxe": om_ipxe("10.0.2.2", c.port, "lab", 8000, lab="lab/menu.ipxe",
                                                    key=c.agent_pub),
                            "lab/menu.ipxe": lab})
        n = c.boot("e1000", kernel=None, mem=128, extra=["-boot", "n"], qmp=True, reboot=True,
                   netdev="tftp=%s,bootfile=om.ipxe" % tftp)
        menu = "Boot menu - %s" % n.mac
        wait_for(lambda: menu in console(n), 120, "the boot menu")
        n.send_key("c")
        nid = c.wait_registered(n, timeout=120)["id"]
        check("lab-menu-reached" not in console(n), "the lab entry ran instead of compute mode")
        n.send_key("a")
        wait_for(lambda: console(n).count(menu) >= 2, 120, "the menu after the restart")
        wait_for(lambda: "lab-menu-reached" in console(n), 60, "the default entry (lab) to run")
        con = console(n)
        check("leave: owner is back: sending jobs away, then restarting" in con, "no message on the node")
        check(con.count("om: loading om-node.elf") == 1, "compute mode started again by itself")
        check(re.search(r"node %d leaves \(owner back" % nid, c.agent_text()), "the agent was not told")
        print("INFO owner back: PXE node %d restarted into the menu's default entry" % nid)


def test_owner_back_uefi_mouse():
    """UEFI (OVMF, om-node.efi): the mouse moved at the node (QMP
    input-send-event) counts as the owner too; the PC restarts through its
    firmware, which loads the node again."""
    with cluster() as c:
        n = c.boot(kernel="om-node.efi", extra=["-bios", OVMF], qmp=True, reboot=True)
        nid = c.wait_registered(n, timeout=150)["id"]
        n.qmp("input-send-event", events=[{"type": "rel", "data": {"axis": "x", "value": 40}}])
        wait_for(lambda: console(n).count("node kernel (uefi boot)") >= 2, 150, "the node to boot again")
        con = console(n)
        check("keyboard: watching the PS/2 keyboard and mouse" in con, "the mouse was not set up")
        check("leave: owner is back: sending jobs away, then restarting" in con, "no message on the node")
        wait_for(lambda: "node %d re-registered" % nid in c.agent_text(), 120, "the node to come back")


def fake_agent_conn(listener, key, timeout=90):
    """The next node connection on listener, over the link with the agent
    key key (the cluster's: the node's om.key= names it), registered: HELLO
    read, WELCOME (node 1) sent."""
    listener.settimeout(timeout)
    s, _ = listener.accept()
    s.settimeout(30)
    peer = ow.Peer(omlink.SecureServer(s, key))
    f = peer.recv_frame(30)
    check(f is not None and f[0] == ow.T_HELLO, "expected HELLO, got %r" % (f,))
    peer.send_frame(ow.T_WELCOME, ow.welcome(1, 1000, time.time_ns()))
    return peer


def next_frame(peer, skip=(ow.T_HEARTBEAT,)):
    while True:
        f = peer.recv_frame(30)
        if f is None or f[0] not in skip:
            return f


def test_node_restart_bad_input():
    """A fake agent: a NODE_RESTART with a payload is a protocol error (the
    node answers ERROR, closes, does not restart, and connects again); a
    proper one makes the node say NODE_LEAVING (restart asked), then BYE,
    then restart."""
    with cluster() as c:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(4)
        port = ls.getsockname()[1]
        with open(c.key_file) as f:
            key = bytes.fromhex(f.read().strip())
        try:
            n = c.boot(append="om.agent=10.0.2.2:%d" % port, reboot=True)
            peer = fake_agent_conn(ls, key)
            peer.send_frame(ow.T_NODE_RESTART, b"x")
            f = next_frame(peer)
            check(f is not None and f[0] == ow.T_ERROR and ow.error_decode(f[3]) ==
                  (ow.E_TRAILING, "node: NODE_RESTART with a payload or job id"), "answer: %r" % (f,))
            check(next_frame(peer) is None, "the node did not close")
            peer = fake_agent_conn(ls, key)
            check("leave:" not in n.serial(), "a bad NODE_RESTART started the leaving")
            peer.send_frame(ow.T_NODE_RESTART, job=3)
            f = next_frame(peer)
            check(f is not None and f[0] == ow.T_ERROR, "NODE_RESTART with a job id: %r" % (f,))
            peer = fake_agent_conn(ls, key)
            peer.send_frame(ow.T_NODE_RESTART)
            f = next_frame(peer)
            check(f == (ow.T_NODE_LEAVING, 0, 0, ow.node_leaving(ow.LEAVE_RESTART, "om-ctl reboot")),
                  "NODE_LEAVING: %r" % (f,))
            f = next_frame(peer)
            check(f == (ow.T_BYE, 0, 0, b""), "BYE: %r" % (f,))
            peer.s.close()
            wait_for(lambda: boots(n) == 2, 60, "the node to restart")
            check("leave: the agent asks for a restart: sending jobs away, then restarting" in n.serial(),
                  "no message on the node")
        finally:
            ls.close()


def test_owner_back_blocked_read():
    """homework read, sent to a node (om-migrate) and blocked there in a
    read of its stdin, forwarded home, when the owner comes back: the node
    cuts the call short, the job comes home with the read restarted there,
    and the next line reaches it."""
    homework = os.path.join(BUILD, "corpus", "static", "homework")
    with cluster("--no-balance") as c:
        a = c.boot(mem=256, qmp=True, reboot=True)
        ida = c.wait_registered(a)["id"]
        p = subprocess.Popen([OM_RUN, "-v", "--control", c.control, homework, "read"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "homework did not start")
            p.stdin.write(b"one\n")
            p.stdin.flush()
            check(p.stdout.readline() == b"1: one\n", "first line, at home")
            pid = wait_for(lambda: (children(p.pid) or [None])[0], 5, "homework's pid")
            r = subprocess.run([os.path.join(BUILD, "om-migrate"), "--control", c.control, str(pid), "node",
                                str(ida)], capture_output=True, timeout=10)
            check(r.returncode == 0, "om-migrate: %r" % (r,))
            # it started there, came home for its clone; now it is back
            wait_for(lambda: arrived(a, 2), 60, "the process to reach the node")
            p.stdin.write(b"two\n")
            p.stdin.flush()
            check(p.stdout.readline() == b"2: two\n", "second line, from the node")
            a.send_key("ret")
            wait_for(lambda: boots(a) == 2, 60, "the node to restart")
            out, err = p.communicate(b"three\n", timeout=TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 0 and out == b"3: three\n", "om-run: %d %r; stderr %r" % (p.returncode, out, err[-1500:]))
        check(re.search(r"^job \d+: going home \(the owner is back\)$", a.serial(), re.M),
              "the process did not go home from the node")
