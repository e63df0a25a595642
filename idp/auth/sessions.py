"""Sessions and their tokens: opening one, refresh-token rotation with reuse detection,
logout, listing and revoking (issue #2); one session per browser, held by a cookie (issue #9).

A refresh token is 32 random bytes shown once and stored as SHA-256 (a database leak yields no
usable token). Every use rotates it; the old row stays as a tripwire: presenting it again means
two parties hold the session, so the whole session is revoked and the member told.

A session lives until its absolute end (``refresh_token_ttl``) unless unused for
``session_idle_ttl``; whatever ends it early tells the clients it signed in to (back-channel
logout).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select, update

from common.db import compare_and_set, db, utcnow
from common.errors import NotFound, Unauthorized
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.auth import rotation
from idp.models import AuthSession, RefreshToken
from idp.oauth import backchannel
from idp.services import IdpServices
from idp.tokens import AccessClaims

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID
    # The browser's session cookie (issue #9): set once, when the session opens.
    cookie: str | None = None


def token_hash(token: str) -> str:
    """How idp keeps every high-entropy secret it hands out (refresh tokens, tickets, cooperative
    tokens, client secrets): SHA-256 only, so a database dump gives nobody a usable one."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Opening:
    """A session about to open: its id, times and the secrets shown once (the cookie, the first
    refresh token; only their hashes are stored). The one place both ways of writing a new
    session (``open_session`` below, the sign-in's single statement in idp/auth/opening.py)
    take them from, so the two cannot drift apart."""
    id: uuid.UUID
    at: datetime
    expires_at: datetime
    cookie: str
    refresh_token: str

    @classmethod
    def new(cls, ctx: IdpServices) -> Opening:
        now = utcnow()
        return cls(id=uuid.uuid4(), at=now,
                   expires_at=now + timedelta(seconds=ctx.settings.refresh_token_ttl),
                   cookie=secrets.token_urlsafe(32), refresh_token=secrets.token_urlsafe(32))

    def tokens(self, ctx: IdpServices, member_id: uuid.UUID) -> Tokens:
        """What the member's client gets once the session is written."""
        access, ttl = ctx.tokens.issue(member_id, self.id)
        return Tokens(access_token=access, refresh_token=self.refresh_token, expires_in=ttl,
                      session_id=self.id, cookie=self.cookie)


def open_session(ctx: IdpServices, member_id: uuid.UUID, client: ClientInfo) -> Tokens:
    """Start a session for a member who just proved the password (caller commits)."""
    opening = Opening.new(ctx)
    db.session.add(AuthSession(
        id=opening.id, member_id=member_id, user_agent=client.user_agent, ip=client.ip,
        created_at=opening.at, last_used_at=opening.at, auth_time=opening.at,
        expires_at=opening.expires_at, cookie_hash=token_hash(opening.cookie)))
    db.session.add(RefreshToken(session_id=opening.id,
                                token_hash=token_hash(opening.refresh_token)))
    return opening.tokens(ctx, member_id)


@dataclass(frozen=True)
class Rotation:
    member_id: uuid.UUID
    session_id: uuid.UUID
    refresh_token: str  # the next one, shown once


def rotate_refresh(ctx: IdpServices, presented: str, client: ClientInfo, *,
                   client_id: str | None = None) -> Rotation:
    """Spend a refresh token and make its successor: one atomic statement on the common path
    (idp/auth/rotation.py). ``client_id`` names the first-party app whose token it must be
    (None: the member's own); an app's refresh does not change the session's device."""
    new = secrets.token_urlsafe(32)
    rotated = rotation.rotate(token_hash(presented), token_hash(new), client, now=utcnow(),
                              idle=timedelta(seconds=ctx.settings.session_idle_ttl),
                              client_id=client_id)
    if rotated is None:
        _refuse(ctx, presented, client, client_id)
    return Rotation(rotated.member_id, rotated.session_id, new)


def refresh(ctx: IdpServices, presented: str, client: ClientInfo) -> Tokens:
    rotated = rotate_refresh(ctx, presented, client)
    access, ttl = ctx.tokens.issue(rotated.member_id, rotated.session_id)
    return Tokens(access_token=access, refresh_token=rotated.refresh_token, expires_in=ttl,
                  session_id=rotated.session_id)


def _refuse(ctx: IdpServices, presented: str, client: ClientInfo,
            client_id: str | None) -> NoReturn:
    """The rare path: why the token was not rotated. A spent token of a live session is a
    replay (two parties hold the session): the session is closed and the member told. Another
    holder's token (the member's at an app's endpoint, or the other way) is simply not valid."""
    row = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash ==
                                                      token_hash(presented)))
    session = db.session.get(AuthSession, row.session_id) if row is not None else None
    if row is None or session is None or row.client_id != client_id or \
            not alive(ctx, session) or row.rotated_at is None:
        raise Unauthorized("The refresh token is not valid.", code="invalid_token")
    _revoke_for_reuse(ctx, session, client)
    raise Unauthorized("This refresh token was already used; the session has been closed.",
                       code="token_reused")


