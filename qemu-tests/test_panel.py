"""The status panel at the top of the node's screen says what a person
walking past needs: in the cluster or not, address, card, job."""

import json
import os
import re
import socket
import time

from omtest import check, cluster, wait_for

VGA_COLS, VGA_ROWS = 80, 25


def qmp(path, cmd, args=None):
    """One QMP command on the node's QMP socket; returns its 'return'."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    f = s.makefile("rw")
    json.loads(f.readline())  # greeting
    for c, a in (("qmp_capabilities", None), (cmd, args)):
        f.write(json.dumps({"execute": c, "arguments": a or {}}) + "\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                break
        check("error" not in r, "QMP %s failed: %r" % (c, r.get("error")))
    s.close()
    return r["return"]


def vga_rows(c, node, sock):
    """The 25 rows of VGA text the node shows, read from guest memory."""
    dump = os.path.join(c.dir, "vga.bin")
    qmp(sock, "pmemsave", {"val": 0xB8000, "size": VGA_COLS * VGA_ROWS * 2, "filename": dump})
    data = wait_for(lambda: os.path.exists(dump) and os.path.getsize(dump) == 4000 and open(dump, "rb").read(),
                    10, "the VGA dump")
    chars = bytes(data[0::2]).decode("latin-1")
    return [chars[r * VGA_COLS:(r + 1) * VGA_COLS].rstrip() for r in range(VGA_ROWS)]


def test_panel_bios_vga():
    with cluster() as c:
        sock = os.path.join(c.dir, "qmp.sock")
        n = c.boot("virtio-net-pci", extra=["-qmp", "unix:%s,server=on,wait=off" % sock])
        info = c.wait_registered(n)
        # The key the node shows is the one the agent registered it with.
        fp = re.search(r"link: this node's key is (\S+) \(made at boot\)", n.serial()).group(1)
        check(re.search(r"node %d registered mac %s key %s " % (info["id"], n.mac, fp), c.agent_text()),
              "the agent logged another key than the node's %s" % fp)
        want = [" om compute node %d   in the cluster: agent 10.0.2.2:%d" % (info["id"], c.port),
                " address 10.0.2.15   card virtio-net %s" % n.mac,
                " jobs: none, idle"]
        rows = wait_for(lambda: (lambda r: r if r[:3] == want else None)(vga_rows(c, n, sock)), 10,
                        "the panel to show the registered node")
        check(rows[3].startswith(" up ") and "MiB free" in rows[3] and rows[3].endswith("  key " + fp),
              "fourth panel line: %r" % rows[3])
        check(rows[4] == "\xc4" * VGA_COLS, "no rule under the panel: %r" % rows[4])
        check(any("agent: registered" in r for r in rows[5:]), "the log no longer scrolls below the panel")

        c.stop_agent()
        want0 = " om compute node   NOT in the cluster: agent 10.0.2.2:%d does not answer" % c.port
        try:
            wait_for(lambda: vga_rows(c, n, sock)[0] == want0, 15, "the panel to say the agent is gone")
        except Exception:
            print("panel now: %r" % vga_rows(c, n, sock)[:4])
            raise


def read_ppm(path):
    """(width, height, rgb bytes) of a binary PPM (P6) as QEMU writes it."""
    with open(path, "rb") as f:
        data = f.read()
    parts, pos = [], 0
    while len(parts) < 4:  # magic, width, height, maxval
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    check(parts[0] == b"P6" and parts[3] == b"255", "not an 8-bit P6 PPM")
    return int(parts[1]), int(parts[2]), data[pos + 1:]


def test_panel_uefi_framebuffer():
    """On UEFI the panel is drawn on the GOP framebuffer: a band of its own
    colour at the top, with white text in it, and the log's black below."""
    from test_uefi import OVMF
    with cluster() as c:
        sock = os.path.join(c.dir, "qmp.sock")
        n = c.boot("virtio-net-pci", kernel="om-node.efi",
                   extra=["-bios", OVMF, "-qmp", "unix:%s,server=on,wait=off" % sock])
        c.wait_registered(n, timeout=150)
        time.sleep(1)  # one panel refresh after registration
        shot = os.path.join(c.dir, "screen.ppm")
        qmp(sock, "screendump", {"filename": shot})
        w, h, rgb = wait_for(lambda: os.path.exists(shot) and os.path.getsize(shot) > 1000 and read_ppm(shot),
                             10, "the screendump")

        def band(y0, y1):
            px = set()
            for y in range(y0, y1):
                row = rgb[y * w * 3:(y + 1) * w * 3]
                px.update(row[i:i + 3] for i in range(0, len(row), 3))
            return px
        # four panel lines at twice the font size (16 px font, 1280 px wide)
        top, below = band(0, 4 * 32), band(4 * 32 + 16, 4 * 32 + 32)
        check(bytes((0x30, 0x00, 0x30)) in top, "no panel background at the top")
        check(bytes((0xff, 0xff, 0xff)) in top, "no panel text at the top")
        check(bytes((0x30, 0x00, 0x30)) not in below, "the panel colour leaks into the log")
