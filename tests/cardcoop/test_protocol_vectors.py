"""Every entry of protocol/vectors-v1.json, reproduced byte for byte by the Python SDK."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cardcoop.crypto import (
    DecryptionFailed,
    InvalidEmail,
    InvalidKey,
    K1PrivateKey,
    K1PublicKey,
    KdfParams,
    ProtocolError,
    b64u_decode,
    b64u_encode,
    decoy_server_salt,
    decrypt_account,
    decrypt_personal_data,
    decrypt_share,
    derive_keys,
    encrypt_account,
    encrypt_personal_data,
    encrypt_share,
    jwk_thumbprint,
    kdf_salt_email,
    normalize_email,
    open_envelope,
    open_share,
    seal_envelope,
    unwrap_card_key,
    wrap_card_key,
)

# The protocol and its vectors live in the repository (protocol/), so a bare clone tests itself.
VECTORS_PATH = Path(__file__).resolve().parents[2] / "protocol" / "vectors-v1.json"
V: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

EMAIL_NORM = V["email_norm"]
KDF = V["kdf"]
KDF_EMAIL = V["kdf_email"]
ENVELOPES = {entry["name"]: entry for entry in V["envelopes"]}
K1 = V["k1"]
SHARE = V["share"]
ALL_CTYS = ["card-key", "personal-data+json", "coop-account+json", "card-share+json"]


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _segment(obj: Any) -> str:
    return base64.urlsafe_b64encode(_compact(obj)).rstrip(b"=").decode()


def test_vector_file_is_v1() -> None:
    assert V["protocol"] == "card.coop/v1"


# --- §1 email_norm -----------------------------------------------------------------------------


@pytest.mark.parametrize("vec", EMAIL_NORM, ids=[v["note"] for v in EMAIL_NORM])
def test_email_norm(vec: dict[str, Any]) -> None:
    if "error" in vec:
        assert vec["error"] == "invalid_email"
        with pytest.raises(InvalidEmail):
            normalize_email(vec["input"])
    else:
        assert normalize_email(vec["input"]) == vec["output"]
        assert normalize_email(vec["output"]) == vec["output"]  # a fixed point


def test_email_norm_vectors_cover_the_twins() -> None:
    outputs = [v["output"] for v in EMAIL_NORM if "output" in v]
    assert outputs.count("ivan@почта.рф") >= 4  # Unicode, punycode, capitals, capital punycode
    assert outputs.count("café@example.com") == 2  # NFD and NFC
    assert sum("error" in v for v in EMAIL_NORM) >= 10


# --- §2 key derivation -------------------------------------------------------------------------


@pytest.mark.parametrize("vec", KDF, ids=[v["email_norm"] for v in KDF])
def test_kdf(vec: dict[str, Any]) -> None:
    kdf = KdfParams(type="pbkdf2-sha256", iterations=vec["iterations"])
    keys = derive_keys(vec["password"], vec["email"], vec["serverSalt"], kdf)
    assert b64u_encode(keys.master_key) == vec["master_key"]
    assert keys.hash_key_b64u == vec["hashKey"]
    assert len(keys.hash_key_b64u) == 43
    assert b64u_encode(keys.enc_key) == vec["enc_key"]


@pytest.mark.parametrize("vec", KDF, ids=[v["email_norm"] for v in KDF])
def test_kdf_email_norm(vec: dict[str, Any]) -> None:
    assert normalize_email(vec["email"]) == vec["email_norm"]


def test_kdf_accepts_the_server_json() -> None:
    vec = KDF[0]
    from_json = derive_keys(
        vec["password"],
        vec["email"],
        vec["serverSalt"],
        {"type": "pbkdf2-sha256", "iterations": vec["iterations"]},
    )
    assert from_json.hash_key_b64u == vec["hashKey"]


def test_kdf_email_salts_pbkdf2_verbatim() -> None:
    vec = KDF_EMAIL[0]
    kdf = KdfParams(iterations=vec["iterations"])
    assert kdf_salt_email(vec["email"], vec["kdfEmail"]) == vec["kdfEmail"]
    keys = derive_keys(vec["password"], vec["email"], vec["serverSalt"], kdf,
                       kdf_email=vec["kdfEmail"])
    assert b64u_encode(keys.master_key) == vec["master_key"]
    assert keys.hash_key_b64u == vec["hashKey"]
    assert b64u_encode(keys.enc_key) == vec["enc_key"]
    canonical = derive_keys(vec["password"], vec["email"], vec["serverSalt"], kdf)
    assert canonical.hash_key_b64u != vec["hashKey"]  # the legacy salt really is another salt


def test_kdf_email_of_another_address_is_refused() -> None:
    vec = KDF_EMAIL[1]
    assert vec["error"] == "kdf_email_mismatch"
    with pytest.raises(ProtocolError):
        kdf_salt_email(vec["email"], vec["kdfEmail"])
    with pytest.raises(ProtocolError):
        derive_keys("p", vec["email"], KDF[0]["serverSalt"], KdfParams(), kdf_email=vec["kdfEmail"])


def test_decoy_salt() -> None:
    vec = V["decoy_salt"]
    salt = decoy_server_salt(b64u_decode(vec["server_secret"]), vec["email"])
    assert salt == vec["serverSalt"]
    assert len(b64u_decode(salt)) == 16


# --- §3 envelopes ------------------------------------------------------------------------------


def _slot_fields(vec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in vec["protected_header"].items() if k not in ("alg", "enc")}


@pytest.mark.parametrize("name", list(ENVELOPES))
def test_envelope_seal(name: str) -> None:
    vec = ENVELOPES[name]
    jwe = seal_envelope(
        b64u_decode(vec["key"]),
        b64u_decode(vec["plaintext_b64u"]),
        _slot_fields(vec),
        iv=b64u_decode(vec["iv"]),
    )
    assert jwe == vec["jwe"]
    # The header segment is the compact JSON in the vector's key order.
    assert jwe.split(".")[0] == _segment(vec["protected_header"])


@pytest.mark.parametrize("name", list(ENVELOPES))
def test_envelope_open(name: str) -> None:
    vec = ENVELOPES[name]
    cty = vec["protected_header"]["cty"]
    header, plaintext = open_envelope(b64u_decode(vec["key"]), vec["jwe"], cty)
    assert header == vec["protected_header"]
    assert plaintext == b64u_decode(vec["plaintext_b64u"])


@pytest.mark.parametrize("name", list(ENVELOPES))
def test_envelope_refuses_other_cty(name: str) -> None:
    vec = ENVELOPES[name]
    for cty in ALL_CTYS:
        if cty != vec["protected_header"]["cty"]:
            with pytest.raises(DecryptionFailed):
                open_envelope(b64u_decode(vec["key"]), vec["jwe"], cty)


@pytest.mark.parametrize("name", list(ENVELOPES))
def test_envelope_refuses_tampered_header(name: str) -> None:
    vec = ENVELOPES[name]
    _, *rest = vec["jwe"].split(".")
    key, cty = b64u_decode(vec["key"]), vec["protected_header"]["cty"]
    forged_headers = [
        {**vec["protected_header"], "v": 2},
        {**vec["protected_header"], "extra": True},
        dict(reversed(list(vec["protected_header"].items()))),  # same JSON, other bytes
    ]
    for forged in forged_headers:
        with pytest.raises(DecryptionFailed):
            open_envelope(key, ".".join([_segment(forged), *rest]), cty)


@pytest.mark.parametrize("name", list(ENVELOPES))
@pytest.mark.parametrize("part", [2, 3, 4], ids=["iv", "ciphertext", "tag"])
def test_envelope_refuses_tampered_body(name: str, part: int) -> None:
    vec = ENVELOPES[name]
    parts = vec["jwe"].split(".")
    raw = bytearray(b64u_decode(parts[part]))
    raw[0] ^= 0x01
    parts[part] = b64u_encode(bytes(raw))
    with pytest.raises(DecryptionFailed):
        open_envelope(b64u_decode(vec["key"]), ".".join(parts), vec["protected_header"]["cty"])


def test_envelope_wrapped_card_key_helpers() -> None:
    vec = ENVELOPES["wrapped_card_key"]
    enc_key, card_key = b64u_decode(vec["key"]), b64u_decode(V["card_key"])
    assert b64u_decode(vec["plaintext_b64u"]) == card_key
    assert wrap_card_key(enc_key, card_key, iv=b64u_decode(vec["iv"])) == vec["jwe"]
    assert unwrap_card_key(enc_key, vec["jwe"]) == card_key


def test_envelope_personal_data_helpers() -> None:
    vec = ENVELOPES["encrypted_personal_data"]
    card_key, schema = b64u_decode(V["card_key"]), vec["protected_header"]["schema"]
    assert b64u_decode(vec["key"]) == card_key
    data = json.loads(b64u_decode(vec["plaintext_b64u"]))
    jwe = encrypt_personal_data(card_key, data, schema, iv=b64u_decode(vec["iv"]))
    assert jwe == vec["jwe"]
    assert decrypt_personal_data(card_key, vec["jwe"], schema) == data
    with pytest.raises(DecryptionFailed):
        decrypt_personal_data(card_key, vec["jwe"], "card.coop/schema/v2")


def test_envelope_account_helpers() -> None:
    vec = ENVELOPES["encrypted_account"]
    card_key, coop = b64u_decode(V["card_key"]), vec["protected_header"]["coop"]
    account = json.loads(b64u_decode(vec["plaintext_b64u"]))
    assert encrypt_account(card_key, account, iv=b64u_decode(vec["iv"])) == vec["jwe"]
    assert decrypt_account(card_key, vec["jwe"], coop).to_dict() == account
    with pytest.raises(DecryptionFailed):
        decrypt_account(card_key, vec["jwe"], "othercoop")


def test_envelope_chain() -> None:
    """The vectors form one story: the first KDF vector's enc_key wraps the card key."""
    assert ENVELOPES["wrapped_card_key"]["key"] == KDF[0]["enc_key"]
    assert ENVELOPES["encrypted_personal_data"]["key"] == V["card_key"]
    assert ENVELOPES["encrypted_account"]["key"] == V["card_key"]


