"""RIPEMD-160, needed only for the checksums of Antelope key strings (PROTOCOL.md §5).

OpenSSL 3 moved RIPEMD-160 to its "legacy" provider, so `hashlib.new("ripemd160")` is missing on
many systems. `ripemd160()` uses hashlib when it can and otherwise this pure-Python version of the
algorithm as published by Dobbertin, Bosselaers and Preneel (1996), "RIPEMD-160: A Strengthened
Version of RIPEMD". Speed does not matter here: inputs are 33-37 bytes.
"""

from __future__ import annotations

import hashlib
import struct

__all__ = ["ripemd160", "ripemd160_pure"]

_MASK = 0xFFFFFFFF

# Message word selection for the left (R) and right (RP) lines, 5 rounds x 16 steps.
_R = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
    3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
    1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
    4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
)  # fmt: skip
_RP = (
    5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
    6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
    15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
    8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
    12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
)  # fmt: skip
# Left-rotation amounts for the left (S) and right (SP) lines.
_S = (
    11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
    7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
    11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
    11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
    9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
)  # fmt: skip
_SP = (
    8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
    9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
    9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
    15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
    8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
)  # fmt: skip
# Round constants: left line uses K[round], right line KP[round].
_K = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_KP = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)
_IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)


def _f(round_: int, x: int, y: int, z: int) -> int:
    """The five boolean functions; the right line applies them in reverse order (4 - round)."""
    if round_ == 0:
        return x ^ y ^ z
    if round_ == 1:
        return (x & y) | (~x & z)
    if round_ == 2:
        return (x | ~y) ^ z
    if round_ == 3:
        return (x & z) | (y & ~z)
    return x ^ (y | ~z)


def _rol(value: int, shift: int) -> int:
    value &= _MASK
    return ((value << shift) | (value >> (32 - shift))) & _MASK


def _compress(state: list[int], block: bytes) -> None:
    words = struct.unpack("<16I", block)  # RIPEMD is little-endian, like MD4/MD5
    al, bl, cl, dl, el = state
    ar, br, cr, dr, er = state
    for j in range(80):
        rnd = j // 16
        # Left line.
        t = _rol(al + _f(rnd, bl, cl, dl) + words[_R[j]] + _K[rnd], _S[j]) + el
        al, el, dl, cl, bl = el, dl, _rol(cl, 10), bl, t & _MASK
        # Right (parallel) line.
        t = _rol(ar + _f(4 - rnd, br, cr, dr) + words[_RP[j]] + _KP[rnd], _SP[j]) + er
        ar, er, dr, cr, br = er, dr, _rol(cr, 10), br, t & _MASK
    # Combine both lines with the previous state (note the rotation of the indices).
    t = (state[1] + cl + dr) & _MASK
    state[1] = (state[2] + dl + er) & _MASK
    state[2] = (state[3] + el + ar) & _MASK
    state[3] = (state[4] + al + br) & _MASK
    state[4] = (state[0] + bl + cr) & _MASK
    state[0] = t


def ripemd160_pure(data: bytes) -> bytes:
    """RIPEMD-160 of `data` in pure Python."""
    # Merkle-Damgard padding: 0x80, zeros to 56 mod 64, then the bit length (64-bit little-endian).
    padded = data + b"\x80" + b"\0" * ((55 - len(data)) % 64)
    padded += struct.pack("<Q", (len(data) * 8) & 0xFFFFFFFFFFFFFFFF)
    state = list(_IV)
    for offset in range(0, len(padded), 64):
        _compress(state, padded[offset : offset + 64])
    return struct.pack("<5I", *state)


def _probe_hashlib() -> bool:
    try:
        hashlib.new("ripemd160", b"")
    except (ValueError, TypeError):
        return False
    return True


_HAVE_HASHLIB = _probe_hashlib()


def ripemd160(data: bytes) -> bytes:
    """RIPEMD-160 of `data`, through OpenSSL when it offers the algorithm."""
    if _HAVE_HASHLIB:
        return hashlib.new("ripemd160", data).digest()
    return ripemd160_pure(data)
