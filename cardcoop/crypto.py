"""card.coop protocol v1 for Python (protocol/PROTOCOL.md): the public API.

Everything a cooperative or a client needs is importable from here; the implementation lives in
`cardcoop.protocol.*`, one small module per construction:

- encoding (§1): `b64u_encode`, `b64u_decode`, `normalize_email` (refuses with `InvalidEmail`),
  `normalize_password`; `kdf_salt_email` (§2: which string salts PBKDF2)
- key derivation (§2): `KdfParams`, `derive_keys` -> `DerivedKeys`, `decoy_server_salt`
- envelopes (§3): `seal_envelope`, `open_envelope` and the per-slot helpers
- recovery key (§3): `generate_recovery_key`, `format_recovery_key`, `parse_recovery_key`,
  `recovery_auth_key`
- accounts (§5): `K1PrivateKey`, `K1PublicKey`, `jwk_thumbprint`, Antelope names
- sharing (§6): `encrypt_share`, `decrypt_share`

All failures raise `ProtocolError` or its subclasses `InvalidKey`, `InvalidEmail` and
`DecryptionFailed`.
"""

from __future__ import annotations

from .protocol.accounts import (
    CoopAccount,
    generate_antelope_username,
    is_valid_antelope_name,
    new_coop_account,
)
from .protocol.email import kdf_salt_email
from .protocol.encoding import b64u_decode, b64u_encode, normalize_email, normalize_password
from .protocol.envelopes import (
    CTY_ACCOUNT,
    CTY_CARD_KEY,
    CTY_PERSONAL_DATA,
    decrypt_account,
    decrypt_personal_data,
    encrypt_account,
    encrypt_personal_data,
    generate_card_key,
    open_envelope,
    recovery_unwrap,
    recovery_unwrap_card_key,
    recovery_wrap_card_key,
    seal_envelope,
    unwrap_card_key,
    wrap_card_key,
)
from .protocol.errors import DecryptionFailed, InvalidEmail, InvalidKey, ProtocolError
from .protocol.jwk import jwk_thumbprint
from .protocol.k1 import K1PrivateKey, K1PublicKey
from .protocol.kdf import (
    DEFAULT_ITERATIONS,
    MIN_ITERATIONS,
    DerivedKeys,
    KdfParams,
    concat_kdf_sha256,
    decoy_server_salt,
    derive_keys,
    generate_server_salt,
)
from .protocol.recovery import (
    format_recovery_key,
    generate_recovery_key,
    parse_recovery_key,
    recovery_auth_key,
)
from .protocol.share import (
    CTY_SHARE,
    PrivateKeyLike,
    PublicKeyLike,
    decrypt_share,
    encrypt_share,
    open_share,
)

__all__ = [
    "CTY_ACCOUNT",
    "CTY_CARD_KEY",
    "CTY_PERSONAL_DATA",
    "CTY_SHARE",
    "DEFAULT_ITERATIONS",
    "MIN_ITERATIONS",
    "CoopAccount",
    "DecryptionFailed",
    "DerivedKeys",
    "InvalidEmail",
    "InvalidKey",
    "K1PrivateKey",
    "K1PublicKey",
    "KdfParams",
    "PrivateKeyLike",
    "ProtocolError",
    "PublicKeyLike",
    "b64u_decode",
    "b64u_encode",
    "concat_kdf_sha256",
    "decoy_server_salt",
    "decrypt_account",
    "decrypt_personal_data",
    "decrypt_share",
    "derive_keys",
    "encrypt_account",
    "encrypt_personal_data",
    "encrypt_share",
    "format_recovery_key",
    "generate_antelope_username",
    "generate_card_key",
    "generate_recovery_key",
    "generate_server_salt",
    "is_valid_antelope_name",
    "jwk_thumbprint",
    "kdf_salt_email",
    "new_coop_account",
    "normalize_email",
    "normalize_password",
    "open_envelope",
    "open_share",
    "parse_recovery_key",
    "recovery_auth_key",
    "recovery_unwrap",
    "recovery_unwrap_card_key",
    "recovery_wrap_card_key",
    "seal_envelope",
    "unwrap_card_key",
    "wrap_card_key",
]
