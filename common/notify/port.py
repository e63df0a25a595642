"""The notification port (DESIGN.md §3, §6.4): what the apps ask for, and the errors adapters raise.

The outbox worker owns retries, so an adapter only has to say whether a failure is worth retrying:
``DeliveryError`` (try again later) or ``PermanentDeliveryError`` (this notification will never go
through; record it and move on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class NotificationKind(StrEnum):
    """What happened. Values are stable: they are stored in the outbox and name Novu workflows."""

    REGISTRATION_CODE = "registration_code"
    # Someone tried to register an address that already has an account. The owner is told instead
    # of the registrant, so the registration form does not reveal which addresses are members.
    REGISTRATION_ATTEMPT = "registration_attempt"
    NEW_DEVICE_LOGIN = "new_device_login"
    # A rotated refresh token was replayed (RFC 9700 §4.14.2): the session was revoked.
    SUSPICIOUS_ACTIVITY = "suspicious_activity"
    ACCOUNT_LOCKED = "account_locked"
    # A code to reset a forgotten password with the recovery key.
    RECOVERY_CODE = "recovery_code"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind's name, not a password
    # The member signed in to a cooperative through card.coop and so gave it access to their data
    # (a grant). Told every time, so a stolen session cannot quietly hand the data out.
    ACCESS_GRANTED = "access_granted"
    # The member revoked a cooperative's access (its grant) in card.coop.
    ACCESS_REVOKED = "access_revoked"
    # A recovery key was created or replaced (the previous one, if any, no longer works).
    RECOVERY_KEY_CREATED = "recovery_key_created"
    # A recovery key was used to set a new password; it is spent, a new one is needed.
    RECOVERY_KEY_USED = "recovery_key_used"
    # The account and everything in it were deleted (sent to the address it had).
    ACCOUNT_DELETED = "account_deleted"
    # A cooperative of the ВОСХОД network asks another for the member's profile (issue #11):
    # the member allows or refuses in card.coop.
    DISCLOSURE_REQUESTED = "disclosure_requested"
    # The portal's (issue #12), sent by email through idp, which alone knows the address: a
    # general meeting coming, a contribution due, a contribution that arrived, and the daily or
    # weekly digest of the rest.
    MEETING_REMINDER = "meeting_reminder"
    CONTRIBUTION_DUE = "contribution_due"
    DEPOSIT_ARRIVED = "deposit_arrived"
    DIGEST = "digest"


class DeliveryError(Exception):
    """Delivery failed for now; the same notification may go through on a later attempt.

    ``retry_after`` is the server's hint in seconds (HTTP Retry-After), when it gave one. Messages
    never contain the recipient's address, the payload or credentials: the worker stores and logs
    them.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (recipient refused, request rejected as invalid)."""


# Line breaks and other control characters in an address are how header injection starts;
# refusing them here keeps every adapter safe whatever it does with the address.
_FORBIDDEN_IN_ADDRESS = frozenset(chr(c) for c in range(0x20)) | {"\x7f", " "}


@dataclass(frozen=True)
class Notification:
    """One message to one member. Everything in it is plain strings, so the outbox can store it
    as JSON and rebuild it unchanged.

    ``subscriber_id`` is the member's stable id, or the normalized email when there is no member
    yet (registration). ``payload`` holds the values the text needs (see ``messages.REQUIRED``);
    codes in it are secrets and must never be logged.
    """

    kind: NotificationKind
    to_email: str
    subscriber_id: str
    payload: Mapping[str, str]
    locale: str = "ru"

    def __post_init__(self) -> None:
        # The outbox rebuilds notifications from stored strings: accept the plain value and turn
        # an unknown one into a clear error instead of a KeyError deep inside an adapter.
        try:
            object.__setattr__(self, "kind", NotificationKind(self.kind))
        except ValueError:
            raise ValueError(f"unknown notification kind: {self.kind!r}") from None
        local, at, domain = self.to_email.rpartition("@")
        if not (local and at and domain) or _FORBIDDEN_IN_ADDRESS.intersection(self.to_email):
            # The address itself stays out of the message: it is personal data.
            raise ValueError("to_email is not a valid email address")
        if not self.subscriber_id:
            raise ValueError("subscriber_id is empty")
        for key, value in self.payload.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"payload values must be strings (key {key!r})")


@runtime_checkable
class Notifier(Protocol):
    """Delivers one notification over one channel ("smtp", "novu", "console").

    ``idempotency_key`` is stable across retries of the same outbox row, so a channel that can
    deduplicate (Novu's transactionId, an email Message-ID) sends the member one message even when
    an earlier attempt succeeded but its answer was lost.
    """

    @property
    def channel(self) -> str: ...

    def deliver(self, notification: Notification, idempotency_key: str | None = None) -> None:
        """Deliver or raise ``DeliveryError`` / ``PermanentDeliveryError``."""
