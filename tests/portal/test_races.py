"""The portal's refresh under a burst, against two worker processes behind the production
front (issue #12): many requests of one browser find the access token expired at once; exactly
one refreshes (idp would read a second use of the refresh token as theft and close the
member's session), the others wait for it and use the new token."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select

from common.db import db
from idp.models import AuthSession, RefreshToken
from idp.oauth import clients
from portal.idp_api import Tokens
from portal.models import PortalSession
from portal.services import services as portal_services
from tests.conftest import DATABASE_URL
from tests.e2e.conftest import LiveIdp
from tests.live import free_port, production_server
from tests.portal.conftest import member_with_card, signed_in_browser

pytestmark = pytest.mark.skipif(
    not DATABASE_URL, reason="several portal workers need PostgreSQL (a row lock); the "
                             "embedded SQLite default runs one worker")


def test_one_refresh_for_a_burst_of_requests_with_an_expired_token(
        live_idp: LiveIdp, make_portal: Any, base_settings: dict[str, Any],
        tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with live_idp.app.app_context():
        secret = clients.create_first_party("portal", [f"{url}/auth/callback"], [url], [],
                                            None).secret
    settings = base_settings | {"idp_url": live_idp.url, "portal_url": url,
                                "portal_client_secret": secret, "ratelimit_enabled": False}
    handle: Flask = make_portal(**settings)  # the test's own view of the portal's tables
    with production_server(settings, tmp_path, app="portal", port=port, workers=2) as server:
        email = member_with_card(live_idp)
        browser = signed_in_browser(live_idp, email)
        assert browser.get(f"{server.url}/auth/login").status_code == 200
        with handle.app_context():
            row = db.session.scalars(select(PortalSession)).one()
            sid = row.sid
            box = portal_services().idp.box
            tokens = box.open(row.tokens_encrypted)
            assert tokens is not None
            row.tokens_encrypted = box.seal(Tokens(tokens.access_token, tokens.refresh_token,
                                                   time.time() - 5, tokens.id_token))
            db.session.commit()
        cookies = dict(browser.cookies.items())
        barrier = Barrier(10)

        def one(_: int) -> int:
            with httpx.Client(cookies=cookies, timeout=60) as client:
                barrier.wait(timeout=30)
                return client.get(f"{server.url}/security").status_code

        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(one, range(10)))
        assert answers == [200] * 10, answers
        assert "unhandled" not in server.log()
    with live_idp.app.app_context():
        session = db.session.get(AuthSession, uuid.UUID(sid))
        rotated = db.session.scalar(select(func.count()).select_from(RefreshToken).where(
            RefreshToken.client_id == "portal", RefreshToken.rotated_at.is_not(None)))
    assert session.revoked_at is None and rotated == 1
