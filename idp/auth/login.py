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

from common.db import db, utcnow
from common.errors import InvalidRequest, TooManyRequests, Unauthorized
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.auth.sessions import Tokens, open_session
from idp.models import AuthSession, CredentialFailures, LoginAttempt, Member
from idp.passwords import parse_hash_key
from idp.services import IdpServices

ATTEMPT_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class LoginChallenge:
    uuid: uuid.UUID
    server_salt: str
    kdf_iterations: int


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
        return LoginChallenge(attempt.id, decoy_salt(ctx, email), ctx.settings.kdf_iterations)
    return LoginChallenge(attempt.id, member.server_salt, member.kdf_iterations)


def complete(ctx: IdpServices, email: str, hash_key_b64u: str, attempt_id: uuid.UUID,
             client: ClientInfo) -> Tokens:
    hash_key = parse_hash_key(hash_key_b64u)
    _spend_attempt(email, attempt_id)
    failures = db.session.get(CredentialFailures, email)
    now = utcnow()
    if failures and failures.locked_until and failures.locked_until > now:
        db.session.commit()
        wait = int((failures.locked_until - now).total_seconds()) + 1
        raise TooManyRequests("Too many failed logins; try again later.", retry_after=wait,
                              code="account_locked")
    member = db.session.scalar(select(Member).where(Member.email == email))
    if not ctx.verifier.check(member.verifier if member else None, hash_key):
        _count_failure(ctx, email, member, failures, client)
        db.session.commit()
        raise Unauthorized("The email or the password is not right.",
                           code="invalid_credentials")
    assert member is not None
    if failures:
        db.session.delete(failures)
    if ctx.verifier.needs_rehash(member.verifier):
        member.verifier = ctx.verifier.make(hash_key)  # Argon2 cost raised in settings
    if _is_new_device(member, client):
        ctx.notify(NotificationKind.NEW_DEVICE_LOGIN, to_email=member.email,
                   subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
                   at=now.isoformat(timespec="seconds"))
    audit.record("login_ok", client=client, member_id=member.id, actor=str(member.id))
    tokens = open_session(ctx, member, client)
    db.session.commit()
    return tokens


def _spend_attempt(email: str, attempt_id: uuid.UUID) -> None:
    """One initiate-login, one try: a replayed uuid is refused before any password check."""
    attempt = db.session.get(LoginAttempt, attempt_id, with_for_update=True)
    if attempt is None or attempt.email != email:
        raise InvalidRequest("No login attempt matches this email and uuid.",
                             code="unknown_login_attempt")
    if attempt.used_at is not None or attempt.expires_at < utcnow():
        raise InvalidRequest("This login attempt was used or has expired; start again.",
                             code="login_attempt_spent")
    attempt.used_at = utcnow()


def _count_failure(ctx: IdpServices, email: str, member: Member | None,
                   failures: CredentialFailures | None, client: ClientInfo) -> None:
    settings, now = ctx.settings, utcnow()
    if failures is None:
        failures = CredentialFailures(email=email, failures=0, window_started_at=now)
        db.session.add(failures)
    elif failures.window_started_at + timedelta(seconds=settings.lockout_window) < now:
        failures.failures, failures.window_started_at, failures.locked_until = 0, now, None
    failures.failures += 1
    audit.record("login_failed", client=client, member_id=member.id if member else None,
                 actor=str(member.id) if member else email)
    if failures.failures >= settings.lockout_threshold:
        failures.locked_until = now + timedelta(seconds=settings.lockout_duration)
        failures.failures, failures.window_started_at = 0, now
        if member is not None:
            audit.record("lockout", client=client, member_id=member.id, actor=str(member.id))
            ctx.notify(NotificationKind.ACCOUNT_LOCKED, to_email=member.email,
                       subscriber_id=str(member.id), ip=client.ip,
                       unlock_minutes=str(settings.lockout_duration // 60),
                       at=now.isoformat(timespec="seconds"))


def _is_new_device(member: Member, client: ClientInfo) -> bool:
    seen = db.session.scalar(select(AuthSession.id).where(
        AuthSession.member_id == member.id, AuthSession.user_agent == client.user_agent).limit(1))
    return seen is None
