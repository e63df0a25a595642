"""Analytics (issue #12): the member's own activity per week from idp's history; for operators
(portal_admins) the portal's counts per day and week, as a page and as CSV; nobody else sees
the operators' page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from common.db import db
from idp.oauth import clients
from portal.models import PortalSession
from tests.live import free_port, serving
from tests.portal.conftest import LivePortal, member_with_card, signed_in_browser


def test_the_member_sees_their_own_activity(live_portal: LivePortal) -> None:
    browser = signed_in_browser(live_portal.idp, member_with_card(live_portal.idp))
    browser.get(f"{live_portal.url}/auth/login")
    page = browser.get(f"{live_portal.url}/analytics").text
    assert "Входы по неделям" in page and "<svg" in page
    # This week: the portal sign-in is in the table's last row.
    last = page.rsplit('<tr><td>', 1)[1]
    assert "</td><td>1</td>" in last or "</td><td>2</td>" in last
    assert browser.get(f"{live_portal.url}/admin/analytics").status_code == 404
    assert browser.get(f"{live_portal.url}/admin/analytics.csv").status_code == 404


def test_operators_see_counts_and_export_them(live_idp: Any, make_portal: Any) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with live_idp.app.app_context():
        secret = clients.create_first_party("portal", [f"{url}/auth/callback"], [url], [],
                                            None).secret
    # The operator's card id is only known after the sign-in: sign in once, then configure.
    email = member_with_card(live_idp)
    first = make_portal(idp_url=live_idp.url, portal_url=url, portal_client_secret=secret)
    with serving(first, port):
        browser = signed_in_browser(live_idp, email)
        browser.get(f"{url}/auth/login")
        browser.get(f"{url}/")
    with first.app_context():
        admin = db.session.scalars(select(PortalSession.sub)).one()
    second = make_portal(idp_url=live_idp.url, portal_url=url, portal_client_secret=secret,
                         portal_admins=(admin,))
    with serving(second, port):
        page = browser.get(f"{url}/admin/analytics").text
        assert "Активные пайщики по неделям" in page
        exported = browser.get(f"{url}/admin/analytics.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    today = datetime.now(UTC).date().isoformat()
    mine = [r for r in rows if r["day"] == today]
    assert len(rows) == 30 and mine == [{**mine[0], "active_members": "1", "sign_ins": "1"}]
    assert admin not in exported.text and email not in exported.text  # counts, not people
