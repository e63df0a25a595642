"""The portal's tables (``portal_*``; DESIGN.md §4): its server-side sessions.

What the portal keeps of a member is only what its servers may know: the card id (the ID
token's ``sub``), idp's session id (``sid``, for back-channel logout) and idp's tokens,
encrypted at rest. Never a password-derived value, never personal data.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Integer, LargeBinary, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JsonDocument, UtcDateTime, utcnow
from common.outbox import OutboxColumns


class PortalSession(Base):
    """A browser's portal session. The cookie holds a random id; only its SHA-256 is here, so
    a copy of the table opens no session."""

    __tablename__ = "portal_sessions"
    __table_args__ = (Index("ix_portal_sessions_sid", "sid"),
                      Index("ix_portal_sessions_sub", "sub"),
                      Index("ix_portal_sessions_expires_at", "expires_at"))

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Flask's session dictionary: the sign-in's state and nonce while it runs, the CSRF token.
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    sub: Mapped[str | None] = mapped_column(String(64))  # the card id, once signed in
    sid: Mapped[str | None] = mapped_column(String(64))  # idp's session id
    # idp's access and refresh tokens (Fernet; key derived from the app secret).
    tokens_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PortalMember(Base):
    """What the portal's jobs need of a member when the member is not there (the calendar
    feed, reminders): the card id and the accounts, both public on the chain. Refreshed on
    every dashboard visit; the chain is asked again before anything is shown or sent."""

    __tablename__ = "portal_members"

    sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    accounts: Mapped[list[dict[str, str]]] = mapped_column(JsonDocument, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CalendarFeed(Base):
    """A member's personal iCalendar address: a random token, kept as its SHA-256. Revoking it
    (or making a new one) stops the old address at once."""

    __tablename__ = "portal_calendar_feeds"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Deposit(Base):
    """A contribution the member started from the portal (the chain keeps no history of settled
    deposits: ledger2.hpp). Its outcome is read from the balance the cooperative reports."""

    __tablename__ = "portal_deposits"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    sub: Mapped[str] = mapped_column(String(64), index=True)
    coopname: Mapped[str] = mapped_column(String(12))
    username: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    wallet: Mapped[str] = mapped_column(String(13))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Notification(Base):
    """One entry of the member's notification centre (a JSON document: what its text needs).
    ``source_key`` is unique: a reminder or a notification copied from idp is stored once."""

    __tablename__ = "portal_notifications"
    __table_args__ = (Index("ix_portal_notifications_sub_created", "sub", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    sub: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    coopname: Mapped[str | None] = mapped_column(String(12))
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    source_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Waiting for the member's daily or weekly digest (email and push), not sent alone.
    in_digest: Mapped[bool] = mapped_column(default=False)


class MemberSettings(Base):
    """The member's notification settings as one document: per kind, the channels (email,
    in_app, push) and the frequency (instant, daily, weekly); and when the last digest went."""

    __tablename__ = "portal_member_settings"

    sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    preferences: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    last_digest_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (RFC 8030/8291): the push service's endpoint and the
    browser's public keys. Nothing here identifies the person beyond the card id."""

    __tablename__ = "portal_push_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Outbox(OutboxColumns, Base):
    """The portal's transactional outbox: "email" (relayed by idp) and "push" rows. The
    portal never knows an address: ``to_email`` stays empty, ``subscriber_id`` is the card."""

    __tablename__ = "portal_outbox"
    __table_args__ = (Index("ix_portal_outbox_due", "status", "next_attempt_at"),)

    def notification(self) -> Any:
        from portal.delivery import Message

        return Message(kind=self.kind, sub=self.subscriber_id, payload=dict(self.payload),
                       locale=self.locale)


class ReminderSent(Base):
    """One row per member and event reminded of (``meeting:<coop>:<id>:<hash>``,
    ``contribution:<coop>:<yyyy-mm>``): inserted with the outbox rows in one transaction, it
    makes the reminder job safe with two instances running (the second finds it there)."""

    __tablename__ = "portal_reminders_sent"

    sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ActivityDay(Base):
    """What the portal saw a member do on a day (visit, sign_in, grant_revoked,
    device_revoked, deposit): the operators' aggregates count these, one per member, kind and
    day. The card id only; nothing of what was seen."""

    __tablename__ = "portal_activity_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
