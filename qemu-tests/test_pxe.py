"""The real boot path: firmware PXE -> iPXE -> boot/om.ipxe (filled as
`make install` fills it) -> the node registers. BIOS is SeaBIOS with QEMU's
iPXE option ROM (ipxe-qemu), UEFI is OVMF with the same ROM's EFI driver;
QEMU's user network serves TFTP. test_pxe_lab runs a whole lab in network
namespaces: a DHCP server, dnsmasq from boot/dnsmasq/om.conf as proxy-DHCP
and TFTP, om-agent, and two QEMU clients on a bridge."""

import os
import shutil
import subprocess
import time

from omtest import BUILD, Cluster, check, cluster, wait_for
from pxeboot import OVMF, console, fill, git_log, make_install, om_ipxe, tftp_dir


def pxe_boot(c, nic, script, images=("om-node.elf",), uefi=False, mem=128):
    tftp = tftp_dir(c, {"om.ipxe": script}, images)
    extra = ["-boot", "n"] + (["-bios", OVMF] if uefi else [])
    return c.boot(nic, kernel=None, mem=mem, extra=extra,
                  netdev="tftp=%s,bootfile=om.ipxe" % tftp)


def menu_shown(n, times=1):
    return console(n).count("Boot menu - %s" % n.mac) >= times


def bios_pxe(nic, nic_name):
    with cluster() as c:
        t0 = time.monotonic()
        n = pxe_boot(c, nic, om_ipxe("10.0.2.2", c.port, "om", 1000, key=c.agent_pub))
        info = c.wait_registered(n, timeout=120)
        t_reg = time.monotonic() - t0
        con = console(n)
        check("iPXE" in con, "iPXE did not run")
        check("Boot menu - %s (pcbios)" % n.mac in con, "the menu was not shown")
        check("om: loading om-node.elf (agent 10.0.2.2:%d)" % c.port in con,
              "the compute entry was not chosen by the timeout")
        check("node kernel (multiboot boot)" in con, "the kernel did not start")
        check(info["nic"] == nic_name and info["mac"] == n.mac,
              "om-mon shows nic %r mac %r" % (info["nic"], info["mac"]))
        check(len(c.nodes_json()) == 1, "expected exactly one node")
        print("INFO BIOS PXE (%s): registered %.1f s after QEMU start (SeaBIOS, iPXE ROM, TCG)"
              % (nic_name, t_reg))


def test_pxe_bios_e1000():
    bios_pxe("e1000", "e1000")


# The rtl8139 driver is a colleague's work in progress: this test exists
# once drivers/rtl8139.c is committed.
if git_log("drivers/rtl8139.c"):
    def test_pxe_bios_rtl8139():
        bios_pxe("rtl8139", "rtl8139")


def test_pxe_menu_default_disk():
    """Default "disk", timeout 1 s: the disk entry runs by itself, fails (the
    guest has no disk), says so, and the menu comes back and waits; compute
    mode never starts."""
    with cluster() as c:
        n = pxe_boot(c, "e1000", om_ipxe("10.0.2.2", c.port, "disk", 1000, key=c.agent_pub))
        n.wait_serial("om: booting from the local disk", timeout=90)
        wait_for(lambda: "om: booting from the local disk failed (no bootable disk?)" in console(n),
                 20, "the disk failure message")
        # The prompt follows on the next line: the console may be read between the two.
        wait_for(lambda: "Press any key for the menu" in console(n), 10, "the way back to the menu")
        # The prompt waits 10 s, then the menu returns, now without timeout.
        wait_for(lambda: menu_shown(n, 2), 30, "the menu to come back")
        time.sleep(2.5)  # more than twice the first timeout: it would have run again
        con = console(n)
        check(con.count("om: booting from the local disk failed") == 1,
              "the disk entry ran again without anyone choosing it")
        check("om: loading om-node" not in con and "node kernel" not in con, "compute mode started")
        check(c.nodes_json() == [], "a node registered")


def test_pxe_menu_no_timeout_waits():
    """Timeout 0 means wait for a key: with nobody at the keyboard, not even
    the default (compute) starts."""
    with cluster() as c:
        n = pxe_boot(c, "e1000", om_ipxe("10.0.2.2", c.port, "om", 0, key=c.agent_pub))
        wait_for(lambda: menu_shown(n), 90, "the menu")
        time.sleep(5)
        con = console(n)
        check("om: loading om-node" not in con, "the default ran although the timeout is 0")
        check(c.nodes_json() == [], "a node registered")


