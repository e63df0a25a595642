"""Request and response bodies of /auth/* and /privacy-policy. Field names on the wire follow the
specification exactly (``hashKey``, ``serverSalt``, ``accessToken``...); Python uses snake_case."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from common.api import Schema

Email = Annotated[str, Field(min_length=3, max_length=254, examples=["member@example.com"])]
HashKey = Annotated[str, Field(alias="hashKey", pattern=r"^[A-Za-z0-9_-]{43}$",
                               description="b64u(hash_key), PROTOCOL.md §2 (43 characters)")]
AttemptId = Annotated[uuid.UUID, Strict(False),
                      Field(description="The `uuid` returned by the initiate step")]
OpaqueToken = Annotated[str, Field(min_length=20, max_length=200)]


class Kdf(Schema):
    type: Literal["pbkdf2-sha256"] = "pbkdf2-sha256"
    iterations: int


class InitiateRegistrationIn(Schema):
    email: Email
    privacy_accepted: bool = Field(description="Must be true: the member accepted the policy")


class AttemptOut(Schema):
    uuid: uuid.UUID
    server_salt: str = Field(alias="serverSalt", description="16 bytes, base64url")
    kdf: Kdf


class LoginAttemptOut(AttemptOut):
    kdf_email: str = Field(
        alias="kdfEmail",
        description="The PBKDF2 salt (PROTOCOL.md §2): the account's email as its keys were "
                    "derived. It differs from the canonical email only for an account from "
                    "before email_norm v1.1; the client uses it only if its canonical form is "
                    "the typed address's. An unknown address gets its canonical form.")


class VerifyEmailIn(Schema):
    email: Email
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code from the email")
    uuid: AttemptId


class VerifyEmailOut(Schema):
    verified: bool


class ResendCodeIn(Schema):
    email: Email
    uuid: AttemptId


class ResendCodeOut(Schema):
    sent: bool
    retry_after: int = Field(alias="retryAfter", description="Seconds before another resend")


class CompleteIn(Schema):
    email: Email
    hash_key: HashKey
    uuid: AttemptId


class InitiateLoginIn(Schema):
    email: Email


class TokensOut(Schema):
    access_token: str = Field(alias="accessToken")
    refresh_token: str = Field(alias="refreshToken")
    expires_in: int = Field(alias="expiresIn", description="Access token lifetime, seconds")
    token_type: Literal["Bearer"] = Field(default="Bearer", alias="tokenType")


class RefreshIn(Schema):
    refresh_token: OpaqueToken = Field(alias="refreshToken")


class MemberOut(Schema):
    """What the member's own token may learn about the account: enough to derive keys again
    (re-authentication for a password change) without a new login."""

    sub: uuid.UUID
    email: str
    kdf_email: str = Field(alias="kdfEmail",
                           description="The PBKDF2 salt of the current password, as at login")
    server_salt: str = Field(alias="serverSalt")
    kdf: Kdf
    created_at: datetime
    privacy_version: str
    has_card: bool


class SessionOut(Schema):
    id: uuid.UUID
    device: str | None = Field(description="Browser and system named from the user agent "
                                           "(ua-parser); null when it names neither")
    user_agent: str
    ip: str
    created_at: datetime
    last_used_at: datetime
    current: bool


class SessionsOut(Schema):
    sessions: list[SessionOut]


class RevokedOut(Schema):
    revoked: int = Field(description="How many sessions were ended")


class LogoutIn(Schema):
    refresh_token: OpaqueToken | None = Field(
        default=None, alias="refreshToken",
        description="An API client may send its refresh token: it must be this session's")


class BrowserSessionOut(Schema):
    """The browser's session after a reload: signed in, keys not yet derived (locked)."""

    access_token: str = Field(alias="accessToken")
    expires_in: int = Field(alias="expiresIn", description="Access token lifetime, seconds")
    token_type: Literal["Bearer"] = Field(default="Bearer", alias="tokenType")
    email: str
    kdf_email: str = Field(alias="kdfEmail",
                           description="The PBKDF2 salt of the current password, as at login")
    server_salt: str = Field(alias="serverSalt")
    kdf: Kdf
    auth_time: datetime = Field(alias="authTime", description="The last password proof")


class PolicyText(Schema):
    ru: str
    en: str


class PrivacyPolicyOut(Schema):
    version: str
    effective_date: date
    text: PolicyText


B64uKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$",
                               description="32 bytes, base64url without padding")]
Envelope = Annotated[str, Field(min_length=60, max_length=4_000,
                                pattern=r"^[A-Za-z0-9_\-.]+$", description="Compact JWE")]


class KdfIn(Schema):
    type: Literal["pbkdf2-sha256"]
    iterations: int = Field(ge=100_000, le=10_000_000)


