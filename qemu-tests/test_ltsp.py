"""LTSP 20+ labs: boot/ltsp/om-ltsp-ipxe, run from ltsp.conf's POST_IPXE_
hook, adds the compute-node entry to the ltsp.ipxe that `ltsp ipxe`
generates. The host-only tests apply it to a sample of that file
(fixtures/ltsp.ipxe); the last one boots the result in QEMU."""

import os
import shutil
import subprocess
import tempfile
import time

from omtest import ROOT, check, cluster
from pxeboot import console, ipxe_problems, item_labels, tftp_dir

HOOK = os.path.join(ROOT, "boot", "ltsp", "om-ltsp-ipxe")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ltsp.ipxe")
ITEM = "item --key o om                  Compute node (om)"
KEY = "0123456789abcdef" * 4  # an agent's public key (-k)


def hook(*args, env=None, key=KEY):
    """Runs the hook with -k key first (key None: no -k)."""
    return subprocess.run([HOOK] + (["-k", key] if key else []) + list(args), capture_output=True,
                          text=True, timeout=20, stdin=subprocess.DEVNULL, env=env)


def read(p):
    with open(p) as f:
        return f.read()


def is_subsequence(small, big):
    it = iter(big)
    return all(line in it for line in small)


def test_ltsp_hook_adds_entry_once():
    d = tempfile.mkdtemp(prefix="om-ltsp-")
    try:
        f = os.path.join(d, "ltsp.ipxe")
        shutil.copy(FIXTURE, f)
        os.chmod(f, 0o640)
        orig = read(FIXTURE)
        check(ipxe_problems(orig) == [], "the fixture itself is broken: %s" % ipxe_problems(orig))

        r = hook("-a", "192.168.67.1", f)
        check(r.returncode == 0, "hook failed (%d): %s" % (r.returncode, r.stderr))
        once = read(f)
        r = hook("-a", "192.168.67.1", f)
        check(r.returncode == 0, "second run failed (%d): %s" % (r.returncode, r.stderr))
        twice = read(f)
        check(once == twice, "a second run changed the file (not idempotent)")
        check(oct(os.stat(f).st_mode & 0o777) == oct(0o640), "the file's mode changed")

        lines = once.splitlines()
        check(lines.count(ITEM) == 1, "the menu item appears %d times" % lines.count(ITEM))
        check(lines.count(":om") == 1, "the :om label appears %d times" % lines.count(":om"))
        check(once.count("om.agent=192.168.67.1:7707 om.key=%s " % KEY) == 1,
              "the agent address and key are not in the kernel line once")
        check(is_subsequence(orig.splitlines(), lines), "lines of the original file were lost or reordered")
        check(len(lines) - len(orig.splitlines()) == 23, "expected 23 added lines, got %d"
              % (len(lines) - len(orig.splitlines())))
        problems = ipxe_problems(once)
        check(problems == [], "the result is not a well-formed iPXE menu: %s" % problems)
        # Beside the LTSP images, before the "Other" group; the originals stay.
        check(item_labels(once) == ["x86_64", "bookworm", "r_lab-chroot", "om",
                                    "memtest", "shell", "disk", "exit"],
              "menu items are %r" % item_labels(once))
        # The block sits after the dispatch (`goto ${img}`), never on a path
        # that could fall into it, and returns to LTSP's menu label.
        i = lines.index(":om")
        check(lines[i - 3] == "goto ${img}", "the :om block does not follow the menu dispatch")
        check("goto start" in lines[i:i + 24], "the block does not return to :start")

        # Another address replaces the entry, it does not add a second one.
        r = hook("-a", "10.1.2.3", "-p", "7800", f)
        check(r.returncode == 0, "re-run with a new address failed: %s" % r.stderr)
        new = read(f)
        check("192.168.67.1" not in new and new.count("om.agent=10.1.2.3:7800") == 1,
              "the new address did not replace the old one")
        check(new.splitlines().count(ITEM) == 1, "the item doubled on re-run")

        # Without -a the node uses LTSP's own ${srv} (the boot server).
        shutil.copy(FIXTURE, f)
        check(hook(f).returncode == 0, "run without -a failed")
        check("om.agent=${srv}:7707" in read(f), "without -a the entry does not use ${srv}")

        # Like LTSP, the file defaults to $TFTP_DIR/ltsp/ltsp.ipxe.
        os.mkdir(os.path.join(d, "ltsp"))
        shutil.copy(FIXTURE, os.path.join(d, "ltsp", "ltsp.ipxe"))
        r = hook("-a", "192.168.67.1", env=dict(os.environ, TFTP_DIR=d))
        check(r.returncode == 0 and ":om" in read(os.path.join(d, "ltsp", "ltsp.ipxe")).splitlines(),
              "the default path $TFTP_DIR/ltsp/ltsp.ipxe was not used: %s" % r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_ltsp_hook_refuses_bad_input():
    d = tempfile.mkdtemp(prefix="om-ltsp-")
    try:
        r = hook(os.path.join(d, "missing.ipxe"))
        check(r.returncode == 1 and "No such file (run 'ltsp ipxe' first)" in r.stderr,
              "missing file: rc %d, %r" % (r.returncode, r.stderr))
        f = os.path.join(d, "plain.ipxe")
        with open(f, "w") as fh:
            fh.write("#!ipxe\ndhcp\nchain boot.ipxe\n")
        r = hook(f)
        check(r.returncode == 1 and "no iPXE menu" in r.stderr, "menu-less file: rc %d, %r" % (r.returncode, r.stderr))
        check(read(f) == "#!ipxe\ndhcp\nchain boot.ipxe\n", "a file without a menu was changed")
        check(sorted(os.listdir(d)) == ["plain.ipxe"], "temporary files left behind: %s" % os.listdir(d))
        for args in (["-a", "lab-server"], ["-p", "77x"], ["-q"], ["-k", "abcd"], ["-k", "G" * 64]):
            r = hook(*(args + [f]))
            check(r.returncode == 2, "%s: rc %d, expected 2" % (args, r.returncode))
        # No -k and no om-agent to ask: refused, the file left alone.
        r = hook(f, key=None, env=dict(os.environ, PATH="/usr/bin:/bin"))
        check(r.returncode == 2 and "no -k KEY" in r.stderr, "no key: rc %d, %r" % (r.returncode, r.stderr))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_ipxe_checker_catches_faults():
    """The structure check the tests rely on does find broken scripts."""
    bad = "#!ipxe\nmenu M\nitem a A\nitem b B\nchoose --default c x\ngoto missing\n:a\n:a\n"
    p = ipxe_problems(bad)
    check(any("'b'" in m for m in p) and any("'c'" in m for m in p)
          and any("'missing'" in m for m in p) and any("already defined" in m for m in p),
          "checker missed faults: %s" % p)
    check(ipxe_problems("menu\n") != [], "checker accepted a script without #!ipxe")


def test_ltsp_menu_boots_compute():
    """The hooked ltsp.ipxe in QEMU: a client whose LTSP section sets
    DEFAULT_IMAGE=om and MENU_TIMEOUT=1000 becomes a compute node."""
    with cluster() as c:
        d = tempfile.mkdtemp(prefix="om-ltsp-")
        f = os.path.join(d, "ltsp.ipxe")
        shutil.copy(FIXTURE, f)
        r = hook("-a", "10.0.2.2", "-p", str(c.port), f, key=c.agent_pub)
        check(r.returncode == 0, "hook failed: %s" % r.stderr)
        tftp = tftp_dir(c, {"ltsp/ltsp.ipxe": read(f)})
        shutil.rmtree(d, ignore_errors=True)
        t0 = time.monotonic()
        n = c.boot("e1000", kernel=None, mac="52:54:00:aa:bb:02",
                   netdev="tftp=%s,bootfile=ltsp/ltsp.ipxe" % tftp, extra=["-boot", "n"])
        info = c.wait_registered(n, timeout=120)
        t_reg = time.monotonic() - t0
        con = console(n)
        check("Lab boot menu - lab-pc02" in con, "LTSP's menu was not shown")
        check("om: loading /om-node.elf (agent 10.0.2.2:%d)" % c.port in con, "the om entry did not run")
        check(info["nic"] == "e1000", "nic %r" % info["nic"])
        print("INFO LTSP menu -> om entry (BIOS, e1000): registered %.1f s after QEMU start" % t_reg)
