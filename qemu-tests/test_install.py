"""`make install` (no QEMU): the tree it writes under DESTDIR, the filled
templates, and that nothing is written outside DESTDIR, checked by running
it in a private mount namespace where everything but DESTDIR is read-only."""

import filecmp
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time

from omtest import BUILD, ROOT, check
from pxeboot import PLACEHOLDER, ipxe_problems, item_labels, keep_built, make_install

IPXE_DIR = "/usr/lib/ipxe"
USER_TOOLS = ("om-run", "om-mon", "om-migrate", "om-ctl", "om-checkpoint")  # each with its man page


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def read(p):
    with open(p) as f:
        return f.read()


def tree(dest):
    out = set()
    for top, dirs, files in os.walk(dest):
        for n in files:
            out.add(os.path.relpath(os.path.join(top, n), dest))
    return out


def expected_tree(prefix, tftp):
    p, t = prefix.lstrip("/"), tftp.lstrip("/")
    want = {p + "/sbin/om-agent", p + "/share/man/man8/om-agent.8",
            t + "/om-node.elf", t + "/om.ipxe",
            "lib/systemd/system/om-agent.service", "etc/om/agent.conf",
            p + "/share/om/agent.conf.example", p + "/share/om/dnsmasq-om.conf",
            p + "/share/om/om-ltsp-ipxe"}
    want |= {p + "/share/doc/om/" + d for d in os.listdir(os.path.join(ROOT, "docs")) if d.endswith(".md")}
    for tool in USER_TOOLS:
        want |= {p + "/bin/" + tool, p + "/share/man/man1/%s.1" % tool}
    if os.path.exists(os.path.join(BUILD, "om-node.efi")):
        want.add(t + "/om-node.efi")
    want |= {t + "/" + b for b in ("undionly.kpxe", "snponly.efi", "ipxe.efi")
             if os.path.exists(os.path.join(IPXE_DIR, b))}
    return want


