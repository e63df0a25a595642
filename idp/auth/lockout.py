"""The per-email lockout of failed logins (issue #2), safe under parallel requests (issue #8).

A try is counted *before* the password is checked, by one atomic ``UPDATE ... RETURNING`` that
succeeds only while fewer than ``lockout_threshold`` tries are counted in the window. So however
many requests arrive at once, at most that many are ever judged; the rest are refused without
an Argon2 check. The count is committed before the slow check, and no row lock is held during it.

Rows exist per normalized email, known or not, so the lockout tells nothing about accounts.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, delete, or_, select

from common.db import HotStatement, compare_and_set, db, utcnow
from common.errors import TooManyRequests
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.models import CredentialFailures as Failures
from idp.models import Timestamp
from idp.services import IdpServices

_now = bindparam("now", type_=Timestamp)
_stale = or_(Failures.locked_until <= _now,
             and_(Failures.locked_until.is_(None),
                  Failures.window_started_at < bindparam("window_cutoff", type_=Timestamp)))


# One upsert: a first try makes the row; a lock that has run out or a window that has passed
# starts the count afresh; otherwise the count goes up while it is under the threshold and the
# email is not locked.
_COUNT_TRY = HotStatement(upsert=lambda insert: (
    insert(Failures).values(email=bindparam("email"), failures=1, window_started_at=_now)
    .on_conflict_do_update(
        index_elements=[Failures.email],
        set_={"failures": case((_stale, 1), else_=Failures.failures + 1),
              "window_started_at": case((_stale, _now), else_=Failures.window_started_at),
              "locked_until": case((_stale, None), else_=Failures.locked_until)},
        where=or_(_stale, and_(Failures.failures < bindparam("threshold"),
                               Failures.locked_until.is_(None))))
    .returning(Failures.email)))


def reserve_try(ctx: IdpServices, email: str) -> None:
    """Count one login try for ``email`` or refuse it (429), in one statement that commits on
    its own (``_COUNT_TRY``). A right password deletes the row (``clear``) at any moment, and a
    try racing with that simply makes it again: parallel right passwords are never locked out.

    The caller's transaction is committed first: no transaction stays open across the slow
    check that follows, and on SQLite the statement needs the write lock that one would hold.
    """
    db.session.commit()
    settings, now = ctx.settings, utcnow()
    counted = _COUNT_TRY.first({
        "email": email, "now": now, "threshold": settings.lockout_threshold,
        "window_cutoff": now - timedelta(seconds=settings.lockout_window)})
    if counted is not None:
        return
    locked_until = db.session.scalar(select(Failures.locked_until).where(Failures.email == email))
    db.session.commit()
    wait = _seconds_until(locked_until, now, settings.lockout_window)
    raise TooManyRequests("Too many failed logins; try again later.", retry_after=wait,
                          code="account_locked")


def after_wrong_password(ctx: IdpServices, email: str, member_id: uuid.UUID | None,
                         client: ClientInfo) -> None:
    """Lock the email once its counted tries reach the threshold; the one request that locks it
    records the lockout and tells the member (``member_id``: the account of ``email``, if any)."""
    if not _lock_if_exhausted(ctx, email) or member_id is None:
        return
    settings = ctx.settings
    audit.record("lockout", client=client, member_id=member_id, actor=str(member_id))
    ctx.notify(NotificationKind.ACCOUNT_LOCKED, to_email=email,
               subscriber_id=str(member_id), ip=client.ip,
               unlock_minutes=str(settings.lockout_duration // 60),
               at=utcnow().isoformat(timespec="seconds"))


def _lock_if_exhausted(ctx: IdpServices, email: str) -> bool:
    settings, now = ctx.settings, utcnow()
    return compare_and_set(
        Failures, Failures.email == email, Failures.failures >= settings.lockout_threshold,
        or_(Failures.locked_until.is_(None), Failures.locked_until <= now),
        locked_until=now + timedelta(seconds=settings.lockout_duration), failures=0,
        window_started_at=now)


def clear(email: str) -> None:
    """The right password (or a completed recovery): the count starts again from nothing."""
    db.session.execute(delete(Failures).where(Failures.email == email))


def _seconds_until(locked_until: datetime | None, now: datetime, window: int) -> int:
    # Not locked but the tries of this window are all in flight: try again after a while.
    if locked_until is None or locked_until <= now:
        return min(window, 60)
    return int((locked_until - now).total_seconds()) + 1
