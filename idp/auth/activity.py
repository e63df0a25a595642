"""The member's own account history, read from the audit log (issue #12): the session log the
portal shows (time, IP, device) and the cooperatives' accesses over time.

Only what the member may see of their own events leaves: the event's name, time, IP, and of
its details the device and the cooperative. Nothing else an audit row holds (counts, scopes,
versions) is needed on a member's screen, so it stays in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import func, select

from common.db import db
from common.errors import InvalidRequest
from idp.models import AuditEvent, Outbox

# What idp told the member about their account, listed for the portal's notification centre
# (kind and time: an outbox row keeps no text once it is sent).
NOTICE_KINDS = ("new_device_login", "suspicious_activity", "account_locked", "password_changed",
                "recovery_key_created", "recovery_key_used", "access_granted", "access_revoked",
                "disclosure_requested")
# What happened to the member's card, from the audit log: listed beside them, so that the centre
# tells of a new card, changed data and a new cooperative account too.
CARD_EVENTS = ("card_issued", "card_updated", "account_added")
NOTICES_LIMIT = 100

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    next_before: int | None


def query_int(name: str) -> int | None:
    """An optional positive integer query parameter; anything else is a 400."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise InvalidRequest(f"{name} must be a positive integer.", code="invalid_query")
    return int(raw)


def page(member_id: uuid.UUID, *, before: int | None, limit: int | None) -> Page:
    size = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    query = select(AuditEvent).where(AuditEvent.member_id == member_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return Page(events=[_visible(row) for row in rows],
                next_before=rows[-1].id if more else None)


def _visible(row: AuditEvent) -> dict[str, Any]:
    details = row.details or {}
    return {"id": row.id, "at": row.at, "event": row.event, "ip": row.ip,
            "device": _text(details.get("device")), "coopname": _text(details.get("coopname"))}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def notices(member_id: uuid.UUID) -> list[dict[str, Any]]:
    """The member's notifications from idp, newest first: one per message (an outbox row per
    channel, by the first row's id; origin "message") and one per card event (the audit row's
    id; origin "event")."""
    messages = db.session.execute(
        select(func.min(Outbox.id), Outbox.kind, Outbox.created_at)
        .where(Outbox.subscriber_id == str(member_id), Outbox.kind.in_(NOTICE_KINDS))
        .group_by(Outbox.kind, Outbox.created_at)
        .order_by(Outbox.created_at.desc()).limit(NOTICES_LIMIT)).all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.member_id == member_id,
                                 AuditEvent.event.in_(CARD_EVENTS))
        .order_by(AuditEvent.id.desc()).limit(NOTICES_LIMIT))
    found: list[dict[str, Any]] = [{"id": row[0], "kind": row[1], "at": row[2],
                                    "origin": "message"} for row in messages]
    found += [{"id": row.id, "kind": row.event, "at": row.at, "origin": "event",
               "coopname": _text((row.details or {}).get("coopname"))} for row in events]
    return sorted(found, key=lambda n: n["at"], reverse=True)[:NOTICES_LIMIT]
