"""Refresh-token rotation in one round trip (issue #10).

Spending the presented token, touching its session and storing the next token is one
statement on PostgreSQL: three data-modifying CTEs, atomic on an autocommit connection.
The first only matches an unspent token of a live session, so of two parallel uses of one
token exactly one matches (PostgreSQL re-checks ``rotated_at IS NULL`` on the row the other
committed); the loser, and every invalid token, takes the rare path in ``sessions.refresh``
that tells a replay from a token that is simply not valid.

SQLite (the embedded default) has no data-modifying CTEs: the same three statements run one
after another in the request's transaction, which holds the write lock (common/db.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, String, bindparam, func, insert, select, update

from common.db import HotStatement, db
from common.security import ClientInfo
from idp.models import AuthSession, RefreshToken

_now: BindParameter[datetime] = bindparam("now")
_client_id: BindParameter[str] = bindparam("holder", type_=String)
_SPEND = (update(RefreshToken)
          .where(RefreshToken.token_hash == bindparam("old_hash"),
                 RefreshToken.rotated_at.is_(None),
                 RefreshToken.client_id.is_not_distinct_from(_client_id),
                 RefreshToken.session_id.in_(
                     select(AuthSession.id).where(
                         AuthSession.revoked_at.is_(None), AuthSession.expires_at > _now,
                         AuthSession.last_used_at > bindparam("idle_cutoff"))))
          .values(rotated_at=_now)
          .returning(RefreshToken.session_id))
_TOUCH = (update(AuthSession)
          # An app's refresh (no ip, no user agent: its server is not the member's device)
          # keeps the session's own.
          .values(last_used_at=_now,
                  ip=func.coalesce(bindparam("ip", type_=String), AuthSession.ip),
                  user_agent=func.coalesce(bindparam("user_agent", type_=String),
                                           AuthSession.user_agent))
          .returning(AuthSession.id, AuthSession.member_id))


_spent = _SPEND.cte("spent")
_touched = _TOUCH.where(AuthSession.id.in_(select(_spent.c.session_id))).cte("touched")
_issued = insert(RefreshToken).from_select(
    ["session_id", "token_hash", "created_at", "client_id"],
    select(_touched.c.id, bindparam("new_hash"), _now, _client_id)).cte("issued")
ROTATE_IN_ONE_STATEMENT = HotStatement(select(_touched.c.id, _touched.c.member_id)
                                        .add_cte(_issued))


@dataclass(frozen=True)
class Rotated:
    session_id: uuid.UUID
    member_id: uuid.UUID


def rotate(old_hash: str, new_hash: str, client: ClientInfo, *, now: datetime,
           idle: timedelta, client_id: str | None = None) -> Rotated | None:
    """Spend ``old_hash`` and store ``new_hash`` in its place, or None when the token is not an
    unspent token of ``client_id`` (None: the member's own) in a live session (the caller
    finds out which)."""
    device = client_id is None
    values = {"old_hash": old_hash, "new_hash": new_hash, "now": now,
              "idle_cutoff": now - idle, "holder": client_id,
              "ip": client.ip if device else None,
              "user_agent": client.user_agent if device else None}
    if db.engine.dialect.name == "postgresql":
        row = ROTATE_IN_ONE_STATEMENT.first(values)
        return Rotated(row["id"], row["member_id"]) if row is not None else None
    spent = db.session.execute(_SPEND, values).first()
    if spent is None:
        return None
    touched = db.session.execute(_TOUCH.where(AuthSession.id == spent.session_id), values).one()
    db.session.execute(insert(RefreshToken).values(
        session_id=touched.id, token_hash=new_hash, created_at=now, client_id=client_id))
    db.session.commit()
    return Rotated(touched.id, touched.member_id)
