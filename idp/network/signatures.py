"""Antelope "K1" message signatures, the ВОСХОД network's (issue #11).

    SIG_K1_<base58(sig65 || ripemd160(sig65 || "K1")[:4])>
    sig65 = header || r (32) || s (32),  header = 27 + 4 + recovery id   (compressed key)

wharfkit's ``PrivateKey.signMessage(bytes)`` signs sha256(bytes) this way; its
``Signature.recoverMessage(bytes)`` gives back the signer's public key. MONO signs every document
and checks every webhook so. The curve arithmetic (recovery, RFC 6979 signing) is libsecp256k1
through coincurve; only the string form is ours, as the Antelope libraries write it.
"""

from __future__ import annotations

import hashlib
import hmac

import coincurve

from cardcoop.protocol.encoding import b58_decode, b58_encode
from cardcoop.protocol.errors import ProtocolError
from cardcoop.protocol.k1 import K1PrivateKey, K1PublicKey
from cardcoop.protocol.ripemd160 import ripemd160

PREFIX = "SIG_K1_"
_HEADER_COMPRESSED = 27 + 4
MAX_SIGNATURE_LENGTH = 120  # a K1 signature string is 101 characters


class InvalidSignature(ValueError):
    """Not a K1 signature string, or no public key can be recovered from it."""


def _checksum(sig65: bytes) -> bytes:
    return ripemd160(sig65 + b"K1")[:4]


def sign_message(key: K1PrivateKey, message: bytes) -> str:
    """``SIG_K1_...`` over sha256(message), deterministic (RFC 6979) with a low S."""
    signed = coincurve.PrivateKey(key.to_bytes()).sign_recoverable(
        hashlib.sha256(message).digest(), hasher=None)
    r_s, recovery_id = signed[:64], signed[64]
    sig65 = bytes([_HEADER_COMPRESSED + recovery_id]) + r_s
    return PREFIX + b58_encode(sig65 + _checksum(sig65))


def recover_signer(signature: object, message: bytes) -> K1PublicKey:
    """The public key whose private key made ``signature`` over sha256(message)."""
    if not isinstance(signature, str) or not signature.startswith(PREFIX) \
            or len(signature) > MAX_SIGNATURE_LENGTH:
        raise InvalidSignature("not a SIG_K1_ signature")
    try:
        raw = b58_decode(signature[len(PREFIX):])
    except ProtocolError:
        raise InvalidSignature("not a SIG_K1_ signature") from None
    if len(raw) != 69 or not hmac.compare_digest(_checksum(raw[:65]), raw[65:]):
        raise InvalidSignature("the signature's checksum does not match")
    recovery_id = raw[0] - _HEADER_COMPRESSED
    if recovery_id not in range(4):
        raise InvalidSignature("the signature's header byte is not a K1 one")
    try:
        point = coincurve.PublicKey.from_signature_and_message(
            raw[1:65] + bytes([recovery_id]), hashlib.sha256(message).digest(), hasher=None)
        return K1PublicKey.from_bytes(point.format(compressed=True))
    except Exception as error:  # coincurve raises a plain Exception for a bad signature
        raise InvalidSignature("no key can be recovered from the signature") from error
