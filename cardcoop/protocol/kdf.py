"""Key derivation (PROTOCOL.md §2) and the KDFs other constructions build on."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .email import kdf_salt_email
from .encoding import b64u_decode, b64u_encode, normalize_email, normalize_password
from .errors import ProtocolError

__all__ = [
    "DEFAULT_ITERATIONS",
    "MIN_ITERATIONS",
    "DerivedKeys",
    "KdfParams",
    "concat_kdf_sha256",
    "decoy_server_salt",
    "derive_keys",
    "generate_server_salt",
    "hkdf_sha256",
]

KDF_TYPE = "pbkdf2-sha256"
DEFAULT_ITERATIONS = 600_000  # OWASP 2023 for PBKDF2-HMAC-SHA256
MIN_ITERATIONS = 100_000
HASH_KEY_ITERATIONS = 1000
SERVER_SALT_BYTES = 16
ENC_KEY_INFO = b"card.coop/v1/enc"
DECOY_PREFIX = b"decoy-salt:"


@dataclass(frozen=True, kw_only=True)
class KdfParams:
    """Per-account KDF parameters as the server sends them: {"type", "iterations"}."""

    type: str = KDF_TYPE
    iterations: int = DEFAULT_ITERATIONS

    def __post_init__(self) -> None:
        if self.type != KDF_TYPE:
            raise ProtocolError("unsupported KDF type")
        # bool is an int subclass; `true` from JSON must not pass as 1 iteration.
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int):
            raise ProtocolError("KDF iterations must be an integer")
        if self.iterations < MIN_ITERATIONS:
            raise ProtocolError("KDF iterations below the protocol minimum")

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> KdfParams:
        """Build from the JSON object of `initiate-registration`/`initiate-login`."""
        kdf_type = data.get("type")
        iterations = data.get("iterations")
        if not isinstance(kdf_type, str) or not isinstance(iterations, int):
            raise ProtocolError("malformed KDF parameters")
        return cls(type=kdf_type, iterations=iterations)

    def to_dict(self) -> dict[str, object]:
        return {"type": self.type, "iterations": self.iterations}


@dataclass(frozen=True)
class DerivedKeys:
    """The three client-side keys of §2. Only `hash_key` (as `hashKey`) ever leaves the client."""

    master_key: bytes = field(repr=False)
    hash_key: bytes = field(repr=False)
    enc_key: bytes = field(repr=False)

    @property
    def hash_key_b64u(self) -> str:
        """`hashKey` as sent to the server (43 characters)."""
        return b64u_encode(self.hash_key)


def hkdf_sha256(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) with no salt, i.e. a zero-filled salt (RFC 5869 §2.2)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


def _server_salt(server_salt_b64u: str) -> bytes:
    salt = b64u_decode(server_salt_b64u)
    if len(salt) != SERVER_SALT_BYTES:
        raise ProtocolError("serverSalt must be 16 bytes")
    return salt


def derive_keys(
    password: str,
    email: str,
    server_salt_b64u: str,
    kdf: KdfParams | Mapping[str, object],
    *,
    kdf_email: str | None = None,
) -> DerivedKeys:
    """master_key, hash_key and enc_key of PROTOCOL.md §2.

    The PBKDF2 salt is the normalized email (so the expensive step needs nothing from the server);
    `serverSalt` only salts the cheap second step that produces the server-side credential.
    `kdf_email` is the `kdfEmail` of initiate-login: an account registered under the v1.0 email
    rule may keep a non-canonical salt; it is used only when it is a form of `email`.
    """
    params = kdf if isinstance(kdf, KdfParams) else KdfParams.from_dict(kdf)
    salt = _server_salt(server_salt_b64u)
    master_key = hashlib.pbkdf2_hmac(
        "sha256",
        normalize_password(password).encode("utf-8"),
        kdf_salt_email(email, kdf_email).encode("utf-8"),
        params.iterations,
        dklen=32,
    )
    hash_key = hashlib.pbkdf2_hmac("sha256", master_key, salt, HASH_KEY_ITERATIONS, dklen=32)
    enc_key = hkdf_sha256(master_key, ENC_KEY_INFO)
    return DerivedKeys(master_key=master_key, hash_key=hash_key, enc_key=enc_key)


def generate_server_salt() -> str:
    """A fresh `serverSalt` for `initiate-registration` (16 random bytes, b64u)."""
    return b64u_encode(secrets.token_bytes(SERVER_SALT_BYTES))


def decoy_server_salt(server_secret: bytes, email: str) -> str:
    """The stable fake `serverSalt` for an unknown email (§2), so that `initiate-login` answers the
    same way for every address and does not reveal which ones have accounts."""
    message = DECOY_PREFIX + normalize_email(email).encode("utf-8")
    digest = hmac.new(server_secret, message, hashlib.sha256).digest()
    return b64u_encode(digest[:SERVER_SALT_BYTES])


def concat_kdf_sha256(
    shared_secret: bytes,
    algorithm: str,
    key_bits: int,
    apu: bytes = b"",
    apv: bytes = b"",
) -> bytes:
    """Concat KDF (NIST SP 800-56A §5.8.1) with SHA-256, parameterized as in RFC 7518 §4.6.2.

    OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each variable field
    prefixed by its 32-bit big-endian length; SuppPubInfo is the key length in bits and
    SuppPrivInfo is empty. For "ECDH-ES+A256KW" AlgorithmID is that `alg` value (§4.6.2).
    """
    if key_bits <= 0 or key_bits % 8:
        raise ProtocolError("key length must be a positive multiple of 8 bits")
    alg = algorithm.encode("ascii")
    other_info = (
        struct.pack(">I", len(alg)) + alg
        + struct.pack(">I", len(apu)) + apu
        + struct.pack(">I", len(apv)) + apv
        + struct.pack(">I", key_bits)
    )  # fmt: skip
    output = b""
    counter = 1
    while len(output) * 8 < key_bits:
        # Each round: H(counter || Z || OtherInfo), counter a 32-bit big-endian integer from 1.
        output += hashlib.sha256(struct.pack(">I", counter) + shared_secret + other_info).digest()
        counter += 1
    return output[: key_bits // 8]
