"""omlink - om's encrypted node link in Python, for fake nodes in tests.

The agent and its nodes talk over an encrypted, authenticated link:
Noise_XK_25519_ChaChaPoly_SHA256 (Noise protocol framework, revision 34)
with om's prologue and framing; docs/security.md is the spec, the C side
follows the same rules byte for byte. The node is the initiator and knows
the agent's static public key in advance; the agent is the responder and
learns the node's static key in the third handshake message.

Tests play nodes, so the main thing here is SecureSocket: the initiator
handshake in its constructor, then a drop-in for the plain socket a test
would use (sendall, recv, settimeout, shutdown, close ...), so omwire.Peer
and friends work over it unchanged. SecureServer is the responder, there
so the self-test can run both ends; handshake_msg1 and send_record_raw
let tests send a lone first message or a tampered record.

Everything is written from the RFCs in plain Python (standard library
only): X25519 from RFC 7748, ChaCha20-Poly1305 from RFC 8439, HKDF and the
Noise state machines from the Noise spec. None of it is constant time;
it is test code, never a defence.

Wire format (every message, handshake or transport): 2-byte big-endian
length L, then L bytes. Handshake messages are 48, 48 and 64 bytes long.
A transport record carries 1..16384 plaintext bytes sealed with the
direction's key, nonce = that direction's record counter, ad = the two
length bytes; L = plaintext + 16.

python3 tests/omlink.py          self-test, prints "omlink: ok"
python3 tests/omlink.py --bench  also measures 1 MB through a socketpair
"""
import hashlib
import hmac
import secrets
import socket
import struct
import sys
import threading
import time
from functools import lru_cache

PROTOCOL_NAME = b"Noise_XK_25519_ChaChaPoly_SHA256"  # exactly HASHLEN bytes
PROLOGUE = b"om link 1"
DHLEN = HASHLEN = 32
TAGLEN = 16
MSG1_LEN, MSG2_LEN, MSG3_LEN = 48, 48, 64
MAX_PLAINTEXT = 16384
MIN_RECORD, MAX_RECORD = 1 + TAGLEN, MAX_PLAINTEXT + TAGLEN


class LinkError(Exception):
    """The link failed: a handshake that does not verify, a record whose
    tag does not match or whose length is out of range, a stream cut
    inside a message. The link is dead after one."""


# ---- X25519 (RFC 7748 section 5)

_P = 2 ** 255 - 19
_A24 = 121665  # (486662 - 2) / 4


def _clamp(k):
    """decodeScalar25519: the scalar the RFC really multiplies by."""
    n = int.from_bytes(k, "little")
    return (n & ~7 & ~(1 << 255)) | (1 << 254)


def x25519(k, u):
    """X25519(k, u): scalar k times the point with u-coordinate u, both
    32 little-endian bytes. The Montgomery ladder of RFC 7748 section 5;
    the top bit of u is ignored and u >= p is taken mod p, as the RFC
    asks."""
    if len(k) != 32 or len(u) != 32:
        raise ValueError("x25519 wants 32-byte k and u")
    k = _clamp(k)
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    p = _P
    for t in range(254, -1, -1):
        kt = (k >> t) & 1
        if swap ^ kt:  # cswap, not constant time: fine for tests
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = kt
        a = x2 + z2
        aa = a * a % p
        b = x2 - z2
        bb = b * b % p
        e = aa - bb
        c = x3 + z3
        d = x3 - z3
        da = d * a % p
        cb = c * b % p
        x3 = da + cb
        x3 = x3 * x3 % p
        z3 = da - cb
        z3 = x1 * (z3 * z3 % p) % p
        x2 = aa * bb % p
        z2 = e * (aa + _A24 * e) % p
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, p - 2, p) % p).to_bytes(32, "little")


_BASE = (9).to_bytes(32, "little")


def x25519_public(priv):
    """The public key of a 32-byte private key: X25519(priv, 9)."""
    return x25519(priv, _BASE)


def generate_keypair():
    """(private, public): 32 random bytes and their public key."""
    priv = secrets.token_bytes(32)
    return priv, x25519_public(priv)


def fingerprint(pub):
    """What om shows for a static key: the first 8 bytes of SHA-256(pub)
    as 4 groups of 4 lowercase hex digits, e.g. 1a2b-3c4d-5e6f-7081."""
    h = hashlib.sha256(pub).hexdigest()[:16]
    return "-".join(h[i:i + 4] for i in range(0, 16, 4))


# ---- ChaCha20 (RFC 8439 section 2.3)
#
# Speed: rather than running the 20 rounds once per 64-byte block, every
# block of a call is computed at once. Each of the 16 state words is one
# Python int holding that word of every block, block i in bits 64i..64i+31
# (a "lane"); the upper 32 bits of each lane are slack that catches the
# carry of an addition and the bits a shift pushes out, and one AND with
# the lane mask clears them. So a quarter round costs a few big-int
# operations for all blocks together instead of a few per block.

