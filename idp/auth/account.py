"""The member's whole account (issue #9): re-authentication, deletion and export.

Deletion is one transaction: the card ciphertext and its cooperative accounts, the grants with
the cooperatives' tickets and tokens (so every cooperative loses access at once), the sessions
and their refresh tokens, the pending login, registration and recovery attempts, the lockout
count and the member row. Of the audit only what docs/security.md says stays (``audit.
erase_member``). The confirmation email is queued in the same transaction; the outbox names
the address, never the member row.

The export is everything idp stores about the member, as stored: the card stays ciphertext
here and is decrypted by the member's browser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm.exc import ObjectDeletedError

from common.db import db, utcnow
from common.errors import Unauthorized
from common.notify import NotificationKind
from common.outbox import PENDING
from common.security import ClientInfo
from idp import audit
from idp.auth.password import require_password
from idp.auth.sessions import revoke_all
from idp.card.models import Card, CoopAccount
from idp.models import (
    AuditEvent,
    AuthSession,
    CredentialFailures,
    LoginAttempt,
    Member,
    Outbox,
    RecoveryAttempt,
    RefreshToken,
    Registration,
)
from idp.network import service as network
from idp.network.models import Attestation, Disclosure, NetworkEntry
from idp.oauth.models import AuthorizationCode, Grant, OAuthToken
from idp.services import IdpServices


def _gone() -> Unauthorized:
    # A parallel deletion won: the token's session went with the account.
    return Unauthorized("The session of this token has ended.", code="invalid_token")


def reauth(ctx: IdpServices, session: AuthSession, hash_key: str, client: ClientInfo) -> None:
    """A fresh password proof before something sensitive is shown in the page (a private key).
    Counts toward the login lockout like every other password check."""
    try:
        require_password(ctx, session.member, hash_key, client)
    except ObjectDeletedError:
        raise _gone() from None
    session.auth_time = utcnow()  # a password proof, as at login or unlock (OIDC `auth_time`)
    audit.record("reauth_ok", client=client, member_id=session.member_id,
                 actor=str(session.member_id), session_id=str(session.id))
    db.session.commit()


@dataclass(frozen=True)
class Deleted:
    member_id: uuid.UUID
    coopnames: list[str]
    audit_erased: bool


def delete_account(ctx: IdpServices, session: AuthSession, hash_key: str,
                   client: ClientInfo) -> Deleted:
    member_id = session.member_id
    try:
        require_password(ctx, session.member, hash_key, client)  # commits the counted try
        email = session.member.email
    except ObjectDeletedError:
        raise _gone() from None
    # The claim: of parallel deletions one holds the row (PostgreSQL: the others wait here and
    # then find nothing; SQLite: every transaction holds the write lock from its start).
    if db.session.scalar(select(Member.id).where(Member.id == member_id)
                         .with_for_update()) is None:
        db.session.rollback()
        raise _gone()
    card = db.session.scalar(select(Card).where(Card.member_id == member_id))
    card_id = card.id if card is not None else None
    coopnames = sorted(db.session.scalars(select(Grant.client_id).where(
        Grant.member_id == member_id, Grant.revoked_at.is_(None))))
    session_ids = list(db.session.scalars(select(AuthSession.id).where(
        AuthSession.member_id == member_id)))
    # The sessions end first, by the sessions module's own hook: that is where the clients
    # signed in with them are told (back-channel logout, from the tickets about to go; posted
    # only if this transaction commits).
    revoke_all(member_id, keep=None, reason="account_deleted")

    db.session.expunge_all()  # the rows go by statement below; no stale object may flush back
    if card_id is not None:
        # The network's cooperatives that knew the card hear of its end (issue #11).
        network.card_deleted(card_id, coopnames)
    execute = db.session.execute
    execute(delete(OAuthToken).where(OAuthToken.member_id == member_id))
    execute(delete(AuthorizationCode).where(AuthorizationCode.member_id == member_id))
    execute(delete(Grant).where(Grant.member_id == member_id))
    if card_id is not None:
        for network_row in (Attestation, Disclosure, NetworkEntry):
            execute(delete(network_row).where(network_row.card_id == card_id))
        execute(delete(CoopAccount).where(CoopAccount.card_id == card_id))
        execute(delete(Card).where(Card.id == card_id))
    if session_ids:
        execute(delete(RefreshToken).where(RefreshToken.session_id.in_(session_ids)))
    execute(delete(AuthSession).where(AuthSession.member_id == member_id))
    execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    execute(delete(RecoveryAttempt).where(or_(RecoveryAttempt.member_id == member_id,
                                              RecoveryAttempt.email == email)))
    execute(delete(Registration).where(Registration.email == email))
    execute(delete(CredentialFailures).where(CredentialFailures.email == email))
    # Notifications already delivered hold the address and the details they told; pending
    # ones are left to go out (the member should still learn what happened before).
    execute(delete(Outbox).where(or_(Outbox.subscriber_id == str(member_id),
                                     Outbox.to_email == email),
                                 Outbox.status != PENDING))
    erased = audit.erase_member(member_id, email)
    execute(delete(Member).where(Member.id == member_id))
    # Pseudonymous: the internal id and the card id the cooperatives knew as `sub`, and which
    # cooperatives lost their access; no address, IP or user agent.
    audit.record("account_deleted", client=None, member_id=member_id, actor=audit.DELETED_ACTOR,
                 **({"sub": str(card_id)} if card_id else {}), coopnames=coopnames)
    ctx.notify(NotificationKind.ACCOUNT_DELETED, to_email=email, subscriber_id=str(member_id),
               at=utcnow().isoformat(timespec="seconds"))
    db.session.commit()
    return Deleted(member_id, coopnames, erased)


def export(ctx: IdpServices, session: AuthSession) -> dict[str, Any]:
    """Everything idp stores about the member, as stored (the card as ciphertext)."""
    member = session.member
    now = utcnow()
    sessions = db.session.scalars(select(AuthSession).where(AuthSession.member_id == member.id)
                                  .order_by(AuthSession.created_at))
    grants = db.session.scalars(select(Grant).where(Grant.member_id == member.id)
                                .order_by(Grant.created_at))
    tokens = db.session.scalars(select(OAuthToken).where(OAuthToken.member_id == member.id)
                                .order_by(OAuthToken.issued_at))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.member_id == member.id)
                                .order_by(AuditEvent.id))
    card = db.session.scalar(select(Card).where(Card.member_id == member.id))
    # The emails told to the member: what and when (their payloads may hold codes: not shown).
    notices = db.session.scalars(select(Outbox).where(or_(
        Outbox.subscriber_id == str(member.id), Outbox.to_email == member.email))
        .order_by(Outbox.id))
    return {
        "format": "card.coop/export/v1",
        "exported_at": now,
        "account": {
            "sub": member.id, "email": member.email, "created_at": member.created_at,
            "privacy_version": member.privacy_version,
            "privacy_accepted_at": member.privacy_accepted_at,
            "password_changed_at": member.password_changed_at,
            "kdf": {"type": member.kdf_type, "iterations": member.kdf_iterations,
                    "kdfEmail": member.salt_email, "serverSalt": member.server_salt},
            "recovery": {"enabled": member.recovery_verifier is not None,
                         "created_at": member.recovery_created_at},
        },
        "sessions": [{"id": s.id, "user_agent": s.user_agent, "ip": s.ip,
                      "created_at": s.created_at, "last_used_at": s.last_used_at,
                      "expires_at": s.expires_at, "revoked_at": s.revoked_at,
                      "revoke_reason": s.revoke_reason, "current": s.id == session.id}
                     for s in sessions],
        "grants": [{"id": g.id, "cooperative": g.client_id, "scope": g.scope.split(),
                    "username": g.username, "public_key": g.public_key,
                    "shared_fields": list(g.shared_fields or []),
                    "encrypted_data": g.encrypted_data, "recipient_kid": g.recipient_kid,
                    "created_at": g.created_at, "updated_at": g.updated_at,
                    "revoked_at": g.revoked_at} for g in grants],
        "cooperative_tokens": [{"cooperative": t.client_id, "scope": t.scope.split(),
                                "issued_at": t.issued_at, "expires_at": t.expires_at,
                                "revoked_at": t.revoked_at} for t in tokens],
        "audit_events": [{"at": e.at, "event": e.event, "ip": e.ip, "details": e.details}
                         for e in events],
        "notifications": [{"kind": n.kind, "channel": n.channel, "created_at": n.created_at,
                           "status": n.status, "sent_at": n.sent_at} for n in notices],
        "card": None if card is None else {
            "card_id": card.id, "card_number": card.number, "revision": card.revision,
            "meta": card.meta, "created_at": card.created_at, "updated_at": card.updated_at,
            "wrapped_card_key": card.wrapped_card_key,
            "encrypted_personal_data": card.encrypted_personal_data,
            "accounts": [{"coopname": a.coopname, "username": a.username,
                          "public_key": a.public_key, "created_at": a.created_at,
                          "encrypted_account": a.encrypted_account} for a in card.accounts],
        },
    }
