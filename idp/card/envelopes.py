"""Shape checks of the symmetric envelopes of PROTOCOL §3: the server cannot read them, but it
can refuse what is not one, so that a buggy or hostile client cannot store junk, a blob meant for
another slot, or something unencrypted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cardcoop.protocol.errors import ProtocolError
from cardcoop.protocol.jwe import parse_compact
from common.errors import InvalidRequest

CARD_KEY_BYTES = 32


@dataclass(frozen=True)
class Slot:
    cty: str
    max_plaintext: int
    exact_plaintext: int | None = None
    via: str | None = None


CARD_KEY = Slot("card-key", CARD_KEY_BYTES, exact_plaintext=CARD_KEY_BYTES)
RECOVERY_CARD_KEY = Slot("card-key", CARD_KEY_BYTES, exact_plaintext=CARD_KEY_BYTES,
                         via="recovery")
PERSONAL_DATA = Slot("personal-data+json", 64 * 1024)
ACCOUNT = Slot("coop-account+json", 4 * 1024)


def check_envelope(field: str, jwe: str, slot: Slot, **expected: Any) -> dict[str, Any]:
    """Return the protected header of a valid envelope for ``slot``; anything else is a 400 that
    names the field. ``expected`` are header values that must match (``schema``, ``coop``)."""
    def refuse(why: str) -> InvalidRequest:
        return InvalidRequest(f"{field} is not a valid envelope: {why}.", code="invalid_envelope",
                              details=[{"field": field, "problem": why}])

    try:
        parsed = parse_compact(jwe)
    except ProtocolError:
        raise refuse("not a compact JWE with a 96-bit IV and a 128-bit tag") from None
    header = parsed.header
    if header.get("alg") != "dir" or header.get("enc") != "A256GCM":
        raise refuse("alg must be dir and enc A256GCM")
    if parsed.encrypted_key:
        raise refuse("a dir JWE has no encrypted key")
    if header.get("cty") != slot.cty or header.get("v") != 1 or type(header.get("v")) is not int:
        raise refuse(f"cty must be {slot.cty} with v 1")
    if header.get("via") != slot.via:
        raise refuse("wrong key slot (via)")
    for name, value in expected.items():
        if header.get(name) != value:
            raise refuse(f"header {name} does not match")
    size = len(parsed.ciphertext)
    if slot.exact_plaintext is not None and size != slot.exact_plaintext:
        raise refuse(f"must hold exactly {slot.exact_plaintext} bytes")
    if size == 0 or size > slot.max_plaintext:
        raise refuse(f"must hold 1 to {slot.max_plaintext} bytes")
    return header
