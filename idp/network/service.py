"""What card.coop does with the network's verified documents (issue #11). Every function takes
a ``SignedDocument`` whose signer ``idp.network.documents.verify`` has checked; the checks here
are about what the payload asks for."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from cardcoop.protocol.k1 import K1PublicKey
from common.db import compare_and_set, db, dialect_insert, insert_ignoring_conflict, utcnow
from common.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
)
from common.notify import NotificationKind
from common.voskhod.port import is_account_name
from idp.card.models import Card
from idp.models import Member
from idp.network import webhooks
from idp.network.documents import SignedDocument, Trust
from idp.network.models import (
    Attestation,
    Disclosure,
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


def _account(payload: dict[str, Any], name: str) -> str:
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
    subject = _account(doc.payload, "subject")
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
    coop = _connected(doc.coopname)
    p = doc.payload
    card_id = _card_id(p.get("card_id"))
    try:
        member_since = date.fromisoformat(str(p.get("member_since")))
    except ValueError:
        raise InvalidRequest("payload.member_since must be a date (YYYY-MM-DD).",
                             code="invalid_document") from None
    identity = _identity(p.get("identity"))
    now = utcnow()
    issued_at = _issued_at(p)
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


def _connected(coopname: str) -> NetworkCooperative:
    coop = db.session.get(NetworkCooperative, coopname)
    if coop is None or coop.connected_at is None:
        raise Forbidden(f"{coopname} is not connected to card.coop (coop_connect first).",
                        code="not_connected")
    return coop


def _card_id(value: object) -> uuid.UUID:
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


def _issued_at(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["issued_at"])  # verify() checked it parses, aware


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



# --- disclosures between cooperatives ----------------------------------------------------------

DISCLOSURE_TTL = timedelta(minutes=10)  # MONO stops waiting after 15
GRANT_TTL = timedelta(minutes=5)
GRANT_TYP = "cardcoop-grant+jws"
GRANT_ISSUER = "card.coop"
PENDING, GRANTED, DENIED, EXPIRED = "pending", "granted", "denied", "expired"


def request_disclosure(ctx: IdpServices, doc: SignedDocument) -> Disclosure:
    """``disclosure_request``: the requester asks for the holder's profile from a source that
    attested the holder's membership. The holder is told, and decides in card.coop."""
    requester = _connected(doc.coopname)
    card_id = _card_id(doc.payload.get("card_id"))
    source_name = _account(doc.payload, "from_coopname")
    if source_name == requester.coopname:
        raise InvalidRequest("from_coopname must be another cooperative.",
                             code="invalid_document")
    source = db.session.get(NetworkCooperative, source_name)
    attested = db.session.scalar(select(Attestation.id).where(
        Attestation.coopname == source_name, Attestation.card_id == card_id,
        Attestation.revoked_at.is_(None)))
    if source is None or source.connected_at is None or not source.disclosure_url \
            or attested is None:
        raise NotFound(f"{source_name} holds no attested membership of this card.",
                       code="unknown_source")
    now = utcnow()
    _expire(now, card_id=card_id)
    if db.session.scalar(select(Disclosure.id).where(
            Disclosure.card_id == card_id, Disclosure.requester == requester.coopname,
            Disclosure.source == source_name, Disclosure.status == PENDING).with_for_update()):
        raise Conflict("A request for this profile waits for the holder's answer.",
                       code="disclosure_pending")
    disclosure = Disclosure(id=f"dsc_{secrets.token_urlsafe(16)}", card_id=card_id,
                            requester=requester.coopname, source=source_name, status=PENDING,
                            created_at=now, expires_at=now + DISCLOSURE_TTL)
    db.session.add(disclosure)
    holder = db.session.scalar(select(Member).join(Card, Card.member_id == Member.id)
                               .where(Card.id == card_id))
    assert holder is not None
    ctx.notify(NotificationKind.DISCLOSURE_REQUESTED, to_email=holder.email,
               subscriber_id=str(holder.id), coop=requester.display_name,
               coopname=requester.coopname, source=source.display_name,
               at=now.isoformat(timespec="seconds"))
    db.session.commit()
    return disclosure


