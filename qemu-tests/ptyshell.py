"""ptyshell: a scripted job-control shell on a pseudo-terminal, so tests can
press Ctrl-Z and type fg or bg as a user at a terminal would.

Run as its own session leader (Popen(..., start_new_session=True)); it
makes a new pty its controlling terminal, and reads commands on stdin, one
per line, answering each with one line on stdout:

  start ARGV...      fork the job in its own process group, in the
                     foreground, on the pty   -> "pid N foreground PGID"
  type TEXT          write TEXT to the terminal (Python escapes: \\n,
                     \\x1a for Ctrl-Z, \\x04 for Ctrl-D)   -> "ok"
  expect TEXT SECS   wait until the terminal output so far contains TEXT
                     -> "ok" or "timeout <repr of the output>"
  status SECS        the job's next wait status, stops included
                     -> "stopped SIG", "exited N", "signaled SIG" or
                        "timeout"
  catching SIG SECS  wait until the job's first process catches SIG (its
                     handler is in place)   -> "ok" or "timeout"
  fg / bg            continue the job with or without the terminal -> "ok"
  output             everything the terminal showed -> repr of it

At end of input (or any error) the job's process group is killed. The
terminal does not echo, so output is only what the job wrote."""

import fcntl
import os
import pty
import select
import signal
import sys
import termios
import time


class Shell:
    def __init__(self):
        if os.getsid(0) != os.getpid():
            os.setsid()
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.slave = slave
        self.job = None
        self.out = b""
        # A shell takes the terminal back from a stopped job: that must
        # not stop the shell itself.
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)

    def start(self, argv):
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                os.tcsetpgrp(self.slave, os.getpid())  # SIGTTOU still ignored
                for sig in (signal.SIGTTOU, signal.SIGTTIN, signal.SIGTSTP, signal.SIGPIPE, signal.SIGINT,
                            signal.SIGQUIT, signal.SIGXFSZ):
                    signal.signal(sig, signal.SIG_DFL)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                os.close(self.master)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        try:  # both sides set the group, as shells do: no race with exec
            os.setpgid(pid, pid)
        except OSError:
            pass
        os.tcsetpgrp(self.slave, pid)
        self.job = pid
        return "pid %d foreground %d" % (pid, os.tcgetpgrp(self.master))

    def drain(self, timeout):
        r, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if r:
            try:
                self.out += os.read(self.master, 65536)
            except OSError:
                time.sleep(min(timeout, 0.05))

    def expect(self, text, secs):
        want = text.encode()
        end = time.monotonic() + secs
        while want not in self.out:
            left = end - time.monotonic()
            if left <= 0:
                return "timeout %r" % self.out
            self.drain(min(left, 0.2))
        return "ok"

    def status(self, secs):
        end = time.monotonic() + secs
        while True:
            pid, st = os.waitpid(self.job, os.WNOHANG | os.WUNTRACED)
            if pid:
                if os.WIFSTOPPED(st):
                    return "stopped %d" % os.WSTOPSIG(st)
                if os.WIFEXITED(st):
                    return "exited %d" % os.WEXITSTATUS(st)
                return "signaled %d" % os.WTERMSIG(st)
            if time.monotonic() >= end:
                return "timeout"
            self.drain(0.05)

    def catching(self, sig, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            try:
                with open("/proc/%d/status" % self.job) as f:
                    caught = [int(l.split()[1], 16) for l in f if l.startswith("SigCgt:")][0]
                if caught & (1 << (sig - 1)):
                    return "ok"
            except (OSError, IndexError, ValueError):
                pass
            self.drain(0.02)
        return "timeout"

    def cont(self, foreground):
        os.tcsetpgrp(self.slave, self.job if foreground else os.getpgrp())
        os.killpg(self.job, signal.SIGCONT)
        return "ok"

    def ps(self):
        """State, wait channel and signal masks of each process in the
        job's group, and the terminal's foreground group: what a test
        shows when the job did not do what it expected."""
        out = ["foreground %d" % os.tcgetpgrp(self.master)]
        for pid in sorted(int(d) for d in os.listdir("/proc") if d.isdigit()):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    stat = f.read()
                comm = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 1:].split()  # state ppid pgrp ...
                if int(fields[2]) != self.job:
                    continue
                with open("/proc/%d/wchan" % pid) as f:
                    wchan = f.read()
                with open("/proc/%d/status" % pid) as f:
                    sig = [l.split()[1] for l in f if l.startswith(("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"))]
                out.append("%d %s state %s wchan %s pnd/shd/blk/ign/cgt %s" % (
                    pid, comm, fields[0], wchan, "/".join(sig)))
            except (OSError, IndexError, ValueError):
                continue
        return "; ".join(out)

    def kill(self):
        if self.job is not None:
            try:
                os.killpg(self.job, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main():
    sh = Shell()
    try:
        for line in sys.stdin:
            cmd, _, rest = line.rstrip("\n").partition(" ")
            if cmd == "start":
                reply = sh.start(rest.split(" "))
            elif cmd == "type":
                os.write(sh.master, rest.encode().decode("unicode_escape").encode("latin-1"))
                reply = "ok"
            elif cmd == "expect":
                text, _, secs = rest.rpartition(" ")
                reply = sh.expect(text, float(secs))
            elif cmd == "status":
                reply = sh.status(float(rest))
            elif cmd == "catching":
                sig, _, secs = rest.partition(" ")
                reply = sh.catching(int(sig), float(secs))
            elif cmd in ("fg", "bg"):
                reply = sh.cont(cmd == "fg")
            elif cmd == "output":
                sh.drain(0)
                reply = repr(sh.out)
            elif cmd == "ps":
                reply = sh.ps()
            else:
                reply = "error unknown command %r" % cmd
            print(reply, flush=True)
    finally:
        sh.kill()


if __name__ == "__main__":
    main()