class ChangePasswordIn(Schema):
    hash_key: HashKey
    new_hash_key: str = Field(alias="newHashKey", pattern=r"^[A-Za-z0-9_-]{43}$")
    wrapped_card_key: Envelope | None = None
    kdf: KdfIn | None = None


class ChangedOut(Schema):
    changed: bool


class RecoverySetupIn(Schema):
    hash_key: HashKey
    recovery_auth: B64uKey
    recovery_wrapped_card_key: Envelope


class RecoveryStatusOut(Schema):
    enabled: bool
    created_at: datetime | None = None
    used_at: datetime | None = Field(
        default=None, description="When the last recovery key was used (and so spent), if no "
                                  "new one was made since: the member is asked to make one")


class RecoveryInitiateOut(Schema):
    uuid: uuid.UUID


class RecoveryVerifyIn(Schema):
    email: Email
    uuid: AttemptId
    code: str = Field(pattern=r"^[0-9]{6}$")
    recovery_auth: B64uKey


class RecoveryVerifyOut(Schema):
    recovery_wrapped_card_key: str
    server_salt: str = Field(alias="serverSalt")
    kdf: Kdf


class RecoveryCompleteIn(Schema):
    email: Email
    uuid: AttemptId
    new_hash_key: str = Field(alias="newHashKey", pattern=r"^[A-Za-z0-9_-]{43}$")
    wrapped_card_key: Envelope
    kdf: KdfIn | None = None


class PasswordProofIn(Schema):
    """A fresh password proof: re-authentication, and deleting the account."""

    hash_key: HashKey


class DeletedOut(Schema):
    deleted: bool


class ExportKdf(Schema):
    type: str
    iterations: int
    kdf_email: str = Field(alias="kdfEmail")
    server_salt: str = Field(alias="serverSalt")


class ExportRecovery(Schema):
    enabled: bool
    created_at: datetime | None


class ExportAccount(Schema):
    sub: uuid.UUID
    email: str
    created_at: datetime
    privacy_version: str
    privacy_accepted_at: datetime
    password_changed_at: datetime | None
    kdf: ExportKdf
    recovery: ExportRecovery


class ExportSession(Schema):
    id: uuid.UUID
    user_agent: str
    ip: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    current: bool


class ExportGrant(Schema):
    id: uuid.UUID
    cooperative: str
    scope: list[str]
    username: str | None
    public_key: str | None
    shared_fields: list[str]
    encrypted_data: str | None = Field(description="The share, encrypted to the cooperative")
    recipient_kid: str | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None


class ExportToken(Schema):
    cooperative: str
    scope: list[str]
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ExportEvent(Schema):
    at: datetime
    event: str
    ip: str
    details: dict[str, Any]


class ExportNotification(Schema):
    kind: str
    channel: str
    created_at: datetime
    status: str
    sent_at: datetime | None


class ExportCoopAccount(Schema):
    coopname: str
    username: str
    public_key: str
    created_at: datetime
    encrypted_account: str = Field(description="Compact JWE under the card key")


class ExportCard(Schema):
    card_id: uuid.UUID
    card_number: str
    revision: int
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    wrapped_card_key: str
    encrypted_personal_data: str = Field(description="Compact JWE under the card key")
    accounts: list[ExportCoopAccount]


class ExportOut(Schema):
    """Everything idp stores about the member, as stored: the card stays ciphertext (the
    member's browser decrypts it into the downloaded file)."""

    format: Literal["card.coop/export/v1"]
    exported_at: datetime
    account: ExportAccount
    sessions: list[ExportSession]
    grants: list[ExportGrant]
    cooperative_tokens: list[ExportToken]
    audit_events: list[ExportEvent]
    notifications: list[ExportNotification] = Field(
        description="The emails sent to the member: kind and times (never their contents)")
    card: ExportCard | None


class ActivityEventOut(Schema):
    id: int
    at: datetime
    event: str = Field(description="What happened: login_ok, login_failed, signed_in, "
                                   "access_granted, access_revoked, session_revoked, ...")
    ip: str
    device: str | None = Field(description="Browser and system, when the event knows them")
    coopname: str | None = Field(description="The cooperative (or app) the event concerns")


class ActivityOut(Schema):
    events: list[ActivityEventOut]
    next_before: int | None = Field(description="Pass as `before` for the next, older page")


class NoticeOut(Schema):
    id: int = Field(description="Unique within its origin")
    kind: str
    at: datetime
    origin: Literal["message", "event"] = Field(
        description="message: a notification idp sent; event: a change of the card (a new "
                    "card, changed data, a new cooperative account)")
    coopname: str | None = Field(default=None, description="The cooperative of a new account")


class NoticesOut(Schema):
    notices: list[NoticeOut]
