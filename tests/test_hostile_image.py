#!/usr/bin/env python3
"""test_hostile_image.py - a node that sends a job home changed
(server-agent/deputy/restore.h, return_calls.h): a fake node takes the
image of tests/progs/comeback from om-run, then sends it home the way a
hostile node would: a code page patched, data made executable, the
instruction pointer off the code, a pending call aimed at another process
of the user. Home runs no code a node made or changed: the job ends with a
message and none of the node's code runs; a smuggled call is refused
(EPERM) and the victim lives. The same image sent back unchanged runs.

comeback's code (its whole program): _start: getpid (mov at +0, SYSCALL
at +5); +7: exit with the errno the call returned, or 0. A node's code
that ran would exit 42.

Output is one line per test, "PASS hostile_image/name" or "FAIL
hostile_image/name: reason"; exit status 0 iff all passed. Environment:
OM_RUN (default build/om-run), OM_AGENT as for tests/harness.py,
OM_TEST_PREFIX.
"""
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import harness
import omwire as ow
from harness import check
from test_hostile_node import alive, children

RUN = os.environ.get("OM_RUN", os.path.join(harness.ROOT, "build", "om-run"))
PROG = os.path.join(harness.ROOT, "build", "tests", "progs", "comeback")
PREFIX = os.environ.get("OM_TEST_PREFIX", "") + "hostile_image/"
TEST_TIMEOUT = 30
ALL_FEATURES = dict(leaf1_ecx=0xFFFFFFFF, leaf1_edx=0xFFFFFFFF, leaf7_ebx=0xFFFFFFFF,
                    leaf7_ecx=0xFFFFFFFF, leaf7_edx=0xFFFFFFFF, xcr0=0xFFFFFFFFFFFFFFFF)
REG_RAX, REG_RSI, REG_RDI, REG_RIP, REG_ORIG_RAX = 0, 4, 5, 16, 18  # migrate/image.h enum om_reg
ERESTARTNOINTR = 513
PROT_X = 4
HOME_REQUESTED = 2
SYS_KILL = 62
EPERM = 1
# exit(42): what a node's code does should it run at home.
EXIT_42 = bytes.fromhex("b83c000000" "bf2a000000" "0f05")
OMRUN_FAIL = 1  # om-run's own failure (server-agent/deputy/remote.h)


class Image:
    """The frames of a job's image as om-run sent them, to change and send back."""

    def __init__(self, frames):
        self.frames = [[t, bytearray(p)] for t, p in frames]

    def hdr(self):
        return self.frames[0][1]

    def reg(self, i, value=None):
        if value is not None:
            struct.pack_into("<Q", self.hdr(), i * 8, value & 0xFFFFFFFFFFFFFFFF)
        return struct.unpack_from("<Q", self.hdr(), i * 8)[0]

    def regions(self):
        """(frame index, start, end, prot) of each IMAGE_REGION."""
        out = []
        for i, (t, p) in enumerate(self.frames):
            if t == ow.T_IMAGE_REGION:
                start, end, prot = struct.unpack_from("<QQI", p, 0)
                out.append((i, start, end, prot))
        return out

    def page_at(self, addr):
        """(frame, offset in its payload) of the byte at addr in the PAGES sent."""
        regions = self.regions()
        for t, p in self.frames:
            if t != ow.T_IMAGE_PAGES:
                continue
            region, first, count = struct.unpack_from("<IQI", p, 0)
            start = regions[region][1] + first * 4096
            if start <= addr < start + count * 4096:
                return p, 16 + addr - start
        raise harness.Fail("no page sent for %#x" % addr)

    def poke(self, addr, data):
        p, at = self.page_at(addr)
        p[at:at + len(data)] = data


