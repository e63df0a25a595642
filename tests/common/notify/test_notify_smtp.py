"""SmtpMailer against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from common.notify import (
    DeliveryError,
    Notification,
    NotificationKind,
    PermanentDeliveryError,
    SmtpMailer,
    parse_smtp_url,
)

if TYPE_CHECKING:
    from conftest import SmtpServer, TlsMaterial

MakeNotification = Callable[..., Notification]


def test_delivers_a_registration_code(smtp_server: SmtpServer,
                                      make_notification: MakeNotification) -> None:
    SmtpMailer(smtp_server.url()).deliver(make_notification())

    [received] = smtp_server.handler.received
    assert received.mail_from == "no-reply@card.coop"
    assert received.rcpt_tos == ["ivan.petrov@example.com"]
    message = received.message
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("card.coop", "no-reply@card.coop")
    assert message["To"] == "ivan.petrov@example.com"
    assert message["Subject"] == "Код подтверждения card.coop: 482913"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@card.coop>")
    assert message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "ru"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Ваш код подтверждения для регистрации в card.coop: 482913" in body
    assert "Код действует 15 мин." in body
    assert "ignored-value" not in body


def test_english_notification(smtp_server: SmtpServer,
                              make_notification: MakeNotification) -> None:
    SmtpMailer(smtp_server.url(), sender="Card Coop <robot@mail.card.coop>").deliver(
        make_notification(NotificationKind.NEW_DEVICE_LOGIN, locale="en-US"))

    [received] = smtp_server.handler.received
    assert received.mail_from == "robot@mail.card.coop"
    assert received.message["Subject"] == "New device login to card.coop"
    assert received.message["Content-Language"] == "en"
    body = received.message.get_content()
    assert "203.0.113.7" in body and "Firefox 133 on Linux" in body
    assert "27 November 2025, 13:05 Moscow time" in body


def test_idempotency_key_fixes_the_message_id(smtp_server: SmtpServer,
                                              make_notification: MakeNotification) -> None:
    mailer = SmtpMailer(smtp_server.url())
    mailer.deliver(make_notification(), idempotency_key="outbox-42")
    mailer.deliver(make_notification(), idempotency_key="outbox-42")
    mailer.deliver(make_notification(), idempotency_key="not a <token>")
    mailer.deliver(make_notification(), idempotency_key="not a <token>")

    ids = [received.message["Message-ID"] for received in smtp_server.handler.received]
    assert ids[0] == ids[1] == "<notify.outbox-42@card.coop>"
    assert ids[2] == ids[3] and "<token>" not in ids[2]
    assert ids[2].startswith("<notify.") and ids[2].endswith("@card.coop>")


def test_message_ids_differ_without_a_key(smtp_server: SmtpServer,
                                          make_notification: MakeNotification) -> None:
    mailer = SmtpMailer(smtp_server.url())
    mailer.deliver(make_notification())
    mailer.deliver(make_notification())
    first, second = (r.message["Message-ID"] for r in smtp_server.handler.received)
    assert first != second


def test_recipient_refused_with_5xx_is_permanent(start_smtp: Callable[..., SmtpServer],
                                                 make_notification: MakeNotification) -> None:
    server = start_smtp(rcpt_reply="550 5.1.1 <ivan.petrov@example.com>: no such user")

    with pytest.raises(PermanentDeliveryError) as caught:
        SmtpMailer(server.url()).deliver(make_notification())

    assert "550" in str(caught.value)
    assert "ivan.petrov@example.com" not in str(caught.value)  # personal data stays out
    assert "i***@example.com" in str(caught.value)
    assert server.handler.received == []


@pytest.mark.parametrize("replies", [
    {"rcpt_reply": "451 4.3.0 try again later"},
    {"rcpt_reply": "452 4.2.2 mailbox full"},
    {"data_reply": "451 4.7.1 greylisted"},
])
def test_4xx_is_transient(start_smtp: Callable[..., SmtpServer],
                          make_notification: MakeNotification, replies: dict[str, str]) -> None:
    server = start_smtp(**replies)

    with pytest.raises(DeliveryError) as caught:
        SmtpMailer(server.url()).deliver(make_notification())

    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "45" in str(caught.value)


def test_message_refused_with_5xx_is_permanent(start_smtp: Callable[..., SmtpServer],
                                               make_notification: MakeNotification) -> None:
    server = start_smtp(data_reply="554 5.7.1 message rejected")

    with pytest.raises(PermanentDeliveryError, match="554"):
        SmtpMailer(server.url()).deliver(make_notification())


def test_nothing_listening_is_transient(unused_port: int,
                                        make_notification: MakeNotification) -> None:
    with pytest.raises(DeliveryError) as caught:
        SmtpMailer(f"smtp://127.0.0.1:{unused_port}", timeout=2).deliver(make_notification())
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_silent_server_times_out(make_notification: MakeNotification) -> None:
    # Accepts the TCP connection (backlog) but never says 220.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            SmtpMailer(f"smtp://127.0.0.1:{port}", timeout=0.3).deliver(make_notification())
        assert time.monotonic() - started < 5
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_auth_with_percent_encoded_password(
        start_smtp: Callable[..., SmtpServer], make_notification: MakeNotification,
        make_login_checker: Callable[[str, str], Any]) -> None:
    server = start_smtp(authenticator=make_login_checker("mailer", "p@ss:w/rd"),
                        auth_require_tls=False)

    SmtpMailer(server.url(credentials="mailer:p%40ss%3Aw%2Frd@")).deliver(make_notification())

    [received] = server.handler.received
    assert received.auth_login == b"mailer"


def test_wrong_password_is_not_permanent(
        start_smtp: Callable[..., SmtpServer], make_notification: MakeNotification,
        make_login_checker: Callable[[str, str], Any]) -> None:
    # 535 is a 5xx, but it says our configuration is wrong, not this message: once an operator
    # fixes the password, the queued notifications must still go out.
    server = start_smtp(authenticator=make_login_checker("mailer", "right"),
                        auth_require_tls=False)

    with pytest.raises(DeliveryError) as caught:
        SmtpMailer(server.url(credentials="mailer:wrong@")).deliver(make_notification())

    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "535" in str(caught.value)
    assert "wrong" not in str(caught.value)
    assert server.handler.received == []


def test_smtps_implicit_tls(start_smtp: Callable[..., SmtpServer], tls: TlsMaterial,
                            make_notification: MakeNotification) -> None:
    server = start_smtp(ssl_context=tls.server)

    SmtpMailer(server.url("smtps"), ssl_context=tls.client).deliver(make_notification())

    [received] = server.handler.received
    assert received.tls


@pytest.mark.parametrize("scheme", ["smtp", "smtp+starttls"])
def test_starttls_when_offered(start_smtp: Callable[..., SmtpServer], tls: TlsMaterial,
                               make_notification: MakeNotification, scheme: str) -> None:
    server = start_smtp(tls_context=tls.server, require_starttls=True)

    SmtpMailer(server.url(scheme), ssl_context=tls.client).deliver(make_notification())

    [received] = server.handler.received
    assert received.tls


def test_plain_smtp_without_starttls_sends_in_clear(smtp_server: SmtpServer,
                                                    make_notification: MakeNotification) -> None:
    SmtpMailer(smtp_server.url()).deliver(make_notification())
    [received] = smtp_server.handler.received
    assert not received.tls


def test_required_starttls_missing_is_transient(smtp_server: SmtpServer,
                                                make_notification: MakeNotification) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS") as caught:
        SmtpMailer(smtp_server.url("smtp+starttls")).deliver(make_notification())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert smtp_server.handler.received == []


def test_untrusted_certificate_is_refused(start_smtp: Callable[..., SmtpServer],
                                          tls: TlsMaterial,
                                          make_notification: MakeNotification) -> None:
    server = start_smtp(ssl_context=tls.server)

    with pytest.raises(DeliveryError) as caught:
        SmtpMailer(server.url("smtps")).deliver(make_notification())  # default trust store

    assert not isinstance(caught.value, PermanentDeliveryError)
    assert server.handler.received == []


def test_international_address_needs_smtputf8(start_smtp: Callable[..., SmtpServer],
                                              make_notification: MakeNotification) -> None:
    without = start_smtp(enable_SMTPUTF8=False)
    with pytest.raises(PermanentDeliveryError, match="SMTPUTF8"):
        SmtpMailer(without.url()).deliver(make_notification(to_email="иван@пример.рф"))

    with_utf8 = start_smtp(enable_SMTPUTF8=True)
    SmtpMailer(with_utf8.url()).deliver(make_notification(to_email="иван@пример.рф"))
    [received] = with_utf8.handler.received
    assert received.rcpt_tos == ["иван@пример.рф"]


def test_missing_payload_key_is_permanent_and_sends_nothing(
        smtp_server: SmtpServer, make_notification: MakeNotification) -> None:
    with pytest.raises(PermanentDeliveryError, match="expires_minutes"):
        SmtpMailer(smtp_server.url()).deliver(make_notification(payload={"code": "1"}))
    assert smtp_server.handler.received == []


@pytest.mark.parametrize(("url", "complaint"), [
    ("", "scheme"),
    ("http://mail.example.com", "scheme"),
    ("mail.example.com:25", "scheme"),
    ("smtp://", "no host"),
    ("smtp://:25", "no host"),
    ("smtp://mail.example.com:99999", "port"),
    ("smtp://mail.example.com:abc", "port"),
    ("smtp://mail.example.com:0", "port"),
    ("smtp://mail.example.com/inbox", "path"),
    ("smtp://mail.example.com?tls=1", "query"),
    ("smtp://mailer@mail.example.com", "user:password"),
    ("smtp://:secret@mail.example.com", "user:password"),
])
def test_bad_urls_are_refused_at_construction(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        SmtpMailer(url)
    assert "secret" not in str(caught.value)


def test_url_forms_and_default_ports() -> None:
    assert parse_smtp_url("smtp://relay").port == 25
    assert parse_smtp_url("smtp+starttls://relay").port == 587
    assert parse_smtp_url("SMTPS://relay").port == 465
    config = parse_smtp_url("smtps://a%20b:p%40ss@relay:2465")
    assert (config.host, config.port, config.security) == ("relay", 2465, "tls")
    assert (config.username, config.password) == ("a b", "p@ss")
    assert "p@ss" not in repr(config)
    assert "p@ss" not in repr(SmtpMailer("smtp://u:p%40ss@relay"))


@pytest.mark.parametrize("sender", ["", "no-reply", "a@x, b@y", "Name <@card.coop>", "robot@"])
def test_bad_sender_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        SmtpMailer("smtp://relay", sender=sender)


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        SmtpMailer("smtp://relay", timeout=0)
