"""The member's notification centre and its settings (issue #12).

Every notification is stored here first, as a document in ``portal_notifications``, whether
or not any other channel works (Novu down, push refused): the centre is its history. Then, by
the member's settings for its kind:

- channels: ``in_app`` (shown as new in the centre; off: stored as already read), ``email``
  (relayed by idp, which alone knows the address) and ``push`` (Web Push to the member's
  browsers), both through the transactional outbox ``portal_outbox``;
- frequency: ``instant`` (email and push now), ``daily`` or ``weekly`` (one digest email and
  push for everything new since the last one).

idp's own security notifications (a new device, a lockout, an access given or revoked) are
mailed by idp whatever the portal says; they are copied into the centre from idp's member API
so that the history is whole, and may be pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select, update

from common.db import db, insert_ignoring_conflict, inserted_if_absent, utcnow
from portal.delivery import payload_for_push
from portal.models import MemberSettings, Notification, Outbox

# The kinds a member sets, with what idp's kinds belong to.
MEETINGS: Final = "meeting_reminder"
CONTRIBUTIONS: Final = "contribution_due"
PAYMENTS: Final = "deposit_arrived"
CARD: Final = "card"
SECURITY: Final = "security"
ACCESS: Final = "access"
KINDS: Final = (MEETINGS, CONTRIBUTIONS, PAYMENTS, CARD, SECURITY, ACCESS)
IDP_KINDS: Final = {
    "new_device_login": SECURITY, "suspicious_activity": SECURITY, "account_locked": SECURITY,
    "password_changed": SECURITY, "recovery_key_created": SECURITY,
    "recovery_key_used": SECURITY, "access_granted": ACCESS, "access_revoked": ACCESS,
    "disclosure_requested": ACCESS,
    # The card's own events (idp's audit): a new card, changed data, a new cooperative account.
    "card_issued": CARD, "card_updated": CARD, "account_added": CARD}
CHANNELS: Final = ("in_app", "email", "push")
FREQUENCIES: Final = ("instant", "daily", "weekly")
DIGEST_EVERY: Final = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
# Security mail is idp's and always goes; the portal's email switch is for its own kinds.
EMAIL_KINDS: Final = (MEETINGS, CONTRIBUTIONS, PAYMENTS)
DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    MEETINGS: {"in_app": True, "email": True, "push": True, "frequency": "instant"},
    CONTRIBUTIONS: {"in_app": True, "email": True, "push": False, "frequency": "weekly"},
    PAYMENTS: {"in_app": True, "email": True, "push": True, "frequency": "instant"},
    CARD: {"in_app": True, "email": True, "push": False, "frequency": "instant"},
    SECURITY: {"in_app": True, "email": True, "push": True, "frequency": "instant"},
    ACCESS: {"in_app": True, "email": True, "push": False, "frequency": "instant"},
}
PAGE: Final = 50


def preferences(sub: str) -> dict[str, dict[str, Any]]:
    row = db.session.get(MemberSettings, sub)
    stored = row.preferences if row is not None else {}
    return {kind: DEFAULTS[kind] | {k: v for k, v in stored.get(kind, {}).items()
                                    if k in DEFAULTS[kind]} for kind in KINDS}


def parse_preferences(form: Any) -> dict[str, dict[str, Any]]:
    """The settings form (checkboxes ``<kind>.<channel>``, selects ``<kind>.frequency``);
    an unknown frequency is a ValueError, unknown fields are ignored."""
    chosen: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        frequency = form.get(f"{kind}.frequency", DEFAULTS[kind]["frequency"])
        if frequency not in FREQUENCIES:
            raise ValueError(f"unknown frequency for {kind}")
        chosen[kind] = {channel: form.get(f"{kind}.{channel}") == "on" for channel in CHANNELS}
        chosen[kind]["frequency"] = frequency
        if kind not in EMAIL_KINDS:
            chosen[kind]["email"] = True  # idp's security mail: not the portal's to stop
    return chosen


def save_preferences(sub: str, chosen: dict[str, dict[str, Any]]) -> None:
    db.session.execute(insert_ignoring_conflict(MemberSettings, sub=sub, preferences={},
                                                updated_at=utcnow()))
    row = db.session.get(MemberSettings, sub, with_for_update=True, populate_existing=True)
    assert row is not None
    row.preferences, row.updated_at = chosen, utcnow()
    db.session.commit()


@dataclass(frozen=True)
class Text:
    """What a push says (the email's words are idp's, common/notify/texts.py)."""

    title: str
    body: str


def record(sub: str, kind: str, source_key: str, *, coopname: str | None = None,
           params: dict[str, str] | None = None, text: Text | None = None,
           at: datetime | None = None) -> bool:
    """Store one notification (once per ``source_key``) and queue its deliveries, in the
    caller's transaction. False when it was there already."""
    category = IDP_KINDS.get(kind, kind)
    prefs = preferences(sub)[category]
    now = utcnow()
    created = inserted_if_absent(
        Notification, sub=sub, kind=kind, coopname=coopname, document=dict(params or {}),
        source_key=source_key, created_at=at or now,
        read_at=None if prefs["in_app"] else now,
        in_digest=prefs["frequency"] != "instant")
    if not created or prefs["frequency"] != "instant":
        return bool(created)
    channels = [c for c in ("email", "push") if prefs[c] and (c == "push" or kind in EMAIL_KINDS)]
    payload = dict(params or {})
    if text is not None:
        payload |= payload_for_push(text.title, text.body, "/notifications")
    for channel in channels:
        db.session.add(Outbox(channel=channel, kind=kind, to_email="", subscriber_id=sub,
                              payload=payload))
    return True


