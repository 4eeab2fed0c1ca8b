"""The agent notices dead nodes, survives restarts and hostile peers."""

import os
import signal
import socket
import sys
import time

from omtest import ROOT, check, cluster, wait_for

sys.path.insert(0, os.path.join(ROOT, "tests"))
import omwire as ow  # noqa: E402


def test_killed_node_marked_down_then_dropped():
    with cluster("--down-after", "3000", "--drop-after", "8000") as c:
        n = c.boot("virtio-net-pci")
        c.wait_registered(n)
        n.kill()
        t0 = time.monotonic()
        c.wait_registered(n, timeout=3 + 5, state="down")
        print("INFO killed node marked down after %.1f s (down-after 3 s)" % (time.monotonic() - t0))
        wait_for(lambda: c.node_by_mac(n.mac) is None, 15, "the dead node to be dropped")


def test_silent_node_marked_down_then_back():
    """A frozen node keeps its TCP connection but sends no heartbeats: the
    agent must notice by the heartbeat timeout alone."""
    with cluster("--down-after", "3000", "--drop-after", "60000") as c:
        n = c.boot("virtio-net-pci")
        c.wait_registered(n)
        n.proc.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            c.wait_registered(n, timeout=3 + 5, state="down")
            waited = time.monotonic() - t0
            check(waited > 1.5, "marked down after %.1f s, before the 3 s timeout" % waited)
            print("INFO silent node marked down after %.1f s (down-after 3 s)" % waited)
        finally:
            n.proc.send_signal(signal.SIGCONT)
        c.wait_registered(n, timeout=15)


def test_agent_restart_nodes_reregister():
    with cluster() as c:
        a = c.boot("virtio-net-pci")
        b = c.boot("e1000e")
        c.wait_registered(a)
        c.wait_registered(b)
        c.stop_agent()
        c.start_agent()
        c.wait_registered(a, timeout=60)
        c.wait_registered(b, timeout=60)
        check("retrying" in a.serial(), "node a did not report the lost agent")


def expect_closed(sock, what):
    """The agent must close the connection (EOF or reset) within 5 s."""
    sock.settimeout(5)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return
    except ConnectionResetError:
        return
    except socket.timeout:
        raise AssertionError("agent kept the %s connection open" % what)


def test_garbage_and_oversized_frames():
    with cluster() as c:
        n = c.boot("virtio-net-pci")
        before = c.wait_registered(n)

        g = socket.create_connection(("127.0.0.1", c.port))
        g.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)))
        expect_closed(g, "garbage")
        g.close()

        big = socket.create_connection(("127.0.0.1", c.port))
        big.sendall(ow.frame(ow.T_HELLO, length=0xFFFFFFF0))
        expect_closed(big, "oversized-frame")
        big.close()

        ver = socket.create_connection(("127.0.0.1", c.port))
        ver.sendall(ow.frame(ow.T_HELLO, version=99))
        expect_closed(ver, "wrong-version")
        ver.close()

        half = socket.create_connection(("127.0.0.1", c.port))
        half.sendall(ow.frame(ow.T_HELLO, b"\0" * 10, length=100))
        half.close()  # a truncated frame, then gone

        check(c.agent.poll() is None, "om-agent died")
        time.sleep(2)
        after = c.wait_registered(n)
        check(after["id"] == before["id"], "the node was re-registered under a new id")
        check(after["last_seen_ms"] < 3000, "the node stopped heartbeating (%r ms)" % after["last_seen_ms"])
        check(len(c.nodes_json()) == 1, "a bogus peer appeared in the node table")
