"""Disclosures between the network's cooperatives (issue #11): a requester asks for a card
holder's profile from a source that attested the holder (``disclosure_request``); the holder
answers in card.coop; on "allow" card.coop signs a grant the requester presents to the source,
which hands the profile over directly — it never passes through card.coop."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import aliased

from common.db import compare_and_set, db, utcnow
from common.errors import Conflict, InvalidRequest, NotFound
from common.notify import NotificationKind
from idp.card.models import Card
from idp.models import Member
from idp.network import webhooks
from idp.network.documents import SignedDocument
from idp.network.models import Attestation, Disclosure, NetworkCooperative
from idp.network.service import account_name, card_id_of, connected
from idp.services import IdpServices

DISCLOSURE_TTL = timedelta(minutes=10)  # MONO stops waiting after 15
GRANT_TTL = timedelta(minutes=5)
GRANT_TYP = "cardcoop-grant+jws"
GRANT_ISSUER = "card.coop"
PENDING, GRANTED, DENIED, EXPIRED = "pending", "granted", "denied", "expired"


def request_disclosure(ctx: IdpServices, doc: SignedDocument) -> Disclosure:
    """``disclosure_request``: the requester asks for the holder's profile from a source that
    attested the holder's membership. The holder is told, and decides in card.coop."""
    requester = connected(doc.coopname)
    card_id = card_id_of(doc.payload.get("card_id"))
    source_name = account_name(doc.payload, "from_coopname")
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


def pending(card_id: uuid.UUID) -> list[tuple[Disclosure, str, str]]:
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