def digest_due(sub: str, now: datetime, text: Text) -> bool:
    """The member's digest, when its time has come and something waits: one email (of the
    kinds the portal mails) and one push. Caller commits."""
    prefs = preferences(sub)
    # The member's settings row exists, then is held: of two jobs at once, one sends the
    # digest and the other finds nothing waiting after the first commits.
    db.session.execute(insert_ignoring_conflict(MemberSettings, sub=sub, preferences={},
                                                updated_at=now))
    row = db.session.scalars(select(MemberSettings).where(MemberSettings.sub == sub)
                             .with_for_update().execution_options(populate_existing=True)).one()
    waiting = list(db.session.scalars(select(Notification).where(
        Notification.sub == sub, Notification.in_digest.is_(True))))
    if not waiting:
        return False
    every = min((DIGEST_EVERY[prefs[IDP_KINDS.get(n.kind, n.kind)]["frequency"]]
                 for n in waiting
                 if prefs[IDP_KINDS.get(n.kind, n.kind)]["frequency"] in DIGEST_EVERY),
                default=DIGEST_EVERY["daily"])
    if row.last_digest_at is not None and now - row.last_digest_at < every:
        return False
    kinds = {IDP_KINDS.get(n.kind, n.kind) for n in waiting}
    params = {"count": str(len(waiting)), "summary": text.body, "at": now.isoformat()}
    push = payload_for_push(text.title, text.body, "/notifications")
    if any(prefs[k]["email"] for k in kinds if k in EMAIL_KINDS):
        db.session.add(Outbox(channel="email", kind="digest", to_email="", subscriber_id=sub,
                              payload=params))
    if any(prefs[k]["push"] for k in kinds):
        db.session.add(Outbox(channel="push", kind="digest", to_email="", subscriber_id=sub,
                              payload=params | push))
    db.session.execute(update(Notification).where(
        Notification.id.in_([n.id for n in waiting])).values(in_digest=False))
    row.last_digest_at = now
    db.session.add(row)
    return True


# -- the centre ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    coopname: str | None = None
    unread: bool = False
    since: datetime | None = None
    until: datetime | None = None
    before: datetime | None = None  # the page's cursor: older than this


def listing(sub: str, filters: Filters) -> tuple[list[Notification], datetime | None]:
    query = select(Notification).where(Notification.sub == sub)
    if filters.kind in KINDS:
        kinds = [filters.kind] + [k for k, c in IDP_KINDS.items() if c == filters.kind]
        query = query.where(Notification.kind.in_(kinds))
    if filters.coopname:
        query = query.where(Notification.coopname == filters.coopname)
    if filters.unread:
        query = query.where(Notification.read_at.is_(None))
    if filters.since:
        query = query.where(Notification.created_at >= filters.since)
    if filters.until:
        query = query.where(Notification.created_at < filters.until)
    if filters.before:
        query = query.where(Notification.created_at < filters.before)
    # Newest first by when it happened (idp's are copied in later than they happened).
    rows = list(db.session.scalars(query.order_by(Notification.created_at.desc(),
                                                  Notification.id.desc()).limit(PAGE + 1)))
    return rows[:PAGE], rows[PAGE - 1].created_at if len(rows) > PAGE else None


def unread_count(sub: str) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.sub == sub, Notification.read_at.is_(None))) or 0)


def mark_read(sub: str, ids: list[int] | None) -> int:
    """These (or all) of the member's notifications read; another member's ids change
    nothing."""
    query = update(Notification).where(Notification.sub == sub,
                                       Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    done = db.session.execute(query.values(read_at=utcnow())).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return int(done or 0)


def coopnames(sub: str) -> list[str]:
    return sorted(c for c in db.session.scalars(select(Notification.coopname).where(
        Notification.sub == sub, Notification.coopname.is_not(None)).distinct()) if c)
