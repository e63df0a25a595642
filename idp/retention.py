"""What idp deletes once it has ended (common/retention.py; issue #10).

Every sign-in leaves a login attempt, a session and its refresh tokens; every share a ticket
and a cooperative's token; every email an outbox row. None of them is any use once it has
ended, yet without this the tables, their indexes and every backup grow with each day the
platform runs rather than with its members. The notification worker purges every
``purge_interval`` seconds; ``flask --app wsgi:idp purge`` does it once (cron, or by hand).

An ended row is kept ``KEEP_ENDED`` past its end, so that no request in flight finds its row
gone under it and an incident of the past days can still be looked into. What is kept for
good is not touched here: members, cards, grants (the record of each consent), the audit log
(its own retention, ``idp.audit.purge_retained``) and finished registrations. Each selection
runs on an index (tests/idp/test_retention.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_

from common.db import db
from common.outbox import delivered_rule
from common.retention import BATCH, Rule, purge
from idp.models import (
    AuthSession,
    LoginAttempt,
    Outbox,
    RecoveryAttempt,
    RefreshToken,
    Registration,
)
from idp.oauth.models import AuthorizationCode, OAuthToken

KEEP_ENDED = timedelta(days=7)

# In order: a cooperative's tokens before the tickets they came from (those go with their
# session: its logout finds the cooperatives to tell by them).
RULES = (
    Rule(LoginAttempt, lambda cutoff: LoginAttempt.expires_at < cutoff),
    Rule(RecoveryAttempt, lambda cutoff: RecoveryAttempt.expires_at < cutoff),
    # Unfinished registrations; a finished one is the record of the member's first consent.
    Rule(Registration,
         lambda cutoff: (Registration.created_at < cutoff) & Registration.completed_at.is_(None)),
    Rule(OAuthToken, lambda cutoff: OAuthToken.expires_at < cutoff),
    # A session ends at its absolute end or when revoked (logout, replay, password change); one
    # that went idle is refused from then on and goes at its absolute end.
    Rule(AuthSession,
         lambda cutoff: or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff),
         dependents=(RefreshToken.session_id, AuthorizationCode.session_id)),
    delivered_rule(Outbox),
)


def purge_expired(now: datetime, *, batch: int = BATCH) -> dict[str, int]:
    """Delete what ended more than ``KEEP_ENDED`` before ``now``; how many rows went, by rule."""
    return purge(db.session, RULES, now - KEEP_ENDED, batch=batch)
