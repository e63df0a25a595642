"""What the portal deletes once it has ended (common/retention.py; issue #10): sessions whose
cookie has expired (each row holds a member's idp tokens, encrypted, so it does not outstay
its use) and the outbox rows delivered or given up on. The portal's worker purges every
``purge_interval`` seconds; ``flask --app wsgi:portal purge`` does it once. What the member
keeps (notifications, settings, subscriptions, deposits) is not touched here."""

from __future__ import annotations

from datetime import datetime, timedelta

from common.db import db
from common.outbox import delivered_rule
from common.retention import BATCH, Rule, purge
from portal.models import Outbox, PortalSession

# Kept a day past their end: no request in flight finds its row gone under it.
KEEP_ENDED = timedelta(days=1)

RULES = (
    Rule(PortalSession, lambda cutoff: PortalSession.expires_at < cutoff),
    delivered_rule(Outbox),
)


def purge_expired(now: datetime, *, batch: int = BATCH) -> dict[str, int]:
    """Delete what ended more than ``KEEP_ENDED`` before ``now``; how many rows went, by rule."""
    return purge(db.session, RULES, now - KEEP_ENDED, batch=batch)
