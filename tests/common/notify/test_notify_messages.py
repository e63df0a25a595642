"""Rendering of every notification kind, in Russian and English."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.notify import Notification, NotificationKind, PayloadError, render
from common.notify.messages import OPTIONAL, REQUIRED, normalize_locale
from common.notify.texts import LABELS, TEXTS

MakeNotification = Callable[..., Notification]


def test_every_kind_has_texts_and_required_keys() -> None:
    # Guards the next kind someone adds (grants, revocations).
    for kind in NotificationKind:
        assert kind in REQUIRED
        assert set(TEXTS[kind]) == set(LABELS) == {"ru", "en"}


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_renders(make_notification: MakeNotification, kind: NotificationKind,
                            locale: str) -> None:
    subject, text = render(make_notification(kind, locale=locale))

    assert subject and "\n" not in subject and "card.coop" in subject
    assert text.startswith(LABELS[locale].greeting)
    assert text.endswith(LABELS[locale].footer + "\n")
    assert TEXTS[kind][locale].advice in text
    assert "ignored-value" not in text and "ignored-value" not in subject
    if kind not in (NotificationKind.REGISTRATION_CODE, NotificationKind.RECOVERY_CODE):
        assert "482913" not in text  # a code never leaks into another kind's text
    if "ip" in REQUIRED[kind]:
        assert "203.0.113.7" in text


def test_code_is_in_the_subject_and_the_body(make_notification: MakeNotification) -> None:
    payload = {"code": "123456", "expires_minutes": "15"}
    subject, text = render(make_notification(payload=payload))
    assert subject == "Код подтверждения card.coop: 123456"
    assert "Ваш код подтверждения для регистрации в card.coop: 123456" in text
    assert "15 мин" in text

    subject, text = render(make_notification(payload=payload, locale="en"))
    assert subject == "Your card.coop verification code: 123456"
    assert "123456" in text and "15 minutes" in text


def test_security_notice_says_what_when_where(make_notification: MakeNotification) -> None:
    _, text = render(make_notification(NotificationKind.SUSPICIOUS_ACTIVITY))
    assert "Время: 27.11.2025 10:05 UTC" in text
    assert "IP-адрес: 203.0.113.7" in text
    assert "Устройство: Firefox 133 on Linux" in text
    assert "смените пароль" in text


@pytest.mark.parametrize(("kind", "payload", "missing"), [
    (NotificationKind.REGISTRATION_CODE, {"code": "123456"}, "expires_minutes"),
    (NotificationKind.REGISTRATION_CODE, {"expires_minutes": "15", "code": " "}, "code"),
    (NotificationKind.NEW_DEVICE_LOGIN, {"at": "2025-11-27T10:05:00Z"}, "ip, user_agent"),
    (NotificationKind.ACCOUNT_LOCKED, {}, "at, ip"),
    (NotificationKind.PASSWORD_CHANGED, {"ip": "203.0.113.7"}, "at"),
])
def test_missing_key_raises_a_clear_error(make_notification: MakeNotification,
                                          kind: NotificationKind, payload: dict[str, str],
                                          missing: str) -> None:
    with pytest.raises(PayloadError, match=f"{kind.value} notification needs payload key"
                                           f"\\(s\\): {missing}$") as caught:
        render(make_notification(kind, payload=payload))
    assert "123456" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_optional_details_appear_only_when_given(make_notification: MakeNotification) -> None:
    _, bare = render(make_notification(NotificationKind.PASSWORD_CHANGED,
                                       payload={"at": "2025-11-27T10:05:00Z"}))
    assert "IP-адрес" not in bare and "Устройство" not in bare

    _, locked = render(make_notification(NotificationKind.ACCOUNT_LOCKED))
    assert "Вход снова станет доступен через 30 мин." in locked
    assert "unlock_minutes" in OPTIONAL


def test_sender_controlled_values_stay_on_one_short_line(
        make_notification: MakeNotification) -> None:
    sneaky = "Evil\r\n\r\nВаш аккаунт заблокирован, звоните 8-800\u202e\u200bmoc.live " + "x" * 500
    subject, text = render(make_notification(NotificationKind.NEW_DEVICE_LOGIN, payload={
        "at": "2025-11-27T10:05:00Z", "ip": "203.0.113.7", "user_agent": sneaky}))
    [line] = [line for line in text.splitlines() if line.startswith("Устройство:")]
    assert line.startswith("Устройство: Evil Ваш аккаунт заблокирован")
    assert "\u202e" not in text and "\u200b" not in text and "\r" not in text
    assert len(line) < 150 and line.endswith("…")
    assert "Evil" not in subject


@pytest.mark.parametrize(("at", "locale", "shown"), [
    ("2025-11-27T10:05:00Z", "ru", "27.11.2025 10:05 UTC"),
    ("2025-11-27T13:05:00+03:00", "ru", "27.11.2025 10:05 UTC"),
    ("2025-11-27T10:05:00", "en", "2025-11-27 10:05 UTC"),
    ("вчера вечером", "ru", "вчера вечером"),
])
def test_times_are_shown_in_utc(make_notification: MakeNotification, at: str, locale: str,
                                shown: str) -> None:
    _, text = render(make_notification(NotificationKind.PASSWORD_CHANGED, payload={"at": at},
                                       locale=locale))
    assert shown in text


@pytest.mark.parametrize(("given", "used"), [
    ("ru", "ru"), ("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("ru-RU", "ru"),
    ("de", "ru"), ("", "ru"),
])
def test_locale_falls_back_to_russian(given: str, used: str) -> None:
    assert normalize_locale(given) == used
