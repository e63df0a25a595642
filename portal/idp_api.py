"""idp's member API as the portal calls it: over HTTP, with the member's tokens (issue #12).

The tokens sit in ``portal_sessions.tokens_encrypted`` (Fernet, a key derived from the app
secret). An access token that is about to expire is refreshed first, under a row lock on the
portal session: two requests of one browser at once must not both spend the same refresh
token, because idp reads a second use as theft and closes the member's session. The second
request waits, then finds the new token already there.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from common.db import db
from portal.models import PortalSession

REFRESH_MARGIN = 60  # seconds: refresh a token that has less than this to live
TIMEOUT = 10.0


class SignedOut(Exception):
    """idp no longer honours this session's tokens (ended, revoked, reused): sign in again."""


class IdpUnavailable(Exception):
    """idp did not answer as it should; the page says "try again later"."""


class NotFound(Exception):
    """idp answered 404 for the thing asked (someone else's id answers the same)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float
    id_token: str | None = None  # for RP-initiated logout's id_token_hint

    @classmethod
    def from_response(cls, body: dict[str, Any], *, id_token: str | None = None) -> Tokens:
        try:
            return cls(str(body["access_token"]), str(body["refresh_token"]),
                       time.time() + float(body["expires_in"]),
                       str(body.get("id_token") or id_token or "") or None)
        except (KeyError, TypeError, ValueError):
            raise IdpUnavailable("token response without the tokens") from None


class TokenBox:
    """Tokens in and out of their encrypted column."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, tokens: Tokens) -> bytes:
        return self._fernet.encrypt(json.dumps(tokens.__dict__).encode())

    def open(self, sealed: bytes | None) -> Tokens | None:
        if not sealed:
            return None
        try:
            return Tokens(**json.loads(self._fernet.decrypt(sealed)))
        except (InvalidToken, ValueError, TypeError):
            return None


class IdpClient:
    """The token endpoint and the member's API of one idp."""

    def __init__(self, base_url: str, client_id: str, client_secret: str | None,
                 box: TokenBox, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.box = box
        self._refreshing = threading.Lock()
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport,
                                  headers={"Accept": "application/json",
                                           "User-Agent": "card.coop-portal"})

    # -- tokens -----------------------------------------------------------------------------

    def refresh(self, refresh_token: str, *, id_token: str | None = None,
                keep_transaction: bool = False) -> Tokens:
        response = self._call("POST", "/oauth/token", auth=(self.client_id, self._secret or ""),
                              data={"grant_type": "refresh_token",
                                    "refresh_token": refresh_token},
                              keep_transaction=keep_transaction)
        if response.status_code in (400, 401):
            raise SignedOut
        return Tokens.from_response(self._json(response), id_token=id_token)

    def access_token(self, session_row_hash: str) -> str:
        """A live access token for this portal session, refreshed under the row's lock (and,
        for SQLite's one process, a lock of this process)."""
        row = db.session.get(PortalSession, session_row_hash)
        tokens = self.box.open(row.tokens_encrypted if row else None)
        if tokens is None:
            raise SignedOut
        if tokens.expires_at - REFRESH_MARGIN > time.time():
            return tokens.access_token
        with self._refreshing:
            return self._refreshed(session_row_hash)

    def _refreshed(self, session_row_hash: str) -> str:
        # PostgreSQL: the row lock makes every other worker wait, across the call to idp.
        # SQLite (one process, one writer): no transaction may stay open across the call, or
        # idp's own writes would wait for it; the process lock serialises instead.
        hold_row = db.engine.dialect.name == "postgresql"
        query = select(PortalSession).where(PortalSession.id_hash == session_row_hash) \
            .execution_options(populate_existing=True)
        row = db.session.scalar(query.with_for_update() if hold_row else query)
        tokens = self.box.open(row.tokens_encrypted if row else None)
        if row is None or tokens is None:
            db.session.rollback()
            raise SignedOut
        if tokens.expires_at - REFRESH_MARGIN <= time.time():  # nobody refreshed meanwhile
            try:
                tokens = self.refresh(tokens.refresh_token, id_token=tokens.id_token,
                                      keep_transaction=hold_row)
            except SignedOut:
                db.session.rollback()
                raise
            row.tokens_encrypted = self.box.seal(tokens)
        db.session.commit()
        return tokens.access_token

    # -- the member's API -------------------------------------------------------------------

    def get(self, token: str, path: str, **params: Any) -> dict[str, Any]:
        return self._json(self._member_call("GET", path, token, params=params or None))

    def public(self, path: str) -> dict[str, Any]:
        """An endpoint that needs no token."""
        return self._json(self._call("GET", path))

    def delete(self, token: str, path: str) -> None:
        self._member_call("DELETE", path, token)

    def _member_call(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        response = self._call(method, path, headers={"Authorization": f"Bearer {token}"},
                              **kwargs)
        if response.status_code == 401:
            raise SignedOut
        if response.status_code == 404:
            raise NotFound(path)
        if response.status_code >= 300:
            raise IdpUnavailable(f"{method} {path} answered {response.status_code}")
        return response

    def _call(self, method: str, path: str, *, keep_transaction: bool = False,
              **kwargs: Any) -> httpx.Response:
        if not keep_transaction:
            # Never hold a database transaction across a call to idp: on SQLite idp's writes
            # would wait for it, on PostgreSQL it would keep a connection idle in transaction.
            db.session.commit()
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise IdpUnavailable(f"{method} {path}: {type(error).__name__}") from None

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.status_code == 204:
            return {}
        try:
            body = response.json()
        except ValueError:
            raise IdpUnavailable("idp answered with malformed JSON") from None
        if response.status_code >= 300 or not isinstance(body, dict):
            raise IdpUnavailable(f"idp answered {response.status_code}")
        return body