def test_install_default_tree():
    dest = tempfile.mkdtemp(prefix="om-inst-")
    try:
        r = make_install(dest)
        check(r.returncode == 0, "make install failed: %s%s" % (r.stdout, r.stderr))
        said = r.stdout + r.stderr
        got, want = tree(dest), expected_tree("/usr/local", "/srv/tftp")
        check(got == want, "tree differs: missing %s, extra %s" % (sorted(want - got), sorted(got - want)))
        check(mode(dest + "/usr/local/sbin/om-agent") == 0o755, "om-agent is not 0755")
        for tool in USER_TOOLS:
            check(mode(dest + "/usr/local/bin/" + tool) == 0o755, "%s is not 0755" % tool)
            page = "/usr/local/share/man/man1/%s.1" % tool
            check(filecmp.cmp(dest + page, os.path.join(ROOT, "docs", "man", tool + ".1"), shallow=False),
                  "%s differs from docs/man/" % page)
            r = subprocess.run(["man", "-l", dest + page], capture_output=True, text=True,
                               timeout=20, env=dict(os.environ, MANWIDTH="80"))
            check(r.returncode == 0 and "SYNOPSIS" in r.stdout and tool in r.stdout,
                  "man -l %s: %s" % (page, r.stderr))
        for f in ("srv/tftp/om.ipxe", "srv/tftp/om-node.elf", "lib/systemd/system/om-agent.service",
                  "etc/om/agent.conf", "usr/local/share/om/dnsmasq-om.conf",
                  "usr/local/share/man/man1/om-run.1", "usr/local/share/man/man8/om-agent.8"):
            check(mode(os.path.join(dest, f)) == 0o644, "%s is not 0644" % f)
        check(filecmp.cmp(dest + "/srv/tftp/om-node.elf", BUILD + "/om-node.elf", shallow=False),
              "the installed om-node.elf differs from build/")

        # A staged install makes no agent key (a package must not carry
        # one), says what to do, and leaves the menu's key empty.
        check("a staged install makes none" in said, "no word about the key: %r" % said)
        menu = read(dest + "/srv/tftp/om.ipxe")
        check("set om-key \n" in menu and "om.key=${om-key}" in menu, "the menu's key line: %r" % menu[:2000])
        check(not PLACEHOLDER.search(menu), "om.ipxe keeps a placeholder")
        for line in ("set om-server \n", "set om-port 7707\n", "set om-default om\n", "set om-timeout 5000\n"):
            check(line in menu, "om.ipxe lacks %r" % line.strip())
        check(ipxe_problems(menu) == [], "om.ipxe: %s" % ipxe_problems(menu))
        check(item_labels(menu) == ["om", "disk", "lab", "shell", "exit"], "items %r" % item_labels(menu))

        unit = read(dest + "/lib/systemd/system/om-agent.service").splitlines()
        for line in ("Type=simple", "ExecStart=/usr/local/sbin/om-agent", "RuntimeDirectory=om",
                     "Restart=on-failure", "WantedBy=multi-user.target",
                     # unprivileged, no capability, sandboxed
                     "User=om", "CapabilityBoundingSet=", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "ProtectHome=yes", "PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_UNIX"):
            check(line in unit, "om-agent.service lacks %r" % line)
        if shutil.which("systemd-analyze"):
            v = subprocess.run(["systemd-analyze", "verify", dest + "/lib/systemd/system/om-agent.service"],
                               capture_output=True, text=True, timeout=30)
            check("Unknown key" not in v.stderr and "Invalid" not in v.stderr, "systemd-analyze: %s" % v.stderr)
        check(not PLACEHOLDER.search("\n".join(unit)), "the unit keeps a placeholder")

        conf = read(dest + "/etc/om/agent.conf")
        for key in ("listen", "control", "heartbeat_ms", "down_after_ms", "drop_after_ms"):
            check(("#%s = " % key) in conf, "agent.conf lacks the key %s" % key)

        dm = dest + "/usr/local/share/om/dnsmasq-om.conf"
        check(not PLACEHOLDER.search(read(dm)), "dnsmasq-om.conf keeps a placeholder")
        check("tftp-root=/srv/tftp\n" in read(dm), "dnsmasq-om.conf: wrong tftp-root")
        r = subprocess.run(["dnsmasq", "--test", "--conf-file=" + dm], capture_output=True, text=True, timeout=20)
        check(r.returncode == 0, "dnsmasq rejects dnsmasq-om.conf: %s" % r.stderr)
        check(mode(dest + "/usr/local/share/om/om-ltsp-ipxe") == 0o755, "the LTSP hook is not executable")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_install_variables_and_reinstall():
    dest = tempfile.mkdtemp(prefix="om-inst-")
    try:
        args = ["PREFIX=/opt/om", "TFTPDIR=/var/lib/tftpboot", "OM_SERVER=192.0.2.10",
                "OM_AGENT_PORT=7800", "OM_MENU_DEFAULT=lab", "OM_MENU_TIMEOUT=3000",
                "OM_LAB_MENU=http://192.0.2.10/lab/menu.ipxe"]
        # The server's key, there before the install: kept, and named in the menu.
        os.makedirs(dest + "/etc/om")
        agent = os.path.join(BUILD, "om-agent")
        pub = subprocess.run([agent, "--genkey", dest + "/etc/om/agent.key"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        r = make_install(dest, *args)
        check(r.returncode == 0, "make install failed: %s%s" % (r.stdout, r.stderr))
        check(mode(dest + "/etc/om/agent.key") == 0o600, "agent.key is not 0600")
        check("set om-key %s\n" % pub in read(dest + "/var/lib/tftpboot/om.ipxe"),
              "om.ipxe does not carry the key's public half")
        got, want = tree(dest), expected_tree("/opt/om", "/var/lib/tftpboot") | {"etc/om/agent.key"}
        check(got == want, "tree differs: missing %s, extra %s" % (sorted(want - got), sorted(got - want)))
        menu = read(dest + "/var/lib/tftpboot/om.ipxe")
        for line in ("set om-server 192.0.2.10", "set om-port 7800", "set om-default lab",
                     "set om-timeout 3000", "set om-lab-menu http://192.0.2.10/lab/menu.ipxe"):
            check(line + "\n" in menu, "om.ipxe lacks %r" % line)
        check("ExecStart=/opt/om/sbin/om-agent\n" in read(dest + "/lib/systemd/system/om-agent.service"),
              "the unit does not start /opt/om/sbin/om-agent")
        check("tftp-root=/var/lib/tftpboot\n" in read(dest + "/opt/om/share/om/dnsmasq-om.conf"),
              "dnsmasq-om.conf does not serve TFTPDIR")

        # The admin's agent.conf and the agent's key survive a reinstall.
        with open(dest + "/etc/om/agent.conf", "a") as f:
            f.write("listen = 192.0.2.10:7800\n")
        key = read(dest + "/etc/om/agent.key")
        r = make_install(dest, *args)
        check(r.returncode == 0, "second make install failed: %s" % r.stderr)
        check(read(dest + "/etc/om/agent.conf").endswith("listen = 192.0.2.10:7800\n"),
              "reinstall overwrote /etc/om/agent.conf")
        check(read(dest + "/etc/om/agent.key") == key, "reinstall replaced the agent's key")

        for bad, msg in (("OM_MENU_DEFAULT=memtest", "OM_MENU_DEFAULT must be"),
                         ("OM_MENU_TIMEOUT=5s", "OM_MENU_TIMEOUT is milliseconds"),
                         ("OM_SERVER=server.lab", "OM_SERVER is an IPv4 address")):
            r = make_install(tempfile.mkdtemp(prefix="om-inst-bad-", dir=dest), bad)
            check(r.returncode != 0 and msg in r.stdout + r.stderr, "%s accepted: %s" % (bad, r.stdout))
        r = make_install(dest, "OM_MENU_DEFAULT=lab")
        check(r.returncode != 0 and "needs OM_LAB_MENU" in r.stdout + r.stderr, "lab default without a lab menu")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_install_stays_in_destdir():
    """Every mount but DESTDIR (and /proc, /sys, /dev) read-only in a private
    mount namespace: a write anywhere else fails make install."""
    if not shutil.which("unshare"):
        raise AssertionError("unshare (util-linux) is missing")
    dest = tempfile.mkdtemp(prefix="om-inst-")
    try:
        script = ('set -e; mount --bind "$1" "$1"; '
                  'for m in $(awk \'{print $2}\' /proc/self/mounts | sort -u); do '
                  'case "$m" in /proc*|/sys*|/dev*|"$1") ;; *) mount -o remount,bind,ro "$m" 2>/dev/null || true;; esac; '
                  'done; '
                  'if touch "%s/.om-rw-probe" 2>/dev/null; then echo "the repository is still writable"; exit 97; fi; '
                  'shift; exec "$@"' % ROOT)
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dest,
                            "make", "-s", "--no-print-directory"] + keep_built() + ["install", "DESTDIR=" + dest],
                           cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        check(r.returncode != 97, "could not make the rest of the system read-only")
        check(r.returncode == 0, "make install wrote outside DESTDIR or failed (%d): %s%s"
              % (r.returncode, r.stdout, r.stderr))
        check(tree(dest) == expected_tree("/usr/local", "/srv/tftp"), "the tree differs under a read-only system")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def test_agent_conf_example_parses():
    """om-agent reads the installed example, commented and with every key
    set (the values shown are the defaults)."""
    agent = os.path.join(BUILD, "om-agent")
    h = subprocess.run([agent, "--help"], capture_output=True, text=True, timeout=10)
    check("--config" in h.stdout, "this om-agent has no --config option")
    d = tempfile.mkdtemp(prefix="om-conf-")
    procs = []
    try:
        text = read(os.path.join(ROOT, "server-agent", "agent", "agent.conf"))
        live = re.sub(r"(?m)^#([a-z_]+ = )", r"\1", text)
        live = live.replace("control = /run/om/agent.sock", "control = %s/conf.sock" % d)
        key = os.path.join(d, "agent.key")
        subprocess.run([agent, "--genkey", key], capture_output=True, timeout=10, check=True)
        live = live.replace("key_file = /etc/om/agent.key", "key_file = " + key)
        for name, body, sock in (("commented.conf", text, d + "/c.sock"), ("live.conf", live, d + "/conf.sock")):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(body)
            args = [agent, "--config", p, "--listen", "127.0.0.1:0"]
            if name == "commented.conf":
                args += ["--control", sock, "--key", key]
            log = open(os.path.join(d, name + ".log"), "wb")
            pr = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            procs.append(pr)
            end = time.monotonic() + 10
            while not os.path.exists(sock) and pr.poll() is None and time.monotonic() < end:
                time.sleep(0.1)
            out = read(os.path.join(d, name + ".log"))
            check(pr.poll() is None and os.path.exists(sock), "om-agent refused %s: %s" % (name, out))
            check("heartbeat 1000 ms, down after 5000 ms, grace 30000 ms, drop after 60000 ms" in out,
                  "%s: unexpected settings: %s" % (name, out))
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
        shutil.rmtree(d, ignore_errors=True)
