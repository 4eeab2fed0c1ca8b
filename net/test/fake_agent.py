#!/usr/bin/env python3
# fake_agent.py - a scriptable stand-in for om-agent, for exercising the
# node's agent link (net/agent_link.c) against misbehaving peers in QEMU.
# One connection per --conns; --mode picks the behaviour:
#   normal    WELCOME, then close after --beats heartbeats
#   echo      pipelined ECHOs of 0..65520 bytes, replies checked byte for byte
#   bigecho   200 ECHOs of 65520 bytes (13 MB each way), checked
#   error     WELCOME followed by an ERROR frame
#   bye | rst BYE frame / RST after --beats heartbeats
#   badmagic  garbage header instead of WELCOME (node must send ERROR, close)
#   toobig    a 70000-byte frame (above the node's 64 KiB buffer)
#   silent    never answers HELLO (node must give up after 5 s)
#   quick | quickrst   close / RST right after WELCOME (reconnect storms)
# Listens on 127.0.0.1 unless --bind says otherwise (use only inside a test
# network namespace). Example:
#   fake_agent.py --port 17708 --mode echo &
#   qemu-system-x86_64 ... -append "om.agent=10.0.2.2:17708" -netdev user,...
import socket, struct, sys, time, os, argparse
ap = argparse.ArgumentParser()
ap.add_argument('--port', type=int, required=True)
ap.add_argument('--mode', default='normal')  # normal|silent|badmagic|error|echo|bye|rst|bigecho|stall
ap.add_argument('--bind', default='127.0.0.1')
ap.add_argument('--hb', type=int, default=500)
ap.add_argument('--conns', type=int, default=100)
ap.add_argument('--beats', type=int, default=4)  # heartbeats before acting (close etc.)
a = ap.parse_args()
T = {1:'ERROR',2:'HELLO',3:'WELCOME',4:'HEARTBEAT',5:'ECHO',6:'ECHO_REPLY',7:'BYE'}
def log(*x): print('agent.py:', *x, flush=True)
def hdr(t, n, job=0, seq=0): return struct.pack('<HBBIII', 0x6d6f, 1, t, n, job, seq)
def recvn(c, n):
    b = b''
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b
def frame(c):
    h = recvn(c, 16)
    m, v, t, n, job, seq = struct.unpack('<HBBIII', h)
    assert m == 0x6d6f and v == 1, h
    return t, recvn(c, n), job, seq
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a.bind, a.port)); s.listen(4)
nid = 0
for ci in range(a.conns):
    c, addr = s.accept(); nid += 1
    log('conn', ci, 'from', addr, 'mode', a.mode)
    try:
        t, p, _, _ = frame(c)
        log('got', T.get(t), len(p), 'bytes; mac', p[:6].hex(':'))
        if a.mode == 'silent':
            while c.recv(4096): pass
            raise EOFError
        if a.mode == 'badmagic':
            c.sendall(b'xx' + b'\0' * 14); time.sleep(1); log('after bad:', c.recv(200)); raise EOFError
        w = struct.pack('<IIQ', nid + 2, a.hb, time.time_ns())
        c.sendall(hdr(3, len(w)) + w)
        if a.mode == 'quick':
            raise EOFError
        if a.mode == 'quickrst':
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); raise EOFError
        if a.mode == 'error':
            msg = b'test error'; e = struct.pack('<IH', 42, len(msg)) + msg
            c.sendall(hdr(1, len(e)) + e)
        if a.mode in ('echo', 'bigecho'):
            sizes = [0, 1, 100, 1460, 5000, 30000, 65536 - 16] if a.mode == 'echo' else [65536 - 16] * 200
            t0 = time.time()
            # pipeline them all, then read replies
            import threading
            sent = [os.urandom(n) for n in sizes]
            def writer():
                for i, n in enumerate(sizes):
                    c.sendall(hdr(5, n, 7, i) + sent[i])
            th = threading.Thread(target=writer); th.start()
            got = 0
            while got < len(sizes):
                t, p, job, seq = frame(c)
                if t == 6:
                    assert job == 7 and seq == got and p == sent[got], (job, seq, len(p))
                    got += 1
            th.join()
            log('echo ok', len(sizes), 'frames', sum(sizes), 'bytes in %.2fs' % (time.time() - t0))
        if a.mode == 'toobig':
            c.sendall(hdr(5, 70000) + b'a' * 70000); time.sleep(1)
        beats = 0
        while True:
            t, p, _, _ = frame(c)
            if t == 4:
                beats += 1
                up, load, free, jobs = struct.unpack('<IIQI', p)
                log('heartbeat', beats, 'uptime', up, 'free MiB', free >> 20)
                if beats >= a.beats:
                    if a.mode == 'bye': c.sendall(hdr(7, 0)); time.sleep(0.5); break
                    if a.mode == 'rst':
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); break
                    if a.mode in ('normal', 'echo', 'bigecho', 'error'): break
            else:
                log('got', T.get(t, t), p[:80])
    except (EOFError, ConnectionError) as e:
        log('conn ended', repr(e))
    c.close()
log('done')
