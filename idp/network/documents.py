"""Signed documents from the network's cooperatives (issue #11): what MONO's cardcoop extension
posts to card.coop, checked before anything is done with it.

An envelope is ``{"payload": {...}, "signature": "SIG_K1_...", "chain": ["<JWS>", ...]}`` and
carries no other authentication. ``signature`` is the cooperative's certification key over
sha256 of the RFC 8785 (JCS) form of ``payload`` alone. ``chain`` holds the endorsements of
``ano::endorsements``, root first: compact ES256K JWS (``typ`` ``coop-endorsement+jws``, ``kid``
the issuer's key) whose claims name the subject (``sub``), its key (``cert``), ``chain_id`` and
``exp``. The root link is issued by the network (``ano``) to the operator; there is no self-link,
so the first link is checked against a trust anchor: ``ano``'s certification key, a setting.

Where no anchor is set, the signer is compared with the cooperative's ``cert_key`` as the
registry (the chain's ``ano::endorsements`` row) holds it, and that row must not have expired.

Every refusal is a ``DocumentRefused`` with a stable code and a sentence saying why: MONO
treats every 4xx but 429 as final, so a refusal must be one the sender can act on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from cardcoop.protocol.errors import InvalidKey
from cardcoop.protocol.k1 import K1PublicKey
from common.errors import ApiError
from common.voskhod.port import Endorsement, is_account_name
from idp.network.signatures import InvalidSignature, recover_signer

ENDORSEMENT_TYP = "coop-endorsement+jws"
MAX_CHAIN_LINKS = 8  # MONO walks at most eight (MAX_CHAIN_DEPTH)
MAX_LINK_LENGTH = 4096
REQUIRED = ("type", "coopname", "issued_at", "chain_id")


class DocumentRefused(ApiError):
    """A document card.coop will not act on: ``code`` for machines, the message for people
    (answered as ``{"error": code, "message": ...}`` like every API error)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class Trust:
    """What a document is checked against."""

    chain_id: str
    anchor: K1PublicKey | None  # ano's certification key; None: the registry's rows decide
    endorsement: Callable[[str], Endorsement | None]  # the registry's ano::endorsements row
    max_age: timedelta = timedelta(minutes=5)
    max_skew: timedelta = timedelta(seconds=30)  # issued_at a little ahead of our clock


@dataclass(frozen=True)
class SignedDocument:
    payload: dict[str, Any]
    coopname: str  # the signer, verified
    signer: K1PublicKey
    signature: str
    issued_at: datetime


def canonical(value: Any) -> bytes:
    """RFC 8785: the bytes MONO's ``canonicalize`` gives for the same JSON value."""
    return rfc8785.dumps(value)


def verify(envelope: object, trust: Trust, *, now: datetime | None = None) -> SignedDocument:
    """The envelope's payload and its verified signer, or DocumentRefused."""
    now = now or datetime.now(UTC)
    if not isinstance(envelope, dict) or set(envelope) - {"payload", "signature", "chain"}:
        raise DocumentRefused("invalid_document",
                              "Send {payload, signature, chain} and nothing else.")
    payload = envelope.get("payload")
    if not isinstance(payload, dict):
        raise DocumentRefused("invalid_document", "payload must be a JSON object.")
    missing = [k for k in REQUIRED if not isinstance(payload.get(k), str) or not payload[k]]
    if missing:
        raise DocumentRefused("invalid_document",
                              f"payload lacks {', '.join(missing)} (non-empty strings).")
    coopname = payload["coopname"]
    if not is_account_name(coopname):
        raise DocumentRefused("invalid_document", "payload.coopname is not an account name.")
    if payload["chain_id"] != trust.chain_id:
        raise DocumentRefused("wrong_chain", "payload.chain_id is not this network's chain.")
    issued_at = _check_fresh(payload["issued_at"], trust, now)
    try:
        signer = recover_signer(envelope.get("signature"), canonical(payload))
    except InvalidSignature as error:
        raise DocumentRefused("invalid_signature", f"signature: {error}.") from None
    except (rfc8785.CanonicalizationError, ValueError):
        raise DocumentRefused("not_canonical",
                              "payload has values RFC 8785 cannot represent.") from None
    certified = _certified_key(coopname, envelope.get("chain"), trust, now)
    if certified != signer:
        raise DocumentRefused("wrong_signer",
                              f"The signature is not by {coopname}'s certification key.",
                              status=403)
    return SignedDocument(payload, coopname, signer, str(envelope["signature"]), issued_at)


