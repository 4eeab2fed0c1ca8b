"""om.selftest: the node runs its built-in ring-3 program (memory, faults,
signal frames, FPU state across signals, clocks, threads and futexes) with
no home attached."""

import re

from omtest import check, cluster

EXPECTED = """user: hello from ring 3
user: brk ok
user: mmap 64 MiB ok
user: SIGSEGV handler ok
user: SIGFPE handler ok
user: signal to self, xmm preserved ok
user: stop and SIGCONT ok
user: arch_prctl ok
user: stack growth ok
user: nanosleep ok
user: clone threads, gettid, TLS ok
user: image out and in with every thread ok
user: tgkill to a thread ok
user: process signal to the thread that takes it ok
user: futex wake and CLEARTID join ok
user: futex corner cases ok
user: TLB shootdown before a frame is freed ok
user: 24 threads at once ok
user: all ok
"""


def run_selftest(cpu, smp=1):
    with cluster() as c:
        n = c.boot("virtio-net-pci", append="om.selftest om.agent=10.0.2.2:%d" % c.port,
                   mem=256, extra=["-cpu", cpu, "-smp", str(smp)])
        n.wait_serial("selftest: job exited", timeout=60)
        con = n.serial()
        # The node's own word on its link may land inside a line the job
        # writes (one console, two writers): taken out, the line is whole.
        user = re.sub(r"agent: registered with \S+ as node \d+\n", "", con)
        lines = "".join(l + "\n" for l in user.splitlines() if l.startswith("user: "))
        check(lines == EXPECTED, "self-test output differs:\n" + lines)
        check("selftest: job exited with status 42" in con, "wrong exit status")
        check("selftest: job stopped by signal 20; SIGCONT from the host\n" in con, "the stop was not seen")
        check(con.count("selftest: the job went out as an image and came back in (4 threads)\n") == 1 and
              con.count("selftest: the job went out as an image and came back in (2 threads)\n") == 1,
              "the relocations were not seen:\n" + con[-3000:])


def test_selftest_xsave():
    """-cpu max: XSAVE with AVX state, FSGSBASE."""
    run_selftest("max")


def test_selftest_fxsave():
    """The default qemu64 CPU has no XSAVE: FXSAVE path; two cores, so the
    threads run on both at once."""
    run_selftest("qemu64", smp=2)