def test_pxe_menu_lab_item():
    """OM_LAB_MENU set and default "lab": the item appears and chains the
    lab's own script (here one that prints a marker and stops)."""
    with cluster() as c:
        tftp_dir(c, {"lab/menu.ipxe": "#!ipxe\necho lab-menu-reached\nprompt --timeout 60000 stop ||\n"}, ())
        n = pxe_boot(c, "e1000", om_ipxe("10.0.2.2", c.port, "lab", 1000, lab="lab/menu.ipxe", key=c.agent_pub))
        wait_for(lambda: "lab-menu-reached" in console(n), 90, "the lab menu to run")
        con = console(n)
        check("Lab menu (lab/menu.ipxe)" in con, "the lab item was not shown")
        check("om: loading the lab menu lab/menu.ipxe" in con, "the lab entry did not announce itself")
        check("om: loading om-node" not in con, "compute mode started")


def test_pxe_missing_image():
    """om-node.elf missing from the TFTP folder: the node says which file
    could not be fetched, and the menu comes back (and waits) instead of
    iPXE dying or retrying in a loop."""
    with cluster() as c:
        n = pxe_boot(c, "e1000", om_ipxe("10.0.2.2", c.port, "om", 1000, key=c.agent_pub), images=())
        wait_for(lambda: "om: could not fetch om-node.elf from the boot server (TFTP root)" in console(n),
                 90, "the fetch failure message")
        wait_for(lambda: menu_shown(n, 2), 30, "the menu to come back")
        time.sleep(2.5)  # more than twice the timeout: it would have been retried
        con = console(n)
        check(con.count("om: loading om-node.elf") == 1, "the entry was retried without a key press")
        check(c.nodes_json() == [], "a node registered")


def test_pxe_uefi_e1000():
    """OVMF's network boot loads QEMU's iPXE EFI driver (efi-e1000.rom), the
    menu sees platform efi and loads om-node.efi."""
    check(os.path.exists(os.path.join(BUILD, "om-node.efi")), "build/om-node.efi missing: run make")
    check(os.path.exists(OVMF), "%s missing: run 'make setup' (package ovmf)" % OVMF)
    with cluster() as c:
        t0 = time.monotonic()
        n = pxe_boot(c, "e1000", om_ipxe("10.0.2.2", c.port, "om", 1000, key=c.agent_pub),
                     images=("om-node.efi",), uefi=True, mem=256)
        info = c.wait_registered(n, timeout=180)
        t_reg = time.monotonic() - t0
        con = console(n)
        check("Boot menu - %s (efi)" % n.mac in con, "the menu did not see platform efi")
        check("om: loading om-node.efi (agent 10.0.2.2:%d)" % c.port in con, "om-node.efi was not chosen")
        check('om: command line "om-node.efi om.agent=10.0.2.2:%d om.key=%s"' % (c.port, c.agent_pub) in con,
              "the loader did not get the menu's command line")
        check(info["nic"] == "e1000", "nic %r" % info["nic"])
        print("INFO UEFI PXE (e1000): registered %.1f s after QEMU start (OVMF, iPXE EFI ROM, TCG)" % t_reg)


# ---------------------------------------------------------------- the lab
NET = "192.168.77"  # only ever inside the test's namespaces