def pending_disclosures(card_id: uuid.UUID) -> list[tuple[Disclosure, str, str]]:
    """The holder's open requests: (disclosure, requester's name, source's name)."""
    _expire(utcnow(), card_id=card_id)
    db.session.commit()
    requester, source = aliased(NetworkCooperative), aliased(NetworkCooperative)
    rows = db.session.execute(
        select(Disclosure, requester.display_name, source.display_name)
        .join(requester, requester.coopname == Disclosure.requester)
        .join(source, source.coopname == Disclosure.source)
        .where(Disclosure.card_id == card_id, Disclosure.status == PENDING)
        .order_by(Disclosure.created_at)).all()
    return [(d, r, s) for d, r, s in rows]


def decide(ctx: IdpServices, card_id: uuid.UUID, disclosure_id: str, *, allow: bool) -> str:
    """The holder's answer; the requester hears it (``disclosure.granted`` with the grant, or
    ``disclosure.denied``). Only a pending request of the holder's own card can be answered,
    and only once: parallel answers meet the status compare-and-set."""
    now = utcnow()
    _expire(now, card_id=card_id)
    status = GRANTED if allow else DENIED
    if not compare_and_set(Disclosure, Disclosure.id == disclosure_id,
                           Disclosure.card_id == card_id, Disclosure.status == PENDING,
                           status=status, decided_at=now):
        db.session.commit()  # what _expire changed
        raise NotFound("No such request waits for your answer.", code="unknown_disclosure")
    disclosure = db.session.get(Disclosure, disclosure_id)
    assert disclosure is not None
    fields: dict[str, Any] = {"disclosure_id": disclosure.id}
    if allow:
        source = db.session.get(NetworkCooperative, disclosure.source)
        assert source is not None
        fields |= {"grant": _grant(ctx, disclosure, now), "from_coopname": source.coopname,
                   "from_disclosure_url": source.disclosure_url}
    webhooks.queue(db.session, disclosure.requester,
                   "disclosure.granted" if allow else "disclosure.denied", fields)
    db.session.commit()
    return status


def delivered(doc: SignedDocument) -> Disclosure:
    """``disclosure_delivered``: the source reports it handed the profile over."""
    jti = doc.payload.get("grant_jti")
    found = db.session.get(Disclosure, jti) if isinstance(jti, str) and len(jti) <= 40 else None
    if found is None or found.source != doc.coopname or found.status != GRANTED:
        raise NotFound("No granted disclosure of this cooperative has that grant.",
                       code="unknown_grant")
    found.delivered_at = found.delivered_at or utcnow()
    db.session.commit()
    return found


def expire_due(now: datetime | None = None) -> int:
    """Requests the holder left unanswered: expired, the requester told. For the worker."""
    count = _expire(now or utcnow())
    db.session.commit()
    return count


def _expire(now: datetime, card_id: uuid.UUID | None = None) -> int:
    """Mark the due pending requests expired (each once: compare-and-set) and tell their
    requesters, in the caller's transaction."""
    due = select(Disclosure.id).where(Disclosure.status == PENDING, Disclosure.expires_at <= now)
    if card_id is not None:
        due = due.where(Disclosure.card_id == card_id)
    count = 0
    for disclosure_id in db.session.scalars(due).all():
        if compare_and_set(Disclosure, Disclosure.id == disclosure_id,
                           Disclosure.status == PENDING, status=EXPIRED, decided_at=now):
            requester = db.session.scalar(select(Disclosure.requester).where(
                Disclosure.id == disclosure_id))
            assert requester is not None
            webhooks.queue(db.session, requester, "disclosure.expired",
                           {"disclosure_id": disclosure_id})
            count += 1
    return count


def _grant(ctx: IdpServices, disclosure: Disclosure, now: datetime) -> str:
    """The compact ES256K JWS MONO's source cooperative checks (disclosure/grant.ts): raw r||s,
    ``typ`` cardcoop-grant+jws, ``jti`` the disclosure's id, ``aud`` the requester (a string)."""
    kid, key = ctx.network_keys.current()
    claims = {"iss": GRANT_ISSUER, "sub": str(disclosure.card_id), "aud": disclosure.requester,
              "from": disclosure.source, "jti": disclosure.id, "iat": int(now.timestamp()),
              "exp": int((now + GRANT_TTL).timestamp())}
    return jws.serialize_compact({"alg": "ES256K", "typ": GRANT_TYP, "kid": kid},
                                 json.dumps(claims, separators=(",", ":")).encode(),
                                 ECKey.import_key(key.key), algorithms=["ES256K"])
