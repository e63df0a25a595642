"""The member's browser and its one idp session (issue #9): signed in and unlocked are two
states. The cookie keeps the browser signed in across reloads; the keys (derived from the
password, in the page only) are gone after a reload, so the page shows a locked screen and the
password alone unlocks it again. Unlocking is a password proof like a login
(``POST /auth/reauth``, idp.auth.account.reauth): it counts toward the lockout and renews
``auth_time``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from common.db import db, utcnow
from common.errors import Unauthorized
from common.security import ClientInfo
from idp.auth.sessions import alive, end_session, token_hash
from idp.models import AuthSession, Member
from idp.services import IdpServices


@dataclass(frozen=True)
class Resumed:
    session: AuthSession
    member: Member
    access_token: str
    expires_in: int


def session_of(ctx: IdpServices, cookie: str | None) -> AuthSession | None:
    """The open session this browser's cookie names, or None."""
    if cookie is None:
        return None
    session = db.session.scalar(select(AuthSession).where(
        AuthSession.cookie_hash == token_hash(cookie)))
    return session if session is not None and alive(ctx, session) else None


def resume(ctx: IdpServices, cookie: str | None, client: ClientInfo) -> Resumed:
    """A fresh access token for the browser's session (after a reload, or when the last one
    expired); using it keeps the session from going idle."""
    session = session_of(ctx, cookie)
    if session is None:
        raise Unauthorized("This browser is not signed in.", code="no_session")
    session.last_used_at, session.ip, session.user_agent = utcnow(), client.ip, client.user_agent
    access, ttl = ctx.tokens.issue(session.member_id, session.id)
    db.session.commit()
    return Resumed(session, session.member, access, ttl)


def replace(ctx: IdpServices, cookie: str | None, opened: uuid.UUID,
            client: ClientInfo) -> None:
    """One session per browser: a login from a browser that still held a session (another
    account, or ``prompt=login``) ends the old one instead of leaving it orphaned."""
    old = session_of(ctx, cookie)
    if old is None or old.id == opened:
        return
    end_session(old, "replaced", client, event="session_replaced")
    db.session.commit()
