"""The port's value objects and errors, and address masking."""

from __future__ import annotations

import dataclasses

import pytest

from common.notify import (
    DeliveryError,
    Notification,
    NotificationKind,
    PermanentDeliveryError,
    mask_email,
)
from common.notify.masking import mask_emails_in


def test_kinds_are_stable_strings() -> None:
    assert [kind.value for kind in NotificationKind] == [
        "registration_code", "registration_attempt", "new_device_login",
        "suspicious_activity", "account_locked", "recovery_code", "password_changed",
        "access_granted", "access_revoked", "recovery_key_created", "recovery_key_used",
        "account_deleted", "disclosure_requested", "meeting_reminder", "contribution_due",
        "deposit_arrived", "digest"]
    assert NotificationKind.NEW_DEVICE_LOGIN == "new_device_login"


def test_notification_rebuilt_from_stored_strings() -> None:
    stored = {"kind": "account_locked", "to_email": "a@example.com", "subscriber_id": "m-1",
              "payload": {"at": "2025-11-27T10:05:00Z", "ip": "203.0.113.7"}, "locale": "en"}
    notification = Notification(**stored)  # type: ignore[arg-type]
    assert notification.kind is NotificationKind.ACCOUNT_LOCKED
    assert dataclasses.asdict(notification) == stored
    assert Notification(NotificationKind.ACCOUNT_LOCKED, "a@example.com", "m-1", {}).locale == "ru"


def test_notification_is_frozen() -> None:
    notification = Notification(NotificationKind.PASSWORD_CHANGED, "a@example.com", "m-1", {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        notification.to_email = "b@example.com"  # type: ignore[misc]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown notification kind: 'grant_created'"):
        Notification("grant_created", "a@example.com", "m-1", {})  # type: ignore[arg-type]


@pytest.mark.parametrize("address", [
    "", "ivan", "ivan@", "@example.com", "ivan@example.com\r\nBcc: all@example.com",
    "ivan petrov@example.com", "ivan@example.com\x00",
])
def test_bad_addresses_are_refused_without_echoing_them(address: str) -> None:
    with pytest.raises(ValueError, match=r"^to_email is not a valid email address$"):
        Notification(NotificationKind.PASSWORD_CHANGED, address, "m-1", {"at": "now"})


def test_empty_subscriber_and_non_string_payload_are_refused() -> None:
    with pytest.raises(ValueError, match="subscriber_id"):
        Notification(NotificationKind.PASSWORD_CHANGED, "a@example.com", "", {})
    with pytest.raises(TypeError, match="expires_minutes"):
        Notification(NotificationKind.REGISTRATION_CODE, "a@example.com", "m-1",
                     {"code": "1", "expires_minutes": 15})  # type: ignore[dict-item]


def test_errors() -> None:
    assert issubclass(PermanentDeliveryError, DeliveryError)
    assert DeliveryError("busy", retry_after=3.5).retry_after == 3.5
    assert PermanentDeliveryError("no").retry_after is None


@pytest.mark.parametrize(("address", "masked"), [
    ("user@example.com", "u***@example.com"),
    ("u@example.com", "u***@example.com"),
    ("ivan.petrov+tag@mail.example.org", "i***@mail.example.org"),
    ("not-an-address", "***"),
])
def test_mask_email(address: str, masked: str) -> None:
    assert mask_email(address) == masked


def test_mask_emails_in_server_replies() -> None:
    reply = "5.1.1 <ivan.petrov@example.com>: Recipient\n address rejected"
    assert mask_emails_in(reply) == "5.1.1 <i***@example.com>: Recipient address rejected"
    assert mask_emails_in("x" * 500, limit=50) == "x" * 49 + "…"
