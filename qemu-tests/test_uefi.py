"""The UEFI path: OVMF runs build/om-node.efi (-kernel/-append reach it as
LoadOptions), the loader enters the same kernel core, the node registers."""

import os
import re
import shutil
import time

from omtest import BUILD, check, cluster

OVMF = "/usr/share/ovmf/OVMF.fd"  # Debian's ovmf package
ANSI = re.compile(r"\x1b(\[[0-9;?=]*[A-Za-z]|[()][A-Z0-9])")


def uefi_boot(c, append=None, nic="virtio-net-pci", **kw):
    check(os.path.exists(OVMF), "%s missing: run 'make setup' (package ovmf)" % OVMF)
    kw.setdefault("kernel", "om-node.efi")
    return c.boot(nic, append=append, extra=["-bios", OVMF], **kw)


def console(node):
    """The serial log without the firmware's terminal escape sequences."""
    return ANSI.sub("", node.serial())


def test_uefi_virtio_net():
    with cluster() as c:
        t0 = time.monotonic()
        n = uefi_boot(c)
        info = c.wait_registered(n, timeout=150)
        t_reg = time.monotonic() - t0
        check(info["nic"] == "virtio-net", "nic is %r" % info["nic"])
        check(info["mac"] == n.mac, "mac is %r" % info["mac"])
        check(info["mem_bytes"] > 64 << 20, "mem_bytes %r" % info["mem_bytes"])
        n.wait_serial("agent: registered", timeout=10)
        con = console(n)
        for line in ("om: UEFI loader for the om node kernel",
                     'om: command line "om.agent=10.0.2.2:%d om.key=%s"' % (c.port, c.agent_pub),
                     "node kernel (uefi boot)",
                     "console: framebuffer ",
                     "nic: virtio-net %s" % n.mac,
                     "agent: registered"):
            check(line in con, "console lacks %r" % line)
        check("panic" not in con, "the kernel panicked")
        print("INFO uefi virtio-net: registered %.1f s after QEMU start (OVMF, TCG)" % t_reg)


def test_uefi_bad_cmdline():
    """Non-ASCII and over-long command lines are refused by the loader with a
    message, before it touches anything; the kernel is never entered."""
    with cluster() as c:
        bad = uefi_boot(c, append="om.agent=10.0.2.2:%d caf\u00e9" % c.port)
        long_ = uefi_boot(c, append="om.agent=10.0.2.2:%d " % c.port + "x" * 600)
        bad.wait_serial("non-ASCII character", timeout=120)
        long_.wait_serial("command line is longer than 511 characters", timeout=120)
        for n in (bad, long_):
            check("node kernel (uefi boot)" not in console(n), "%s entered the kernel" % n.name)


def test_uefi_ipxe_chain():
    """The lab path: OVMF's network boot runs iPXE (the NIC's option ROM from
    ipxe-qemu), which fetches a script by TFTP from QEMU's user network and
    runs `chain om-node.efi om.agent=...`. iPXE puts the image name first in
    LoadOptions. An e1000 this time, so a second driver sees a UEFI boot."""
    with cluster() as c:
        tftp = os.path.join(c.dir, "tftp")
        os.mkdir(tftp)
        shutil.copy(os.path.join(BUILD, "om-node.efi"), tftp)
        with open(os.path.join(tftp, "boot.ipxe"), "w") as f:
            f.write("#!ipxe\nchain om-node.efi om.agent=10.0.2.2:%d om.key=%s\n" % (c.port, c.agent_pub))
        t0 = time.monotonic()
        n = uefi_boot(c, nic="e1000", kernel=None, netdev="tftp=%s,bootfile=boot.ipxe" % tftp)
        info = c.wait_registered(n, timeout=150)
        t_reg = time.monotonic() - t0
        check(info["nic"] == "e1000", "nic is %r" % info["nic"])
        con = console(n)
        check('om: command line "om-node.efi om.agent=10.0.2.2:%d om.key=%s"' % (c.port, c.agent_pub) in con,
              "the loader did not get iPXE's command line")
        check("node kernel (uefi boot)" in con, "the kernel did not start")
        print("INFO uefi iPXE chain (e1000): registered %.1f s after QEMU start (OVMF, TCG)" % t_reg)


def test_uefi_above_4g():
    """5 GiB of RAM: the handoff maps and the kernel's memory map reach past
    4 GiB (firmware places RAM above the PCI hole there). e1000e this time."""
    with cluster() as c:
        n = uefi_boot(c, nic="e1000e", mem=5120)
        info = c.wait_registered(n, timeout=150)
        check(info["nic"] == "e1000e", "nic is %r" % info["nic"])
        check(info["mem_bytes"] > (9 << 29), "mem_bytes %r: memory above 4 GiB is missing" % info["mem_bytes"])
