"""MONO's side of the ВОСХОД network for idp's tests (issue #11): keys and endorsements made by
the stock libraries MONO uses (tests/mono_peer), signed documents, and the first calls every
scenario makes. The fixtures are in tests/idp/conftest.py."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from tests.idp.mono import mono

CHAIN_ID = secrets.token_hex(32)
OPERATOR, COOP, OUTSIDER = "voskhod", "zelenyisad", "rodnik"
BACKEND = "https://mono.zelenyisad.example"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Mono:
    """The network's keys (wharfkit) and endorsements (jose): ano → voskhod → zelenyisad, and an
    outsider endorsed by voskhod but never admitted."""

    def __init__(self) -> None:
        self.ano, self.voskhod, self.coop, self.outsider, self.stranger = mono(
            *[{"op": "keygen"}] * 5)
        now = int(datetime.now(UTC).timestamp())
        self.links = {sub: link["jws"] for sub, link in zip(
            (OPERATOR, COOP, OUTSIDER), mono(*(
                {"op": "endorse", "private": issuer["private"], "issuer": iss, "subject": sub,
                 "cert": subject["public"], "chain_id": CHAIN_ID, "iat": now - 60,
                 "exp": now + 3600}
                for issuer, iss, sub, subject in (
                    (self.ano, "ano", OPERATOR, self.voskhod),
                    (self.voskhod, OPERATOR, COOP, self.coop),
                    (self.voskhod, OPERATOR, OUTSIDER, self.outsider)))), strict=True)}
        self.keys = {OPERATOR: self.voskhod, COOP: self.coop, OUTSIDER: self.outsider}

    def chain(self, coopname: str) -> list[str]:
        own = [] if coopname == OPERATOR else [self.links[coopname]]
        return [self.links[OPERATOR], *own]

    def document(self, doc_type: str, coopname: str = COOP, *, key: dict[str, str] | None = None,
                 **fields: Any) -> dict[str, Any]:
        payload = {"type": doc_type, "coopname": coopname, "issued_at": iso(datetime.now(UTC)),
                   "chain_id": CHAIN_ID, **fields}
        signature = mono({"op": "sign", "private": (key or self.keys[coopname])["private"],
                          "payload": payload})[0]["signature"]
        return {"payload": payload, "signature": signature, "chain": self.chain(coopname)}

    def connect_document(self, coopname: str = COOP, *, webhooks: str | None = None,
                         **extra: Any) -> dict[str, Any]:
        fields = {
            "oidc_issuer": f"{BACKEND}/application/o/cardcoop/", "oidc_client_id": "cardcoop",
            "oidc_client_secret": "coopid-" + secrets.token_hex(8),
            "attestation_callback_url": webhooks or f"{BACKEND}/v1/extensions/cardcoop/webhooks",
            "disclosure_url": f"{BACKEND}/v1/extensions/cardcoop/disclosures",
            "entry_callback_url": f"{BACKEND}/v1/extensions/cardcoop/entry/callback"}
        return self.document("coop_connect", coopname, **(fields | extra))


def post(api: FlaskClient, path: str, envelope: Any) -> Any:
    return api.post(path, json=envelope)


DISPLAY_NAMES = {COOP: "ПК Зелёный сад", OUTSIDER: "ПК Родник", OPERATOR: "ПК ВОСХОД"}


def admitted(api: FlaskClient, net: Mono, subject: str = COOP) -> None:
    done = post(api, "/v1/registrar/announce", net.document(
        "coop_admission", OPERATOR, subject=subject, display_name=DISPLAY_NAMES[subject]))
    assert done.status_code == 200, done.json


def connected(api: FlaskClient, net: Mono, webhooks: str | None = None) -> dict[str, str]:
    admitted(api, net)
    done = post(api, "/v1/coops/connect", net.connect_document(webhooks=webhooks))
    assert done.status_code == 200, done.json
    rp: dict[str, str] = done.json["rpClient"]
    return rp
