"""ConsoleNotifier: one line per notification, never the payload."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from common.notify import ConsoleNotifier, Notification, NotificationKind, Notifier

MakeNotification = Callable[..., Notification]


def test_logs_kind_and_masked_address_never_the_code(
        make_notification: MakeNotification, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cardcoop.notify")

    ConsoleNotifier().deliver(make_notification(), idempotency_key="outbox-9")

    [record] = caplog.records
    assert record.name == "cardcoop.notify"
    assert record.levelno == logging.INFO
    line = record.getMessage()
    assert "registration_code" in line and "i***@example.com" in line and "outbox-9" in line
    # Not in the formatted line, and not in the record's arguments either (a JSON log formatter
    # might print those).
    everything = caplog.text + repr(record.__dict__)
    assert "482913" not in everything
    assert "ivan.petrov@example.com" not in everything


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_no_payload_value_is_ever_logged(make_notification: MakeNotification,
                                         caplog: pytest.LogCaptureFixture,
                                         full_payload: dict[str, str],
                                         kind: NotificationKind) -> None:
    caplog.set_level(logging.DEBUG)
    ConsoleNotifier().deliver(make_notification(kind))
    logged = " ".join(f"{record.getMessage()} {record.args!r}" for record in caplog.records)
    for value in full_payload.values():
        assert value not in logged


def test_is_a_notifier() -> None:
    notifier: Notifier = ConsoleNotifier()
    assert notifier.channel == "console"
    assert isinstance(notifier, Notifier)
