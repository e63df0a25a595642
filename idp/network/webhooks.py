"""Webhooks to the network's cooperatives (issue #11): ``POST {attestation_callback_url}`` with
``x-cardcoop-signature: SIG_K1_...`` over the RFC 8785 form of the whole body, signed with the
key published at ``/v1/webhooks/public-key`` (idp.network.keys). MONO recovers the signer from
JCS of the parsed body and compares it with ``ano@cardcoop``; we send the canonical bytes
themselves, so there is nothing to re-serialise differently.

A transactional outbox of its own: an event is a row written in the transaction of the change
that causes it (nothing is sent for a change rolled back). ``flask worker`` delivers the rows
of each cooperative one at a time, oldest first: a cooperative that is down receives its events
later and in order, none lost; one that never comes back ends with its events marked dead after
``outbox_max_attempts`` tries (logged), and the queue moves on.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import aliased

from cardcoop.protocol.k1 import K1PrivateKey
from common.db import DbSession, utcnow
from common.outbox import DEAD, PENDING, SENT, DeliveryReport, backoff
from idp.network.documents import canonical
from idp.network.models import NetworkCooperative, WebhookEvent
from idp.network.signatures import sign_message

log = logging.getLogger("cardcoop.webhooks")

SIGNATURE_HEADER = "x-cardcoop-signature"
TIMEOUT_SECONDS = 10.0


def queue(session: DbSession, to: str, event: str, fields: dict[str, Any]) -> WebhookEvent:
    """Add the event for cooperative ``to`` to the caller's transaction (sent once it
    commits): ``{event, event_id, **fields, occurred_at}``."""
    now = utcnow()
    body = {"event": event, "event_id": str(uuid.uuid4()), **fields,
            "occurred_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    row = WebhookEvent(coopname=to, event=event, body=body, created_at=now,
                       next_attempt_at=now)
    session.add(row)
    return row


class Poster(Protocol):
    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int: ...


def post_with_requests(url: str, body: bytes, headers: dict[str, str]) -> int:
    """The adapter: one POST, its status (a network error raises)."""
    return requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                         allow_redirects=False).status_code


def deliver_due(session: DbSession, key: K1PrivateKey, *, max_attempts: int,
                post: Poster = post_with_requests, batch: int = 20,
                now: datetime | None = None) -> DeliveryReport:
    """Deliver the due head of each cooperative's queue (its oldest pending event) and commit.
    ``SKIP LOCKED``: several workers never send one event twice on PostgreSQL."""
    now = now or utcnow()
    older = aliased(WebhookEvent)
    head = ~select(older.id).where(older.coopname == WebhookEvent.coopname,
                                   older.status == PENDING,
                                   older.id < WebhookEvent.id).exists()
    rows = session.execute(
        select(WebhookEvent, NetworkCooperative.attestation_callback_url)
        .join(NetworkCooperative, NetworkCooperative.coopname == WebhookEvent.coopname)
        .where(WebhookEvent.status == PENDING, WebhookEvent.next_attempt_at <= now, head)
        .order_by(WebhookEvent.id).limit(batch)
        .with_for_update(skip_locked=True, of=WebhookEvent)).all()
    report = DeliveryReport()
    for row, url in rows:
        _deliver_one(row, url, key, post, max_attempts, now, report)
    session.commit()
    return report


def _deliver_one(row: WebhookEvent, url: str | None, key: K1PrivateKey, post: Poster,
                 max_attempts: int, now: datetime, report: DeliveryReport) -> None:
    row.attempts += 1
    body = canonical(row.body)
    try:
        if not url:
            raise RuntimeError("the cooperative has no webhook URL")
        status = post(url, body, {"content-type": "application/json",
                                  SIGNATURE_HEADER: sign_message(key, body)})
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except (requests.RequestException, RuntimeError) as exc:
        error = type(exc).__name__
    if error is None:
        row.status, row.sent_at, row.last_error = SENT, now, None
        report.sent += 1
        log.info("webhook %s %s to %s: sent", row.id, row.event, row.coopname)
        return
    row.last_error = error
    if row.attempts >= max_attempts:
        row.status = DEAD
        report.dead += 1
        log.warning("webhook %s %s to %s: gave up after %d attempts (%s)", row.id, row.event,
                    row.coopname, row.attempts, error)
    else:
        row.next_attempt_at = now + backoff(row.attempts)
        report.retried += 1
        log.info("webhook %s %s to %s: %s, retry %d later", row.id, row.event, row.coopname,
                 error, row.attempts)
