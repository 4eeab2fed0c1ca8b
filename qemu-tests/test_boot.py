"""A node boots with -kernel on each supported NIC and registers."""

import os
import re
import subprocess
import tempfile
import time

from omtest import BUILD, check, cluster, wait_for


def boot_and_register(nic_device, nic_name):
    with cluster() as c:
        t0 = time.monotonic()
        n = c.boot(nic_device)
        info = c.wait_registered(n)
        t_reg = time.monotonic() - t0
        check(info["nic"] == nic_name, "nic is %r, expected %r" % (info["nic"], nic_name))
        check(info["mac"] == n.mac, "mac is %r" % info["mac"])
        check(info["ip"] == "127.0.0.1", "agent saw the node at %r" % info["ip"])
        check(info["cpus"] == 1, "cpus %r" % info["cpus"])
        check(info["speed"] > 0, "speed %r" % info["speed"])
        check(info["mem_bytes"] > 100 << 20, "mem_bytes %r" % info["mem_bytes"])
        check(info["cpu_vendor"] in ("AuthenticAMD", "GenuineIntel"), "vendor %r" % info["cpu_vendor"])
        # The agent lists the node once it has sent WELCOME; the node says
        # "registered" only when that frame arrives, a moment later.
        n.wait_serial("agent: registered", timeout=10)
        con = n.serial()
        check("nic: %s %s" % (nic_name, n.mac) in con, "console does not name the NIC and MAC")
        # The node's table row must also render in the plain view.
        table = c.mon()
        check(table.returncode == 0 and n.mac in table.stdout, "om-mon table lacks the node")
        print("INFO %s: registered %.1f s after QEMU start" % (nic_name, t_reg))


def test_virtio_net():
    boot_and_register("virtio-net-pci", "virtio-net")


def test_e1000():
    boot_and_register("e1000", "e1000")


def test_e1000e():
    boot_and_register("e1000e", "e1000e")


def test_rtl8139():
    boot_and_register("rtl8139", "rtl8139")


def test_two_nodes():
    with cluster() as c:
        a = c.boot("virtio-net-pci")
        b = c.boot("e1000")
        ia = c.wait_registered(a)
        ib = c.wait_registered(b)
        check(ia["id"] != ib["id"], "both nodes got id %r" % ia["id"])
        check(len(c.nodes_json()) == 2, "expected exactly two nodes")


def test_static_ip_and_bad_option():
    """om.ip skips DHCP; an unknown option is reported, not fatal."""
    with cluster() as c:
        n = c.boot("virtio-net-pci",
                   append="om-node.elf om.ip=10.0.2.15/24,10.0.2.2 om.agent=10.0.2.2:%d om.frobnicate=1" % c.port)
        c.wait_registered(n)
        con = n.serial()
        check("cmdline: unknown option 'om.frobnicate=1' ignored" in con, "no message for the bad option")
        check("dhcp" not in con.lower() or "static" in con.lower(), "node ran DHCP despite om.ip")


def test_agent_key_required():
    """A node whose om.key= names another agent's key refuses this agent
    (and the agent refuses it): never registered; the panel and the
    console say why. Without om.key=, or with a key no agent can hold
    (not canonical: bit 255 set), the node does not connect at all."""
    with cluster() as c:
        other = bytearray(os.urandom(32))
        other[31] &= 0x7f  # canonical (below 2^255 - 19 but for 1 in 2^250)
        wrong = c.boot("virtio-net-pci", append="om.agent=10.0.2.2:%d om.key=%s" % (c.port, other.hex()))
        other[31] |= 0x80
        odd = c.boot("virtio-net-pci", append="om.agent=10.0.2.2:%d om.key=%s" % (c.port, other.hex()))
        none = c.boot("virtio-net-pci", append="om.agent=10.0.2.2:%d om.key=" % c.port)
        good = c.boot("virtio-net-pci")
        c.wait_registered(good)
        wrong.wait_serial("connection lost (closed during the handshake (the peer refused our key?))", 30)
        none.wait_serial("link: no om.key= on the command line", 30)
        odd.wait_serial("link: om.key= is not a usable X25519 public key", 30)
        wait_for(lambda: "does not know this agent's key" in c.agent_text(), 10, "the agent's refusal")
        time.sleep(1)
        macs = {n["mac"] for n in c.nodes_json()}
        check(macs == {good.mac}, "registered: %r" % macs)
        for n in (none, odd):
            check("agent: connecting" not in n.serial(), "%s connected without a usable om.key=" % n.name)


def test_pairing():
    """admit = pairing: the node waits and says so, showing its key; once
    the admin admits that key with om-ctl it joins by itself."""
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("admit = pairing\n")
    conf.close()
    try:
        with cluster("--config", conf.name) as c:
            n = c.boot("virtio-net-pci")
            n.wait_serial("(code -12)", 60)
            fp = re.search(r"link: this node's key is (\S+) ", n.serial()).group(1)
            check("agent: error from agent: not admitted yet: om-ctl admit %s (code -12)" % fp in n.serial(),
                  "the node does not say why it waits")
            check(c.nodes_json() == [], "listed before admission")
            r = subprocess.run([os.path.join(BUILD, "om-ctl"), "--control", c.control, "admit", fp],
                               capture_output=True, text=True, timeout=10)
            check(r.returncode == 0 and "admitted; node %s" % n.mac in r.stdout, "om-ctl admit: %r" % (r,))
            c.wait_registered(n, timeout=30)
    finally:
        os.unlink(conf.name)


def test_image_size():
    size = os.path.getsize(os.path.join(BUILD, "om-node.elf"))
    check(size < 4 << 20, "node image is %d bytes" % size)
    print("INFO om-node.elf is %d bytes (%.0f KiB)" % (size, size / 1024))
