"""Registration (issue #2): initiate → verify the emailed code → complete with hashKey.

An email that already has an account gets the very same answers as a new one; its owner gets
an email that someone tried to register with it, and that attempt can never complete.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from common.db import compare_and_set, db, utcnow
from common.errors import Conflict, Forbidden, Gone, InvalidRequest, TooManyRequests
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit, privacy
from idp.auth.codes import code_hash, code_matches, new_code
from idp.auth.sessions import Tokens, open_session
from idp.models import Member, Registration
from idp.passwords import parse_hash_key
from idp.services import IdpServices

PURPOSE = "registration"
# After the code is verified, the password step must follow within this time.
COMPLETE_WITHIN = timedelta(hours=1)
# The "someone tried to register" email goes out at most this often per address.
ATTEMPT_NOTICE_EVERY = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    uuid: uuid.UUID
    server_salt: str
    kdf_iterations: int


def initiate(ctx: IdpServices, email: str, privacy_accepted: bool, client: ClientInfo) -> Attempt:
    if privacy_accepted is not True:
        raise InvalidRequest("The privacy policy must be accepted to register.",
                             code="privacy_not_accepted")
    now = utcnow()
    member = db.session.scalar(select(Member).where(Member.email == email))
    notice_due = member is not None and _attempt_notice_due(email)
    registration = Registration(
        id=uuid.uuid4(), email=email, kdf_iterations=ctx.settings.kdf_iterations,
        server_salt=base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode(),
        for_existing_member=member is not None, privacy_version=privacy.VERSION, sends=0,
        failed_attempts=0,
        privacy_accepted_at=now, created_at=now)
    db.session.add(registration)
    if member is None:
        _send_code(ctx, registration)
    elif notice_due:
        ctx.notify(NotificationKind.REGISTRATION_ATTEMPT, to_email=member.email,
                   subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
                   at=now.isoformat(timespec="seconds"))
    audit.record("registration_started", client=client, actor=email,
                 member_id=member.id if member else None, registration=str(registration.id))
    db.session.commit()
    return Attempt(registration.id, registration.server_salt, registration.kdf_iterations)


def _attempt_notice_due(email: str) -> bool:
    recent = db.session.scalar(select(Registration.id).where(
        Registration.email == email, Registration.for_existing_member.is_(True),
        Registration.created_at > utcnow() - ATTEMPT_NOTICE_EVERY).limit(1))
    return recent is None


def _send_code(ctx: IdpServices, registration: Registration) -> None:
    """The first code, with the attempt made (a resend counts itself in resend_code)."""
    registration.sends += 1
    registration.last_sent_at = utcnow()
    _issue_code(ctx, registration)


def _issue_code(ctx: IdpServices, registration: Registration) -> None:
    code = new_code()
    registration.code_hash = code_hash(ctx, PURPOSE, registration.id, code)
    registration.code_expires_at = utcnow() + timedelta(seconds=ctx.settings.code_ttl)
    ctx.notify(NotificationKind.REGISTRATION_CODE, to_email=registration.email,
               subscriber_id=registration.email, code=code,
               expires_minutes=str(ctx.settings.code_ttl // 60))


def _load(email: str, registration_id: uuid.UUID) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.email != email:
        raise InvalidRequest("No registration matches this email and uuid.",
                             code="unknown_registration")
    if registration.completed_at is not None:
        raise Conflict("This registration is already complete.", code="already_completed")
    return registration


def verify_email(ctx: IdpServices, email: str, code: str, registration_id: uuid.UUID,
                 client: ClientInfo) -> None:
    registration = _load(email, registration_id)
    if registration.verified_at is not None:
        return  # verifying twice is harmless; the code itself is already spent
    if registration.code_expires_at and registration.code_expires_at < utcnow():
        raise Gone("The code has expired; ask for a new one.", code="code_expired")
    # The try is counted before the code is judged, by compare-and-set: of parallel requests
    # no more than code_max_attempts are ever judged (issue #8).
    if not _count_try(ctx, registration.id):
        raise Gone("Too many wrong codes; start the registration again.",
                   code="too_many_attempts")
    if registration.for_existing_member or not code_matches(
            ctx, PURPOSE, registration.id, code, registration.code_hash):
        audit.record("email_code_failed", client=client, actor=email,
                     registration=str(registration.id))
        db.session.commit()
        raise InvalidRequest("The code is not right.", code="invalid_code")
    db.session.execute(update(Registration).where(
        Registration.id == registration.id, Registration.verified_at.is_(None)).values(
        verified_at=utcnow(), code_hash=None,
        failed_attempts=Registration.failed_attempts - 1))  # the right code was no failure
    audit.record("email_verified", client=client, actor=email, registration=str(registration.id))
    db.session.commit()


def _count_try(ctx: IdpServices, registration_id: uuid.UUID) -> bool:
    counted = compare_and_set(
        Registration, Registration.id == registration_id, Registration.verified_at.is_(None),
        Registration.failed_attempts < ctx.settings.code_max_attempts,
        failed_attempts=Registration.failed_attempts + 1)
    db.session.commit()
    return counted


def resend_code(ctx: IdpServices, email: str, registration_id: uuid.UUID) -> int:
    """Send a fresh code; returns the seconds until the next resend is allowed."""
    registration = _load(email, registration_id)
    interval = ctx.settings.code_resend_interval
    if registration.verified_at is not None:
        raise Conflict("The email is already verified.", code="already_verified")
    now = utcnow()
    # One compare-and-set takes both the send budget and the interval: of parallel resends at
    # most one sends (issue #8).
    taken = compare_and_set(
        Registration, Registration.id == registration.id, Registration.verified_at.is_(None),
        Registration.sends < ctx.settings.code_max_sends,
        or_(Registration.last_sent_at.is_(None),
            Registration.last_sent_at <= now - timedelta(seconds=interval)),
        sends=Registration.sends + 1, last_sent_at=now)
    if not taken:
        db.session.rollback()
        registration = _load(email, registration_id)
        if registration.sends >= ctx.settings.code_max_sends:
            raise TooManyRequests("No more codes for this attempt; start again.",
                                  code="too_many_sends")
        last = registration.last_sent_at or now
        wait = max(1, int((last + timedelta(seconds=interval) - utcnow()).total_seconds()))
        raise TooManyRequests("Please wait before asking for another code.",
                              retry_after=wait, code="resend_too_soon")
    db.session.refresh(registration)
    if not registration.for_existing_member:
        # An existing address gets the same answer and nothing: its owner already heard.
        _issue_code(ctx, registration)
    db.session.commit()
    return interval


def complete(ctx: IdpServices, email: str, hash_key_b64u: str, registration_id: uuid.UUID,
             client: ClientInfo) -> Tokens:
    registration = _load(email, registration_id)
    if registration.verified_at is None:
        raise Forbidden("Verify the email first.", code="email_not_verified")
    if registration.verified_at + COMPLETE_WITHIN < utcnow():
        raise Gone("This registration has expired; start again.", code="registration_expired")
    # Of parallel completions of one registration exactly one goes on (compare-and-set).
    if not compare_and_set(Registration, Registration.id == registration.id,
                           Registration.completed_at.is_(None), completed_at=utcnow()):
        db.session.rollback()
        raise Conflict("This registration is already complete.", code="already_completed")
    member = Member(id=uuid.uuid4(), email=email, server_salt=registration.server_salt,
                    kdf_iterations=registration.kdf_iterations,
                    verifier=ctx.verifier.make(parse_hash_key(hash_key_b64u)),
                    privacy_version=registration.privacy_version,
                    privacy_accepted_at=registration.privacy_accepted_at)
    db.session.add(member)
    try:
        db.session.flush()
    except IntegrityError:
        # Two verified attempts for one address raced; the first one won.
        db.session.rollback()
        raise Conflict("This email is already registered.", code="already_registered") from None
    audit.record("registered", client=client, member_id=member.id, actor=str(member.id),
                 privacy_version=member.privacy_version)
    tokens = open_session(ctx, member.id, client)
    db.session.commit()
    return tokens