def away(tmp, prog=PROG):
    """om-run with comeback (or prog, a copy) on a fake node: (agent, node,
    om-run, job, the home process, the image)."""
    a = harness.Agent(tmp)
    n = a.node(harness.MAC1, **ALL_FEATURES)
    p = harness.spawn([RUN, "--control", a.control, prog], stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    frames = []
    while not frames or frames[-1][0] != ow.T_IMAGE_END:
        f = n.recv_frame(timeout=10)
        check(f is not None, "the image ended early after %d frames" % len(frames))
        frames.append((f[0], f[3]))
    job = f[1]
    n.send_frame(ow.T_JOB_STARTED, job=job)
    home = children(p.pid)
    check(len(home) == 1, "om-run's children: %r" % home)
    img = Image(frames)
    check(img.frames[0][0] == ow.T_IMAGE_BEGIN, "the image starts with type %d" % img.frames[0][0])
    code = img.page_at(img.reg(REG_RIP) + 5)
    check(code[0][code[1]:code[1] + 2] == b"\x0f\x05", "no SYSCALL at _start + 5")
    return a, n, p, job, home[0], img


def send_home(n, job, img, pending=-1):
    n.send_frame(ow.T_JOB_HOME, ow.job_home(HOME_REQUESTED, "test", pending), job=job)
    for t, p in img.frames:
        n.send_frame(t, bytes(p), job=job)


def finish(p, home):
    out, err = p.communicate(timeout=15)
    # killed (SIGKILL): gone a moment later under load, not at once
    harness.wait_for(lambda: not alive(home), 5, "the home process to be gone")
    return p.returncode, err.decode()


def refused(tmp, change, said):
    a, n, p, job, home, img = away(tmp)
    change(img)
    send_home(n, job, img)
    rc, err = finish(p, home)
    check(rc == OMRUN_FAIL, "om-run exited %d, expected %d: %r" % (rc, OMRUN_FAIL, err[-600:]))
    check(said in err, "om-run did not say %r: %r" % (said, err[-1000:]))


def t_patched_code_page(tmp):
    def change(img):
        img.poke(img.reg(REG_RIP), EXIT_42)
    refused(tmp, change, "changed on the node: home runs no code a node made or changed")


def t_data_made_executable(tmp):
    def change(img):
        # The stack (the last region but the vDSO's neighbours): code there,
        # rip on it, the region now executable.
        rsp = struct.unpack_from("<Q", img.hdr(), 7 * 8)[0]
        for i, start, end, prot in img.regions():
            if start <= rsp < end:
                struct.pack_into("<I", img.frames[i][1], 16, prot | PROT_X)
        img.poke(rsp & ~0xFFF, EXIT_42)
        img.reg(REG_RIP, rsp & ~0xFFF)
    refused(tmp, change, "that the job did not have when it left: home runs no code a node made or changed")


def home_file_changed(tmp, meanwhile, said):
    """comeback run from a copy, which meanwhile(path) changes while the
    job is away; the image comes back unchanged and is refused with said."""
    prog = os.path.join(tmp, "comeback")
    shutil.copy(PROG, prog)
    time.sleep(0.05)  # ctime's clock is coarse
    a, n, p, job, home, img = away(tmp, prog)
    meanwhile(prog)
    send_home(n, job, img)
    rc, err = finish(p, home)
    check(rc == OMRUN_FAIL, "om-run exited %d, expected %d: %r" % (rc, OMRUN_FAIL, err[-600:]))
    said = "(%s %s): home runs no code a node made or changed" % (prog, said)
    check(said in err, "om-run did not say %r: %r" % (said, err[-1000:]))


def t_home_code_file_changed(tmp):
    # The file home's code is mapped from was written while the job was
    # away (a node can write the user's files through the deputy, and a
    # private mapping reads the file where it was not written): the image
    # is unchanged, yet home's code is not what the job left with. A
    # chmod moves the ctime as a write would.
    home_file_changed(tmp, lambda path: os.chmod(path, 0o755), "changed while the job was away")


def t_home_code_file_gone(tmp):
    # Removed while the job was away (after a write, say): no path reaches
    # the file now, but home's pages were read from it.
    home_file_changed(tmp, os.unlink, "was removed while the job was away")


def t_rip_off_the_code(tmp):
    def change(img):
        rsp = struct.unpack_from("<Q", img.hdr(), 7 * 8)[0]
        img.reg(REG_RIP, rsp & ~0xFFF)
    refused(tmp, change, "outside the job's code: home runs only the code the job left with")


def smuggled_kill(tmp, pending):
    """A kill of another process of the user, pending at home (the header's
    call, rip after its SYSCALL) or standing at rip (SYSCALL there)."""
    victim = harness.spawn(["sleep", "60"], stdin=subprocess.DEVNULL, start_new_session=True)
    a, n, p, job, home, img = away(tmp)
    entry = img.reg(REG_RIP)
    img.reg(REG_RDI, victim.pid)
    img.reg(REG_RSI, signal.SIGKILL)
    if pending:
        img.reg(REG_RIP, entry + 7)
    else:
        img.reg(REG_RIP, entry + 5)
        img.reg(REG_RAX, SYS_KILL)
    send_home(n, job, img, SYS_KILL if pending else -1)
    rc, err = finish(p, home)
    check(alive(victim.pid), "the victim died")
    check(rc == EPERM, "om-run exited %d, expected %d (EPERM): %r" % (rc, EPERM, err[-600:]))
    said = "om-run: refused kill(%d, SIGKILL) from node 1: pid %d is not in this job\n" % (victim.pid, victim.pid)
    check(said in err, "om-run did not say %r: %r" % (said, err[-1000:]))


def t_pending_kill_refused(tmp):
    smuggled_kill(tmp, True)


def t_kill_at_rip_refused(tmp):
    smuggled_kill(tmp, False)


def t_restart_smuggled_in_orig_rax(tmp):
    # A call the kernel would make again on resuming (rax -ERESTARTNOINTR,
    # orig_rax kill) that no pending number names: home never makes it.
    victim = harness.spawn(["sleep", "60"], stdin=subprocess.DEVNULL, start_new_session=True)
    a, n, p, job, home, img = away(tmp)
    img.reg(REG_RIP, img.reg(REG_RIP) + 7)
    img.reg(REG_RAX, -ERESTARTNOINTR)
    img.reg(REG_ORIG_RAX, SYS_KILL)
    img.reg(REG_RDI, victim.pid)
    img.reg(REG_RSI, signal.SIGKILL)
    send_home(n, job, img)
    rc, err = finish(p, home)
    check(alive(victim.pid), "the victim died")
    # comeback exits with what rax held: -ERESTARTNOINTR, status 513 & 255.
    check(rc == ERESTARTNOINTR & 255, "om-run exited %d: %r" % (rc, err[-600:]))


def t_pending_without_syscall(tmp):
    # rip stays at _start, which follows no SYSCALL.
    a, n, p, job, home, img = away(tmp)
    send_home(n, job, img, SYS_KILL)
    rc, err = finish(p, home)
    check(rc == OMRUN_FAIL, "om-run exited %d, expected %d: %r" % (rc, OMRUN_FAIL, err[-600:]))
    said = "the node says it waits in a system call, but it does not stand after one"
    check(said in err, "om-run did not say %r: %r" % (said, err[-1000:]))


def t_unchanged_image_runs(tmp):
    a, n, p, job, home, img = away(tmp)
    send_home(n, job, img)
    rc, err = finish(p, home)
    check(rc == 0, "om-run exited %d: %r" % (rc, err[-1000:]))


TESTS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("t_")]

if __name__ == "__main__":
    sys.exit(harness.run_tests(TESTS, (RUN, harness.AGENT, PROG), PREFIX, TEST_TIMEOUT, "om-hostile-image-"))