# --- §5 K1 keys --------------------------------------------------------------------------------

K1_IDS = [v["d_hex"][:8] for v in K1]


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_private_key(vec: dict[str, Any]) -> None:
    key = K1PrivateKey.from_bytes(bytes.fromhex(vec["d_hex"]))
    assert key.to_string() == vec["private_key"]
    assert K1PrivateKey.from_string(vec["private_key"]).to_bytes().hex() == vec["d_hex"]


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_wif(vec: dict[str, Any]) -> None:
    key = K1PrivateKey.from_bytes(bytes.fromhex(vec["d_hex"]))
    assert key.to_wif() == vec["wif"]
    assert K1PrivateKey.from_string(vec["wif"]).to_bytes().hex() == vec["d_hex"]


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_public_key(vec: dict[str, Any]) -> None:
    public = K1PrivateKey.from_bytes(bytes.fromhex(vec["d_hex"])).public_key
    assert public.to_string() == vec["public_key"]
    assert K1PublicKey.from_string(vec["public_key"]) == public


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_legacy_public_key(vec: dict[str, Any]) -> None:
    public = K1PrivateKey.from_bytes(bytes.fromhex(vec["d_hex"])).public_key
    assert public.to_legacy_string() == vec["legacy_public_key"]
    parsed = K1PublicKey.from_string(vec["legacy_public_key"])
    assert parsed.to_string() == vec["public_key"]


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_jwk(vec: dict[str, Any]) -> None:
    public = K1PublicKey.from_string(vec["public_key"])
    assert list(public.to_jwk().items()) == list(vec["jwk"].items())
    assert K1PublicKey.from_jwk(vec["jwk"]) == public


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_private_jwk(vec: dict[str, Any]) -> None:
    key = K1PrivateKey.from_string(vec["private_key"])
    assert list(key.to_jwk().items()) == list(vec["private_jwk"].items())
    assert K1PrivateKey.from_jwk(vec["private_jwk"]).to_bytes().hex() == vec["d_hex"]


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_jwk_thumbprint(vec: dict[str, Any]) -> None:
    assert jwk_thumbprint(vec["jwk"]) == vec["jwk_thumbprint"]
    assert jwk_thumbprint(vec["private_jwk"]) == vec["jwk_thumbprint"]
    assert K1PublicKey.from_string(vec["public_key"]).thumbprint == vec["jwk_thumbprint"]


