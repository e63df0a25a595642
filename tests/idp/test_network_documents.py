"""Signed documents as MONO makes them (issue #11): signatures and endorsement chains made by
@wharfkit/antelope, canonicalize and jose (tests/mono_peer), checked by idp.network."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cardcoop.protocol.k1 import K1PrivateKey, K1PublicKey
from common.voskhod import Endorsement
from idp.network.documents import DocumentRefused, Trust, verify
from idp.network.signatures import recover_signer, sign_message
from tests.idp.mono import mono

CHAIN_ID = "a" * 64
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Network:
    """ano (the anchor) → voskhod (the operator) → a served cooperative, keys made by wharfkit."""

    def __init__(self) -> None:
        self.ano, self.voskhod, self.coop, self.stranger = mono(*[{"op": "keygen"}] * 4)
        iat, exp = int(NOW.timestamp()) - 60, int(NOW.timestamp()) + 3600
        self.links = [link["jws"] for link in mono(
            self.endorse(self.ano, "ano", "voskhod", self.voskhod, iat, exp),
            self.endorse(self.voskhod, "voskhod", "zelenyisad", self.coop, iat, exp))]

    @staticmethod
    def endorse(issuer: dict[str, str], iss: str, sub: str, subject: dict[str, str], iat: int,
                exp: int, chain_id: str = CHAIN_ID) -> dict[str, Any]:
        return {"op": "endorse", "private": issuer["private"], "issuer": iss, "subject": sub,
                "cert": subject["public"], "chain_id": chain_id, "iat": iat, "exp": exp}

    def trust(self, *, anchor: bool = True,
              rows: dict[str, Endorsement] | None = None) -> Trust:
        return Trust(CHAIN_ID, K1PublicKey.from_string(self.ano["public"]) if anchor else None,
                     (rows or {}).get)

    def envelope(self, signer: dict[str, str] | None = None, chain: list[str] | None = None,
                 **payload: Any) -> dict[str, Any]:
        body = {"type": "membership", "coopname": "zelenyisad", "issued_at": iso(NOW),
                "chain_id": CHAIN_ID, "card_id": "c-1", "member_since": "2026-01-15",
                "identity": {"kind": "individual", "public": {"last_name": "Иванова"},
                             "digests": {"phone": "0" * 64}}} | payload
        signed = mono({"op": "sign", "private": (signer or self.coop)["private"],
                       "payload": body})[0]
        return {"payload": body, "signature": signed["signature"],
                "chain": self.links if chain is None else chain}


@pytest.fixture(scope="module")
def net() -> Network:
    return Network()


def refused(envelope: Any, trust: Trust, now: datetime = NOW) -> DocumentRefused:
    with pytest.raises(DocumentRefused) as caught:
        verify(envelope, trust, now=now)
    return caught.value


def test_a_document_signed_by_wharfkit_and_endorsed_by_jose_verifies(net: Network) -> None:
    document = verify(net.envelope(), net.trust(), now=NOW)
    assert document.coopname == "zelenyisad"
    assert document.signer.to_string() == net.coop["public"]
    assert document.payload["identity"]["public"] == {"last_name": "Иванова"}


def test_our_signatures_are_what_wharfkit_recovers(net: Network) -> None:
    """The webhooks card.coop signs: MONO recovers the signer from JCS(the whole body)."""
    key = K1PrivateKey.generate()
    body = {"event": "link.created", "card_id": "c-1", "card_number": None, "ё": 1.5}
    from idp.network.documents import canonical
    signature = sign_message(key, canonical(body))
    assert mono({"op": "recover", "signature": signature, "body": body})[0]["signer"] == \
        key.public_key.to_string()
    assert recover_signer(signature, canonical(body)) == key.public_key


def test_without_an_anchor_the_registrys_endorsement_row_decides(net: Network) -> None:
    row = Endorsement("zelenyisad", "voskhod", CHAIN_ID, K1PublicKey.from_string(
        net.coop["public"]), NOW + timedelta(days=1))
    assert verify(net.envelope(chain=[]), net.trust(anchor=False, rows={"zelenyisad": row}),
                  now=NOW).coopname == "zelenyisad"
    expired = Endorsement(row.subject, row.issuer, CHAIN_ID, row.cert_key, NOW)
    assert refused(net.envelope(), net.trust(anchor=False, rows={"zelenyisad": expired})
                   ).code == "expired_endorsement"
    assert refused(net.envelope(), net.trust(anchor=False)).code == "not_endorsed"
    other = Endorsement(row.subject, row.issuer, CHAIN_ID,
                        K1PublicKey.from_string(net.stranger["public"]), row.expires_at)
    assert refused(net.envelope(), net.trust(anchor=False, rows={"zelenyisad": other})
                   ).code == "wrong_signer"


def test_a_tampered_payload_is_refused(net: Network) -> None:
    envelope = net.envelope()
    envelope["payload"]["card_id"] = "c-2"
    assert refused(envelope, net.trust()).code == "wrong_signer"


def test_a_signature_by_another_key_is_refused(net: Network) -> None:
    assert refused(net.envelope(signer=net.stranger), net.trust()).code == "wrong_signer"


def test_a_chain_that_ends_elsewhere_or_skips_a_link_is_refused(net: Network) -> None:
    assert refused(net.envelope(chain=net.links[:1]), net.trust()).code in {
        "invalid_chain", "wrong_signer"}
    assert refused(net.envelope(chain=net.links[1:]), net.trust()).code == "invalid_chain"
    assert refused(net.envelope(chain=[]), net.trust()).code == "not_endorsed"
    assert refused(net.envelope(chain=[*net.links] * 5), net.trust()).code == "invalid_chain"


def test_an_expired_or_foreign_chain_link_is_refused(net: Network) -> None:
    iat = int(NOW.timestamp()) - 7200
    expired, foreign = (link["jws"] for link in mono(
        net.endorse(net.voskhod, "voskhod", "zelenyisad", net.coop, iat, iat + 3600),
        net.endorse(net.voskhod, "voskhod", "zelenyisad", net.coop, iat, iat + 99999,
                    chain_id="b" * 64)))
    assert refused(net.envelope(chain=[net.links[0], expired]), net.trust()
                   ).code == "expired_endorsement"
    assert refused(net.envelope(chain=[net.links[0], foreign]), net.trust()).code == "wrong_chain"
    # A link signed by a key the previous link did not certify.
    forged = mono(net.endorse(net.stranger, "voskhod", "zelenyisad", net.coop,
                              iat, iat + 99999))[0]["jws"]
    assert refused(net.envelope(chain=[net.links[0], forged]), net.trust()
                   ).code == "invalid_chain"
    # Signed by the right key but naming another issuer than the previous link's subject.
    misnamed = mono(net.endorse(net.voskhod, "rodnik", "zelenyisad", net.coop,
                                iat, iat + 99999))[0]["jws"]
    error = refused(net.envelope(chain=[net.links[0], misnamed]), net.trust())
    assert (error.code, str(error)) == (
        "invalid_chain", "chain link 1 is not issued by the previous subject.")


def test_a_wrong_chain_id_and_a_stale_or_future_issued_at_are_refused(net: Network) -> None:
    assert refused(net.envelope(chain_id="b" * 64), net.trust()).code == "wrong_chain"
    assert refused(net.envelope(issued_at=iso(NOW - timedelta(minutes=6))), net.trust()
                   ).code == "stale_document"
    assert refused(net.envelope(issued_at=iso(NOW + timedelta(minutes=2))), net.trust()
                   ).code == "stale_document"
    assert refused(net.envelope(issued_at="yesterday"), net.trust()).code == "invalid_document"


@pytest.mark.parametrize("mangle", [
    lambda e: [e],
    lambda e: e | {"extra": 1},
    lambda e: e | {"payload": "x"},
    lambda e: e | {"payload": {k: v for k, v in e["payload"].items() if k != "chain_id"}},
    lambda e: e | {"payload": e["payload"] | {"coopname": "Not A Name"}},
    lambda e: e | {"signature": 42},
    lambda e: e | {"signature": "SIG_K1_" + "1" * 200},
    lambda e: e | {"signature": e["signature"][:-1] + ("1" if e["signature"][-1] != "1" else "2")},
    lambda e: e | {"chain": "not a list"},
    lambda e: e | {"chain": [123]},
    lambda e: e | {"chain": ["x" * 5000]},
])
def test_malformed_envelopes_are_refused_with_a_reason(net: Network, mangle: Any) -> None:
    error = refused(mangle(copy.deepcopy(net.envelope())), net.trust())
    assert 400 <= error.status < 500 and str(error)
