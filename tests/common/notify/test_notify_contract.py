"""The contract every Notifier adapter keeps (DESIGN.md §3: one suite per port, every adapter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from pytest_httpserver import HTTPServer

from common.notify import (
    ConsoleNotifier,
    Notification,
    NotificationKind,
    Notifier,
    NovuNotifier,
    PermanentDeliveryError,
    SmtpMailer,
)

if TYPE_CHECKING:
    from conftest import SmtpServer

MakeNotification = Callable[..., Notification]


@pytest.fixture(params=["console", "smtp", "novu"])
def notifier(request: pytest.FixtureRequest, httpserver: HTTPServer) -> Notifier:
    if request.param == "console":
        return ConsoleNotifier()
    if request.param == "smtp":
        server: SmtpServer = request.getfixturevalue("smtp_server")
        return SmtpMailer(server.url())
    httpserver.expect_request("/v1/events/trigger", method="POST").respond_with_json(
        {"data": {"acknowledged": True, "status": "processed"}}, status=201)
    return NovuNotifier(httpserver.url_for("/"), "nv_contract_key")


def test_is_a_notifier_with_a_channel_name(notifier: Notifier) -> None:
    assert isinstance(notifier, Notifier)
    assert notifier.channel in {"console", "smtp", "novu"}


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_delivers_every_kind(notifier: Notifier, make_notification: MakeNotification,
                             locale: str) -> None:
    for kind in NotificationKind:
        notifier.deliver(make_notification(kind, locale=locale))
        notifier.deliver(make_notification(kind, locale=locale), idempotency_key=f"k-{kind}")


def test_missing_payload_is_permanent(notifier: Notifier,
                                      make_notification: MakeNotification) -> None:
    with pytest.raises(PermanentDeliveryError, match="expires_minutes"):
        notifier.deliver(make_notification(payload={"code": "123456"}))