def _check_fresh(issued_at: str, trust: Trust, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(issued_at)
    except ValueError:
        raise DocumentRefused("invalid_document", "payload.issued_at is not an ISO 8601 time."
                              ) from None
    if moment.tzinfo is None:
        raise DocumentRefused("invalid_document", "payload.issued_at has no time zone.")
    if moment > now + trust.max_skew:
        raise DocumentRefused("stale_document", "payload.issued_at is in the future.")
    if moment < now - trust.max_age:
        raise DocumentRefused("stale_document",
                              "payload.issued_at is too old: sign the document again.")
    return moment


def _certified_key(coopname: str, chain: object, trust: Trust, now: datetime) -> K1PublicKey:
    """The key the network certifies for ``coopname``: through the chain from the anchor, or
    (no anchor set) the registry's endorsement row."""
    if trust.anchor is None:
        row = trust.endorsement(coopname)
        if row is None or row.subject != coopname:
            raise DocumentRefused("not_endorsed", f"{coopname} has no endorsement in the network.",
                                  status=403)
        if row.expires_at <= now:
            raise DocumentRefused("expired_endorsement",
                                  f"{coopname}'s endorsement has expired.", status=403)
        if row.chain_id != trust.chain_id:
            raise DocumentRefused("wrong_chain", f"{coopname}'s endorsement is for another chain.",
                                  status=403)
        return row.cert_key
    if not isinstance(chain, list) or not chain:
        raise DocumentRefused("not_endorsed", "chain is empty: the cooperative is not endorsed.",
                              status=403)
    if len(chain) > MAX_CHAIN_LINKS:
        raise DocumentRefused("invalid_chain", f"chain has more than {MAX_CHAIN_LINKS} links.")
    key, issuer = trust.anchor, None
    for index, link in enumerate(chain):
        claims = _link_claims(link, key, index, trust, now)
        if issuer is not None and claims["iss"] != issuer:
            raise DocumentRefused("invalid_chain",
                                  f"chain link {index} is not issued by the previous subject.")
        issuer = claims["sub"]
        try:
            key = K1PublicKey.from_string(claims["cert"])
        except InvalidKey:
            raise DocumentRefused("invalid_chain", f"chain link {index}: cert is not a K1 key."
                                  ) from None
    if issuer != coopname:
        raise DocumentRefused("invalid_chain", "chain does not end at payload.coopname.")
    return key


def _link_claims(link: object, key: K1PublicKey, index: int, trust: Trust, now: datetime
                 ) -> dict[str, Any]:
    where = f"chain link {index}"
    if not isinstance(link, str) or len(link) > MAX_LINK_LENGTH:
        raise DocumentRefused("invalid_chain", f"{where} is not a compact JWS.")
    try:
        found = jws.deserialize_compact(link, ECKey.import_key(key.key),
                                        algorithms=["ES256K"])
        claims = json.loads(found.payload)
    except (JoseError, ValueError):
        raise DocumentRefused("invalid_chain", f"{where} is not signed by its issuer's key.",
                              status=403) from None
    if found.protected.get("typ") != ENDORSEMENT_TYP or not isinstance(claims, dict):
        raise DocumentRefused("invalid_chain", f"{where} is not a {ENDORSEMENT_TYP}.")
    if not all(isinstance(claims.get(k), str) for k in ("iss", "sub", "cert", "chain_id")) \
            or not isinstance(claims.get("exp"), int | float):
        raise DocumentRefused("invalid_chain", f"{where} lacks iss, sub, cert, chain_id or exp.")
    if claims["chain_id"] != trust.chain_id:
        raise DocumentRefused("wrong_chain", f"{where} is for another chain.", status=403)
    if claims["exp"] <= now.timestamp():
        raise DocumentRefused("expired_endorsement", f"{where} has expired.", status=403)
    return claims
