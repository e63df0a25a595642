"""Card operations (issue #3). The server stores and checks envelopes; it cannot open them."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from cardcoop.protocol.errors import ProtocolError
from cardcoop.protocol.k1 import K1PublicKey
from common.db import HotStatement, db, utcnow
from common.errors import Conflict, InvalidRequest, NotFound
from common.security import ClientInfo
from idp import audit
from idp.card.envelopes import ACCOUNT, CARD_KEY, PERSONAL_DATA, check_envelope
from idp.card.models import Card, CoopAccount
from idp.card.schemas import AccountIn, IssueCardIn, UpdateCardIn


def find_card(member_id: uuid.UUID) -> Card | None:
    return db.session.scalar(select(Card).where(Card.member_id == member_id))


def get_card(member_id: uuid.UUID) -> Card:
    card = find_card(member_id)
    if card is None:
        raise NotFound("No card has been issued yet.", code="card_not_found")
    return card


# The member's read of the card (GET /card, a fifth of the specification's mixed load): the
# card and its accounts in one statement, one row per account (a card without accounts: one
# row, the account's columns NULL), past the ORM (issue #10: the card and its lazily loaded
# accounts took 1.3 ms of CPU through the ORM, this 0.2 ms). It runs outside the request's
# session, which holds no writes here. ``created_at`` is the account's (the card's is not read).
_CARD_AND_ACCOUNTS = HotStatement(
    select(Card.id, Card.number, Card.encrypted_personal_data, Card.wrapped_card_key, Card.meta,
           Card.revision, CoopAccount.coopname, CoopAccount.username, CoopAccount.public_key,
           CoopAccount.encrypted_account, CoopAccount.created_at)
    .outerjoin(CoopAccount, CoopAccount.card_id == Card.id)
    .where(Card.member_id == bindparam("member"))
    .order_by(CoopAccount.created_at, CoopAccount.id))


def read_card(member_id: uuid.UUID) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The card's columns and its accounts' (oldest first), for the member's own read."""
    rows = _CARD_AND_ACCOUNTS.all({"member": member_id})
    if not rows:
        raise NotFound("No card has been issued yet.", code="card_not_found")
    return rows[0], [row for row in rows if row["coopname"] is not None]


def _meta(meta: Any) -> dict[str, Any]:
    return {"version": meta.version, "schema": meta.schema_id}


def issue(member_id: uuid.UUID, body: IssueCardIn, client: ClientInfo) -> Card:
    check_envelope("wrapped_card_key", body.wrapped_card_key, CARD_KEY)
    check_envelope("encrypted_personal_data", body.encrypted_personal_data, PERSONAL_DATA,
                   schema=body.meta.schema_id)
    if find_card(member_id) is not None:
        raise Conflict("This member already has a card.", code="card_exists")
    card = Card(id=uuid.uuid4(), member_id=member_id, wrapped_card_key=body.wrapped_card_key,
                encrypted_personal_data=body.encrypted_personal_data, meta=_meta(body.meta),
                revision=1)
    db.session.add(card)
    try:
        db.session.flush()
    except IntegrityError:  # two issues raced; the first won
        db.session.rollback()
        raise Conflict("This member already has a card.", code="card_exists") from None
    audit.record("card_issued", client=client, member_id=member_id, actor=str(member_id),
                 card_id=str(card.id))
    db.session.commit()
    return card


def replace_personal_data(member_id: uuid.UUID, body: UpdateCardIn, client: ClientInfo) -> Card:
    check_envelope("encrypted_personal_data", body.encrypted_personal_data, PERSONAL_DATA,
                   schema=body.meta.schema_id)
    card = get_card(member_id)
    # Compare-and-set on the revision: of two concurrent editors exactly one wins.
    changed = cast(CursorResult[Any], db.session.execute(
        update(Card).where(Card.id == card.id, Card.revision == body.revision)
        .values(encrypted_personal_data=body.encrypted_personal_data, meta=_meta(body.meta),
                revision=Card.revision + 1, updated_at=utcnow()))).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict("The card was changed elsewhere; reload it and try again.",
                       code="stale_revision")
    audit.record("card_updated", client=client, member_id=member_id, actor=str(member_id),
                 card_id=str(card.id), revision=body.revision + 1)
    db.session.commit()
    db.session.refresh(card)
    return card


def add_account(member_id: uuid.UUID, body: AccountIn, client: ClientInfo) -> CoopAccount:
    try:
        K1PublicKey.from_string(body.public_key)
    except ProtocolError:
        raise InvalidRequest("public_key is not a valid PUB_K1_/EOS key.", code="invalid_key",
                             details=[{"field": "public_key", "problem": "bad key or checksum"}]
                             ) from None
    check_envelope("encrypted_account", body.encrypted_account, ACCOUNT, coop=body.coopname)
    card = get_card(member_id)
    if any(a.coopname == body.coopname for a in card.accounts):
        raise Conflict("The card already has an account in this cooperative.",
                       code="account_exists")
    account = CoopAccount(card_id=card.id, coopname=body.coopname, username=body.username,
                          public_key=body.public_key, encrypted_account=body.encrypted_account,
                          created_at=utcnow())
    db.session.add(account)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("The card already has an account in this cooperative.",
                       code="account_exists") from None
    audit.record("account_added", client=client, member_id=member_id, actor=str(member_id),
                 coopname=body.coopname, username=body.username)
    db.session.commit()
    return account
