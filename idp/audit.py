"""The append-only audit log of account events (issue #2): who, from where, when, what.

Events are added to the caller's transaction, so an event is recorded exactly when what it
describes is committed. The ORM refuses to update or delete them; on PostgreSQL a trigger
(migration) refuses it at the database too.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, event, func, literal, or_, select, true, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from common.db import db, rows_affected
from common.security import ClientInfo
from idp.models import AuditEvent


class AppendOnlyViolation(RuntimeError):
    pass


def record(name: str, *, client: ClientInfo | None, member_id: uuid.UUID | None = None,
           actor: str, **details: Any) -> None:
    """``actor`` is the member id, or the normalized email when nobody is logged in. Details
    must never hold secrets: codes, tokens, hashKeys and ciphertext stay out."""
    db.session.add(AuditEvent(event=name, member_id=member_id, actor=actor[:254],
                              ip=client.ip if client else "", details=details))


log = logging.getLogger("cardcoop.audit")

# Account deletion (docs/security.md "Deleting an account: what is kept, and for how long"):
# of a deleted member's history only these events stay, stripped to these details, with no IP
# and no actor, for RETENTION after the deletion; everything else of theirs is erased.
RETAINED_EVENTS = frozenset({"registered", "access_granted", "access_revoked", "account_deleted"})
RETAINED_DETAILS = frozenset({"privacy_version", "coopname", "scope", "sub", "coopnames"})
RETENTION = timedelta(days=3 * 365)
DELETED_ACTOR = "deleted-account"


def erase_member(member_id: uuid.UUID, email: str) -> bool:
    """In the caller's transaction: erase a deleted member's audit rows but the retained ones,
    and strip those to pseudonymous facts. The rows naming the member by email alone (a
    registration's or a failed login's, before there was an id) go too.

    PostgreSQL refuses any change to the table by a trigger (migration 0001); the erasure asks
    the trigger's leave with a transaction-local setting. A database whose trigger does not
    know that setting yet keeps the rows (logged, the deletion itself still goes through):
    False is returned then."""
    dialect = db.session.get_bind().dialect.name
    try:
        with db.session.begin_nested():
            if dialect == "postgresql":
                db.session.execute(select(_set_config("cardcoop.audit_erasure", "member")))
            db.session.execute(delete(AuditEvent).where(or_(
                and_(AuditEvent.member_id == member_id, AuditEvent.event.not_in(RETAINED_EVENTS)),
                and_(AuditEvent.member_id.is_(None), AuditEvent.actor == email))))
            kept = db.session.execute(select(AuditEvent.id, AuditEvent.details).where(
                AuditEvent.member_id == member_id)).all()
            for row_id, details in kept:
                db.session.execute(update(AuditEvent).where(AuditEvent.id == row_id).values(
                    ip="", actor=DELETED_ACTOR,
                    details={k: v for k, v in cast(dict[str, Any], details or {}).items()
                             if k in RETAINED_DETAILS}))
    except DBAPIError as error:
        log.warning("audit rows of a deleted account were kept: the database refused to erase "
                    "them (%s); apply the migration that lets the append-only trigger allow "
                    "erasure", type(error.orig).__name__)
        return False
    return True


def purge_retained(now: datetime) -> int:
    """Erase the retained rows of accounts deleted more than RETENTION before ``now`` (run
    daily, e.g. by the notification worker's scheduler or cron). Returns how many went."""
    expired = select(AuditEvent.member_id).where(AuditEvent.event == "account_deleted",
                                                 AuditEvent.at < now - RETENTION)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(_set_config("cardcoop.audit_erasure", "member")))
    return rows_affected(db.session.execute(
        delete(AuditEvent).where(AuditEvent.member_id.in_(expired))))


def _set_config(name: str, value: str) -> Any:
    return func.set_config(literal(name), literal(value), true())


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation("audit events are append-only")
