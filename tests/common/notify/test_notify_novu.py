"""NovuNotifier over HTTP against a local stub (pytest-httpserver) that checks method, path,
headers and the exact JSON body."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from common.notify import (
    NOVU_WORKFLOW_IDS,
    DeliveryError,
    Notification,
    NotificationKind,
    NovuNotifier,
    PermanentDeliveryError,
)
from common.notify.messages import OPTIONAL, REQUIRED

MakeNotification = Callable[..., Notification]
KEY = "nv_secret_5f2c9a"
ACCEPTED = {"data": {"acknowledged": True, "status": "processed", "transactionId": "outbox-1"}}


@pytest.fixture
def novu(httpserver: HTTPServer) -> NovuNotifier:
    return NovuNotifier(httpserver.url_for("/"), KEY, timeout=2)


def expect_trigger(httpserver: HTTPServer, body: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, prefix: str = "") -> Any:
    return httpserver.expect_oneshot_request(
        f"{prefix}/v1/events/trigger", method="POST",
        headers={"Authorization": f"ApiKey {KEY}", "Content-Type": "application/json",
                 **(headers or {})},
        **({"json": body} if body is not None else {}))


def test_triggers_the_workflow_with_the_exact_body(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    notification = make_notification(payload={"code": "482913", "expires_minutes": "15"},
                                     subscriber_id="ivan.petrov@example.com")
    expect_trigger(httpserver, headers={"Idempotency-Key": "outbox-1"}, body={
        "name": "registration-code",
        "to": {"subscriberId": "ivan.petrov@example.com", "email": "ivan.petrov@example.com",
               "locale": "ru"},
        "payload": {"code": "482913", "expires_minutes": "15"},
        "transactionId": "outbox-1",
    }).respond_with_json(ACCEPTED, status=201)

    novu.deliver(notification, idempotency_key="outbox-1")

    httpserver.check_assertions()


def test_without_a_key_there_is_no_transaction_id(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    expect_trigger(httpserver, body={
        "name": "password-changed",
        "to": {"subscriberId": "member-1", "email": "ivan.petrov@example.com", "locale": "en"},
        "payload": {"at": "2025-11-27T10:05:00Z"},
    }).respond_with_json(ACCEPTED, status=201)

    novu.deliver(make_notification(NotificationKind.PASSWORD_CHANGED, locale="en_GB",
                                   payload={"at": "2025-11-27T10:05:00Z"}))

    httpserver.check_assertions()
    [(request, _)] = httpserver.log
    assert "Idempotency-Key" not in request.headers


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_kebab_case_workflow(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification,
        kind: NotificationKind) -> None:
    assert NOVU_WORKFLOW_IDS[kind] == kind.value.replace("_", "-")
    httpserver.expect_oneshot_request("/v1/events/trigger", method="POST").respond_with_json(
        ACCEPTED, status=201)

    novu.deliver(make_notification(kind), idempotency_key=f"k-{kind.value}")

    [(request, _)] = httpserver.log
    assert request.get_json()["name"] == NOVU_WORKFLOW_IDS[kind]


def test_access_granted_sends_the_cooperative_as_given(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    payload = {"coop": "ПК ВОСХОД", "coopname": "voskhod", "at": "2025-11-27T10:05:00Z",
               "fields": "имя, email"}
    expect_trigger(httpserver, body={
        "name": "access-granted",
        "to": {"subscriberId": "member-1", "email": "ivan.petrov@example.com", "locale": "ru"},
        "payload": payload,
        "transactionId": "outbox-7",
    }).respond_with_json(ACCEPTED, status=201)

    novu.deliver(make_notification(NotificationKind.ACCESS_GRANTED, payload=payload),
                 idempotency_key="outbox-7")

    httpserver.check_assertions()


def test_access_revoked_without_the_cooperative_is_permanent_and_sends_nothing(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    with pytest.raises(PermanentDeliveryError, match=r"access_revoked .*: coop$"):
        novu.deliver(make_notification(NotificationKind.ACCESS_REVOKED, payload={
            "coopname": "voskhod", "at": "2025-11-27T10:05:00Z"}))
    assert httpserver.log == []


def _documented_workflows() -> dict[str, set[str]]:
    """docs/notifications.md's workflow table: workflow id -> the payload keys it lists."""
    docs = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
    rows: dict[str, set[str]] = {}
    for line in docs.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`[a-z-]+`", cells[1]):
            rows[cells[1].strip("`")] = set(re.findall(r"`([a-z_]+)`", cells[2]))
    return rows


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_workflow_is_documented_with_its_payload(kind: NotificationKind) -> None:
    documented = _documented_workflows()
    assert NOVU_WORKFLOW_IDS[kind] in documented
    keys = documented[NOVU_WORKFLOW_IDS[kind]]
    assert set(REQUIRED[kind]) <= keys
    assert keys <= set(REQUIRED[kind]) | set(OPTIONAL)


def test_keeps_a_path_prefix(httpserver: HTTPServer,
                             make_notification: MakeNotification) -> None:
    expect_trigger(httpserver, prefix="/api").respond_with_data("", status=204)
    NovuNotifier(httpserver.url_for("/api/"), KEY).deliver(make_notification())
    httpserver.check_assertions()


def test_uses_the_given_session(httpserver: HTTPServer,
                                make_notification: MakeNotification) -> None:
    session = requests.Session()
    session.headers["User-Agent"] = "cardcoop-worker/1"
    expect_trigger(httpserver, headers={"User-Agent": "cardcoop-worker/1"}).respond_with_json(
        ACCEPTED, status=201)

    NovuNotifier(httpserver.url_for("/"), KEY, session=session).deliver(make_notification())

    httpserver.check_assertions()


