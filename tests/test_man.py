#!/usr/bin/env python3
"""test_man.py - every om program has a man page (docs/man/NAME.SECTION)
that says what its --help says: the options in the page's SYNOPSIS are the
options of `NAME --help`, and so are the ones its OPTIONS section
describes. The programs are om-agent and the mains in server-agent/tools/;
the binaries come from build/ (OM_BUILD). The pages must also format
without a warning (groff -man -ww).

Output is one line per page, "PASS man/NAME" or "FAIL man/NAME: reason";
exit status 0 iff all passed.
"""
import os
import re
import subprocess
import sys

from harness import ROOT, Fail, check

BUILD = os.environ.get("OM_BUILD", os.path.join(ROOT, "build"))
MAN = os.path.join(ROOT, "docs", "man")
PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "man/"
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO")

# An option: one or two dashes and a name, not inside a word (om-mon, Ctrl-C).
OPTION = re.compile(r"(?<![\w/-])--?[A-Za-z][\w-]*")


def programs():
    """om-agent and every tool whose main is server-agent/tools/NAME.c."""
    tools = os.listdir(os.path.join(ROOT, "server-agent", "tools"))
    return ["om-agent"] + sorted(f[:-2] for f in tools if f.endswith(".c"))


def plain(roff):
    """The text of roff source lines: requests dropped, escapes resolved
    as far as option names need (\\- is '-', font changes vanish)."""
    text = re.sub(r"(?m)^\.\S+ ?", "", roff)
    text = text.replace("\\-", "-").replace("\\(em", "-").replace("\\%", "")
    return re.sub(r"\\f[BIRP]|\\f\(..|\\&", "", text)


def sections(roff):
    """{".SH name": source lines up to the next .SH}."""
    out, name = {}, None
    for line in roff.splitlines():
        m = re.match(r'\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            name = m.group(1).strip()
            out[name] = []
        elif name is not None:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def option_tags(src):
    """The options named by the tag line of each .TP entry."""
    lines, tags = src.splitlines(), set()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == ".TP":
            tags |= set(OPTION.findall(plain(lines[i + 1])))
    return tags


def check_page(name):
    pages = [f for f in os.listdir(MAN) if re.fullmatch(re.escape(name) + r"\.[18]", f)]
    check(len(pages) == 1, "no page docs/man/%s.1 or .8 (found %r)" % (name, pages))
    path = os.path.join(MAN, pages[0])
    roff = open(path).read()
    section = pages[0][-1]
    check(re.search(r"(?m)^\.TH %s %s " % (re.escape(name.upper()), section), roff),
          ".TH does not name %s(%s)" % (name.upper(), section))
    sec = sections(roff)
    missing = [s for s in SECTIONS if s not in sec]
    check(not missing, "sections missing: %s" % ", ".join(missing))
    check(plain(sec["NAME"]).strip().startswith(name + " - "), "NAME is not '%s - ...'" % name)

    exe = os.path.join(BUILD, name)
    check(os.access(exe, os.X_OK), "%s is not built" % exe)
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and p.stdout.startswith("usage: %s " % name),
          "--help: exit %d, %r" % (p.returncode, p.stdout[:80]))
    usage = set(OPTION.findall(p.stdout))
    synopsis = set(OPTION.findall(plain(sec["SYNOPSIS"])))
    check(synopsis == usage, "SYNOPSIS lacks %s, --help lacks %s" %
          (sorted(usage - synopsis), sorted(synopsis - usage)))
    described = option_tags(sec["OPTIONS"])
    check(described == usage, "OPTIONS lacks %s, --help lacks %s" %
          (sorted(usage - described), sorted(described - usage)))

    g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path], capture_output=True,
                       text=True, timeout=20)
    check(g.returncode == 0 and g.stderr == "", "groff: %s" % g.stderr.strip())


def main():
    failed = 0
    for name in programs():
        try:
            check_page(name)
            print("PASS %s%s" % (PREFIX, name))
        except (Fail, OSError, subprocess.SubprocessError) as e:
            failed += 1
            print("FAIL %s%s: %s" % (PREFIX, name, e))
    extra = sorted(set(f.rsplit(".", 1)[0] for f in os.listdir(MAN)) - set(programs()))
    if extra:
        failed += 1
        print("FAIL %spages: no such program: %s" % (PREFIX, ", ".join(extra)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