def sh(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    check(r.returncode == 0, "%s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def test_pxe_lab():
    """A lab in two network namespaces. om-lab-PID is the om server: a bridge
    at .1 with om-agent, and dnsmasq run from boot/dnsmasq/om.conf (proxy
    DHCP + TFTP; the TFTP root is a `make install DESTDIR=` tree). Its
    -dhcp twin is the lab's ordinary DHCP server (.254, a plain dnsmasq
    with no boot options) joined to the bridge by a veth pair. Client 1 is
    BIOS with QEMU's iPXE ROM (e1000); client 2 is UEFI with OVMF's own
    virtio-net driver and PXE (no option ROM), so it goes the whole chain:
    firmware PXE -> snponly.efi -> om.ipxe -> om-node.efi. The menu is
    installed without OM_SERVER, so the agent address comes from proxy DHCP."""
    efi = os.path.exists(os.path.join(BUILD, "om-node.efi"))
    ns = "om-lab-%d" % os.getpid()
    dns = ns + "-dhcp"
    in_ns, in_dns = ["ip", "netns", "exec", ns], ["ip", "netns", "exec", dns]
    made = []
    c = None
    try:
        for name in (ns, dns):
            sh("ip", "netns", "add", name)
            made.append(name)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", ns, "addr", "add", NET + ".1/24", "dev", "br0")
        sh("ip", "-n", ns, "link", "set", "br0", "up")
        sh("ip", "-n", ns, "link", "add", "v-dhcp", "type", "veth", "peer", "name", "eth0", "netns", dns)
        sh("ip", "-n", ns, "link", "set", "v-dhcp", "master", "br0", "up")
        sh("ip", "-n", dns, "addr", "add", NET + ".254/24", "dev", "eth0")
        sh("ip", "-n", dns, "link", "set", "eth0", "up")
        for tap in ("tap1", "tap2"):
            sh("ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap")
            sh("ip", "-n", ns, "link", "set", tap, "master", "br0", "up")

        c = Cluster(listen_host=NET + ".1", port=7707, wrap=in_ns)
        dest = os.path.join(c.dir, "root")
        # The cluster's agent key as the installed one: install keeps a key
        # it finds, and its menu carries that key's public half.
        os.makedirs(os.path.join(dest, "etc", "om"))
        shutil.copy2(c.key_file, os.path.join(dest, "etc", "om", "agent.key"))
        r = make_install(dest, "OM_MENU_TIMEOUT=1000")
        check(r.returncode == 0, "make install failed: %s%s" % (r.stdout, r.stderr))
        tftp = os.path.join(dest, "srv", "tftp")
        for d in (c.dir, dest, os.path.join(dest, "srv"), tftp):
            os.chmod(d, 0o755)
        with open(os.path.join(dest, "usr", "local", "share", "om", "dnsmasq-om.conf")) as f:
            conf = f.read()
        conf = fill(conf.replace("tftp-root=/srv/tftp", "tftp-root=" + tftp))
        check("dhcp-range=set:om-proxy,192.168.1.0,proxy,255.255.255.0" in conf, "unexpected proxy range")
        conf = conf.replace("192.168.1.0,proxy", NET + ".0,proxy")
        om_conf = os.path.join(c.dir, "om-dnsmasq.conf")
        with open(om_conf, "w") as f:
            f.write(conf)

        def dnsmasq(wrap, name, *args):
            log = os.path.join(c.dir, name + ".log")
            p = subprocess.Popen(wrap + ["dnsmasq", "--keep-in-foreground", "--user=root", "--group=root",
                                         "--pid-file=", "--log-facility=" + log,
                                         "--dhcp-leasefile=" + os.path.join(c.dir, name + ".leases")]
                                 + list(args), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=open(log + ".stderr", "wb"))
            c.procs.append(p)
            return p, log

        gw, gw_log = dnsmasq(in_dns, "lab-dhcp", "--conf-file=/dev/null", "--port=0",
                             "--interface=eth0", "--bind-interfaces",
                             "--dhcp-range=%s.100,%s.199,255.255.255.0,1h" % (NET, NET))
        om, om_log = dnsmasq(in_ns, "om-dnsmasq", "--conf-file=" + om_conf, "--interface=br0",
                             "--bind-interfaces", "--log-dhcp")
        time.sleep(1)
        check(gw.poll() is None, "the lab DHCP server exited: %s" % open(gw_log + ".stderr").read())
        check(om.poll() is None, "dnsmasq with om.conf exited: %s" % open(om_log + ".stderr").read())

        t0 = time.monotonic()
        tap = "tap,ifname=%s,script=no,downscript=no"
        bios = c.boot("e1000", kernel=None, backend=tap % "tap1", wrap=in_ns,
                      mac="52:54:00:77:00:01", extra=["-boot", "n"])
        uefi = None
        if efi:
            # romfile= (none): OVMF's own virtio-net driver and PXE client.
            uefi = c.boot("virtio-net-pci,romfile=", kernel=None, backend=tap % "tap2", wrap=in_ns,
                          mem=256, mac="52:54:00:77:00:02", extra=["-boot", "n", "-bios", OVMF])
        for n in [bios] + ([uefi] if uefi else []):
            info = c.wait_registered(n, timeout=200)
            check(info["ip"].startswith(NET + ".1") and info["ip"] != NET + ".1",
                  "%s registered from %r, not a lab DHCP lease" % (n.name, info["ip"]))
            print("INFO lab: %s (%s) registered %.1f s after start, address %s"
                  % (n.name, "UEFI" if n is uefi else "BIOS", time.monotonic() - t0, info["ip"]))
        check(len(c.nodes_json()) == (2 if uefi else 1), "unexpected node count")
        bcon = console(bios)
        check("om: loading om-node.elf (agent %s.1:7707)" % NET in bcon,
              "the BIOS client did not take the agent from proxy DHCP")
        with open(om_log) as f:
            log = f.read()
        check("sent %s/om.ipxe" % tftp in log and "sent %s/om-node.elf" % tftp in log,
              "dnsmasq's TFTP did not serve om.ipxe and om-node.elf")
        check("proxy" in log.lower(), "dnsmasq did not answer as proxy DHCP")
        if uefi:
            check("sent %s/snponly.efi" % tftp in log and "sent %s/om-node.efi" % tftp in log,
                  "the UEFI client did not go through snponly.efi and om-node.efi")
            check("om: loading om-node.efi (agent %s.1:7707)" % NET in console(uefi),
                  "the UEFI client did not run the om entry")
        else:
            print("INFO lab: build/om-node.efi missing, UEFI client skipped")
    except BaseException:
        if c is not None:
            print(c.diagnostics())
            for name in ("om-dnsmasq.log", "lab-dhcp.log"):
                try:
                    with open(os.path.join(c.dir, name)) as f:
                        print("--- %s ---\n%s" % (name, f.read()[-4000:]))
                except OSError:
                    pass
        raise
    finally:
        if c is not None:
            c.close()  # kills QEMU, om-agent and both dnsmasq by pid
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
