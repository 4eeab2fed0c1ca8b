"""linux_guest.py - the Linux guest of the side-by-side benchmarks: Debian's
kernel (linux-image-amd64, unpacked by `make setup` into
build/third_party/linux/) with a tiny initramfs built here, booted under the
same QEMU settings as an om node (omtest.Cluster.boot: same accelerator,
-m, NIC and serial; the caller adds the same -cpu and -smp to both).

The initramfs is a cpio "newc" archive written by cpio_newc() below:
busybox-static as /bin/busybox, the benchmark programs, data files and an
/init script. /init prints MARK_INIT on the serial console first (the boot
benchmark's "reached /init"), runs the requested commands, prints MARK_DONE
and powers off (`poweroff -f`; QEMU runs with -no-reboot and exits)."""

import glob
import os
import time

from omtest import BUILD, TestFailure

KERNEL_GLOB = os.path.join(BUILD, "third_party", "linux", "boot", "vmlinuz-*")
BUSYBOX = "/bin/busybox"
MARK_INIT = "OM-GUEST-INIT"
MARK_DONE = "OM-GUEST-DONE"
APPEND = "console=ttyS0 quiet panic=-1 rdinit=/init"


def kernel():
    """Path of the unpacked Debian kernel; fails with a hint when absent."""
    k = sorted(glob.glob(KERNEL_GLOB))
    if not k:
        raise TestFailure("no Linux kernel in %s: run 'make setup'" % os.path.dirname(KERNEL_GLOB))
    return k[-1]


def _newc(name, mode, data=b"", rdev=(0, 0), ino=0):
    """One newc member: 110-byte ASCII header, name, NUL, padding to 4,
    data, padding to 4 (the format of the kernel's initramfs, see
    Documentation/driver-api/early-userspace/buffer-format.rst)."""
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
    out = hdr + name.encode() + b"\0"
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def cpio_newc(path, files, dirs=(), nodes=()):
    """Writes an initramfs to path. files: {archive path: (mode, bytes)};
    dirs: directories to create first; nodes: (path, 'c', major, minor)."""
    parts, ino = [], 1
    for d in dirs:
        parts.append(_newc(d, 0o40755, ino=ino))
        ino += 1
    for p, kind, major, minor in nodes:
        parts.append(_newc(p, (0o20000 if kind == "c" else 0o60000) | 0o600, rdev=(major, minor), ino=ino))
        ino += 1
    for p, (mode, data) in sorted(files.items()):
        parts.append(_newc(p, 0o100000 | mode, data, ino=ino))
        ino += 1
    parts.append(_newc("TRAILER!!!", 0))
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def build_initramfs(path, commands, binaries=(), data=()):
    """An initramfs whose /init runs commands (busybox sh lines) between the
    two markers. binaries: host paths copied to /bin/NAME (mode 755); data:
    (host path, archive path) pairs copied as they are (mode 644)."""
    init = "\n".join([
        "#!/bin/busybox sh",
        "export PATH=/bin",
        "echo %s" % MARK_INIT,
        "cd /",
    ] + list(commands) + [
        "echo %s" % MARK_DONE,
        "/bin/busybox poweroff -f",
        ""])
    files = {"init": (0o755, init.encode())}
    with open(BUSYBOX, "rb") as f:
        files["bin/busybox"] = (0o755, f.read())
    for b in binaries:
        with open(b, "rb") as f:
            files["bin/" + os.path.basename(b)] = (0o755, f.read())
    for host, arch in data:
        with open(host, "rb") as f:
            files[arch.lstrip("/")] = (0o644, f.read())
    dirs = ["bin", "dev", "proc", "tmp", "data"]
    cpio_newc(path, files, dirs, [("dev/console", "c", 5, 1), ("dev/null", "c", 1, 3)])


def run(cluster, initrd, mem, extra, timeout):
    """Boots the guest in cluster (omtest.Cluster) with initrd and waits
    until QEMU exits (poweroff). Returns (console text, seconds from QEMU
    start to MARK_INIT). The node is killed by pid on timeout."""
    n = cluster.boot("virtio-net-pci", append=APPEND, mem=mem, kernel=kernel(),
                     extra=["-initrd", initrd] + list(extra), mac="52:54:00:00:01:%02x" % (len(cluster.nodes) % 250))
    t_init = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if t_init is None and MARK_INIT in n.serial():
            t_init = time.monotonic() - n.started
        if n.proc.poll() is not None:
            break
        time.sleep(0.01)
    n.kill()
    con = n.serial()
    if MARK_DONE not in con:
        raise TestFailure("the Linux guest did not finish within %d s; console:\n%s" % (timeout, con[-3000:]))
    if t_init is None:
        t_init = float("nan")
    return con, t_init
