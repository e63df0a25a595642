"""What card.coop does with the network's verified documents (issue #11). Every function takes
a ``SignedDocument`` whose signer ``idp.network.documents.verify`` has checked; the checks here
are about what the payload asks for."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import delete, select

from cardcoop.protocol.k1 import K1PublicKey
from common.db import db, dialect_insert, insert_ignoring_conflict, utcnow
from common.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
)
from common.voskhod.port import is_account_name
from idp.card.models import Card
from idp.network import webhooks
from idp.network.documents import SignedDocument, Trust
from idp.network.models import (
    Attestation,
    NetworkCooperative,
    NetworkEntry,
    UsedDocument,
)
from idp.oauth import clients
from idp.oauth.clients import ClientError
from idp.services import IdpServices

MAX_TEXT = 200
MAX_URL = 2000
MAX_SECRET = 500
IDENTITY_KINDS = ("individual", "entrepreneur", "organization")
MAX_IDENTITY_FIELDS = 32
DIGEST = re.compile(r"^[0-9a-f]{64}$")


def trust(ctx: IdpServices) -> Trust:
    """What documents are checked against, from settings and the registry."""
    settings = ctx.settings
    if settings.network_chain_id is None:
        raise ServiceUnavailable("This card.coop server is not configured for the network "
                                 "(CARDCOOP_NETWORK_CHAIN_ID).", code="network_not_configured")
    anchor = (K1PublicKey.from_string(settings.network_trust_anchor)
              if settings.network_trust_anchor else None)
    return Trust(settings.network_chain_id, anchor, ctx.registry.endorsement,
                 max_age=timedelta(seconds=settings.network_document_max_age))


def _text(payload: dict[str, Any], name: str, *, limit: int = MAX_TEXT,
          required: bool = True) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRequest(f"payload.{name} must be a non-empty string of at most {limit} "
                             "characters.", code="invalid_document")
    return value.strip()


def _url(payload: dict[str, Any], name: str) -> str:
    value = _text(payload, name, limit=MAX_URL)
    assert value is not None
    try:
        return clients.check_redirect_uri(value)
    except ClientError as error:
        raise InvalidRequest(f"payload.{name}: {error}", code="invalid_document") from None


def account_name(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not is_account_name(value):
        raise InvalidRequest(f"payload.{name} must be an account name.", code="invalid_document")
    return value


# --- admission and connection ----------------------------------------------------------------

def admit(ctx: IdpServices, doc: SignedDocument) -> NetworkCooperative:
    """``coop_admission``: the operator admits ``subject`` to the network (again: a new name)."""
    operator = ctx.settings.network_operator
    if doc.coopname != operator:
        raise Forbidden(f"Only the network operator ({operator}) admits cooperatives.",
                        code="not_the_operator")
    subject = account_name(doc.payload, "subject")
    display_name = _text(doc.payload, "display_name", required=False) or subject
    coop = db.session.get(NetworkCooperative, subject)
    if coop is None:
        coop = NetworkCooperative(coopname=subject, display_name=display_name,
                                  admitted_by=operator)
        db.session.add(coop)
    coop.display_name, coop.updated_at = display_name, utcnow()
    db.session.commit()
    return coop


@dataclass(frozen=True)
class RpClient:
    client_id: str
    client_secret: str
    issuer: str


def connect(ctx: IdpServices, doc: SignedDocument) -> RpClient:
    """``coop_connect``: record how card.coop reaches the cooperative and hand it its OIDC
    client in our server (client_id = its account name). Every connect issues a fresh secret:
    MONO connects again to recover a lost one, and the old one stops at once."""
    coop = db.session.get(NetworkCooperative, doc.coopname)
    if coop is None:
        raise Forbidden(f"{doc.coopname} has not been admitted to the network by its operator.",
                        code="not_admitted")
    _use_once(ctx, doc)
    p = doc.payload
    secret = _text(p, "oidc_client_secret", limit=MAX_SECRET)
    assert secret is not None
    coop.oidc_issuer = _url(p, "oidc_issuer")
    coop.oidc_client_id = _text(p, "oidc_client_id")
    coop.oidc_client_secret_encrypted = _secret_box(ctx).encrypt(secret.encode())
    coop.attestation_callback_url = _url(p, "attestation_callback_url")
    coop.disclosure_url = _url(p, "disclosure_url")
    previous_entry, coop.entry_callback_url = coop.entry_callback_url, _url(p, "entry_callback_url")
    coop.display_name = _text(p, "display_name", required=False) or coop.display_name
    coop.connected_at = coop.updated_at = utcnow()
    issued = _our_client(coop, previous_entry)
    db.session.commit()
    return RpClient(issued.client_id, issued.secret, ctx.tokens.issuer)


def _use_once(ctx: IdpServices, doc: SignedDocument) -> None:
    """A captured connect document, sent again while still fresh, would hand its sender a new
    client secret: each is taken once (parallel copies meet the primary key)."""
    now = utcnow()
    horizon = now - timedelta(seconds=ctx.settings.network_document_max_age + 60)
    db.session.execute(delete(UsedDocument).where(UsedDocument.used_at < horizon))
    taken = db.session.execute(insert_ignoring_conflict(
        UsedDocument, digest=hashlib.sha256(doc.signature.encode()).hexdigest(), used_at=now)
        .returning(UsedDocument.digest)).first()
    if taken is None:
        raise Conflict("This document was taken already: sign a new one.",
                       code="replayed_document")


def _our_client(coop: NetworkCooperative, previous_entry: str | None) -> clients.IssuedSecret:
    """The cooperative's client in our server, redirecting to its entry callback; redirect URIs
    an administrator registered for its other sites are kept."""
    assert coop.entry_callback_url is not None
    existing = clients.find(coop.coopname)
    if existing is None:
        db.session.flush()
        return clients.create(coop.coopname, [coop.entry_callback_url], [])
    uris = [u for u in existing.redirect_uris if u != previous_entry]
    existing.redirect_uris = [*dict.fromkeys([*uris, coop.entry_callback_url])]
    return clients.rotate_secret(coop.coopname)


def _secret_box(ctx: IdpServices) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(ctx.derived_secret("network-oidc-secret")))


def oidc_client_secret(ctx: IdpServices, coop: NetworkCooperative) -> str | None:
    """The secret card.coop presents to the cooperative's CoopID."""
    if coop.oidc_client_secret_encrypted is None:
        return None
    return _secret_box(ctx).decrypt(coop.oidc_client_secret_encrypted).decode()


