"""Notifications (issue #12): the reminder job (once per member and event, two instances at
once), delivery through the member's settings (email relayed by idp to the dev mailbox, Web
Push decrypted at a local push endpoint, RFC 8291), the centre's filters, and the settings
mirrored to Novu through novu-py."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from common.db import db
from portal import notify_center, push, reminders
from portal.cli import build_channels
from portal.models import Notification, Outbox, PortalMember, ReminderSent
from portal.services import services
from tests.idp.conftest import mails_to
from tests.portal.conftest import ChainSetup, member_with_accounts, signed_in_browser
from tests.portal.test_meetings import chain_time, csrf


def deliver(app: Flask) -> None:
    from common.outbox import deliver_claimed

    with app.app_context():
        deliver_claimed(db.session, Outbox, build_channels(), max_attempts=3)


def signed_in_member(setup: ChainSetup, meeting_in_days: float = 1) -> tuple[Any, str, str]:
    """A member of voskhod with a meeting soon and the minimum share not paid: (browser,
    email, card id)."""
    live, chain = setup.portal, setup.chain
    email, usernames = member_with_accounts(live.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"])
    chain.add_wallet("voskhod", usernames["voskhod"], "w.reg.minshr", "100.0000 RUB")
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(days=meeting_in_days)
    chain.add_meeting("voskhod", 7, open_at=chain_time(opens),
                      close_at=chain_time(opens + timedelta(days=7)), questions=2)
    browser = signed_in_browser(live.idp, email)
    assert browser.get(f"{live.url}/auth/login").status_code == 200
    with live.app.app_context():
        sub = db.session.scalars(select(PortalMember.sub)).one()
    return browser, email, sub


def test_two_reminder_jobs_at_once_remind_once_and_the_mail_arrives(
        chain_portal: ChainSetup) -> None:
    live = chain_portal.portal
    _, email, sub = signed_in_member(chain_portal)
    reports: list[reminders.Report] = []

    def job() -> None:
        with live.app.app_context():
            reports.append(reminders.run_once(services()))
            db.session.remove()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert sum(r.meetings for r in reports) == 1
    with live.app.app_context():
        kinds = sorted(db.session.scalars(select(Notification.kind).where(
            Notification.sub == sub)))
        sent = db.session.scalar(select(func.count()).select_from(ReminderSent))
    # The meeting at once; the contribution goes to the weekly digest (its default).
    assert kinds == ["contribution_due", "meeting_reminder"] and sent == 2
    # A third run finds both reminded.
    with live.app.app_context():
        again = reminders.run_once(services())
    assert (again.meetings, again.contributions) == (0, 0)
    deliver(live.app)
    mails = [m for m in mails_to(live.idp.app, email) if "собрание" in m.subject]
    assert len(mails) == 1 and "ПК ВОСХОД" in mails[0].body and "Вопросов в повестке: 2" in \
        mails[0].body


def test_settings_decide_the_channels(chain_portal: ChainSetup) -> None:
    live = chain_portal.portal
    browser, email, _sub = signed_in_member(chain_portal)
    page = browser.get(f"{live.url}/settings").text
    form = {"csrf_token": csrf(page), "meeting_reminder.in_app": "on",
            "meeting_reminder.frequency": "instant", "contribution_due.frequency": "weekly",
            "security.frequency": "instant", "access.frequency": "instant"}
    saved = browser.post(f"{live.url}/settings", data=form)
    assert saved.status_code == 200 and "Сохранено" in saved.text
    assert 'name="meeting_reminder.email" checked' not in saved.text
    with live.app.app_context():
        reminders.run_once(services())
        channels = list(db.session.scalars(select(Outbox.channel)))
    assert channels == []  # no email, no push chosen for meetings
    deliver(live.app)
    assert not [m for m in mails_to(live.idp.app, email) if "собрание" in m.subject]
    page = browser.get(f"{live.url}/notifications").text
    assert "Скоро общее собрание: ПК ВОСХОД" in page
    bad = browser.post(f"{live.url}/settings", data=form | {"security.frequency": "hourly"})
    assert bad.status_code == 400


def test_the_centre_filters_and_marks_read_only_the_members_own(
        chain_portal: ChainSetup) -> None:
    live = chain_portal.portal
    browser, _, _sub = signed_in_member(chain_portal)
    with live.app.app_context():
        reminders.run_once(services())
        notify_center.record("someone-else", "meeting_reminder", "other:1",
                             coopname="voskhod", params={"coop": "X", "opens": "y"})
        db.session.commit()
        theirs = db.session.scalar(select(Notification.id).where(
            Notification.sub == "someone-else"))
    page = browser.get(f"{live.url}/notifications").text
    assert page.count('class="row notice unread"') >= 2
    only_meetings = browser.get(f"{live.url}/notifications?kind=meeting_reminder").text
    assert 'data-kind="meeting_reminder"' in only_meetings
    assert 'data-kind="contribution_due"' not in only_meetings
    by_coop = browser.get(f"{live.url}/notifications?coop=nosuchcoop").text
    assert "Здесь ничего нет" in by_coop
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    assert "Здесь ничего нет" in browser.get(
        f"{live.url}/notifications?since={future}").text
    browser.post(f"{live.url}/notifications/read",
                 data={"csrf_token": csrf(page), "id": [str(theirs), "abc"]})
    with live.app.app_context():
        assert db.session.get(Notification, theirs).read_at is None
    browser.post(f"{live.url}/notifications/read", data={"csrf_token": csrf(page)})
    assert "Непрочитанных: 0" in browser.get(f"{live.url}/notifications?unread=1").text
    for junk in ("?before=abc", "?since=yesterday", "?kind=%3Cscript%3E", "?until=2026-13-40"):
        assert browser.get(f"{live.url}/notifications{junk}").status_code == 200


class LocalPushService:
    """A push service on 127.0.0.1 that keeps what it is sent, and the keys of the browser
    whose subscription points at it, so that the test can decrypt like the browser."""

    def __init__(self, server: HTTPServer) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.received: list[Request] = []
        server.expect_request("/push/abc", method="POST").respond_with_handler(self._keep)
        self.endpoint = server.url_for("/push/abc")

    def _keep(self, request: Request) -> Response:
        self.received.append(request)
        return Response(status=201)

    def subscription(self) -> dict[str, Any]:
        public = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}

    def decrypt(self, request: Request) -> dict[str, Any]:
        plain = http_ece.decrypt(request.get_data(), private_key=self.private,
                                 auth_secret=self.auth, version="aes128gcm")
        return dict(json.loads(plain))


def test_a_push_reaches_the_push_service_encrypted_and_decrypts(
        chain_portal: ChainSetup, httpserver: HTTPServer) -> None:
    live = chain_portal.portal
    browser, _, sub = signed_in_member(chain_portal)
    service = LocalPushService(httpserver)
    page = browser.get(f"{live.url}/settings").text
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    headers = {"X-CSRFToken": token}
    added = browser.post(f"{live.url}/settings/push", json=service.subscription(),
                         headers=headers)
    assert added.status_code == 201, added.text
    for bad in ({}, {"endpoint": "ftp://x", "keys": {}}, {"endpoint": service.endpoint,
                "keys": {"p256dh": "short", "auth": "x"}}, [], "x"):
        assert browser.post(f"{live.url}/settings/push", json=bad,
                            headers=headers).status_code == 400
    assert browser.post(f"{live.url}/settings/push", json=service.subscription()
                        ).status_code == 400  # no CSRF token
    with live.app.app_context():
        reminders.run_once(services())
    deliver(live.app)
    assert len(service.received) == 1
    request = service.received[0]
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["Authorization"].startswith("vapid t=")
    message = service.decrypt(request)
    assert message["kind"] == "meeting_reminder" and "ПК ВОСХОД" in message["title"]
    assert message["url"] == "/notifications"
    with live.app.app_context():
        assert push.subscriptions(sub) == 1


def test_settings_are_mirrored_to_novu(chain_portal: ChainSetup, make_portal: Any,
                                       httpserver: HTTPServer) -> None:
    """With Novu configured, saving the settings queues a mirror that the worker sends through
    novu-py: PATCH /v2/subscribers/{card id}/preferences per workflow."""
    seen: list[tuple[str, dict[str, Any], str]] = []

    def keep(request: Request) -> Response:
        seen.append((request.path, request.get_json(), request.headers.get("Authorization", "")))
        # What Novu answers (GetSubscriberPreferencesDto): the SDK validates it.
        answer = {"global": {"enabled": True, "channels": {"email": True, "inApp": True,
                                                             "push": True}},
                  "workflows": []}
        return Response(json.dumps(answer), status=200, content_type="application/json")

    httpserver.expect_request(re.compile(r"^/v2/subscribers/.+/preferences$"),
                                   method="PATCH").respond_with_handler(keep)
    live = chain_portal.portal
    _browser, _, sub = signed_in_member(chain_portal)
    novu_url = httpserver.url_for("/").rstrip("/")
    with live.app.app_context():
        settings = services().settings
    novu_portal = make_portal(**(settings.model_dump() | {
        "novu_api_url": novu_url, "novu_secret_key": "novu-test-key"}))
    with novu_portal.app_context():
        chosen = notify_center.parse_preferences({"meeting_reminder.email": "on",
                                                  "meeting_reminder.push": "on"})
        notify_center.save_preferences(sub, chosen)
        from portal.novu_preferences import queue_mirror

        queue_mirror(sub, chosen)
        db.session.commit()
    deliver(novu_portal)
    paths = sorted(path for path, _, _ in seen)
    assert paths == [f"/v2/subscribers/{sub}/preferences"] * 3  # the kinds idp mails
    bodies = {body["workflowId"]: body["channels"] for _, body, _ in seen}
    # The v2 API's field names, as the official SDK (generated from its OpenAPI) sends them.
    assert bodies["meeting-reminder"] == {"email": True, "in_app": False, "push": True}
    assert bodies["contribution-due"] == {"email": False, "in_app": False, "push": False}
    assert bodies["deposit-arrived"] == {"email": False, "in_app": False, "push": False}
    assert all(auth == "ApiKey novu-test-key" for _, _, auth in seen)


def test_a_contribution_that_arrived_is_told_once_and_the_cards_events_reach_the_centre(
        chain_portal: ChainSetup) -> None:
    live, chain, history = chain_portal.portal, chain_portal.chain, chain_portal.history
    email, usernames = member_with_accounts(live.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"])
    chain.add_wallet("voskhod", usernames["voskhod"], "w.reg.minshr", "900.0000 RUB")
    now = datetime.now(UTC).replace(microsecond=0)
    history.add_settled_deposit("voskhod", usernames["voskhod"], "1500.0000 RUB",
                                (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000"))
    # Settled long before the portal first saw the member: history, not news.
    history.add_settled_deposit("voskhod", usernames["voskhod"], "40.0000 RUB",
                                (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000"))
    browser = signed_in_browser(live.idp, email)
    assert browser.get(f"{live.url}/auth/login").status_code == 200
    with live.app.app_context():
        first = reminders.run_once(services())
        again = reminders.run_once(services())
    assert (first.deposits, again.deposits) == (1, 0)
    deliver(live.app)
    arrived = [m for m in mails_to(live.idp.app, email) if "взнос поступил" in m.subject]
    assert len(arrived) == 1 and re.search(r"1\s500,00\s₽", arrived[0].body)
    page = browser.get(f"{live.url}/notifications").text
    assert "Ваш паевой взнос в ПК ВОСХОД поступил: 1\xa0500,00\xa0₽" in page
    assert "40,00" not in page
    # The card's own events from idp's audit: a new card and a new cooperative account.
    assert "Карта пайщика выпущена" in page
    assert "К карте добавлен аккаунт в кооперативе" in page
    only_card = browser.get(f"{live.url}/notifications?kind=card").text
    assert "Карта пайщика выпущена" in only_card and "взнос в ПК ВОСХОД" not in only_card
    assert browser.get(f"{live.url}/notifications").text.count("Карта пайщика выпущена") == 1
