"""Login (issue #2, PROTOCOL.md §2): initiate hands out the salt and KDF parameters; complete
checks hashKey against the Argon2id verifier and opens a session.

Nothing here tells an unknown email from a known one: the decoy salt is stable per email, a
wrong password and an unknown email give the same 401 after the same Argon2id work, and the
lockout counts failures per email whether or not it has an account.
"""

from __future__ import annotations

import base64
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from common.db import compare_and_set, db, utcnow
from common.errors import InvalidRequest, Unauthorized
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.auth import lockout
from idp.auth.devices import device_name
from idp.auth.sessions import Tokens, open_session
from idp.models import AuthSession, LoginAttempt, Member
from idp.passwords import parse_hash_key
from idp.services import IdpServices

ATTEMPT_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class LoginChallenge:
    uuid: uuid.UUID
    server_salt: str
    kdf_iterations: int
    # The PBKDF2 salt (PROTOCOL.md §2, kdfEmail): the canonical address, or for an account
    # from before email_norm v1.1 the form its keys were derived with (migration 0006).
    kdf_email: str


def decoy_salt(ctx: IdpServices, email: str) -> str:
    """PROTOCOL.md §2: b64u(HMAC-SHA256(server_secret, "decoy-salt:" + email_norm)[:16])."""
    mac = hmac.new(ctx.derived_secret("decoy-salt"), b"decoy-salt:" + email.encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()


def initiate(ctx: IdpServices, email: str) -> LoginChallenge:
    member = db.session.scalar(select(Member).where(Member.email == email))
    attempt = LoginAttempt(id=uuid.uuid4(), email=email, expires_at=utcnow() + ATTEMPT_TTL)
    db.session.add(attempt)
    db.session.commit()
    if member is None:
        return LoginChallenge(attempt.id, decoy_salt(ctx, email), ctx.settings.kdf_iterations,
                              email)
    return LoginChallenge(attempt.id, member.server_salt, member.kdf_iterations,
                          member.salt_email)


def complete(ctx: IdpServices, email: str, hash_key_b64u: str, attempt_id: uuid.UUID,
             client: ClientInfo) -> Tokens:
    hash_key = parse_hash_key(hash_key_b64u)
    _spend_attempt(email, attempt_id)
    # Commits the spent attempt and the counted try before the slow check: parallel requests
    # cannot all be judged before any of them is counted (issue #8).
    lockout.reserve_try(ctx, email)
    member = db.session.scalar(select(Member).where(Member.email == email))
    if not ctx.verifier.check(member.verifier if member else None, hash_key):
        audit.record("login_failed", client=client, member_id=member.id if member else None,
                     actor=str(member.id) if member else email,
                     device=device_name(client.user_agent))
        lockout.after_wrong_password(ctx, email, member, client)
        db.session.commit()
        raise Unauthorized("The email or the password is not right.",
                           code="invalid_credentials")
    assert member is not None
    lockout.clear(email)
    if ctx.verifier.needs_rehash(member.verifier):
        member.verifier = ctx.verifier.make(hash_key)  # Argon2 cost raised in settings
    if _is_new_device(member, client):
        ctx.notify(NotificationKind.NEW_DEVICE_LOGIN, to_email=member.email,
                   subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
                   at=utcnow().isoformat(timespec="seconds"))
    audit.record("login_ok", client=client, member_id=member.id, actor=str(member.id),
                 device=device_name(client.user_agent))
    tokens = open_session(ctx, member, client)
    db.session.commit()
    return tokens


def _spend_attempt(email: str, attempt_id: uuid.UUID) -> None:
    """One initiate-login, one try: a replayed uuid is refused before any password check.
    Compare-and-set, so of parallel requests with one uuid exactly one goes on."""
    now = utcnow()
    if compare_and_set(LoginAttempt, LoginAttempt.id == attempt_id, LoginAttempt.email == email,
                       LoginAttempt.used_at.is_(None), LoginAttempt.expires_at >= now,
                       used_at=now):
        return
    known = db.session.scalar(select(LoginAttempt.id).where(LoginAttempt.id == attempt_id,
                                                            LoginAttempt.email == email))
    db.session.rollback()
    if known is None:
        raise InvalidRequest("No login attempt matches this email and uuid.",
                             code="unknown_login_attempt")
    raise InvalidRequest("This login attempt was used or has expired; start again.",
                         code="login_attempt_spent")


def _is_new_device(member: Member, client: ClientInfo) -> bool:
    seen = db.session.scalar(select(AuthSession.id).where(
        AuthSession.member_id == member.id, AuthSession.user_agent == client.user_agent).limit(1))
    return seen is None