# --- membership attestations -----------------------------------------------------------------

def attest(doc: SignedDocument) -> Attestation:
    """``membership``: the cooperative attests that the card's holder is its member. One record
    per (cooperative, card): MONO re-sends freshly signed copies, and a repeat refreshes it (and
    lifts an earlier revocation) under the same id."""
    coop = connected(doc.coopname)
    p = doc.payload
    card_id = card_id_of(p.get("card_id"))
    try:
        member_since = date.fromisoformat(str(p.get("member_since")))
    except ValueError:
        raise InvalidRequest("payload.member_since must be a date (YYYY-MM-DD).",
                             code="invalid_document") from None
    identity = _identity(p.get("identity"))
    now = utcnow()
    issued_at = doc.issued_at
    row = db.session.execute(
        dialect_insert(Attestation).values(
            id=f"att_{secrets.token_urlsafe(16)}", coopname=coop.coopname, card_id=card_id,
            member_since=member_since, identity=identity, issued_at=issued_at, created_at=now,
            updated_at=now)
        .on_conflict_do_update(index_elements=["coopname", "card_id"], set_={
            "member_since": member_since, "identity": identity, "issued_at": issued_at,
            "updated_at": now, "revoked_at": None})
        .returning(Attestation.id)).one()
    db.session.commit()
    found = db.session.get(Attestation, row.id)
    assert found is not None
    return found


def revoke(doc: SignedDocument, attestation_id: str) -> Attestation:
    """``revocation``: the cooperative withdraws its attestation (idempotent)."""
    if doc.payload.get("attestation_id") != attestation_id:
        raise InvalidRequest("payload.attestation_id must be the attestation in the path.",
                             code="invalid_document")
    found = db.session.get(Attestation, attestation_id) if len(attestation_id) <= 40 else None
    if found is None or found.coopname != doc.coopname:
        # Another cooperative's attestation is as unknown to this one as a made-up id.
        raise NotFound("No such attestation of this cooperative.", code="unknown_attestation")
    if found.revoked_at is None:
        found.revoked_at = found.updated_at = utcnow()
    db.session.commit()
    return found


def connected(coopname: str) -> NetworkCooperative:
    coop = db.session.get(NetworkCooperative, coopname)
    if coop is None or coop.connected_at is None:
        raise Forbidden(f"{coopname} is not connected to card.coop (coop_connect first).",
                        code="not_connected")
    return coop


def card_id_of(value: object) -> uuid.UUID:
    try:
        card_id = uuid.UUID(str(value)) if isinstance(value, str) and len(value) <= 64 else None
    except ValueError:
        card_id = None
    if card_id is None or db.session.scalar(select(Card.id).where(Card.id == card_id)) is None:
        raise NotFound("payload.card_id names no card.", code="unknown_card")
    return card_id


def _identity(value: object) -> dict[str, Any]:
    """``{kind, public: {name fields}, digests: {field: sha256 hex}}``, nothing else."""
    problem = InvalidRequest("payload.identity must be {kind, public, digests}: a kind of "
                             f"{', '.join(IDENTITY_KINDS)}, public names as strings, digests as "
                             "SHA-256 hex.", code="invalid_document")
    if not isinstance(value, dict) or set(value) - {"kind", "public", "digests"} \
            or value.get("kind") not in IDENTITY_KINDS:
        raise problem
    public, digests = value.get("public", {}), value.get("digests", {})
    if not (isinstance(public, dict) and isinstance(digests, dict)) \
            or len(public) + len(digests) > MAX_IDENTITY_FIELDS:
        raise problem
    if not all(isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and len(v) <= MAX_TEXT
               for k, v in public.items()):
        raise problem
    if not all(isinstance(k, str) and len(k) <= 64 and isinstance(v, str) and DIGEST.match(v)
               for k, v in digests.items()):
        raise problem
    return {"kind": value["kind"], "public": public, "digests": digests}


# --- events for the cooperatives ---------------------------------------------------------------

def card_deleted(card_id: uuid.UUID, signed_in_to: list[str]) -> None:
    """``card.deleted`` to every connected cooperative that knew the card: those that attested
    its holder, issued it (an entry) or that the holder shared with or signed in to. In the
    deleting transaction."""
    attested = db.session.scalars(select(Attestation.coopname).where(
        Attestation.card_id == card_id))
    linked = db.session.scalars(select(NetworkEntry.coopname).where(
        NetworkEntry.card_id == card_id))
    knew = {*attested, *linked, *signed_in_to}
    connected = db.session.scalars(select(NetworkCooperative.coopname).where(
        NetworkCooperative.coopname.in_(knew), NetworkCooperative.connected_at.is_not(None)))
    for coopname in sorted(connected):
        webhooks.queue(db.session, coopname, "card.deleted",
                       {"card_id": str(card_id), "coopname": coopname})
