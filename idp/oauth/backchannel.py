"""OpenID Connect Back-Channel Logout 1.0: when an idp session ends, every client that signed
the member in with it and registered a ``backchannel_logout_uri`` gets a logout token.

The tokens are made inside the transaction that ends the session (so they name exactly the
sessions it closed) and posted only after it commits: a rolled-back logout tells nobody. Posting
happens on a small thread pool, with a short timeout and one retry, so that a slow cooperative
never holds a member's request; a failure is logged (client and status, never the token).
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from common.db import db
from idp.oauth.models import AuthorizationCode, OAuthClient
from idp.services import IdpServices, services

log = logging.getLogger("cardcoop.backchannel")

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TYPE = "logout+jwt"  # noqa: S105 (a media type) §2.4: explicit typing, so it cannot pass for an ID token
TOKEN_TTL = 120
POST_TIMEOUT = 5.0
PENDING = "backchannel_logouts"

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="backchannel")
_outstanding: set[Future[bool]] = set()


@dataclass(frozen=True)
class LogoutDelivery:
    client_id: str
    uri: str
    logout_token: str


def schedule(session_ids: Iterable[uuid.UUID]) -> None:
    """Make the logout tokens for these ending sessions; they go out when the caller commits."""
    ctx = services()
    ids = list(session_ids)
    if not ids:
        return
    rows = db.session.execute(
        select(AuthorizationCode.client_id, AuthorizationCode.session_id,
               AuthorizationCode.claims, OAuthClient.backchannel_logout_uri,
               OAuthClient.id_token_signed_response_alg)
        .join(OAuthClient, OAuthClient.client_id == AuthorizationCode.client_id)
        .where(AuthorizationCode.session_id.in_(ids),
               OAuthClient.backchannel_logout_uri.is_not(None)))
    seen: set[tuple[str, uuid.UUID]] = set()
    pending: list[LogoutDelivery] = db.session.info.setdefault(PENDING, [])
    for row in rows:
        client_id: str = row.client_id
        session_id: uuid.UUID = row.session_id
        if (client_id, session_id) in seen:
            continue
        seen.add((client_id, session_id))
        claims: dict[str, Any] = row.claims
        token = logout_token(ctx, client_id, row.id_token_signed_response_alg, str(session_id),
                             claims.get("sub"))
        pending.append(LogoutDelivery(client_id, row.backchannel_logout_uri, token))


def logout_token(ctx: IdpServices, client_id: str, alg: str, sid: str,
                 sub: str | None) -> str:
    """§2.4: iss, aud, iat, exp, jti, the event, and sid (+ sub: the card id the client knows);
    never a nonce. Signed like the client's ID tokens, with idp's current key."""
    key = ctx.tokens.signing_key(alg)
    now = int(time.time())
    claims: dict[str, Any] = {"iss": ctx.tokens.issuer, "aud": client_id, "iat": now,
                              "exp": now + TOKEN_TTL, "jti": secrets.token_urlsafe(16),
                              "events": {EVENT: {}}, "sid": sid}
    if sub:
        claims["sub"] = sub
    header = {"alg": alg, "typ": TOKEN_TYPE, "kid": key.kid or ""}
    return jwt.encode(header, claims, key, algorithms=[alg])


def post(delivery: LogoutDelivery) -> bool:
    """§2.5: a form POST; 200 or 204 is success. One retry for a network error or a 5xx."""
    for attempt in (1, 2):
        try:
            response = httpx.post(delivery.uri, data={"logout_token": delivery.logout_token},
                                  timeout=POST_TIMEOUT, follow_redirects=False,
                                  headers={"Cache-Control": "no-store"})
        except httpx.HTTPError as error:
            log.warning("back-channel logout to %s failed (attempt %d): %s",
                        delivery.client_id, attempt, type(error).__name__)
            continue
        if response.status_code in (200, 204):
            return True
        log.warning("back-channel logout to %s answered %d (attempt %d)",
                    delivery.client_id, response.status_code, attempt)
        if response.status_code < 500:
            return False
    return False


def _send_pending(session: Session) -> None:
    for delivery in session.info.pop(PENDING, []):
        future = _pool.submit(post, delivery)
        _outstanding.add(future)
        future.add_done_callback(_outstanding.discard)


def _drop_pending_after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    """Tie the deliveries to the database session's commits (once per process)."""
    if not event.contains(Session, "after_commit", _send_pending):
        event.listen(Session, "after_commit", _send_pending)
        event.listen(Session, "after_rollback", _drop_pending_after_rollback)


def drain(timeout: float = 10.0) -> None:
    """Wait until the deliveries submitted so far have run (tests, and an orderly shutdown)."""
    wait(list(_outstanding), timeout=timeout)