def _revoke_for_reuse(ctx: IdpServices, session: AuthSession, client: ClientInfo) -> None:
    # Compare-and-set: of parallel replays only the first closes the session and tells the
    # member; the others find it closed (one email, not one per replay).
    if not compare_and_set(AuthSession, AuthSession.id == session.id,
                           AuthSession.revoked_at.is_(None), revoked_at=utcnow(),
                           revoke_reason="refresh_reuse"):
        db.session.commit()
        return
    backchannel.schedule([session.id])
    member = session.member
    audit.record("refresh_reuse", client=client, member_id=member.id, actor=str(member.id),
                 session_id=str(session.id))
    ctx.notify(NotificationKind.SUSPICIOUS_ACTIVITY, to_email=member.email,
               subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
               at=utcnow().isoformat(timespec="seconds"))
    db.session.commit()


def alive(ctx: IdpServices, session: AuthSession) -> bool:
    """Not ended, not past its absolute end, and used within the idle lifetime."""
    now = utcnow()
    idle = timedelta(seconds=ctx.settings.session_idle_ttl)
    return (session.revoked_at is None and session.expires_at > now
            and session.last_used_at + idle > now)


def authenticate(ctx: IdpServices, bearer: str) -> tuple[AccessClaims, AuthSession]:
    """A valid signature is not enough: the session it names must still be open, so logout
    and revocation take effect at once rather than when the token expires."""
    claims = ctx.tokens.verify(bearer)
    session = db.session.get(AuthSession, claims.session_id)
    if session is None or session.member_id != claims.member_id or not alive(ctx, session):
        raise Unauthorized("The session of this token has ended.", code="invalid_token")
    if utcnow() - session.last_used_at > TOUCH_EVERY:
        session.last_used_at = utcnow()
        db.session.commit()
    return claims, session


def logout(ctx: IdpServices, session: AuthSession, presented_refresh: str | None,
           client: ClientInfo) -> None:
    """End the session of the request. A browser proves it by its access token (and cookie);
    an API client that sends its refresh token must send this session's."""
    if presented_refresh is not None:
        row = db.session.scalar(select(RefreshToken).where(
            RefreshToken.token_hash == token_hash(presented_refresh)))
        if row is None or row.session_id != session.id:
            raise Unauthorized("The refresh token does not belong to this session.",
                               code="invalid_token")
    end_session(session, "logout", client, event="logout")
    db.session.commit()


def list_sessions(ctx: IdpServices, member_id: uuid.UUID) -> list[AuthSession]:
    rows = db.session.scalars(select(AuthSession).where(
        AuthSession.member_id == member_id, AuthSession.revoked_at.is_(None))
        .order_by(AuthSession.last_used_at.desc()))
    return [s for s in rows if alive(ctx, s)]


def revoke_session(ctx: IdpServices, member_id: uuid.UUID, session_id: uuid.UUID,
                   client: ClientInfo) -> None:
    session = db.session.get(AuthSession, session_id)
    # Someone else's session id answers exactly like one that does not exist.
    if session is None or session.member_id != member_id or not alive(ctx, session):
        raise NotFound("No such session.", code="session_not_found")
    end_session(session, "revoked", client, event="session_revoked")
    db.session.commit()


def revoke_others(member_id: uuid.UUID, current: uuid.UUID, client: ClientInfo) -> int:
    """"Sign out everywhere else": every open session of the member but this one."""
    ended = revoke_all(member_id, keep=current, reason="signed_out_elsewhere")
    audit.record("sessions_revoked", client=client, member_id=member_id, actor=str(member_id),
                 count=ended)
    db.session.commit()
    return ended


def revoke_all(member_id: uuid.UUID, *, keep: uuid.UUID | None, reason: str) -> int:
    """Close every open session of the member but ``keep`` (password change, recovery, "sign
    out everywhere else", deletion); the caller commits. Returns how many were open."""
    query = select(AuthSession.id).where(AuthSession.member_id == member_id,
                                         AuthSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(update(AuthSession).where(
            AuthSession.id.in_(ids), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoke_reason=reason))
        backchannel.schedule(ids)
    return len(ids)


def end_session(session: AuthSession, reason: str, client: ClientInfo | None, *,
                event: str) -> None:
    """Close one session (caller commits): its tokens stop at once, its clients are told."""
    session.revoked_at, session.revoke_reason = utcnow(), reason
    audit.record(event, client=client, member_id=session.member_id,
                 actor=str(session.member_id), session_id=str(session.id))
    backchannel.schedule([session.id])
