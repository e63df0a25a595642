"""Transactional outbox (DESIGN.md §3): a notification is a row written in the same transaction
as the event that causes it; a worker delivers due rows with retries and backoff. If Novu or the
mail server is down nothing is lost, and nothing is sent for an event that was rolled back."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from common.db import DbSession, JsonDocument, UtcDateTime, utcnow
from common.notify import (
    DeliveryError,
    Notification,
    NotificationKind,
    Notifier,
    PermanentDeliveryError,
)
from common.retention import Rule

log = logging.getLogger("cardcoop.outbox")

PENDING, SENT, DEAD = "pending", "sent", "dead"
MAX_BACKOFF = timedelta(hours=1)


class OutboxColumns:
    """Columns of an app's outbox table; each app maps it onto its own ``<app>_outbox``."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    to_email: Mapped[str] = mapped_column(String(254))
    subscriber_id: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    def notification(self) -> Notification:
        return Notification(kind=NotificationKind(self.kind), to_email=self.to_email,
                            subscriber_id=self.subscriber_id, payload=dict(self.payload),
                            locale=self.locale)


def delivered_rule(model: type[OutboxColumns]) -> Rule:
    """For the app's purge (common/retention.py): rows delivered or given up on that were due
    before the cutoff; a delivered row holds only its address and kind by then."""
    return Rule(model, lambda cutoff: model.status.in_((SENT, DEAD))
                & (model.next_attempt_at < cutoff))


def enqueue(session: DbSession, model: type[OutboxColumns], notification: Notification,
            channels: list[str]) -> None:
    """Add one row per channel to the caller's transaction (committed with the event)."""
    for channel in channels:
        session.add(model(channel=channel, kind=str(notification.kind),  # type: ignore[call-arg]
                          to_email=notification.to_email,
                          subscriber_id=notification.subscriber_id,
                          locale=notification.locale, payload=dict(notification.payload)))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def busy(self) -> bool:
        """Something was due: the worker looks again at once instead of sleeping."""
        return bool(self.sent or self.retried or self.dead)

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent, self.retried = self.sent + other.sent, self.retried + other.retried
        self.dead += other.dead
        return self


def backoff(attempts: int) -> timedelta:
    """Exponential from 5 s, capped at an hour, with jitter so that retries don't stampede."""
    base = min(timedelta(seconds=5 * 2 ** (attempts - 1)), MAX_BACKOFF)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not a secret)


def deliver_due(session: DbSession, model: type[OutboxColumns], notifiers: Mapping[str, Notifier],
                *, max_attempts: int, batch: int = 20, now: datetime | None = None
                ) -> DeliveryReport:
    """Deliver one batch of due rows and commit. ``SKIP LOCKED`` lets several workers share
    the table on PostgreSQL without sending anything twice; SQLite ignores it (one writer)."""
    now = now or utcnow()
    rows = _due_rows(session, model, now, batch)
    report = DeliveryReport()
    for row in rows:
        _deliver_one(row, notifiers.get(row.channel), max_attempts, now, report,
                     key=f"{model.__tablename__}-{row.id}")  # type: ignore[attr-defined]
    session.commit()
    return report


def _due_rows(session: DbSession, model: type[OutboxColumns], now: datetime,
              batch: int) -> list[OutboxColumns]:
    """One batch of due rows, locked; ``SKIP LOCKED``: other workers take the others."""
    return list(session.scalars(
        select(model)
        .where(model.status == PENDING, model.next_attempt_at <= now)
        .order_by(model.id).limit(batch).with_for_update(skip_locked=True)))


def _deliver_one(row: OutboxColumns, notifier: Notifier | None, max_attempts: int,
                 now: datetime, report: DeliveryReport, key: str) -> None:
    _record(row, _attempt(notifier, row.channel, row.notification(), key), max_attempts, now,
            report, key)


def _attempt(notifier: Notifier | None, channel: str, message: Any, key: str
             ) -> Exception | None:
    """Deliver one message; the failure, if any (an adapter bug must not stop the queue)."""
    try:
        if notifier is None:
            raise PermanentDeliveryError(f"no notifier configured for channel {channel!r}")
        notifier.deliver(message, idempotency_key=key)
    except DeliveryError as exc:
        return exc
    except Exception as exc:
        log.exception("outbox %s: unexpected %s", key, type(exc).__name__)
        return exc
    return None


def _record(row: OutboxColumns, outcome: Exception | None, max_attempts: int, now: datetime,
            report: DeliveryReport, key: str) -> None:
    row.attempts += 1
    if outcome is None:
        row.status, row.sent_at, row.last_error = SENT, now, None
        # Delivered: the payload (a code, an IP) has done its job and is not kept.
        row.payload = {}
        report.sent += 1
        log.info("outbox %s: %s sent via %s", key, row.kind, row.channel)
        return
    if isinstance(outcome, DeliveryError):
        _fail(row, str(outcome), report, permanent=isinstance(outcome, PermanentDeliveryError),
              max_attempts=max_attempts, now=now, retry_after=outcome.retry_after)
    else:
        _fail(row, type(outcome).__name__, report, permanent=False, max_attempts=max_attempts,
              now=now)


def _fail(row: OutboxColumns, error: str, report: DeliveryReport, *, permanent: bool,
          max_attempts: int, now: datetime, retry_after: float | None = None) -> None:
    row.last_error = error[:500]
    if permanent or row.attempts >= max_attempts:
        row.status = DEAD
        report.dead += 1
        log.warning("outbox %s via %s: gave up after %d attempts", row.kind, row.channel,
                    row.attempts)
    else:
        # The server's own Retry-After wins when it asks for longer than our backoff.
        row.next_attempt_at = now + max(backoff(row.attempts),
                                        timedelta(seconds=retry_after or 0))
        report.retried += 1
        log.info("outbox %s via %s: retry %d later", row.kind, row.channel, row.attempts)


CLAIM_LEASE = timedelta(minutes=2)


def deliver_claimed(session: DbSession, model: type[OutboxColumns],
                    notifiers: Mapping[str, Notifier], *, max_attempts: int, batch: int = 20,
                    now: datetime | None = None) -> DeliveryReport:
    """``deliver_due`` for channels that call a service writing the same database (the
    portal's email goes through idp, which on the embedded SQLite shares the one writer): the
    due rows are claimed with a lease and committed, each is delivered outside any
    transaction, and its outcome recorded after. A worker that dies mid-way leaves its rows
    to be taken again when the lease ends; the channels' idempotency keys keep a retry from
    sending twice."""
    now = now or utcnow()
    rows = _due_rows(session, model, now, batch)
    table = model.__tablename__  # type: ignore[attr-defined]
    claimed = [(row.id, row.channel, row.notification()) for row in rows]
    for row in rows:
        row.next_attempt_at = now + CLAIM_LEASE
    session.commit()
    report = DeliveryReport()
    for row_id, channel, message in claimed:
        key = f"{table}-{row_id}"
        outcome = _attempt(notifiers.get(channel), channel, message, key)
        stored = session.get(model, row_id)
        if stored is not None:
            _record(stored, outcome, max_attempts, now, report, key)
        session.commit()
    return report
