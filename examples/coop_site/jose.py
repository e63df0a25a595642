"""Decrypting a share with a standard JOSE library (jwcrypto), as any cooperative can.

PROTOCOL.md §6: the share is a compact JWE, ECDH-ES+A256KW / A256GCM, to the cooperative's key;
a K1 key is the JWK {"kty": "EC", "crv": "secp256k1"} (RFC 8812), which jwcrypto supports.
The binding checks (coopname, username, key) are the SDK's `cardcoop.coop.check_share`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jwcrypto import jwe, jwk  # type: ignore[import-untyped]
from jwcrypto.common import JWException  # type: ignore[import-untyped]

from cardcoop.coop import SharedData, SharePlaintext, check_share
from cardcoop.protocol.errors import DecryptionFailed

ALGS = ["ECDH-ES+A256KW", "A256GCM"]
CTY = "card-share+json"


def decrypt_share_jwcrypto(shared: SharedData, private_jwk: Mapping[str, Any]) -> SharePlaintext:
    """Decrypt `shared.encrypted_data` with the cooperative's private JWK and check the binding.

    Every failure of the decryption itself is one `DecryptionFailed` (no detail: the causes
    must not be told apart); a share for another account raises `ShareMismatch`."""
    try:
        key = jwk.JWK(**dict(private_jwk))
        token = jwe.JWE(algs=ALGS)  # only the protocol's algorithms, nothing else
        token.deserialize(shared.encrypted_data, key=key)
        header: dict[str, Any] = dict(token.jose_header)
        payload = bytes(token.payload)
        if header.get("cty") != CTY:
            raise DecryptionFailed("cannot decrypt")
        plaintext = json.loads(payload.decode("utf-8"))
    except (JWException, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise DecryptionFailed("cannot decrypt") from None
    if not isinstance(plaintext, dict):
        raise DecryptionFailed("cannot decrypt")
    kid = header.get("kid")
    return check_share(plaintext, shared, kid=kid if isinstance(kid, str) else None)
