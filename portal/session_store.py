"""Server-side sessions in ``portal_sessions`` (issue #12: the cookie carries only an opaque id).

Flask-Session would store the dictionary, but the portal needs more of its store than a
dictionary: end every session of one idp session at once (back-channel logout names a
``sid``), a fresh id at sign-in (no session fixation), and the idp tokens under a row lock
while one request refreshes them. So the interface is ours, over the portal's own table.

- The cookie: 32 random bytes, HttpOnly, SameSite=Lax, Secure on https; the table keeps
  their SHA-256 only.
- A session that carries nothing is never written (a visitor's first page makes no row).
- Idle sessions end after ``portal_session_ttl``; the expiry slides, written at most once a
  minute per session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.datastructures import CallbackDict

from common.db import db, utcnow
from portal.models import PortalSession

SLIDE_EVERY = timedelta(seconds=60)


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """Flask's ``session``; ``sub`` says who is signed in (None: nobody)."""

    def __init__(self, initial: dict[str, Any] | None = None, *, session_id: str | None = None,
                 row: PortalSession | None = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.session_id = session_id
        self.row = row
        self.modified = False
        self.signing_in: PortalSession | None = None
        self.signed_out = False

    @property
    def sub(self) -> str | None:
        if self.row is None:
            return None
        try:
            return self.row.sub
        except ObjectDeletedError:
            # Ended meanwhile (back-channel logout, another tab's sign-out): nobody now.
            self.row = None
            self.clear()
            return None

    def sign_in(self, *, sub: str, sid: str | None, tokens: bytes) -> None:
        """Bind the session to the member under a new id: an id someone planted before the
        sign-in is worthless after it."""
        self.signing_in = PortalSession(id_hash="", sub=sub, sid=sid, tokens_encrypted=tokens)
        self.modified = True

    def sign_out(self) -> None:
        self.clear()
        self.signed_out = True


class PortalSessionInterface(SessionInterface):
    def __init__(self, ttl: int) -> None:
        self.ttl = timedelta(seconds=ttl)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        presented = request.cookies.get(self.get_cookie_name(app))
        if not presented or len(presented) > 100:
            return ServerSession()
        row = db.session.scalar(select(PortalSession).where(
            PortalSession.id_hash == id_hash(presented), PortalSession.expires_at > utcnow()))
        if row is None:
            return ServerSession()
        return ServerSession(dict(row.data or {}), session_id=presented, row=row)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name, domain, path = (self.get_cookie_name(app), self.get_cookie_domain(app),
                              self.get_cookie_path(app))
        if session.signed_out or (not session and session.sub is None
                                  and session.signing_in is None):
            if session.row is not None or session.signed_out:
                _drop(session)
                db.session.commit()
                response.delete_cookie(name, domain=domain, path=path)
            return
        now = utcnow()
        if session.signing_in is not None or session.row is None:
            _drop(session)
            session.session_id = secrets.token_urlsafe(32)
            session.row = session.signing_in or PortalSession()
            session.row.id_hash, session.row.created_at = id_hash(session.session_id), now
            session.signing_in = None
            db.session.add(session.row)
        else:
            try:
                fresh = session.row.expires_at - now > self.ttl - SLIDE_EVERY
            except ObjectDeletedError:  # ended while this request ran: it stays ended
                db.session.rollback()
                response.delete_cookie(name, domain=domain, path=path)
                return
            if not session.modified and fresh:
                return  # nothing changed, expiry fresh enough: no write
        session.row.data = dict(session)
        session.row.expires_at = now + self.ttl
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            response.delete_cookie(name, domain=domain, path=path)
            return
        response.vary.add("Cookie")
        response.set_cookie(name, session.session_id or "", max_age=self.ttl,
                            httponly=True, secure=self.get_cookie_secure(app),
                            samesite=self.get_cookie_samesite(app), domain=domain, path=path)


def _drop(session: ServerSession) -> None:
    # By the cookie's id, not the row object: the row may be gone already (back-channel logout).
    if session.session_id is not None:
        db.session.execute(delete(PortalSession).where(
            PortalSession.id_hash == id_hash(session.session_id)))
    session.row = None


def end_sessions(*, sid: str | None = None, sub: str | None = None) -> int:
    """Back-channel logout: every portal session of that idp session (or card). Commits."""
    if sid is None and sub is None:
        return 0
    query = delete(PortalSession)
    query = query.where(PortalSession.sid == sid) if sid is not None else \
        query.where(PortalSession.sub == sub)
    ended = db.session.execute(query).rowcount or 0  # type: ignore[attr-defined]
    db.session.commit()
    return int(ended)


def init_sessions(app: Flask, ttl: int) -> None:
    app.session_interface = PortalSessionInterface(ttl)
