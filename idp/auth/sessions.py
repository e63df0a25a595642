"""Sessions and their tokens: opening one, refresh-token rotation with reuse detection,
logout, listing and revoking (issue #2).

A refresh token is 32 random bytes shown once and stored as SHA-256 (a database leak yields no
usable token). Every use rotates it; the old row stays as a tripwire: presenting it again means
two parties hold the session, so the whole session is revoked and the member told.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from common.db import compare_and_set, db, utcnow
from common.errors import NotFound, Unauthorized
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.models import AuthSession, Member, RefreshToken
from idp.services import IdpServices
from idp.tokens import AccessClaims

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def token_hash(token: str) -> str:
    """How idp keeps every high-entropy secret it hands out (refresh tokens, tickets, cooperative
    tokens, client secrets): SHA-256 only, so a database dump gives nobody a usable one."""
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(ctx: IdpServices, member: Member, client: ClientInfo) -> Tokens:
    """Start a session for a member who just proved the password (caller commits)."""
    now = utcnow()
    session = AuthSession(id=uuid.uuid4(), member_id=member.id, user_agent=client.user_agent,
                          ip=client.ip, created_at=now, last_used_at=now,
                          expires_at=now + timedelta(seconds=ctx.settings.refresh_token_ttl))
    db.session.add(session)
    return _tokens_for(ctx, session)


def _tokens_for(ctx: IdpServices, session: AuthSession) -> Tokens:
    refresh = secrets.token_urlsafe(32)
    db.session.add(RefreshToken(session_id=session.id, token_hash=token_hash(refresh)))
    access, ttl = ctx.tokens.issue(session.member_id, session.id)
    return Tokens(access_token=access, refresh_token=refresh, expires_in=ttl)


def refresh(ctx: IdpServices, presented: str, client: ClientInfo) -> Tokens:
    row = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash ==
                                                      token_hash(presented)))
    invalid = Unauthorized("The refresh token is not valid.", code="invalid_token")
    if row is None:
        raise invalid
    session = db.session.get(AuthSession, row.session_id)
    if session is None or not _alive(session):
        raise invalid
    now = utcnow()
    # Rotate with a compare-and-set so that two concurrent uses cannot both succeed.
    if not compare_and_set(RefreshToken, RefreshToken.id == row.id,
                           RefreshToken.rotated_at.is_(None), rotated_at=now):
        _revoke_for_reuse(ctx, session, client)
        raise Unauthorized("This refresh token was already used; the session has been closed.",
                           code="token_reused")
    session.last_used_at, session.ip, session.user_agent = now, client.ip, client.user_agent
    tokens = _tokens_for(ctx, session)
    db.session.commit()
    return tokens


def _revoke_for_reuse(ctx: IdpServices, session: AuthSession, client: ClientInfo) -> None:
    # Compare-and-set: of parallel replays only the first closes the session and tells the
    # member; the others find it closed (one email, not one per replay).
    if not compare_and_set(AuthSession, AuthSession.id == session.id,
                           AuthSession.revoked_at.is_(None), revoked_at=utcnow(),
                           revoke_reason="refresh_reuse"):
        db.session.commit()
        return
    member = session.member
    audit.record("refresh_reuse", client=client, member_id=member.id, actor=str(member.id),
                 session_id=str(session.id))
    ctx.notify(NotificationKind.SUSPICIOUS_ACTIVITY, to_email=member.email,
               subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
               at=utcnow().isoformat(timespec="seconds"))
    db.session.commit()


def _alive(session: AuthSession) -> bool:
    return session.revoked_at is None and session.expires_at > utcnow()


def authenticate(ctx: IdpServices, bearer: str) -> tuple[AccessClaims, AuthSession]:
    """A valid signature is not enough: the session it names must still be open, so logout
    and revocation take effect at once rather than when the token expires."""
    claims = ctx.tokens.verify(bearer)
    session = db.session.get(AuthSession, claims.session_id)
    if session is None or session.member_id != claims.member_id or not _alive(session):
        raise Unauthorized("The session of this token has ended.", code="invalid_token")
    if utcnow() - session.last_used_at > TOUCH_EVERY:
        session.last_used_at = utcnow()
        db.session.commit()
    return claims, session


def logout(ctx: IdpServices, session: AuthSession, presented_refresh: str,
           client: ClientInfo) -> None:
    row = db.session.scalar(select(RefreshToken).where(
        RefreshToken.token_hash == token_hash(presented_refresh)))
    if row is None or row.session_id != session.id:
        raise Unauthorized("The refresh token does not belong to this session.",
                           code="invalid_token")
    _revoke(session, "logout", client, event="logout")
    db.session.commit()


def list_sessions(member_id: uuid.UUID) -> list[AuthSession]:
    now = utcnow()
    rows = db.session.scalars(select(AuthSession).where(
        AuthSession.member_id == member_id, AuthSession.revoked_at.is_(None))
        .order_by(AuthSession.last_used_at.desc()))
    return [s for s in rows if s.expires_at > now]


def revoke_session(member_id: uuid.UUID, session_id: uuid.UUID, client: ClientInfo) -> None:
    session = db.session.get(AuthSession, session_id)
    # Someone else's session id answers exactly like one that does not exist.
    if session is None or session.member_id != member_id or not _alive(session):
        raise NotFound("No such session.", code="session_not_found")
    _revoke(session, "revoked", client, event="session_revoked")
    db.session.commit()


def revoke_all(member_id: uuid.UUID, *, keep: uuid.UUID | None, reason: str) -> None:
    """Close every open session of the member but ``keep`` (password change, recovery)."""
    query = update(AuthSession).where(AuthSession.member_id == member_id,
                                      AuthSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    db.session.execute(query.values(revoked_at=utcnow(), revoke_reason=reason))


def _revoke(session: AuthSession, reason: str, client: ClientInfo, *, event: str) -> None:
    session.revoked_at, session.revoke_reason = utcnow(), reason
    audit.record(event, client=client, member_id=session.member_id,
                 actor=str(session.member_id), session_id=str(session.id))
