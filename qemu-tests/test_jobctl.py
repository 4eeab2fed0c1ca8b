"""Job control at a terminal: Ctrl-Z, bg and fg do to a program on a node
what they do to it at home. The same script runs natively and through
om-run, on a pseudo-terminal driven by qemu-tests/ptyshell.py acting as
the user's shell."""

import os
import signal
import subprocess
import sys

from omtest import BUILD, TestFailure, check, cluster, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
OM_RUN = os.path.join(BUILD, "om-run")
SIGTSTP, SIGTTIN = int(signal.SIGTSTP), int(signal.SIGTTIN)


class PtyShell:
    """The helper shell as a context: every reply is checked, and on exit
    the job's process group and the helper are killed by pid."""

    def __init__(self):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "ptyshell.py")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.job = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.job is not None:
            try:
                os.killpg(self.job, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.p.kill()
        self.p.wait()
        return False

    def do(self, line, want=None):
        """Sends a command; with want, its reply must be exactly that."""
        reply = self.ask(line)
        if want is not None and reply != want:
            raise TestFailure("%r: got %r, expected %r\nterminal: %s\nprocesses: %s"
                              % (line, reply, want, self.output(), self.ask("ps")))
        return reply

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().rstrip("\n")

    def output(self):
        return self.ask("output")

    def start(self, argv):
        reply = self.ask("start " + " ".join(argv)).split()
        check(len(reply) == 4 and reply[0] == "pid" and reply[2] == "foreground", "start: %r" % reply)
        self.job = int(reply[1])
        check(reply[3] == reply[1], "the job is not in the foreground: %r" % reply)


def ctrl_z_bg_fg(argv, on_stop=lambda sig: None):
    """stdin_echo at a terminal: a line, Ctrl-Z (stopped), bg (it reads
    the terminal from the background: stopped by SIGTTIN), fg, a line,
    Ctrl-D. Returns the terminal's output."""
    with PtyShell() as sh:
        sh.start(argv)
        sh.do("type one\\n")
        sh.do("expect 1: one 60", "ok")
        sh.do("type \\x1a")
        sh.do("status 30", "stopped %d" % SIGTSTP)
        on_stop(SIGTSTP)
        sh.do("bg", "ok")
        sh.do("status 30", "stopped %d" % SIGTTIN)
        on_stop(SIGTTIN)
        sh.do("fg", "ok")
        sh.do("type two\\n")
        sh.do("expect 2: two 30", "ok")
        sh.do("type \\x04")
        sh.do("expect eof=1 30", "ok")
        sh.do("status 30", "exited 0")
        return sh.output()


def test_ctrl_z_bg_fg_on_node():
    prog = os.path.join(BUILD, "corpus", "static", "stdin_echo")
    native = ctrl_z_bg_fg([prog])
    with cluster() as c:
        n = c.boot("virtio-net-pci", extra=["-cpu", "max"])
        c.wait_registered(n)
        seen = []

        def on_stop(sig):
            # The job is held on the node, and om-mon says so.
            n.wait_serial("stopped by signal %d" % sig, timeout=10)
            job = wait_for(lambda: (lambda j: j and j[0]["state"] == "stopped" and j[0])(
                c.node_by_mac(n.mac)["job_list"]), 10, "om-mon to show the job stopped")
            seen.append((sig, job["command"]))

        remote = ctrl_z_bg_fg([OM_RUN, "--control", c.control, prog], on_stop)
        con = n.serial()
        check(remote == native, "terminal differs: %s vs native %s" % (remote, native))
        check(len(seen) == 2, "stops seen: %r" % seen)
        check(con.count(": continues") == 2, "the node did not continue the job twice:\n" + con[-1500:])
        check("going home" not in con and "exited with status 0" in con,
              "the job did not end on the node:\n" + con[-1500:])


def ctrl_z_caught(argv):
    """sigint catching SIGTSTP at a terminal: Ctrl-Z runs its handler and
    nothing stops. "ready" is printed where it runs: the job is there
    when Ctrl-Z comes."""
    with PtyShell() as sh:
        sh.start(argv + ["%d" % SIGTSTP])
        sh.do("expect ready 60", "ok")
        # om-run (or the program itself, natively) takes Ctrl-Z over once
        # the program runs: until then it would stop with the program.
        sh.do("catching %d 30" % SIGTSTP, "ok")
        sh.do("type \\x1a")
        sh.do("expect got 20 30", "ok")
        sh.do("status 30", "exited 0")
        return sh.output()


def test_ctrl_z_at_home():
    """om-run --home follows its program: stopped when it stops, not when
    it catches the signal."""
    stdin_echo = os.path.join(BUILD, "corpus", "static", "stdin_echo")
    sigint = os.path.join(BUILD, "corpus", "static", "sigint")
    check(ctrl_z_bg_fg([OM_RUN, "--home", stdin_echo]) == ctrl_z_bg_fg([stdin_echo]), "stdin_echo differs")
    check(ctrl_z_caught([OM_RUN, "--home", sigint]) == ctrl_z_caught([sigint]), "sigint differs")


def test_ctrl_z_caught_by_program():
    """A program that handles SIGTSTP (as editors do) gets it on the node,
    and om-run does not stop: the shell sees no stop, only the exit."""
    prog = os.path.join(BUILD, "corpus", "dynamic", "sigint")
    native = ctrl_z_caught([prog])
    with cluster() as c:
        n = c.boot("virtio-net-pci", extra=["-cpu", "max"])
        c.wait_registered(n)
        remote = ctrl_z_caught([OM_RUN, "--control", c.control, prog])
        con = n.serial()
        check(remote == native, "terminal differs: %s vs native %s" % (remote, native))
        check("exited with status 0" in con and "going home" not in con,
              "the job did not run on the node to its end:\n" + con[-1500:])
        check("stopped by signal" not in con, "the node stopped the job")