_SIGMA = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)  # "expand 32-byte k"
_LANES_MAX = 256  # blocks per pass: 16 KiB of keystream, one full record


@lru_cache(maxsize=None)
def _lanes(n):
    """(rep, idx, mask) for n lanes: rep has 1 in every lane (multiplying
    a word by it copies the word into all lanes), idx has i in lane i (the
    block counter offsets), mask has 0xffffffff in every lane."""
    rep = int.from_bytes((b"\x01" + bytes(7)) * n, "little")
    idx = int.from_bytes(b"".join(struct.pack("<Q", i) for i in range(n)), "little")
    return rep, idx, rep * 0xFFFFFFFF


def _quarter_round(a, b, c, d, m):
    """RFC 8439 section 2.1 on every lane at once; m is the lane mask. A
    left rotation by r is (x << r | x >> (32 - r)) & m: the bits pushed
    above 32 land in the lane's slack, those shifted down out of a lane
    land in the slack of the lane below, and the mask drops both."""
    a = (a + b) & m; d ^= a; d = ((d << 16) | (d >> 16)) & m
    c = (c + d) & m; b ^= c; b = ((b << 12) | (b >> 20)) & m
    a = (a + b) & m; d ^= a; d = ((d << 8) | (d >> 24)) & m
    c = (c + d) & m; b ^= c; b = ((b << 7) | (b >> 25)) & m
    return a, b, c, d


def _chacha20_blocks(key, nonce, counter, n):
    """n keystream blocks (64 * n bytes) starting at block counter."""
    rep, idx, m = _lanes(n)
    state = [w * rep for w in _SIGMA + struct.unpack("<8I", key)]
    state.append((counter * rep + idx) & m)  # 32-bit counter wraps per lane
    state += [w * rep for w in struct.unpack("<3I", nonce)]
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = state
    qr = _quarter_round
    for _ in range(10):
        x0, x4, x8, x12 = qr(x0, x4, x8, x12, m)  # columns
        x1, x5, x9, x13 = qr(x1, x5, x9, x13, m)
        x2, x6, x10, x14 = qr(x2, x6, x10, x14, m)
        x3, x7, x11, x15 = qr(x3, x7, x11, x15, m)
        x0, x5, x10, x15 = qr(x0, x5, x10, x15, m)  # diagonals
        x1, x6, x11, x12 = qr(x1, x6, x11, x12, m)
        x2, x7, x8, x13 = qr(x2, x7, x8, x13, m)
        x3, x4, x9, x14 = qr(x3, x4, x9, x14, m)
    words = (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15)
    # Serialise: word w of block i is bytes 8i..8i+3 of word w's lanes and
    # goes to bytes 64i + 4w ..; extended slices move a byte column of
    # every block at once.
    out = bytearray(64 * n)
    for w in range(16):
        lanes = ((words[w] + state[w]) & m).to_bytes(8 * n, "little")
        for j in range(4):
            out[4 * w + j::64] = lanes[j::8]
    return out


def _xor(data, ks):
    """data XOR the first len(data) bytes of ks, as whole-number XOR."""
    n = len(data)
    return (int.from_bytes(data, "little") ^ int.from_bytes(ks[:n], "little")).to_bytes(n, "little")


