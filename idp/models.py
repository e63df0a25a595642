"""idp's tables. What is stored per member is listed in DESIGN.md §4 and nothing more: the
password never arrives, and hashKey is kept only as an Argon2id verifier."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, JsonDocument, UtcDateTime, utcnow
from common.outbox import OutboxColumns

Timestamp = UtcDateTime()


class Member(Base):
    __tablename__ = "idp_members"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # email_norm, PROTOCOL §1
    # The exact string the keys were derived with, when it is not `email`: an account made under
    # the v1.0 rule whose stored address v1.1 made canonical (migration 0006). Cleared by the
    # next password change or recovery, which derive from `email`.
    kdf_email: Mapped[str | None] = mapped_column(String(254))
    server_salt: Mapped[str] = mapped_column(String(32))
    kdf_type: Mapped[str] = mapped_column(String(32), default="pbkdf2-sha256")
    kdf_iterations: Mapped[int] = mapped_column(Integer)
    verifier: Mapped[str] = mapped_column(String(200))  # Argon2id PHC string of hash_key
    privacy_version: Mapped[str] = mapped_column(String(32))
    privacy_accepted_at: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # PROTOCOL §3: the recovery key's Argon2id verifier and the card key wrapped under it.
    recovery_verifier: Mapped[str | None] = mapped_column(String(200))
    recovery_wrapped_card_key: Mapped[str | None] = mapped_column(Text)
    recovery_created_at: Mapped[datetime | None] = mapped_column(Timestamp)

    sessions: Mapped[list[AuthSession]] = relationship(back_populates="member")

    @property
    def salt_email(self) -> str:
        """`kdfEmail` (PROTOCOL.md §2): the PBKDF2 salt this member's keys were derived with."""
        return self.kdf_email or self.email


class Registration(Base):
    """One registration attempt, named by the ``uuid`` the client carries through the steps."""

    __tablename__ = "idp_registrations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), index=True)
    server_salt: Mapped[str] = mapped_column(String(32))
    kdf_iterations: Mapped[int] = mapped_column(Integer)
    # Set when the email already had an account: the attempt then never completes, but the
    # client cannot tell (no enumeration, issue #2).
    for_existing_member: Mapped[bool] = mapped_column(Boolean, default=False)
    code_hash: Mapped[str | None] = mapped_column(String(64))  # HMAC-SHA256, hex
    code_expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    verified_at: Mapped[datetime | None] = mapped_column(Timestamp)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    privacy_version: Mapped[str] = mapped_column(String(32))
    privacy_accepted_at: Mapped[datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class LoginAttempt(Base):
    """Binds initiate-login to one complete-login: single use, short-lived."""

    __tablename__ = "idp_login_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), index=True)  # account deletion erases by it
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class RecoveryAttempt(Base):
    """A forgotten-password reset: emailed code + recovery key, then the new password proof."""

    __tablename__ = "idp_recovery_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), index=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # None: unknown address
    code_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)  # idp/retention.py
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(Timestamp)
    completed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class CredentialFailures(Base):
    """Failed logins per normalized email, known or not, so lockout reveals nothing either."""

    __tablename__ = "idp_credential_failures"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp)


class AuthSession(Base):
    """A logged-in browser or device. Access tokens name it (``sid``) and die with it.

    A browser holds it by an HttpOnly cookie whose secret is kept here as SHA-256 only
    (``cookie_hash``); ``auth_time`` is the last password proof (login or unlock), which OpenID
    Connect's ``max_age`` and ``auth_time`` speak of."""

    __tablename__ = "idp_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp_members.id", ondelete="CASCADE"),
                                                 index=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # Indexed for idp/retention.py; last_used_at is not, so the touch on use stays a HOT update.
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp, index=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    cookie_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    auth_time: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="sessions")


class RefreshToken(Base):
    """Opaque refresh tokens, stored as SHA-256; a rotated one stays as a tripwire for reuse."""

    __tablename__ = "idp_refresh_tokens"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp_sessions.id", ondelete="CASCADE"),
                                                  index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # None: the member's own (idp's pages, API clients of /auth/*); else the first-party app
    # it was issued to at the token endpoint. A token is only ever good for its own holder.
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("idp_oauth_clients.client_id", ondelete="CASCADE"), index=True)


class SigningKey(Base):
    """ES256 keys for access tokens. The private half is encrypted with the app secret."""

    __tablename__ = "idp_signing_keys"
    # One active key per algorithm: processes racing to make the first key cannot both win.
    __table_args__ = (Index("uq_idp_signing_keys_active_alg", "alg", unique=True,
                            postgresql_where=text("retired_at IS NULL"),
                            sqlite_where=text("retired_at IS NULL")),)

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16), default="ES256")
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AuditEvent(Base):
    """Append-only account history (issue #2); updates and deletes are refused."""

    __tablename__ = "idp_audit_events"
    # The member's history, newest first, a page at a time (idp/auth/activity.py).
    __table_args__ = (Index("ix_idp_audit_events_member_history", "member_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)


class Outbox(OutboxColumns, Base):
    __tablename__ = "idp_outbox"
    # The worker picks due rows; deleting an account erases the member's by address and id.
    __table_args__ = (Index("ix_idp_outbox_due", "status", "next_attempt_at"),
                      Index("ix_idp_outbox_to_email", "to_email"),
                      Index("ix_idp_outbox_subscriber_id", "subscriber_id"))


class DevMail(Base):
    """The development mailbox: what would have been emailed, for the /dev/mailbox page."""

    __tablename__ = "idp_dev_mailbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    to_email: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
