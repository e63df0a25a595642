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
    # The cooperative (by its name, never its id) and the shared fields (by their labels)
    # belong to the consent notices only.
    assert ("ПК ВОСХОД" in text) is ("coop" in REQUIRED[kind])
    assert "voskhod" not in text
    shared = "Имя, Электронная почта, Телефон" if locale == "ru" else "First name, Email, Phone"
    assert (shared in text) is (kind is NotificationKind.ACCESS_GRANTED)


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
    assert "Время: 27 ноября 2025 г., 13:05 (МСК)" in text
    assert "IP-адрес: 203.0.113.7" in text
    assert "Устройство: Firefox 133 on Linux" in text
    assert "смените пароль" in text


@pytest.mark.parametrize(("kind", "payload", "missing"), [
    (NotificationKind.REGISTRATION_CODE, {"code": "123456"}, "expires_minutes"),
    (NotificationKind.REGISTRATION_CODE, {"expires_minutes": "15", "code": " "}, "code"),
    (NotificationKind.NEW_DEVICE_LOGIN, {"at": "2025-11-27T10:05:00Z"}, "ip, user_agent"),
    (NotificationKind.ACCOUNT_LOCKED, {}, "at, ip"),
    (NotificationKind.PASSWORD_CHANGED, {"ip": "203.0.113.7"}, "at"),
    (NotificationKind.ACCESS_GRANTED, {"coop": "ПК ВОСХОД", "fields": "имя"}, "coopname, at"),
    (NotificationKind.ACCESS_REVOKED,
     {"coop": " \n ", "coopname": "voskhod", "at": "2025-11-27T10:05:00Z"}, "coop"),
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
    ("2025-11-27T10:05:00Z", "ru", "27 ноября 2025 г., 13:05 (МСК)"),
    ("2025-11-27T13:05:00+03:00", "ru", "27 ноября 2025 г., 13:05 (МСК)"),
    ("2025-11-27T10:05:00", "en", "27 November 2025, 13:05 Moscow time"),
    ("2025-12-31T22:30:00+00:00", "en", "1 January 2026, 01:30 Moscow time"),
    ("2025-05-01T00:00:00-05:00", "ru", "1 мая 2025 г., 08:00 (МСК)"),
    ("вчера вечером", "ru", "вчера вечером"),
])
def test_times_are_shown_in_moscow_time(make_notification: MakeNotification, at: str, locale: str,
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


GRANT = {"coop": "ПК ВОСХОД", "coopname": "voskhod", "at": "2025-11-27T10:05:00Z"}


def test_access_granted_in_russian(make_notification: MakeNotification) -> None:
    subject, text = render(make_notification(
        NotificationKind.ACCESS_GRANTED,
        payload={**GRANT, "fields": "first_name, email, phone"}))

    assert subject == "Новый доступ к вашим данным в card.coop"
    assert text == (
        "Здравствуйте!\n\n"
        "Вы вошли через card.coop в кооператив «ПК ВОСХОД» и открыли ему доступ "
        "к своим данным.\n\n"
        "Переданные данные: Имя, Электронная почта, Телефон\n\n"
        "Время: 27 ноября 2025 г., 13:05 (МСК)\n\n"
        "Если это были вы, ничего делать не нужно. Если это были не вы, отзовите доступ "
        "в card.coop → «Доступы» и смените пароль.\n\n"
        + LABELS["ru"].footer + "\n")


def test_access_granted_in_english(make_notification: MakeNotification) -> None:
    subject, text = render(make_notification(
        NotificationKind.ACCESS_GRANTED, locale="en-US",
        payload={**GRANT, "fields": "last_name, passport", "ip": "203.0.113.7"}))

    assert subject == "New access to your card.coop data"
    assert ("You signed in to the cooperative “ПК ВОСХОД” through card.coop and "
            "gave it access to your data.") in text
    assert "Data shared: Last name, Passport" in text
    assert "Time: 27 November 2025, 13:05 Moscow time\nIP address: 203.0.113.7" in text
    assert "revoke the access in card.coop → Access and change your password" in text


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize("fields", [None, "", " \n\t"])
def test_access_granted_without_fields_has_no_fields_line(
        make_notification: MakeNotification, locale: str, fields: str | None) -> None:
    payload = dict(GRANT) if fields is None else {**GRANT, "fields": fields}
    _, text = render(make_notification(NotificationKind.ACCESS_GRANTED, payload=payload,
                                       locale=locale))
    assert LABELS[locale].fields.split("{")[0].strip() not in text
    assert "ПК ВОСХОД" in text


def test_fields_are_shown_only_for_a_granted_access(make_notification: MakeNotification) -> None:
    _, text = render(make_notification(NotificationKind.ACCESS_REVOKED,
                                       payload={**GRANT, "fields": "имя"}))
    assert "Переданные данные" not in text
    assert "fields" in OPTIONAL


@pytest.mark.parametrize(("locale", "subject", "intro", "advice"), [
    ("ru", "Доступ кооператива к вашим данным в card.coop отозван",
     "Вы отозвали доступ кооператива «ПК ВОСХОД» к вашим данным в card.coop.",
     "Кооператив больше не может получать ваши данные через card.coop. Данные, которые он уже "
     "получил, остаются у него и обрабатываются по его собственной политике "
     "конфиденциальности."),
    ("en", "A cooperative's access to your card.coop data was revoked",
     "You revoked the access of the cooperative “ПК ВОСХОД” to your card.coop data.",
     "The cooperative can no longer read your data through card.coop. Data it has already "
     "received stays with it under its own privacy policy."),
])
def test_access_revoked(make_notification: MakeNotification, locale: str, subject: str,
                        intro: str, advice: str) -> None:
    rendered_subject, text = render(make_notification(NotificationKind.ACCESS_REVOKED,
                                                      payload=GRANT, locale=locale))
    assert rendered_subject == subject
    assert intro in text and advice in text
    assert f"{LABELS[locale].at}: " in text


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize("kind", [NotificationKind.ACCESS_GRANTED,
                                  NotificationKind.ACCESS_REVOKED])
def test_chain_controlled_cooperative_name_stays_on_one_short_line(
        make_notification: MakeNotification, kind: NotificationKind, locale: str) -> None:
    # Anyone can register a cooperative on the chain and pick its display name.
    hostile = ("ПК ВОСХОД\r\n\r\nВаш аккаунт заблокирован, звоните 8-800\u202e\u200b"
               "moc.live\u2028\x00" + "Я" * 500)
    subject, text = render(make_notification(kind, locale=locale, payload={
        **GRANT, "coop": hostile, "fields": "имя\n\nПереведите деньги " + "x" * 300}))

    assert "Ваш аккаунт" not in subject and "ПК ВОСХОД" not in subject
    paragraphs = text.split("\n\n")
    [intro] = [p for p in paragraphs if "ПК ВОСХОД" in p]
    assert "\n" not in intro
    assert "ПК ВОСХОД Ваш аккаунт заблокирован, звоните 8-800 moc.live" in intro
    for invisible in ("\r", "\u202e", "\u200b", "\u2028", "\x00"):
        assert invisible not in text
    shown = intro.split("«" if locale == "ru" else "“", 1)[1].split("»" if locale == "ru"
                                                                      else "”", 1)[0]
    assert len(shown) == 120 and shown.endswith("…")
    assert "voskhod" not in intro
    assert not any(p.startswith("Ваш аккаунт") or p.startswith("Я") for p in paragraphs)
    if kind is NotificationKind.ACCESS_GRANTED:
        [fields] = [p for p in paragraphs if p.startswith(LABELS[locale].fields[:4])]
        # Not a field name of the card: named as "another field", never echoed.
        assert "\n" not in fields and "Переведите" not in fields and "xxx" not in fields
        assert fields.endswith("другое поле карты" if locale == "ru" else "another card field")
        assert not any(p.startswith("Переведите") for p in paragraphs)