def _corrupt(text: str, index: int) -> str:
    """Replace one base58 character, keeping the string well-formed base58."""
    char = text[index]
    return text[:index] + ("2" if char != "2" else "3") + text[index + 1 :]


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
@pytest.mark.parametrize("form", ["private_key", "wif", "public_key", "legacy_public_key"])
@pytest.mark.parametrize("where", [-1, -10, 12], ids=["checksum", "payload-end", "payload"])
def test_k1_wrong_checksum_is_rejected(vec: dict[str, Any], form: str, where: int) -> None:
    bad = _corrupt(vec[form], where)
    parse = K1PrivateKey.from_string if form in ("private_key", "wif") else K1PublicKey.from_string
    with pytest.raises(InvalidKey) as caught:
        parse(bad)
    assert bad not in str(caught.value)  # never echo key material


@pytest.mark.parametrize("vec", K1, ids=K1_IDS)
def test_k1_prefix_and_checksum_flavour_are_bound(vec: dict[str, Any]) -> None:
    """The K1 checksum hashes "K1" in, the legacy one does not: swapping prefixes must fail."""
    legacy_body = vec["legacy_public_key"][len("EOS") :]
    new_body = vec["public_key"][len("PUB_K1_") :]
    with pytest.raises(InvalidKey):
        K1PublicKey.from_string("PUB_K1_" + legacy_body)
    with pytest.raises(InvalidKey):
        K1PublicKey.from_string("EOS" + new_body)


