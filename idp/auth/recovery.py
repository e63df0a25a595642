"""The recovery key (issue #3, PROTOCOL §3): set up while logged in; used with an emailed code
when the password is forgotten, so the member sets a new password and keeps the card.

The server holds only Argon2id(recovery_auth) and the card key wrapped under a key derived from
the recovery key: it can check a recovery key, never use one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from common.db import compare_and_set, db, utcnow
from common.errors import Conflict, Gone, InvalidRequest
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.auth import lockout
from idp.auth.codes import code_hash, code_matches, new_code
from idp.auth.password import notify_password_changed, require_password, set_password
from idp.auth.sessions import Tokens, open_session, revoke_all
from idp.card.envelopes import RECOVERY_CARD_KEY, check_envelope
from idp.card.models import Card
from idp.models import AuditEvent, AuthSession, Member, RecoveryAttempt
from idp.passwords import parse_hash_key
from idp.services import IdpServices

PURPOSE = "recovery"
COMPLETE_WITHIN = timedelta(minutes=15)


def setup(ctx: IdpServices, session: AuthSession, hash_key: str, recovery_auth: str,
          recovery_wrapped_card_key: str, client: ClientInfo) -> None:
    member = session.member
    require_password(ctx, member, hash_key, client)
    if db.session.scalar(select(Card.id).where(Card.member_id == member.id)) is None:
        raise Conflict("Issue the card first: the recovery key protects the card key.",
                       code="card_not_found")
    check_envelope("recovery_wrapped_card_key", recovery_wrapped_card_key, RECOVERY_CARD_KEY)
    member.recovery_verifier = ctx.verifier.make(parse_hash_key(recovery_auth, "recovery_auth"))
    member.recovery_wrapped_card_key = recovery_wrapped_card_key
    member.recovery_created_at = utcnow()
    audit.record("recovery_key_set", client=client, member_id=member.id, actor=str(member.id))
    ctx.notify(NotificationKind.RECOVERY_KEY_CREATED, to_email=member.email,
               subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
               at=utcnow().isoformat(timespec="seconds"))
    db.session.commit()


def spent_at(member: Member) -> datetime | None:
    """When the member's last recovery key was used, if no new one was set up since (the page
    then asks for a new one): the time of that recovery, from the audit."""
    if member.recovery_verifier is not None:
        return None
    return db.session.scalar(select(AuditEvent.at).where(
        AuditEvent.member_id == member.id, AuditEvent.event == "password_recovered")
        .order_by(AuditEvent.id.desc()).limit(1))


def initiate(ctx: IdpServices, email: str, client: ClientInfo) -> uuid.UUID:
    """Same answer for every address; only a member's address gets a code."""
    member = db.session.scalar(select(Member).where(Member.email == email))
    attempt = RecoveryAttempt(id=uuid.uuid4(), email=email, member_id=member.id if member else None,
                              failed_attempts=0,
                              expires_at=utcnow() + timedelta(seconds=ctx.settings.code_ttl))
    db.session.add(attempt)
    if member is not None:
        code = new_code()
        attempt.code_hash = code_hash(ctx, PURPOSE, attempt.id, code)
        ctx.notify(NotificationKind.RECOVERY_CODE, to_email=email, subscriber_id=str(member.id),
                   code=code, expires_minutes=str(ctx.settings.code_ttl // 60))
    audit.record("recovery_started", client=client, member_id=member.id if member else None,
                 actor=str(member.id) if member else email)
    db.session.commit()
    return attempt.id


@dataclass(frozen=True)
class Unlocked:
    recovery_wrapped_card_key: str
    server_salt: str
    kdf_iterations: int


def _attempt(email: str, attempt_id: uuid.UUID) -> RecoveryAttempt:
    attempt = db.session.get(RecoveryAttempt, attempt_id)
    if attempt is None or attempt.email != email:
        raise InvalidRequest("No recovery matches this email and uuid.", code="unknown_recovery")
    if attempt.completed_at is not None:
        raise Conflict("This recovery is already complete.", code="already_completed")
    return attempt


def verify(ctx: IdpServices, email: str, attempt_id: uuid.UUID, code: str, recovery_auth: str,
           client: ClientInfo) -> Unlocked:
    attempt = _attempt(email, attempt_id)
    if attempt.expires_at < utcnow():
        raise Gone("The code has expired; start again.", code="code_expired")
    recovery_auth_key = parse_hash_key(recovery_auth, "recovery_auth")
    # Counted before judging, by compare-and-set: of parallel tries no more than
    # code_max_attempts are ever judged (issue #8). Committed before the Argon2 check.
    counted = compare_and_set(
        RecoveryAttempt, RecoveryAttempt.id == attempt.id, RecoveryAttempt.completed_at.is_(None),
        RecoveryAttempt.failed_attempts < ctx.settings.code_max_attempts,
        failed_attempts=RecoveryAttempt.failed_attempts + 1)
    db.session.commit()
    if not counted:
        raise Gone("Too many wrong tries; start the recovery again.", code="too_many_attempts")
    member = db.session.get(Member, attempt.member_id) if attempt.member_id else None
    # Both checks always run (the Argon2id one against a dummy when there is nothing to check),
    # so the answer's timing does not tell which part was wrong or whether the address exists.
    key_ok = ctx.verifier.check(member.recovery_verifier if member else None, recovery_auth_key)
    code_ok = code_matches(ctx, PURPOSE, attempt.id, code, attempt.code_hash)
    if not (member and code_ok and key_ok and member.recovery_wrapped_card_key):
        audit.record("recovery_failed", client=client, member_id=attempt.member_id,
                     actor=str(attempt.member_id or email))
        db.session.commit()
        raise InvalidRequest("The code or the recovery key is not right.",
                             code="invalid_recovery")
    db.session.execute(update(RecoveryAttempt).where(RecoveryAttempt.id == attempt.id).values(
        verified_at=utcnow(), code_hash=None,
        failed_attempts=RecoveryAttempt.failed_attempts - 1))  # the right try was no failure
    db.session.commit()
    return Unlocked(member.recovery_wrapped_card_key, member.server_salt, member.kdf_iterations)


def complete(ctx: IdpServices, email: str, attempt_id: uuid.UUID, new_hash_key: str,
             wrapped_card_key: str, kdf_iterations: int | None, client: ClientInfo) -> Tokens:
    attempt = _attempt(email, attempt_id)
    if attempt.verified_at is None or attempt.member_id is None:
        raise InvalidRequest("Verify the code and the recovery key first.",
                             code="recovery_not_verified")
    if attempt.verified_at + COMPLETE_WITHIN < utcnow():
        raise Gone("This recovery has expired; start again.", code="recovery_expired")
    # Of parallel completions exactly one goes on (compare-and-set).
    if not compare_and_set(RecoveryAttempt, RecoveryAttempt.id == attempt.id,
                           RecoveryAttempt.completed_at.is_(None), completed_at=utcnow()):
        db.session.rollback()
        raise Conflict("This recovery is already complete.", code="already_completed")
    member = db.session.get(Member, attempt.member_id)
    assert member is not None  # members are not deleted while an attempt is open
    set_password(ctx, member, new_hash_key, wrapped_card_key, kdf_iterations)
    # The key is spent: whoever saw it while it was typed in must not be able to use it again
    # (its wrapped card key would still open the card). The member is asked for a new one.
    member.recovery_verifier = member.recovery_wrapped_card_key = None
    member.recovery_created_at = None
    revoke_all(member.id, keep=None, reason="password_recovered")
    lockout.clear(member.email)  # the owner proved themselves twice over
    audit.record("password_recovered", client=client, member_id=member.id, actor=str(member.id))
    ctx.notify(NotificationKind.RECOVERY_KEY_USED, to_email=member.email,
               subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
               at=utcnow().isoformat(timespec="seconds"))
    notify_password_changed(ctx, member, client)
    tokens = open_session(ctx, member.id, client)
    db.session.commit()
    return tokens
