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

from sqlalchemy import bindparam, insert, select, update

from common.db import HotStatement, db, utcnow
from common.errors import InvalidRequest, Unauthorized
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.auth import lockout, opening
from idp.auth.devices import device_name
from idp.auth.sessions import Tokens
from idp.models import AuthSession, LoginAttempt, Member, Timestamp
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


# The sign-in's reads and its single-statement writes (issue #10): built once, each its own
# transaction, so a sign-in holds no transaction open across the Argon2id check.
_SALTS = HotStatement(select(Member.server_salt, Member.kdf_iterations, Member.email,
                             Member.kdf_email).where(Member.email == bindparam("email")))
_CREDENTIALS = HotStatement(select(Member.id, Member.verifier)
                            .where(Member.email == bindparam("email")))
_now = bindparam("now", type_=Timestamp)
_OPEN_ATTEMPT = HotStatement(insert(LoginAttempt).values(
    id=bindparam("id"), email=bindparam("email"), created_at=_now,
    expires_at=bindparam("expires_at")))
# One initiate-login, one try: of parallel requests with one uuid exactly one spends it.
_SPEND_ATTEMPT = HotStatement(
    update(LoginAttempt)
    # (an UPDATE's parameters may not be named after its columns)
    .where(LoginAttempt.id == bindparam("attempt_id"),
           LoginAttempt.email == bindparam("attempt_email"),
           LoginAttempt.used_at.is_(None), LoginAttempt.expires_at >= _now)
    .values(used_at=_now).returning(LoginAttempt.id))
_SEEN_DEVICE = HotStatement(select(AuthSession.id).where(
    AuthSession.member_id == bindparam("member"), AuthSession.user_agent == bindparam("agent"))
    .limit(1))


def initiate(ctx: IdpServices, email: str) -> LoginChallenge:
    now, attempt_id = utcnow(), uuid.uuid4()
    _OPEN_ATTEMPT.run({"id": attempt_id, "email": email, "now": now,
                       "expires_at": now + ATTEMPT_TTL})
    member = _SALTS.first({"email": email})
    if member is None:
        return LoginChallenge(attempt_id, decoy_salt(ctx, email), ctx.settings.kdf_iterations,
                              email)
    return LoginChallenge(attempt_id, member["server_salt"], member["kdf_iterations"],
                          member["kdf_email"] or member["email"])


def complete(ctx: IdpServices, email: str, hash_key_b64u: str, attempt_id: uuid.UUID,
             client: ClientInfo) -> Tokens:
    hash_key = parse_hash_key(hash_key_b64u)
    _spend_attempt(email, attempt_id)
    # Counts the try, committed, before the slow check: parallel requests cannot all be judged
    # before any of them is counted (issue #8).
    lockout.reserve_try(ctx, email)
    member = _CREDENTIALS.first({"email": email})
    member_id = member["id"] if member else None
    if not ctx.verifier.check(member["verifier"] if member else None, hash_key):
        audit.record("login_failed", client=client, member_id=member_id,
                     actor=str(member_id) if member_id else email,
                     device=device_name(client.user_agent))
        lockout.after_wrong_password(ctx, email, member_id, client)
        db.session.commit()
        raise Unauthorized("The email or the password is not right.",
                           code="invalid_credentials")
    assert member is not None and member_id is not None
    rehash = ctx.verifier.needs_rehash(member["verifier"])  # Argon2 cost raised in settings
    if rehash:
        db.session.execute(update(Member).where(Member.id == member_id)
                           .values(verifier=ctx.verifier.make(hash_key)))
    new_device = _SEEN_DEVICE.first({"member": member_id,
                                     "agent": client.user_agent}) is None
    if new_device:
        ctx.notify(NotificationKind.NEW_DEVICE_LOGIN, to_email=email,
                   subscriber_id=str(member_id), ip=client.ip, user_agent=client.user_agent,
                   at=utcnow().isoformat(timespec="seconds"))
    return opening.signed_in(ctx, member_id, email, client,
                             session_has_writes=rehash or new_device)


def _spend_attempt(email: str, attempt_id: uuid.UUID) -> None:
    """A replayed or unknown uuid is refused before any password check."""
    if _SPEND_ATTEMPT.first({"attempt_id": attempt_id, "attempt_email": email,
                             "now": utcnow()}) is not None:
        return
    known = db.session.scalar(select(LoginAttempt.id).where(LoginAttempt.id == attempt_id,
                                                            LoginAttempt.email == email))
    db.session.rollback()
    if known is None:
        raise InvalidRequest("No login attempt matches this email and uuid.",
                             code="unknown_login_attempt")
    raise InvalidRequest("This login attempt was used or has expired; start again.",
                         code="login_attempt_spent")