# --- §6 shares ---------------------------------------------------------------------------------

SHARE_IDS = [v["recipient_jwk"]["crv"] for v in SHARE]
_CURVES = {"secp256k1": ec.SECP256K1(), "P-256": ec.SECP256R1()}


def _recipients() -> list[tuple[int, str]]:
    cases = []
    for index, vec in enumerate(SHARE):
        cases.append((index, "jwk"))
        if "recipient_public_key" in vec:
            cases.append((index, "k1"))
    return cases


@pytest.mark.parametrize(
    ("index", "form"), _recipients(), ids=[f"{SHARE_IDS[i]}-{f}" for i, f in _recipients()]
)
def test_share_encrypt(index: int, form: str) -> None:
    vec = SHARE[index]
    recipient = vec["recipient_jwk"] if form == "jwk" else vec["recipient_public_key"]
    curve = _CURVES[vec["recipient_jwk"]["crv"]]
    jwe = encrypt_share(
        recipient,
        b64u_decode(vec["plaintext_b64u"]),
        ephemeral_private=ec.derive_private_key(int(vec["ephemeral_d_hex"], 16), curve),
        cek=b64u_decode(vec["cek"]),
        iv=b64u_decode(vec["iv"]),
    )
    assert jwe == vec["jwe"]
    assert jwe.split(".")[0] == _segment(vec["protected_header"])


@pytest.mark.parametrize("vec", SHARE, ids=SHARE_IDS)
def test_share_kid_is_the_thumbprint(vec: dict[str, Any]) -> None:
    assert vec["protected_header"]["kid"] == jwk_thumbprint(vec["recipient_jwk"])
    assert vec["protected_header"]["cty"] == "card-share+json"


@pytest.mark.parametrize("vec", SHARE, ids=SHARE_IDS)
def test_share_decrypt_with_private_jwk(vec: dict[str, Any]) -> None:
    plaintext = b64u_decode(vec["plaintext_b64u"])
    header, opened = open_share(vec["jwe"], vec["recipient_private_jwk"])
    assert opened == plaintext
    assert header == vec["protected_header"]
    assert decrypt_share(vec["jwe"], vec["recipient_private_jwk"]) == json.loads(plaintext)


def test_share_decrypt_with_pvt_k1() -> None:
    vec = SHARE[0]
    private = next(k for k in K1 if k["public_key"] == vec["recipient_public_key"])
    plaintext = b64u_decode(vec["plaintext_b64u"])
    for key in (private["private_key"], private["wif"], K1PrivateKey.from_string(private["wif"])):
        assert open_share(vec["jwe"], key)[1] == plaintext


@pytest.mark.parametrize("vec", SHARE, ids=SHARE_IDS)
def test_share_plaintext_is_the_section_6_object(vec: dict[str, Any]) -> None:
    payload = json.loads(b64u_decode(vec["plaintext_b64u"]))
    assert list(payload) == [
        "v",
        "coopname",
        "username",
        "public_key",
        "schema",
        "data",
        "issued_at",
    ]
    assert payload["v"] == 1
    assert K1PublicKey.from_string(payload["public_key"]).to_string() == payload["public_key"]