def _chacha20_seal_stream(key, nonce, data):
    """(Poly1305 one-time key, data XOR keystream from block 1): RFC 8439
    section 2.8 takes the key from block 0 and encrypts from block 1, so
    the first pass computes block 0 with the others."""
    first = min(_LANES_MAX, (len(data) + 63) // 64)
    ks = _chacha20_blocks(key, nonce, 0, 1 + first)
    otk = bytes(ks[:32])
    parts = [_xor(data[:64 * first], memoryview(ks)[64:])]
    pos, counter = 64 * first, 1 + first
    while pos < len(data):
        nb = min(_LANES_MAX, (len(data) - pos + 63) // 64)
        ks = _chacha20_blocks(key, nonce, counter, nb)
        parts.append(_xor(data[pos:pos + 64 * nb], ks))
        pos, counter = pos + 64 * nb, counter + nb
    return otk, b"".join(parts)


def chacha20_encrypt(key, counter, nonce, data):
    """RFC 8439 section 2.4: data XOR the keystream from block counter."""
    out, pos = [], 0
    while pos < len(data):
        nb = min(_LANES_MAX, (len(data) - pos + 63) // 64)
        out.append(_xor(data[pos:pos + 64 * nb], _chacha20_blocks(key, nonce, counter, nb)))
        pos, counter = pos + 64 * nb, counter + nb
    return b"".join(out)


# ---- Poly1305 (RFC 8439 section 2.5), with Python's big ints

_P1305 = (1 << 130) - 5
_R_CLAMP = 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF


def poly1305(key, msg):
    """The 16-byte Poly1305 tag of msg under the 32-byte one-time key."""
    r = int.from_bytes(key[:16], "little") & _R_CLAMP
    s = int.from_bytes(key[16:32], "little")
    p, acc, hibit = _P1305, 0, 1 << 128
    mv = memoryview(msg)
    full = len(msg) & ~15
    frombytes = int.from_bytes
    for i in range(0, full, 16):
        acc = (acc + frombytes(mv[i:i + 16], "little") + hibit) * r % p
    if full < len(msg):  # a short last block gets its 0x01 right after it
        tail = mv[full:]
        acc = (acc + frombytes(tail, "little") + (1 << (8 * len(tail)))) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


# ---- AEAD_CHACHA20_POLY1305 (RFC 8439 section 2.8)


def _pad16(n):
    return bytes(-n % 16)


def _aead_tag(otk, ad, ct):
    mac_data = b"".join((ad, _pad16(len(ad)), ct, _pad16(len(ct)),
                         struct.pack("<QQ", len(ad), len(ct))))
    return poly1305(otk, mac_data)


def _check_key_nonce(key, nonce):
    if len(key) != 32 or len(nonce) != 12:
        raise ValueError("ChaCha20-Poly1305 wants a 32-byte key and a 12-byte nonce")


def chacha20_poly1305_encrypt(key, nonce, plaintext, ad=b""):
    """ciphertext || 16-byte tag."""
    _check_key_nonce(key, nonce)
    otk, ct = _chacha20_seal_stream(key, nonce, bytes(plaintext))
    return ct + _aead_tag(otk, bytes(ad), ct)


def chacha20_poly1305_decrypt(key, nonce, ct_and_tag, ad=b""):
    """The plaintext, or LinkError when the tag does not match (nothing
    of the plaintext is returned then)."""
    _check_key_nonce(key, nonce)
    if len(ct_and_tag) < TAGLEN:
        raise LinkError("ciphertext shorter than a tag")
    ct, tag = bytes(ct_and_tag[:-TAGLEN]), bytes(ct_and_tag[-TAGLEN:])
    # The tag is checked before decrypting, so the one-time key comes from
    # block 0 alone and a forgery costs no keystream.
    otk = bytes(_chacha20_blocks(key, nonce, 0, 1)[:32])
    if not hmac.compare_digest(_aead_tag(otk, bytes(ad), ct), tag):
        raise LinkError("authentication tag mismatch")
    return chacha20_encrypt(key, 1, nonce, ct)


# ---- Noise (revision 34, sections 5.1 and 5.2)


class _CipherState:
    """k and the nonce counter n; k None means "not keyed yet" and then
    encryption is the identity, as Noise says."""

    def __init__(self, k=None):
        self.k, self.n = k, 0

    def _nonce(self):
        # ChaChaPoly's nonce: 4 zero bytes || n as 64-bit little endian.
        # 2^64-1 is reserved by Noise; reaching it means the link is spent.
        if self.n >= 2 ** 64 - 1:
            raise LinkError("nonce exhausted")
        return bytes(4) + self.n.to_bytes(8, "little")

    def encrypt(self, ad, plaintext):
        if self.k is None:
            return bytes(plaintext)
        ct = chacha20_poly1305_encrypt(self.k, self._nonce(), plaintext, ad)
        self.n += 1
        return ct

    def decrypt(self, ad, ciphertext):
        if self.k is None:
            return bytes(ciphertext)
        pt = chacha20_poly1305_decrypt(self.k, self._nonce(), ciphertext, ad)
        self.n += 1  # only after the tag verified, as Noise says
        return pt


def _hmac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def _hkdf2(ck, ikm):
    """Noise's HKDF with two outputs (HMAC-SHA256)."""
    temp = _hmac(ck, ikm)
    out1 = _hmac(temp, b"\x01")
    return out1, _hmac(temp, out1 + b"\x02")


class _SymmetricState:
    def __init__(self, protocol_name):
        # A name of at most HASHLEN bytes is zero-padded, a longer one
        # hashed; om's is exactly 32 bytes, so h is the name itself.
        if len(protocol_name) <= HASHLEN:
            self.h = protocol_name + bytes(HASHLEN - len(protocol_name))
        else:
            self.h = hashlib.sha256(protocol_name).digest()
        self.ck = self.h
        self.cs = _CipherState()

    def mix_key(self, ikm):
        self.ck, temp_k = _hkdf2(self.ck, ikm)
        self.cs = _CipherState(temp_k)  # HASHLEN == 32: no truncation

    def mix_hash(self, data):
        self.h = hashlib.sha256(self.h + data).digest()

    def encrypt_and_hash(self, plaintext):
        ct = self.cs.encrypt(self.h, plaintext)
        self.mix_hash(ct)
        return ct

    def decrypt_and_hash(self, ciphertext):
        pt = self.cs.decrypt(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return pt

    def split(self):
        """(initiator->responder, responder->initiator) CipherStates."""
        k1, k2 = _hkdf2(self.ck, b"")
        return _CipherState(k1), _CipherState(k2)


def _dh(priv, pub):
    """X25519 that refuses an all-zero result: a low-order public key
    would make the shared secret known to anyone."""
    out = x25519(priv, pub)
    if out == bytes(32):
        raise LinkError("DH result is all zeros (low-order public key)")
    return out


class _Handshake:
    """Noise XK, either side:
        <- s
        ...
        -> e, es
        <- e, ee
        -> s, se
    om sends empty payloads; payload and prologue are parameters only so
    the self-test can check this against published Noise vectors."""

    def __init__(self, initiator, s_priv=None, rs=None, e_priv=None, prologue=PROLOGUE,
                 protocol_name=PROTOCOL_NAME):
        self.initiator = initiator
        self.s = s_priv
        self.s_pub = x25519_public(s_priv) if s_priv is not None else None
        self.e = e_priv if e_priv is not None else secrets.token_bytes(32)
        self.e_pub = x25519_public(self.e)
        self.rs, self.re = rs, None
        self.ss = _SymmetricState(protocol_name)
        self.ss.mix_hash(prologue)
        # The pre-message "<- s": both sides hash the responder's static key.
        self.ss.mix_hash(rs if initiator else self.s_pub)

    @property
    def h(self):
        return self.ss.h

    def _read_re(self, msg):
        self.re = bytes(msg[:DHLEN])
        self.ss.mix_hash(self.re)

    # -> e, es
    def write_msg1(self, payload=b""):
        self.ss.mix_hash(self.e_pub)
        self.ss.mix_key(_dh(self.e, self.rs))
        return self.e_pub + self.ss.encrypt_and_hash(payload)

    def read_msg1(self, msg):
        self._read_re(msg)
        self.ss.mix_key(_dh(self.s, self.re))
        return self.ss.decrypt_and_hash(msg[DHLEN:])

    # <- e, ee
    def write_msg2(self, payload=b""):
        self.ss.mix_hash(self.e_pub)
        self.ss.mix_key(_dh(self.e, self.re))
        return self.e_pub + self.ss.encrypt_and_hash(payload)

    def read_msg2(self, msg):
        self._read_re(msg)
        self.ss.mix_key(_dh(self.e, self.re))
        return self.ss.decrypt_and_hash(msg[DHLEN:])

    # -> s, se
    def write_msg3(self, payload=b""):
        sealed_s = self.ss.encrypt_and_hash(self.s_pub)
        self.ss.mix_key(_dh(self.s, self.re))
        return sealed_s + self.ss.encrypt_and_hash(payload)

    def read_msg3(self, msg):
        cut = DHLEN + TAGLEN
        self.rs = self.ss.decrypt_and_hash(msg[:cut])
        self.ss.mix_key(_dh(self.e, self.rs))
        return self.ss.decrypt_and_hash(msg[cut:])

    def split(self):
        return self.ss.split()


def _frame(body):
    return len(body).to_bytes(2, "big") + body


def handshake_msg1(agent_pub, e_priv=None):
    """A valid first handshake message to the agent whose static public
    key is agent_pub, length prefix included: for tests that send a first
    message and then nothing (or garbage)."""
    return _frame(_Handshake(True, rs=bytes(agent_pub), e_priv=e_priv).write_msg1())


# ---- the link over a stream socket


class _Link:
    """What both ends share once the handshake is done: records out of
    sendall, plaintext out of recv, the socket calls passed through.

    One thread may send while another receives (the two directions share
    no state); two threads on the same direction need a lock of their own.
    fileno() is the raw socket's: select() on it misses plaintext already
    buffered here, see pending()."""

    # socket calls that would move bytes past the encryption
    _BYPASS = frozenset(("sendto", "sendmsg", "sendfile", "recvfrom", "recvmsg",
                         "recvfrom_into", "recvmsg_into", "makefile", "dup", "detach"))

    def __init__(self, s, error_as_eof):
        self.sock = s
        self.error_as_eof = error_as_eof  # recv gives b"" instead of raising
        self.dead = False  # set by the first LinkError; the link stays dead
        self.error = None  # that LinkError
        self.handshake_hash = None
        self._raw = bytearray()  # bytes read from s, not yet a whole message
        self._plain = bytearray()  # decrypted, not yet handed to recv
        self._tx = self._rx = None

    def _fail(self, why):
        self.dead = True
        self.error = LinkError(why)
        raise self.error

    def _read_message(self, want_len=None):
        """(length bytes, body) of the next wire message, or None at a clean
        end of stream before its first byte. want_len: the length a
        handshake message must have; otherwise a transport record's range.
        Bytes read before a timeout stay in _raw, so the next call resumes
        the same message."""
        raw = self._raw
        while True:
            if len(raw) >= 2:
                n = int.from_bytes(raw[:2], "big")
                if want_len is not None and n != want_len:
                    self._fail("handshake message of %d bytes, want %d" % (n, want_len))
                if want_len is None and not MIN_RECORD <= n <= MAX_RECORD:
                    self._fail("record length %d outside %d..%d" % (n, MIN_RECORD, MAX_RECORD))
                if len(raw) >= 2 + n:
                    hdr, body = bytes(raw[:2]), bytes(raw[2:2 + n])
                    del raw[:2 + n]
                    return hdr, body
            data = self.sock.recv(65536)
            if not data:
                if raw:
                    self._fail("stream ended inside a message (%d bytes of it)" % len(raw))
                return None
            raw += data

    def _handshake_message(self, want_len):
        m = self._read_message(want_len)
        if m is None:
            self._fail("connection closed during the handshake")
        return m[1]

    def _guard(self, f, *a):
        """f(*a), with a LinkError from it marking the link dead."""
        try:
            return f(*a)
        except LinkError as e:
            self.dead, self.error = True, e
            raise

    # -- sending

    def _record(self, plaintext, flip_bit=None):
        if self.dead:
            raise LinkError("link is dead: %s" % self.error)
        n = len(plaintext) + TAGLEN
        if n > 0xFFFF:
            raise ValueError("record of %d bytes does not fit a 2-byte length" % n)
        hdr = n.to_bytes(2, "big")
        body = self._tx.encrypt(hdr, plaintext)
        if flip_bit is not None:
            body = bytearray(body)
            body[flip_bit // 8] ^= 1 << (flip_bit % 8)
        return hdr + bytes(body)

    def sendall(self, data):
        """Sends data as records of at most 16384 plaintext bytes; sending
        nothing sends no record (an empty record is not allowed)."""
        data = bytes(data)
        for off in range(0, len(data), MAX_PLAINTEXT):
            self.sock.sendall(self._record(data[off:off + MAX_PLAINTEXT]))

    def send(self, data):
        """Like socket.send: sends one record of up to 16384 bytes of data
        and returns how many it took."""
        data = bytes(data[:MAX_PLAINTEXT])
        if data:
            self.sock.sendall(self._record(data))
        return len(data)

    def send_record_raw(self, plaintext, flip_bit=None):
        """Seals plaintext as the next record whatever its size (0 or over
        16384 too, for tests of the receiver's checks) and sends it. flip_bit:
        a bit index into the record after its 2-byte length (ciphertext then
        tag; bit b is byte b // 8, value 1 << b % 8) to flip before sending.
        Returns the record as sent."""
        rec = self._record(bytes(plaintext), flip_bit)
        self.sock.sendall(rec)
        return rec

    # -- receiving

    def recv(self, n, flags=0):
        """Up to n bytes of plaintext; b"" at a clean end of stream. Blocks
        like a socket and honours settimeout (socket.timeout, nothing lost:
        a retry resumes the record). LinkError on a bad record, or b"" when
        the link was made with error_as_eof."""
        if flags:
            raise ValueError("recv flags are not supported on an om link")
        while not self._plain:
            if self.dead:
                if self.error_as_eof:
                    return b""
                raise LinkError("link is dead: %s" % self.error)
            try:
                m = self._read_message()
                if m is None:
                    return b""
                self._plain += self._guard(self._rx.decrypt, m[0], m[1])
            except LinkError:
                if self.error_as_eof:
                    return b""
                raise
        out = bytes(self._plain[:n])
        del self._plain[:n]
        return out

    def recv_into(self, buf, nbytes=0):
        data = self.recv(nbytes or len(buf))
        buf[:len(data)] = data
        return len(data)

    def pending(self):
        """Plaintext bytes already decrypted and waiting for recv."""
        return len(self._plain)

    # -- passed through to the socket

    def settimeout(self, t):
        self.sock.settimeout(t)

    def gettimeout(self):
        return self.sock.gettimeout()

    def setsockopt(self, *a):
        return self.sock.setsockopt(*a)

    def getsockopt(self, *a):
        return self.sock.getsockopt(*a)

    def shutdown(self, how):
        self.sock.shutdown(how)

    def close(self):
        self.sock.close()

    def fileno(self):
        return self.sock.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):
        # Anything else a socket has (getsockname, setblocking ...) is the
        # socket's own, except calls that would bypass the encryption.
        if name == "sock":  # not set yet: no recursion through self.sock
            raise AttributeError(name)
        if name in self._BYPASS:
            raise AttributeError("%s is not available on an om link" % name)
        return getattr(self.sock, name)


class SecureSocket(_Link):
    """The node (initiator) end over the connected blocking socket s: the
    handshake runs here, so a SecureSocket is ready to use or the
    constructor raised (LinkError, or socket.timeout under s's timeout).
    On failure s is left open for the caller to close.

    agent_pub: the agent's static public key, known in advance.
    static_priv: this node's static private key, random if None."""

    def __init__(self, s, agent_pub, static_priv=None, error_as_eof=False, e_priv=None):
        super().__init__(s, error_as_eof)
        if len(agent_pub) != DHLEN:
            raise ValueError("agent public key must be %d bytes" % DHLEN)
        self.static_priv = static_priv if static_priv is not None else secrets.token_bytes(32)
        self.static_pub = x25519_public(self.static_priv)
        self.fingerprint = fingerprint(self.static_pub)
        self.agent_pub = bytes(agent_pub)
        hs = _Handshake(True, self.static_priv, self.agent_pub, e_priv)
        s.sendall(_frame(self._guard(hs.write_msg1)))
        self._guard(hs.read_msg2, self._handshake_message(MSG2_LEN))
        s.sendall(_frame(self._guard(hs.write_msg3)))
        self._tx, self._rx = hs.split()
        self.handshake_hash = hs.h


class SecureServer(_Link):
    """The agent (responder) end over the connected socket s, for the
    self-test and for tests that want to stand in for the agent. After
    the constructor, peer_static is the initiator's static public key."""

    def __init__(self, s, static_priv, error_as_eof=False, e_priv=None):
        super().__init__(s, error_as_eof)
        self.static_priv = static_priv
        self.static_pub = x25519_public(static_priv)
        self.fingerprint = fingerprint(self.static_pub)
        hs = _Handshake(False, static_priv, e_priv=e_priv)
        self._guard(hs.read_msg1, self._handshake_message(MSG1_LEN))
        s.sendall(_frame(self._guard(hs.write_msg2)))
        self._guard(hs.read_msg3, self._handshake_message(MSG3_LEN))
        self._rx, self._tx = hs.split()
        self.peer_static = hs.rs
        self.peer_fingerprint = fingerprint(self.peer_static)
        self.handshake_hash = hs.h


# ---- self-test


def _expect(cond, what):
    if not cond:
        raise AssertionError("omlink self-test: " + what)


def _hex(s):
    return bytes.fromhex("".join(s.split()))


def _test_x25519():
    # RFC 7748 section 5.2
    for k, u, out in (
            ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
             "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
             "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
            ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
             "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
             "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")):
        _expect(x25519(_hex(k), _hex(u)) == _hex(out), "RFC 7748 5.2 vector")
    # The iterated vector: k = u = 9, then k, u = X25519(k, u), k.
    k = u = _BASE
    for i in range(1, 1001):
        k, u = x25519(k, u), k
        if i == 1:
            _expect(k == _hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"),
                    "RFC 7748 5.2 after 1 iteration")
    _expect(k == _hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"),
            "RFC 7748 5.2 after 1000 iterations")
    # RFC 7748 section 6.1
    a = _hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = _hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    a_pub, b_pub = x25519_public(a), x25519_public(b)
    _expect(a_pub == _hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
            "RFC 7748 6.1 Alice's public key")
    _expect(b_pub == _hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
            "RFC 7748 6.1 Bob's public key")
    shared = _hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    _expect(x25519(a, b_pub) == shared == x25519(b, a_pub), "RFC 7748 6.1 shared secret")
    try:
        _dh(a, bytes(32))  # u = 0 is a low-order point
    except LinkError:
        pass
    else:
        _expect(False, "all-zero DH result accepted")


def _test_chachapoly():
    # RFC 8439 section 2.5.2
    key = _hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    _expect(poly1305(key, b"Cryptographic Forum Research Group")
            == _hex("a8061dc1305136c6c22b8baf0c0127a9"), "RFC 8439 2.5.2 Poly1305 vector")
    # RFC 8439 section 2.8.2
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
          b"for the future, sunscreen would be it.")
    ad = _hex("50515253c0c1c2c3c4c5c6c7")
    key = bytes(range(0x80, 0xA0))
    nonce = _hex("070000004041424344454647")
    ct = _hex("""d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
                 3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
                 92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
                 3ff4def08e4b7a9de576d26586cec64b6116""")
    tag = _hex("1ae10b594f09e26a7e902ecbd0600691")
    _expect(chacha20_poly1305_encrypt(key, nonce, pt, ad) == ct + tag, "RFC 8439 2.8.2 seal")
    _expect(chacha20_poly1305_decrypt(key, nonce, ct + tag, ad) == pt, "RFC 8439 2.8.2 open")
    for bad_ct, bad_ad in ((ct[:-1] + bytes([ct[-1] ^ 1]) + tag, ad), (ct + tag, ad + b"x")):
        try:
            chacha20_poly1305_decrypt(key, nonce, bad_ct, bad_ad)
        except LinkError:
            pass
        else:
            _expect(False, "forged AEAD message accepted")
    # The many-blocks-at-once path must agree with one block at a time,
    # across a chunk boundary and with carries in every lane.
    key, nonce = bytes(range(32)), bytes(range(12))
    many = _chacha20_blocks(key, nonce, 0xFFFFFFF0, 300)
    _expect(all(many[64 * i:64 * i + 64] == _chacha20_blocks(key, nonce, (0xFFFFFFF0 + i) & 0xFFFFFFFF, 1)
                for i in range(0, 300, 7)), "ChaCha20 lanes disagree with single blocks")
    big = secrets.token_bytes(70000)
    _expect(chacha20_poly1305_decrypt(key, nonce, chacha20_poly1305_encrypt(key, nonce, big, b"a"), b"a")
            == big, "70000-byte AEAD round trip")


def _test_noise_vector():
    # Noise_XK_25519_ChaChaPoly_SHA256 from the cacophony test vectors:
    # checks the Noise state machine itself (prologue, pre-message,
    # MixKey/MixHash order, Split) against another implementation.
    prologue = _hex("4a6f686e2047616c74")
    ini = _Handshake(True, _hex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1"),
                     _hex("31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62"),
                     _hex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a"), prologue)
    res = _Handshake(False, _hex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893"),
                     e_priv=_hex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b"),
                     prologue=prologue)
    msgs = (("4c756477696720766f6e204d69736573",
             "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
             "a3785af283c991bab613473804356ef6931f83acf64f99c274b93570857cfc5e"),
            ("4d757272617920526f746862617264",
             "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
             "3a4534805fa9fe4eb8343ace6609160c767ad9b832e8eea1d9b7a2111818dd"),
            ("462e20412e20486179656b",
             "5d8e67b9c1b8e36f5dc674bc5cd2ce243fb5d1710fa57de0370da7cc97901539"
             "8eaad94603b05498ba9a613d2fd923dcaa6fd4288dfd8d70f419bf737efb4cd3"
             "7f5da37ebb728849318c82"),
            ("4361726c204d656e676572", "3205e1265f809505e6edc092839d3156745d2abafbfd946b261e41"),
            ("4a65616e2d426170746973746520536179",
             "470bcb1ae099555ff0d729500df550418d6ee5149d9e40bd2f4c6b3d263cc818d5"),
            ("457567656e2042f6686d20766f6e2042617765726b",
             "d7187ed9d217ba6e91cf596e4871012ccedf7b5bed0d4cb8f7affb020fa17a95a23371e0f6"))
    steps = ((ini.write_msg1, res.read_msg1), (res.write_msg2, ini.read_msg2),
             (ini.write_msg3, res.read_msg3))
    for (write, read), (payload, ct) in zip(steps, msgs):
        payload, ct = _hex(payload), _hex(ct)
        _expect(write(payload) == ct, "Noise XK vector: handshake message")
        _expect(read(ct) == payload, "Noise XK vector: handshake payload")
    _expect(ini.h == res.h == _hex("cefffc5d1074126cc980ebfe902587ff36ba61dc77d4447ebe0f96dc22ae59d7"),
            "Noise XK vector: handshake hash")
    i_tx, i_rx = ini.split()
    r_rx, r_tx = res.split()
    for k, (payload, ct) in enumerate(msgs[3:]):
        tx, rx = (r_tx, i_rx) if k % 2 == 0 else (i_tx, r_rx)
        _expect(tx.encrypt(b"", _hex(payload)) == _hex(ct), "Noise XK vector: transport message")
        _expect(rx.decrypt(b"", _hex(ct)) == _hex(payload), "Noise XK vector: transport payload")


def _run(f, *a, **kw):
    """Starts f(*a, **kw) in a thread; the holder gets ["ok", value] or
    ["err", exception]."""
    box = []

    def body():
        try:
            box[:] = ["ok", f(*a, **kw)]
        except BaseException as e:  # noqa: B902 - reported to the caller
            box[:] = ["err", e]
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, box


def _join(t, box, what):
    t.join(20)
    _expect(not t.is_alive(), what + " hung")
    return box


def _pair(agent_priv, agent_pub, node_priv=None, timeout=10, **kw):
    """(node SecureSocket, agent SecureServer) over a fresh socketpair."""
    a, b = socket.socketpair()
    a.settimeout(timeout)
    b.settimeout(timeout)
    t, box = _run(SecureServer, b, agent_priv)
    node = SecureSocket(a, agent_pub, node_priv, **kw)
    box = _join(t, box, "responder handshake")
    if box[0] == "err":
        raise box[1]
    return node, box[1]


def _recv_exactly(sock, n):
    parts, got = [], 0
    while got < n:
        d = sock.recv(n - got)
        _expect(d, "stream ended after %d of %d bytes" % (got, n))
        parts.append(d)
        got += len(d)
    return b"".join(parts)


def _test_link():
    agent_priv, agent_pub = generate_keypair()
    node_priv = secrets.token_bytes(32)
    node, agent = _pair(agent_priv, agent_pub, node_priv)
    _expect(agent.peer_static == node.static_pub == x25519_public(node_priv), "peer_static")
    _expect(node.handshake_hash == agent.handshake_hash, "handshake hashes differ")
    _expect(agent.peer_fingerprint == node.fingerprint and len(node.fingerprint) == 19, "fingerprint")
    for size in (1, 16384, 40000):
        for tx, rx in ((node, agent), (agent, node)):
            data = secrets.token_bytes(size)
            t, box = _run(tx.sendall, data)
            got = _recv_exactly(rx, size)
            _join(t, box, "sendall")
            _expect(box[0] == "ok" and got == data, "%d-byte message garbled" % size)
    # recv hands out a record piecewise.
    node.sendall(b"abcdef")
    _expect(agent.recv(2) == b"ab" and agent.pending() == 4 and agent.recv(100) == b"cdef", "short recv")
    # A timeout in the middle of a record loses nothing.
    rec = node._record(b"split in two")  # sealed, sent by hand below
    agent.settimeout(0.2)
    node.sock.sendall(rec[:7])
    try:
        agent.recv(100)
    except socket.timeout:
        pass
    else:
        _expect(False, "recv did not time out")
    node.sock.sendall(rec[7:])
    _expect(agent.recv(100) == b"split in two", "record after a timeout")
    # A clean end of stream is b"".
    agent.settimeout(10)
    node.shutdown(socket.SHUT_WR)
    _expect(agent.recv(10) == b"", "EOF")
    node.close()
    agent.close()

    # Tampering: a flipped bit in the ciphertext, then one in the tag.
    for bit in (3, 8 * (5 + TAGLEN) - 1):
        node, agent = _pair(agent_priv, agent_pub)
        node.send_record_raw(b"hello", flip_bit=bit)
        try:
            agent.recv(100)
        except LinkError:
            pass
        else:
            _expect(False, "flipped bit %d accepted" % bit)
        _expect(agent.dead, "link not marked dead")
        node.sendall(b"more")
        try:
            agent.recv(100)
        except LinkError:
            pass
        else:
            _expect(False, "dead link delivered data")
        node.close()
        agent.close()
    # error_as_eof: a bad record reads as the end of the stream.
    node, agent = _pair(agent_priv, agent_pub, error_as_eof=True)
    agent.send_record_raw(b"x", flip_bit=0)
    _expect(node.recv(10) == b"" and node.dead and isinstance(node.error, LinkError), "error_as_eof")
    node.close()
    agent.close()
    # Lengths out of range die before the body is awaited.
    for bad in (16, 16401, 0):
        node, agent = _pair(agent_priv, agent_pub)
        node.sock.sendall(bad.to_bytes(2, "big"))
        try:
            agent.recv(10)
        except LinkError:
            pass
        else:
            _expect(False, "record length %d accepted" % bad)
        node.close()
        agent.close()

    # A wrong agent key: the responder fails msg1's tag and closes, the
    # initiator sees the close while waiting for msg2.
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)

    def responder():
        try:
            SecureServer(b, agent_priv)
        finally:
            b.close()
    t, box = _run(responder)
    try:
        SecureSocket(a, generate_keypair()[1])
    except LinkError:
        pass
    else:
        _expect(False, "handshake with a wrong agent key succeeded on the node")
    a.close()
    box = _join(t, box, "responder with a wrong key")
    _expect(box[0] == "err" and isinstance(box[1], LinkError), "responder accepted a wrong key: %r" % box)

    # handshake_msg1 is what the agent expects first.
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)
    t, box = _run(SecureServer, b, agent_priv)
    m1 = handshake_msg1(agent_pub)
    _expect(len(m1) == 2 + MSG1_LEN, "msg1 length")
    a.sendall(m1)
    _expect(_recv_exactly(a, 2 + MSG2_LEN)[:2] == b"\x00\x30", "no msg2 after handshake_msg1")
    a.close()
    box = _join(t, box, "responder after a lone msg1")
    _expect(box[0] == "err" and isinstance(box[1], LinkError), "lone msg1: %r" % box)
    b.close()


def bench(nbytes=1 << 20):
    """Seconds and MB/s of sendall + recv of nbytes over a socketpair,
    handshake excluded."""
    agent_priv, agent_pub = generate_keypair()
    node, agent = _pair(agent_priv, agent_pub, timeout=60)
    data = secrets.token_bytes(nbytes)
    start = time.perf_counter()
    t, box = _run(node.sendall, data)
    got = _recv_exactly(agent, nbytes)
    _join(t, box, "bench sendall")
    secs = time.perf_counter() - start
    _expect(got == data, "bench data garbled")
    node.close()
    agent.close()
    return secs, nbytes / secs / 1e6


def main():
    _test_x25519()
    _test_chachapoly()
    _test_noise_vector()
    _test_link()
    if "--bench" in sys.argv[1:]:
        secs, mbps = bench()
        print("omlink: 1 MB sendall+recv in %.3f s, %.2f MB/s" % (secs, mbps))
    print("omlink: ok")


if __name__ == "__main__":
    main()
