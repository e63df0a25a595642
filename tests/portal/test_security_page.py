"""Access and security through idp's member API (issue #12): grants and devices revoked from
the portal, the session log; forms need the session's CSRF token; ids that are not the
member's own answer like ids that do not exist."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy import func, select

from common.db import db
from idp.oauth import backchannel
from portal.models import PortalSession
from tests.portal.conftest import LivePortal, member_with_card, signed_in_browser

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def signed_in_portal(live: LivePortal, email: str) -> httpx.Client:
    browser = signed_in_browser(live.idp, email, user_agent=CHROME)
    assert browser.get(f"{live.url}/auth/login").status_code == 200
    return browser


def test_the_security_page_lists_devices_and_the_sign_in_log(live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_portal(live_portal, email)
    page = browser.get(f"{live_portal.url}/security").text
    assert "Chrome 131" in page and "Windows 10" in page and "это устройство" in page
    assert 'data-event="signed_in"' in page and "Вход на сайт" in page
    # No error codes or internal names on the member's screen.
    assert "insufficient_scope" not in page and "signed_in<" not in page


def test_signing_out_this_device_ends_the_idp_session_and_the_portals(
        live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_portal(live_portal, email)
    page = browser.get(f"{live_portal.url}/security").text
    session_id = re.search(r'/security/sessions/([0-9a-f-]{36})/revoke', page).group(1)
    done = browser.post(f"{live_portal.url}/security/sessions/{session_id}/revoke",
                        data={"csrf_token": csrf(page)}, follow_redirects=False)
    assert done.status_code == 303
    # idp told the portal by back-channel logout: the portal session is gone too.
    backchannel.drain()
    with live_portal.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PortalSession)) == 0
    again = browser.get(f"{live_portal.url}/", follow_redirects=False)
    assert again.status_code == 200 and "Войти с картой пайщика" in again.text


def test_a_form_without_the_csrf_token_changes_nothing(live_portal: LivePortal) -> None:
    email = member_with_card(live_portal.idp)
    browser = signed_in_portal(live_portal, email)
    page = browser.get(f"{live_portal.url}/security").text
    session_id = re.search(r'/security/sessions/([0-9a-f-]{36})/revoke', page).group(1)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf(page) + "x"}):
        refused = browser.post(f"{live_portal.url}/security/sessions/{session_id}/revoke",
                               data=data)
        assert refused.status_code == 400 and "Страница устарела" in refused.text
    assert "это устройство" in browser.get(f"{live_portal.url}/security").text


def test_someone_elses_or_a_malformed_id_changes_nothing(live_portal: LivePortal) -> None:
    mine = signed_in_portal(live_portal, member_with_card(live_portal.idp))
    theirs = signed_in_portal(live_portal, member_with_card(live_portal.idp))
    their_page = theirs.get(f"{live_portal.url}/security").text
    their_session = re.search(r'/security/sessions/([0-9a-f-]{36})/revoke', their_page).group(1)
    token = csrf(mine.get(f"{live_portal.url}/security").text)
    answer = mine.post(f"{live_portal.url}/security/sessions/{their_session}/revoke",
                       data={"csrf_token": token})
    assert answer.status_code == 200 and "Это уже было завершено" in answer.text
    for bad in ("not-a-uuid", "1" * 300):
        assert mine.post(f"{live_portal.url}/security/grants/{bad}/revoke",
                         data={"csrf_token": token}).status_code == 404
    # A control character is refused before any view (common/inputs.py).
    assert mine.post(f"{live_portal.url}/security/grants/%00/revoke",
                     data={"csrf_token": token}).status_code == 400
    gone = mine.post(f"{live_portal.url}/security/grants/{uuid.uuid4()}/revoke",
                     data={"csrf_token": token})
    assert "Это уже было завершено" in gone.text
    assert "это устройство" in theirs.get(f"{live_portal.url}/security").text


def test_pages_need_a_signed_in_member(live_portal: LivePortal) -> None:
    anonymous = httpx.Client(timeout=20)
    assert anonymous.get(f"{live_portal.url}/security").status_code == 303
    assert anonymous.post(f"{live_portal.url}/security/sessions/{uuid.uuid4()}/revoke"
                          ).status_code == 400  # no CSRF token: refused before anything
    landing = anonymous.get(f"{live_portal.url}/")
    assert landing.status_code == 200 and "set-cookie" not in landing.headers
    missing = anonymous.get(f"{live_portal.url}/nothing-here")
    assert missing.status_code == 404 and "Страница не найдена" in missing.text
