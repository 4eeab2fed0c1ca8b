"""pxeboot - what the PXE and LTSP tests share: boot/om.ipxe filled the way
`make install` fills it, a TFTP folder for QEMU's user network, a structural
check of iPXE scripts, and consoles without terminal escapes."""

import os
import re
import shutil
import subprocess

from omtest import BUILD, ROOT, check

TEMPLATE = os.path.join(ROOT, "boot", "om.ipxe")
OVMF = "/usr/share/ovmf/OVMF.fd"  # Debian's ovmf
ANSI = re.compile(r"\x1b(\[[0-9;?=]*[A-Za-z]|[()][A-Z0-9]|c)")
PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def fill(text, **values):
    """Replaces @NAME@ by values[NAME]; every placeholder must be given."""
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    left = PLACEHOLDER.findall(text)
    check(not left, "placeholders left unfilled: %s" % sorted(set(left)))
    return text


def om_ipxe(server="", port=7707, default="om", timeout=1000, lab="", key=""):
    """boot/om.ipxe filled as make install fills it; key: the agent's public
    key (the cluster's agent_pub)."""
    with open(TEMPLATE) as f:
        return fill(f.read(), OM_SERVER=server, OM_AGENT_PORT=port, OM_AGENT_KEY=key,
                    OM_MENU_DEFAULT=default, OM_MENU_TIMEOUT=timeout, OM_LAB_MENU=lab)


def tftp_dir(c, files, images=("om-node.elf",)):
    """c.dir/tftp with files {name: text} and the named images from build/,
    readable by everyone (a TFTP server may run as another user)."""
    d = os.path.join(c.dir, "tftp")
    os.makedirs(d, exist_ok=True)
    os.chmod(c.dir, 0o755)
    os.chmod(d, 0o755)
    for name, text in files.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    for img in images:
        shutil.copy(os.path.join(BUILD, img), d)
    for top, dirs, names in os.walk(d):
        for n in dirs:
            os.chmod(os.path.join(top, n), 0o755)
        for n in names:
            os.chmod(os.path.join(top, n), 0o644)
    return d


def console(node):
    """The node's serial log without ANSI escapes (iPXE's menu, OVMF)."""
    return ANSI.sub("", node.serial())


def commands(line):
    """The commands of one script line, split at && and ||."""
    return [c.split() for c in re.split(r"\|\||&&", line) if c.strip()]


def ipxe_problems(text):
    """Structural faults of an iPXE script: no #!ipxe, a label defined twice,
    an item, goto or choose --default naming a label that does not exist,
    items without a menu or without a choose. Returns a list of messages."""
    lines = text.splitlines()
    problems = []
    if not lines or lines[0].strip() != "#!ipxe":
        problems.append("first line is not #!ipxe")
    labels, items, gotos, defaults = {}, [], [], []
    seen_menu = seen_choose = False
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            name = line[1:]
            if name in labels:
                problems.append("line %d: label %r already defined on line %d" % (no, name, labels[name]))
            labels[name] = no
            continue
        for cmd in commands(line):
            if cmd[0] == "menu":
                seen_menu = True
            elif cmd[0] == "item":
                if not seen_menu:
                    problems.append("line %d: item before any menu" % no)
                args, gap = cmd[1:], False
                while args and args[0].startswith("--"):
                    opt = args.pop(0)
                    if opt == "--key" and args:
                        args.pop(0)
                    gap = gap or opt == "--gap"
                if args and not gap:
                    items.append((no, args[0]))
            elif cmd[0] == "choose":
                seen_choose = True
                if "--default" in cmd:
                    defaults.append((no, cmd[cmd.index("--default") + 1]))
            elif cmd[0] == "goto" and len(cmd) > 1:
                gotos.append((no, cmd[1]))
    if items and not seen_choose:
        problems.append("items but no choose")
    for what, refs in (("item", items), ("goto", gotos), ("choose --default", defaults)):
        for no, name in refs:
            if "${" not in name and name not in labels:
                problems.append("line %d: %s names label %r, which does not exist" % (no, what, name))
    return problems


def item_labels(text):
    """The labels of the menu items, in order."""
    out = []
    for raw in text.splitlines():
        for cmd in commands(raw.strip()):
            if cmd and cmd[0] == "item" and "--gap" not in cmd:
                args = cmd[1:]
                while args and args[0].startswith("--"):
                    if args.pop(0) == "--key" and args:
                        args.pop(0)
                if args:
                    out.append(args[0])
    return out


def git_log(path):
    """One line per commit that touched path (empty: not committed yet)."""
    r = subprocess.run(["git", "-C", ROOT, "log", "--oneline", "--", path],
                       capture_output=True, text=True, timeout=20)
    return r.stdout.strip()


# What `make install` takes from build/.
INSTALLED_BUILDS = ("om-agent", "om-mon", "om-run", "om-migrate", "om-ctl", "om-node.elf", "om-node.efi")


def keep_built():
    """make options that keep it from rebuilding INSTALLED_BUILDS."""
    return [o for f in INSTALLED_BUILDS for o in ("-o", os.path.join("build", f))]


def make_install(dest, *variables):
    """Runs `make install DESTDIR=dest VAR=value...` on what build/ holds now,
    like every QEMU test: -o keeps make from rebuilding the images and tools
    (the suite runs after `make all`; a half-edited source elsewhere must not
    fail this test). Returns the CompletedProcess."""
    return subprocess.run(["make", "-s", "--no-print-directory"] + keep_built()
                          + ["install", "DESTDIR=" + dest] + list(variables),
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