@pytest.mark.parametrize("status", [500, 502, 503, 429, 409, 408])
def test_server_trouble_and_throttling_are_transient(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification,
        status: int) -> None:
    expect_trigger(httpserver).respond_with_json({"statusCode": status, "message": "busy"},
                                                 status=status)
    with pytest.raises(DeliveryError, match=str(status)) as caught:
        novu.deliver(make_notification(), idempotency_key="outbox-1")
    assert not isinstance(caught.value, PermanentDeliveryError)


@pytest.mark.parametrize(("header", "expected"), [
    ("7", (7.0, 7.0)),
    ("<an HTTP date 60 s from now>", (55.0, 61.0)),
    ("Wed, 21 Oct 2015 07:28:00 GMT", (0.0, 0.0)),
    ("soon", None),
])
def test_retry_after_is_passed_on(httpserver: HTTPServer, novu: NovuNotifier,
                                  make_notification: MakeNotification, header: str,
                                  expected: tuple[float, float] | None) -> None:
    if header.startswith("<"):  # made here, not at collection: the suite may run for minutes
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    expect_trigger(httpserver).respond_with_data("", status=503, headers={"Retry-After": header})
    with pytest.raises(DeliveryError) as caught:
        novu.deliver(make_notification())
    if expected is None:
        assert caught.value.retry_after is None
    else:
        assert caught.value.retry_after is not None
        assert expected[0] <= caught.value.retry_after <= expected[1]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_permanent(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification,
        status: int) -> None:
    expect_trigger(httpserver).respond_with_json(
        {"statusCode": status, "message": ["to.email ivan.petrov@example.com is invalid"]},
        status=status)

    with pytest.raises(PermanentDeliveryError) as caught:
        novu.deliver(make_notification(), idempotency_key="outbox-1")

    text = str(caught.value)
    assert str(status) in text and "is invalid" in text
    assert "ivan.petrov@example.com" not in text and KEY not in text and "482913" not in text


def test_a_used_transaction_id_means_already_delivered(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    duplicate = {"statusCode": 400, "message": "transactionId property is not unique, please "
                 "make sure all triggers have a unique transactionId"}
    expect_trigger(httpserver).respond_with_json(duplicate, status=400)
    novu.deliver(make_notification(), idempotency_key="outbox-1")

    # Without a key of ours the same answer cannot be a retry of ours.
    expect_trigger(httpserver).respond_with_json(duplicate, status=400)
    with pytest.raises(PermanentDeliveryError):
        novu.deliver(make_notification())


@pytest.mark.parametrize("outcome", ["trigger_not_active", "no_workflow_active_steps_defined",
                                     "invalid_recipients", "error"])
def test_accepted_but_not_sent_is_permanent(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification,
        outcome: str) -> None:
    expect_trigger(httpserver).respond_with_json(
        {"data": {"acknowledged": True, "status": outcome}}, status=201)
    with pytest.raises(PermanentDeliveryError, match=outcome):
        novu.deliver(make_notification())


def test_accepted_with_an_unexpected_body_is_ok(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    expect_trigger(httpserver).respond_with_data("OK", status=201, content_type="text/plain")
    novu.deliver(make_notification())
    httpserver.check_assertions()


def test_a_redirect_is_not_followed(httpserver: HTTPServer, novu: NovuNotifier,
                                    make_notification: MakeNotification) -> None:
    expect_trigger(httpserver).respond_with_data(
        "", status=301, headers={"Location": "https://elsewhere.example/v1/events/trigger"})
    with pytest.raises(DeliveryError, match="301") as caught:
        novu.deliver(make_notification())
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert len(httpserver.log) == 1


def test_timeout_is_transient(httpserver: HTTPServer,
                              make_notification: MakeNotification) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", status=201)

    expect_trigger(httpserver).respond_with_handler(slow)
    with pytest.raises(DeliveryError, match="did not answer") as caught:
        NovuNotifier(httpserver.url_for("/"), KEY, timeout=0.2).deliver(make_notification())
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_nothing_listening_is_transient(unused_port: int,
                                        make_notification: MakeNotification) -> None:
    with pytest.raises(DeliveryError) as caught:
        NovuNotifier(f"http://127.0.0.1:{unused_port}", KEY, timeout=2).deliver(
            make_notification())
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_missing_payload_key_is_permanent_and_sends_nothing(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification) -> None:
    with pytest.raises(PermanentDeliveryError, match="user_agent"):
        novu.deliver(make_notification(NotificationKind.NEW_DEVICE_LOGIN,
                                       payload={"at": "now", "ip": "203.0.113.7"}))
    assert httpserver.log == []


def test_secret_and_payload_never_logged(
        httpserver: HTTPServer, novu: NovuNotifier, make_notification: MakeNotification,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    expect_trigger(httpserver).respond_with_json(ACCEPTED, status=201)
    expect_trigger(httpserver).respond_with_json({"message": "nope"}, status=401)

    novu.deliver(make_notification(), idempotency_key="outbox-1")
    with pytest.raises(PermanentDeliveryError):
        novu.deliver(make_notification(), idempotency_key="outbox-2")

    logged = caplog.text + "".join(repr(record.__dict__) for record in caplog.records)
    assert KEY not in logged and "482913" not in logged
    assert KEY not in repr(novu)


@pytest.mark.parametrize(("url", "key", "complaint"), [
    ("api.novu.co", KEY, "URL"),
    ("ftp://api.novu.co", KEY, "URL"),
    ("https://", KEY, "URL"),
    ("https://api.novu.co?x=1", KEY, "query"),
    ("https://api.novu.co", "  ", "secret key"),
])
def test_bad_configuration_is_refused(url: str, key: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        NovuNotifier(url, key)


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        NovuNotifier("https://api.novu.co", KEY, timeout=-1)
