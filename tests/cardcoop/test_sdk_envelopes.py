"""Symmetric envelopes (PROTOCOL.md §3): round trips, slot binding, tampering, malformed input."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from cardcoop.crypto import (
    CoopAccount,
    DecryptionFailed,
    InvalidKey,
    ProtocolError,
    b64u_decode,
    b64u_encode,
    decrypt_account,
    decrypt_personal_data,
    encrypt_account,
    encrypt_personal_data,
    format_recovery_key,
    generate_card_key,
    generate_recovery_key,
    new_coop_account,
    open_envelope,
    recovery_unwrap,
    recovery_unwrap_card_key,
    recovery_wrap_card_key,
    seal_envelope,
    unwrap_card_key,
    wrap_card_key,
)
from cardcoop.protocol.recovery import recovery_enc_key

ENC_KEY = bytes(range(32))
CARD_KEY = bytes(range(100, 132))
SCHEMA = "card.coop/schema/v1"


def _header(jwe: str) -> dict[str, object]:
    segment = jwe.split(".")[0]
    value: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=="))
    return value


def test_wrap_unwrap_round_trip_with_fresh_iv() -> None:
    first, second = wrap_card_key(ENC_KEY, CARD_KEY), wrap_card_key(ENC_KEY, CARD_KEY)
    assert first != second  # a fresh random IV each time
    assert first.split(".")[1] == ""  # "dir": empty encrypted key
    assert len(b64u_decode(first.split(".")[2])) == 12
    assert unwrap_card_key(ENC_KEY, first) == unwrap_card_key(ENC_KEY, second) == CARD_KEY


def test_generated_card_keys() -> None:
    keys = {generate_card_key() for _ in range(4)}
    assert len(keys) == 4 and all(len(key) == 32 for key in keys)


def test_wrong_key_fails() -> None:
    jwe = wrap_card_key(ENC_KEY, CARD_KEY)
    with pytest.raises(DecryptionFailed):
        unwrap_card_key(bytes(32), jwe)


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(31), bytes(33)])
def test_key_length_is_checked(key: bytes) -> None:
    with pytest.raises(InvalidKey):
        seal_envelope(key, b"x", {"cty": "card-key", "v": 1})
    with pytest.raises(InvalidKey):
        wrap_card_key(ENC_KEY, key)


def test_recovery_blob_cannot_stand_in_for_the_password_blob() -> None:
    recovery_key = generate_recovery_key()
    blob = recovery_wrap_card_key(recovery_key, CARD_KEY)
    assert _header(blob) == {
        "alg": "dir",
        "enc": "A256GCM",
        "cty": "card-key",
        "v": 1,
        "via": "recovery",
    }
    assert recovery_unwrap_card_key(recovery_key, blob) == CARD_KEY
    assert recovery_unwrap(format_recovery_key(recovery_key), blob) == CARD_KEY
    # Even with the right key bytes, the password slot refuses a "via": "recovery" header ...
    with pytest.raises(DecryptionFailed):
        unwrap_card_key(recovery_enc_key(recovery_key), blob)
    # ... and the recovery slot refuses a header without it.
    with pytest.raises(DecryptionFailed):
        recovery_unwrap_card_key(
            recovery_key, wrap_card_key(recovery_enc_key(recovery_key), CARD_KEY)
        )


def test_personal_data_round_trip_and_schema_binding() -> None:
    data = {"type": "individual", "last_name": "Иванов", "birthdate": "1990-01-31"}
    jwe = encrypt_personal_data(CARD_KEY, data, SCHEMA)
    assert _header(jwe) == {
        "alg": "dir",
        "enc": "A256GCM",
        "cty": "personal-data+json",
        "v": 1,
        "schema": SCHEMA,
    }
    assert decrypt_personal_data(CARD_KEY, jwe, SCHEMA) == data
    with pytest.raises(DecryptionFailed):
        decrypt_personal_data(CARD_KEY, jwe, "card.coop/schema/v2")
    with pytest.raises(DecryptionFailed):  # personal data is not an account
        decrypt_account(CARD_KEY, jwe, SCHEMA)
    with pytest.raises(ProtocolError):
        encrypt_personal_data(CARD_KEY, data, "")


def test_account_round_trip_and_coop_binding() -> None:
    account = new_coop_account("voskhod")
    jwe = encrypt_account(CARD_KEY, account)
    assert _header(jwe)["coop"] == "voskhod"
    opened = decrypt_account(CARD_KEY, jwe, "voskhod")
    assert opened == account
    assert account.private_key not in repr(opened)
    with pytest.raises(DecryptionFailed):
        decrypt_account(CARD_KEY, jwe, "othercoop")
    with pytest.raises(DecryptionFailed):  # an account is not personal data
        decrypt_personal_data(CARD_KEY, jwe, SCHEMA)


def test_account_plaintext_must_name_the_header_coop() -> None:
    """A blob whose header says coop A but whose plaintext says coop B is refused."""
    record = CoopAccount("coopb", "abcdefghijkl", "PVT_K1_x", "PUB_K1_y")
    plaintext = json.dumps(record.to_dict(), separators=(",", ":")).encode()
    jwe = seal_envelope(CARD_KEY, plaintext, {"cty": "coop-account+json", "v": 1, "coop": "coopa"})
    with pytest.raises(DecryptionFailed):
        decrypt_account(CARD_KEY, jwe, "coopa")


@pytest.mark.parametrize(
    "account",
    [
        {"coopname": "c", "username": "u", "private_key": "p"},
        {"coopname": "c", "username": "u", "private_key": "p", "public_key": 1},
        {"coopname": "c", "username": "u", "private_key": "p", "public_key": "k", "x": "y"},
    ],
)
def test_malformed_account_records_are_refused(account: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        encrypt_account(CARD_KEY, account)  # type: ignore[arg-type]


def test_version_must_be_the_integer_1() -> None:
    for version in (True, "1", 2):
        jwe = seal_envelope(ENC_KEY, CARD_KEY, {"cty": "card-key", "v": version})
        with pytest.raises(DecryptionFailed):
            unwrap_card_key(ENC_KEY, jwe)


def test_seal_envelope_requires_cty_and_refuses_reserved_fields() -> None:
    with pytest.raises(ProtocolError):
        seal_envelope(ENC_KEY, b"x", {"v": 1})
    for name in ("alg", "enc", "crit", "zip"):
        with pytest.raises(ProtocolError):
            seal_envelope(ENC_KEY, b"x", {"cty": "card-key", name: "x"})
    with pytest.raises(ProtocolError):
        seal_envelope(ENC_KEY, b"x", {"cty": "card-key"}, iv=bytes(16))


def _with_header(header: dict[str, object], jwe: str) -> str:
    segment = b64u_encode(json.dumps(header, separators=(",", ":")).encode())
    return ".".join([segment, *jwe.split(".")[1:]])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda jwe: jwe + ".",
        lambda jwe: jwe.rsplit(".", 1)[0],
        lambda jwe: "!" + jwe,
        lambda jwe: jwe.replace("..", ".AAAA.", 1),  # an encrypted key with "dir"
        lambda jwe: _with_header({"alg": "A256KW", "enc": "A256GCM", "cty": "card-key"}, jwe),
        lambda jwe: _with_header({"alg": "dir", "enc": "A128GCM", "cty": "card-key"}, jwe),
        lambda jwe: _with_header(
            {"alg": "dir", "enc": "A256GCM", "cty": "card-key", "crit": ["exp"]}, jwe
        ),
        lambda jwe: "W10" + jwe[jwe.index(".") :],  # header "[]"
        lambda jwe: "",
    ],
)
def test_malformed_envelopes_fail_cleanly(mangle: Callable[[str], str]) -> None:
    jwe = wrap_card_key(ENC_KEY, CARD_KEY)
    with pytest.raises(DecryptionFailed):
        open_envelope(ENC_KEY, mangle(jwe), "card-key")


def test_errors_do_not_leak_key_material() -> None:
    jwe = wrap_card_key(ENC_KEY, CARD_KEY)
    with pytest.raises(DecryptionFailed) as caught:
        unwrap_card_key(bytes(32), jwe)
    message = str(caught.value)
    for secret in (ENC_KEY.hex(), CARD_KEY.hex(), b64u_encode(CARD_KEY), jwe):
        assert secret not in message
