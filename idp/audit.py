"""The append-only audit log of account events (issue #2): who, from where, when, what.

Events are added to the caller's transaction, so an event is recorded exactly when what it
describes is committed. The ORM refuses to update or delete them; on PostgreSQL a trigger
(migration) refuses it at the database too.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from common.db import db
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


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation("audit events are append-only")
