"""The outbox end to end: events queue notifications in their own transaction, the worker
delivers them over a real SMTP server and a Novu stub, retries, and gives up (issue #2)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from common.db import db, utcnow
from common.outbox import DEAD, PENDING, SENT, deliver_due
from idp.models import DevMail, Outbox
from idp.notifications import build_notifiers
from idp.services import services
from tests.conftest import random_email
from tests.live import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", inbox
    controller.stop()


def deliver(app):
    with app.app_context():
        return deliver_due(db.session, Outbox, build_notifiers(services().settings),
                           max_attempts=services().settings.outbox_max_attempts)


def start(client, email):
    return client.post("/auth/initiate-registration",
                       json={"email": email, "privacy_accepted": True})


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_code_goes_by_smtp_when_configured(make_app, smtp_server):
    url, inbox = smtp_server
    app = make_app(smtp_url=url)
    client = app.test_client()
    email = random_email()
    started = start(client, email)
    report = deliver(app)
    assert report.sent == 1
    [message] = inbox.messages
    assert message["To"] == email
    code = re.search(r"\b(\d{6})\b", subject(message)).group(1)
    assert code in message.get_payload(decode=True).decode()
    verified = client.post("/auth/verify-email",
                           json={"email": email, "code": code, "uuid": started.json["uuid"]})
    assert verified.status_code == 200
    with app.app_context():
        row = db.session.scalar(select(Outbox))
        assert row.status == SENT and row.channel == "smtp"
        assert row.payload == {}  # the code is not kept once delivered
        assert db.session.scalar(select(DevMail)) is None  # no dev mailbox when SMTP is set


def test_novu_gets_the_event(make_app, httpserver):
    httpserver.expect_oneshot_request(
        "/v1/events/trigger", method="POST",
        headers={"Authorization": "ApiKey novu-test-key"},
    ).respond_with_json({"data": {"acknowledged": True}}, status=201)
    app = make_app(novu_api_url=httpserver.url_for("/").rstrip("/"),
                   novu_secret_key="novu-test-key")
    email = random_email()
    start(app.test_client(), email)
    assert deliver(app).sent == 1
    httpserver.check_assertions()
    [(request, _)] = httpserver.log
    body = json.loads(request.data)
    assert body["name"] == "registration-code"
    assert body["to"]["email"] == email
    assert re.fullmatch(r"\d{6}", body["payload"]["code"])
    assert body["transactionId"]


def test_novu_down_loses_nothing_and_retries_with_backoff(make_app):
    app = make_app(novu_api_url=f"http://127.0.0.1:{free_port()}", novu_secret_key="k",
                   outbox_max_attempts=3)
    email = random_email()
    start(app.test_client(), email)
    first = deliver(app)
    assert first.retried == 1 and first.sent == 0
    with app.app_context():
        row = db.session.scalar(select(Outbox))
        assert row.status == PENDING and row.attempts == 1
        assert row.next_attempt_at > utcnow() + timedelta(seconds=3)
        assert row.payload["code"]  # still there for the next try
    assert deliver(app).retried == 0  # not due yet

    with app.app_context():
        for _ in range(2):
            row = db.session.scalar(select(Outbox))
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            deliver_due(db.session, Outbox, build_notifiers(services().settings), max_attempts=3)
        row = db.session.scalar(select(Outbox))
        assert row.status == DEAD and row.attempts == 3 and row.last_error


def test_rolled_back_event_sends_nothing(app, client):
    refused = client.post("/auth/initiate-registration",
                          json={"email": random_email(), "privacy_accepted": False})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Outbox)) is None


def test_worker_command_delivers_once(app, client):
    email = random_email()
    start(client, email)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    with app.app_context():
        mail = db.session.scalar(select(DevMail).where(DevMail.to_email == email))
        assert mail is not None and re.search(r"\d{6}", mail.subject)


def test_dev_mailbox_page_shows_the_code(app, client):
    email = random_email()
    start(client, email)
    app.test_cli_runner().invoke(args=["worker", "--once"])
    page = client.get("/dev/mailbox")
    assert page.status_code == 200 and email in page.text
    assert re.search(r"Код подтверждения card.coop: \d{6}", page.text)
    listed = client.get(f"/dev/mailbox.json?to={email}").json["messages"]
    assert len(listed) == 1 and listed[0]["to"] == email


def test_dev_mailbox_is_absent_with_a_real_channel(make_app, smtp_server):
    app = make_app(smtp_url=smtp_server[0])
    assert app.test_client().get("/dev/mailbox").status_code == 404


def test_worker_once_drains_more_than_one_batch(app, client):
    emails = [random_email() for _ in range(25)]  # more than one batch of 20
    for email in emails:
        start(client, email)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "sent 25" in result.output
    with app.app_context():
        assert db.session.scalar(select(Outbox).where(Outbox.status == PENDING)) is None
