"""Limits and one-time values under parallel requests (issue #8), against the production server
command with several worker processes on the test database: every burst starts at a barrier, so
the requests really meet inside the server. Sequential behaviour is tested beside each feature;
here each counter must hold exactly as it does sequentially, with no 5xx and nothing
half-written."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from common.db import db
from idp.models import AuthSession, Outbox, RefreshToken, Registration, SigningKey
from idp.models import Member as MemberRow
from idp.oauth import clients
from idp.oauth.models import Grant
from idp.services import services
from tests.conftest import random_email
from tests.idp.conftest import last_code, new_hash_key, register
from tests.idp.oauth_flow import (
    auth_request,
    card_holder,
    make_client,
    pkce,
    share_body,
    ticket_for,
)
from tests.live import Server, production_server

THRESHOLD = 10  # the lockout's default: ten wrong passwords in the window
CODE_TRIES = 5  # code_max_attempts' default


@dataclass
class Race:
    app: Flask  # the test's own handle on the server's database
    server: Server

    def burst(self, requests_: list[Callable[[requests.Session], requests.Response]]
              ) -> list[requests.Response]:
        """Send all at once: each on its own connection, released together by a barrier."""
        barrier = threading.Barrier(len(requests_))

        def one(send: Callable[[requests.Session], requests.Response]) -> requests.Response:
            with requests.Session() as session:
                barrier.wait(timeout=30)
                return send(session)

        with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
            return list(pool.map(one, requests_))

    def post(self, path: str, body: dict[str, Any]
             ) -> Callable[[requests.Session], requests.Response]:
        return lambda s: s.post(self.server.url + path, json=body, timeout=60)

    def assert_no_server_errors(self, responses: list[requests.Response]) -> None:
        errors = [r for r in responses if r.status_code >= 500]
        assert not errors, [(r.status_code, r.text[:200]) for r in errors]
        assert "unhandled" not in self.server.log(), self.server.log()[-3000:]


def statuses(responses: list[requests.Response]) -> Counter[tuple[int, str]]:
    return Counter((r.status_code, r.json().get("error", "") if r.status_code >= 400 else "")
                   for r in responses)


@pytest.fixture
def race(make_app: Callable[..., Flask], base_settings: dict[str, Any],
         tmp_path: Path) -> Iterator[Race]:
    settings = {"ratelimit_enabled": False, "dev_mailbox": True, "code_resend_interval": 0}
    app = make_app(**settings)
    with production_server(base_settings | settings, tmp_path, workers=2) as server:
        yield Race(app, server)


def test_parallel_wrong_passwords_are_judged_at_most_threshold_times(race: Race) -> None:
    member = register(race.app, race.app.test_client())
    attempts = [requests.post(race.server.url + "/auth/initiate-login",
                              json={"email": member.email}, timeout=30).json()["uuid"]
                for _ in range(3 * THRESHOLD)]
    wrong = [race.post("/auth/complete-login", {"email": member.email, "hashKey": new_hash_key(),
                                                "uuid": uuid}) for uuid in attempts]
    responses = race.burst(wrong)
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(401, "invalid_credentials"): THRESHOLD,
                                   (429, "account_locked"): 2 * THRESHOLD}
    # Locked: the right password is refused now, and the member was told exactly once.
    started = requests.post(race.server.url + "/auth/initiate-login",
                            json={"email": member.email}, timeout=30).json()
    right = requests.post(race.server.url + "/auth/complete-login", timeout=30, json={
        "email": member.email, "hashKey": member.hash_key, "uuid": started["uuid"]})
    assert right.status_code == 429 and right.json()["error"] == "account_locked"
    assert int(right.headers["Retry-After"]) > 60
    with race.app.app_context():
        locked_mails = db.session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.kind == "account_locked"))
    assert locked_mails == 1


def test_the_right_password_among_parallel_wrong_ones_buys_no_extra_guesses(race: Race) -> None:
    member = register(race.app, race.app.test_client())
    uuids = [requests.post(race.server.url + "/auth/initiate-login", json={"email": member.email},
                           timeout=30).json()["uuid"] for _ in range(3 * THRESHOLD)]
    keys = [new_hash_key() for _ in range(3 * THRESHOLD - 1)] + [member.hash_key]
    responses = race.burst([race.post("/auth/complete-login", {
        "email": member.email, "hashKey": key, "uuid": uuid}) for key, uuid in zip(
        keys, uuids, strict=True)])
    race.assert_no_server_errors(responses)
    counts = statuses(responses)
    assert set(counts) <= {(401, "invalid_credentials"), (200, ""), (429, "account_locked")}
    wrong = counts[(401, "invalid_credentials")]
    # As in some sequential order: without the owner's success the tenth wrong one locks; the
    # owner's success (which must come before the tenth) starts the count afresh, and at most
    # ten more are judged after it.
    if counts[(200, "")]:
        assert wrong <= 2 * THRESHOLD - 1, counts
    else:
        assert wrong == THRESHOLD, counts


def test_a_login_attempt_is_used_once_under_a_burst(race: Race) -> None:
    member = register(race.app, race.app.test_client())
    uuid = requests.post(race.server.url + "/auth/initiate-login", json={"email": member.email},
                         timeout=30).json()["uuid"]
    body = {"email": member.email, "hashKey": member.hash_key, "uuid": uuid}
    responses = race.burst([race.post("/auth/complete-login", body) for _ in range(12)])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(200, ""): 1, (400, "login_attempt_spent"): 11}


def _start_registration(race: Race) -> tuple[str, str]:
    email = random_email("race")
    started = requests.post(race.server.url + "/auth/initiate-registration", timeout=30,
                            json={"email": email, "privacy_accepted": True})
    assert started.status_code == 200, started.text
    return email, started.json()["uuid"]


def test_parallel_wrong_email_codes_are_judged_at_most_the_limit(race: Race) -> None:
    email, uuid = _start_registration(race)
    code = last_code(race.app, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    responses = race.burst([race.post("/auth/verify-email", {
        "email": email, "code": wrong, "uuid": uuid}) for _ in range(6 * CODE_TRIES)])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(400, "invalid_code"): CODE_TRIES,
                                   (410, "too_many_attempts"): 5 * CODE_TRIES}
    late = requests.post(race.server.url + "/auth/verify-email", timeout=30,
                         json={"email": email, "code": code, "uuid": uuid})
    assert late.status_code == 410  # even the right code: the attempt is spent


def test_parallel_resends_send_each_allowed_code_once(race: Race) -> None:
    email, uuid = _start_registration(race)  # the first of five codes
    responses = race.burst([race.post("/auth/resend-code", {"email": email, "uuid": uuid})
                            for _ in range(12)])
    race.assert_no_server_errors(responses)
    counts = statuses(responses)
    assert counts[(200, "")] == 4, counts  # five sends in all
    assert set(counts) <= {(200, ""), (429, "too_many_sends"), (429, "resend_too_soon")}
    with race.app.app_context():
        row = db.session.scalar(select(Registration).where(Registration.email == email))
        assert row is not None and row.sends == 5
        codes = db.session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.kind == "registration_code", Outbox.to_email == email))
    assert codes == 5


def test_a_registration_completes_once_under_a_burst(race: Race) -> None:
    email, uuid = _start_registration(race)
    verified = requests.post(race.server.url + "/auth/verify-email", timeout=30, json={
        "email": email, "code": last_code(race.app, email), "uuid": uuid})
    assert verified.status_code == 200, verified.text
    responses = race.burst([race.post("/auth/complete-registration", {
        "email": email, "hashKey": new_hash_key(), "uuid": uuid}) for _ in range(10)])
    race.assert_no_server_errors(responses)
    counts = statuses(responses)
    assert counts[(201, "")] == 1, counts
    assert set(counts) <= {(201, ""), (409, "already_completed"), (409, "already_registered")}
    with race.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MemberRow).where(
            MemberRow.email == email)) == 1


def test_parallel_recovery_tries_are_judged_at_most_the_limit(race: Race) -> None:
    # An address without an account gets an attempt like any other, and it counts the same.
    email = random_email("nobody")
    started = requests.post(race.server.url + "/auth/recovery/initiate", timeout=30,
                            json={"email": email})
    assert started.status_code == 200, started.text
    body = {"email": email, "uuid": started.json()["uuid"], "code": "123456",
            "recovery_auth": new_hash_key()}
    responses = race.burst([race.post("/auth/recovery/verify", body)
                            for _ in range(6 * CODE_TRIES)])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(400, "invalid_recovery"): CODE_TRIES,
                                   (410, "too_many_attempts"): 5 * CODE_TRIES}


def test_a_ticket_is_exchanged_once_under_a_burst(race: Race) -> None:
    client: FlaskClient = race.app.test_client()
    coop = make_client(race.app)
    holder = card_holder(race.app, client, "voskhod")
    verifier, challenge = pkce()
    ticket = ticket_for(race.app, client, holder, auth_request(challenge=challenge))
    body = {"ticket": ticket, "code_verifier": verifier, "client_id": coop.client_id,
            "client_secret": coop.secret, "redirect_uri": "https://coop.example/callback"}
    responses = race.burst([race.post("/access/exchange-ticket", body) for _ in range(10)])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(200, ""): 1, (400, "invalid_grant"): 9}


def test_workers_starting_together_make_one_signing_key_per_algorithm(
        make_app: Callable[..., Flask], base_settings: dict[str, Any], tmp_path: Path) -> None:
    app = make_app()
    with app.app_context():
        db.session.execute(delete(SigningKey))
        db.session.commit()
    settings = base_settings | {"ratelimit_enabled": False}
    with production_server(settings, tmp_path, workers=3) as server:
        race = Race(app, server)
        # Every worker is asked at once for what needs both keys (the JWKS makes the RSA one).
        responses = race.burst([lambda s: s.get(server.url + "/.well-known/jwks.json", timeout=60)
                                for _ in range(24)])
        race.assert_no_server_errors(responses)
        kids = {tuple(sorted(k["kid"] for k in r.json()["keys"])) for r in responses}
    with app.app_context():
        active = db.session.execute(select(SigningKey.alg, func.count()).where(
            SigningKey.retired_at.is_(None)).group_by(SigningKey.alg)).all()
        assert sorted(active) == [("ES256", 1), ("RS256", 1)]
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 2
        services().tokens.verifying_keys()  # the test's own process sees the same two
    assert kids == {tuple(sorted(k["kid"] for k in responses[0].json()["keys"]))}


def test_a_refresh_token_rotates_once_and_a_parallel_replay_closes_the_session_once(
        race: Race) -> None:
    member = register(race.app, race.app.test_client())
    token = member.tokens["refreshToken"]
    responses = race.burst([race.post("/auth/refresh-token", {"refreshToken": token})
                            for _ in range(12)])
    race.assert_no_server_errors(responses)
    counts = statuses(responses)
    assert counts[(200, "")] == 1, counts
    assert set(counts) <= {(200, ""), (401, "token_reused"), (401, "invalid_token")}
    with race.app.app_context():
        warnings = db.session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.kind == "suspicious_activity", Outbox.to_email == member.email))
    # Replays arrived after the rotation: the session is closed, and the member told once.
    if counts[(401, "token_reused")]:
        assert warnings == 1
        renewed = next(r for r in responses if r.status_code == 200).json()["refreshToken"]
        again = requests.post(race.server.url + "/auth/refresh-token", timeout=30,
                              json={"refreshToken": renewed})
        assert again.status_code == 401


def test_parallel_wrong_unlocks_are_judged_at_most_threshold_times(race: Race) -> None:
    """Unlocking after a reload (issue #9) is a password proof: a stolen cookie or token buys
    no more guesses in parallel than the lockout allows."""
    member = register(race.app, race.app.test_client())
    wrong = [lambda s: s.post(race.server.url + "/auth/reauth", headers=member.bearer,
                              json={"hashKey": new_hash_key()}, timeout=60)
             for _ in range(3 * THRESHOLD)]
    responses = race.burst(wrong)
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(403, "wrong_password"): THRESHOLD,
                                   (429, "account_locked"): 2 * THRESHOLD}


def test_parallel_logins_from_one_browser_leave_one_session(race: Race) -> None:
    """One session per browser: logins racing with the same session cookie each end the one the
    cookie names; whichever cookie the browser keeps, the others' sessions do not pile up."""
    member = register(race.app, race.app.test_client())
    first = requests.Session()
    started = first.post(race.server.url + "/auth/initiate-login",
                         json={"email": member.email}, timeout=30).json()
    first.post(race.server.url + "/auth/complete-login", timeout=60, json={
        "email": member.email, "hashKey": member.hash_key, "uuid": started["uuid"]})
    cookie = first.cookies["cardcoop_session"]
    uuids = [requests.post(race.server.url + "/auth/initiate-login", json={"email": member.email},
                           timeout=30).json()["uuid"] for _ in range(8)]

    def login(uuid: str) -> Callable[[requests.Session], requests.Response]:
        def send(s: requests.Session) -> requests.Response:
            s.cookies.set("cardcoop_session", cookie)
            return s.post(race.server.url + "/auth/complete-login", timeout=60, json={
                "email": member.email, "hashKey": member.hash_key, "uuid": uuid})
        return send

    responses = race.burst([login(u) for u in uuids])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(200, ""): 8}
    resumed = requests.post(race.server.url + "/auth/session", timeout=30,
                            cookies={"cardcoop_session": cookie})
    assert resumed.status_code == 401  # the session the browser held is over


def test_parallel_first_consents_to_one_cooperative_leave_one_grant(race: Race) -> None:
    """A member who consents twice at once (two tabs, a double click): one grant per member and
    cooperative, every consent answered with its own ticket, the grant holding one of them."""
    client: FlaskClient = race.app.test_client()
    make_client(race.app)
    holder = card_holder(race.app, client, "voskhod")
    bodies = [share_body(race.app, holder, auth_request(challenge=pkce()[1])) for _ in range(8)]

    def consent(body: dict[str, Any]) -> Callable[[requests.Session], requests.Response]:
        return lambda s: s.post(race.server.url + "/access/share-data", json=body,
                                headers=holder.bearer, timeout=60)

    responses = race.burst([consent(body) for body in bodies])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(200, ""): 8}
    with race.app.app_context():
        member_id = db.session.scalar(select(MemberRow.id).where(
            MemberRow.email == holder.member.email))
        grants = db.session.scalars(select(Grant).where(Grant.member_id == member_id)).all()
    assert len(grants) == 1
    assert grants[0].encrypted_data in {b["encrypted_data"] for b in bodies}


def test_a_connect_document_sent_in_a_burst_is_taken_once(
        make_app: Callable[..., Flask], base_settings: dict[str, Any], tmp_path: Path) -> None:
    """The network's connect (issue #11) hands out a client secret: parallel copies of one
    signed document on several workers give one secret, the rest a clear 409."""
    from tests.idp.network import CHAIN_ID, Mono

    net = Mono()
    settings = {"ratelimit_enabled": False, "network_chain_id": CHAIN_ID,
                "network_trust_anchor": net.ano["public"]}
    make_app(**settings)
    with production_server(base_settings | settings, tmp_path, workers=2) as server:
        race = Race(make_app(**settings), server)
        admitted = race.burst([race.post("/v1/registrar/announce", net.document(
            "coop_admission", "voskhod", subject="zelenyisad"))])
        assert admitted[0].status_code == 200, admitted[0].text
        responses = race.burst([race.post("/v1/coops/connect", net.connect_document())] * 10)
        race.assert_no_server_errors(responses)
        assert statuses(responses) == {(200, ""): 1, (409, "replayed_document"): 9}


def test_a_disclosure_is_answered_once_under_a_burst(
        make_app: Callable[..., Flask], base_settings: dict[str, Any], tmp_path: Path,
        httpserver: Any) -> None:
    """The holder's answer (issue #11) signs a grant and tells the requester: parallel answers,
    allow and deny mixed, give one decision and one event."""
    from idp.network.models import WebhookEvent
    from tests.idp.network import CHAIN_ID, Mono, admitted, post

    net = Mono()
    settings = {"ratelimit_enabled": False, "network_chain_id": CHAIN_ID,
                "network_trust_anchor": net.ano["public"]}
    app = make_app(**settings)
    api = app.test_client()
    for coopname in ("zelenyisad", "rodnik"):
        admitted(api, net, coopname)
        assert post(api, "/v1/coops/connect", net.connect_document(
            coopname, webhooks=httpserver.url_for("/hooks"))).status_code == 200
    holder = card_holder(app, app.test_client())
    card_id = app.test_client().get("/card", headers=holder.bearer).json["card_id"]
    assert post(api, "/v1/attestations", net.document(
        "membership", "zelenyisad", card_id=card_id, member_since="2025-03-01",
        identity={"kind": "individual", "public": {}, "digests": {}})).status_code == 201
    asked = post(api, "/v1/disclosures", net.document(
        "disclosure_request", "rodnik", card_id=card_id, from_coopname="zelenyisad"))
    assert asked.status_code == 201, asked.json
    with production_server(base_settings | settings, tmp_path, workers=2) as server:
        race = Race(app, server)

        def answer(verdict: str) -> Callable[[requests.Session], requests.Response]:
            url = f"{server.url}/card/disclosures/{asked.json['id']}/{verdict}"
            return lambda s: s.post(url, headers=holder.bearer, timeout=60)

        responses = race.burst([answer(verdict) for verdict in ("allow", "deny") * 5])
        race.assert_no_server_errors(responses)
        assert sorted(r.status_code for r in responses) == [200] + [404] * 9
    with app.app_context():
        events = db.session.scalars(select(WebhookEvent.event).where(
            WebhookEvent.event.like("disclosure.%"))).all()
    assert len(events) == 1


def test_parallel_copies_of_an_attestation_leave_one_record(
        make_app: Callable[..., Flask], base_settings: dict[str, Any], tmp_path: Path) -> None:
    """MONO re-sends freshly signed copies of a membership (issue #11): sent at once on several
    workers they all answer the one attestation's id."""
    from idp.network.models import Attestation
    from tests.idp.network import CHAIN_ID, Mono, admitted, post

    net = Mono()
    settings = {"ratelimit_enabled": False, "network_chain_id": CHAIN_ID,
                "network_trust_anchor": net.ano["public"]}
    app = make_app(**settings)
    api = app.test_client()
    admitted(api, net)
    assert post(api, "/v1/coops/connect", net.connect_document()).status_code == 200
    holder = card_holder(app, app.test_client())
    card_id = app.test_client().get("/card", headers=holder.bearer).json["card_id"]
    copies = [net.document("membership", card_id=card_id, member_since="2025-03-01",
                           identity={"kind": "individual", "public": {}, "digests": {}})
              for _ in range(8)]
    with production_server(base_settings | settings, tmp_path, workers=2) as server:
        race = Race(app, server)
        responses = race.burst([race.post("/v1/attestations", copy) for copy in copies])
        race.assert_no_server_errors(responses)
        assert {r.status_code for r in responses} == {201}
        assert len({r.json()["id"] for r in responses}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attestation)) == 1


def test_an_apps_refresh_token_is_spent_once_under_a_burst(race: Race) -> None:
    """Issue #12: a first-party app's refresh token used twelve times at once: one rotation,
    the others are replays, and a replay closes the member's session (nothing half-done)."""
    from tests.idp.test_first_party import APP, APP_URL, CALLBACK, basic, signed_in_app

    with race.app.app_context():
        secret = clients.create_first_party(APP, [CALLBACK], [APP_URL], [], None).secret
    browser = race.app.test_client()
    card_holder(race.app, browser, browser=True)
    token = signed_in_app(browser, secret)
    body = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    responses = race.burst([
        (lambda s: s.post(race.server.url + "/oauth/token", data=body, headers=basic(secret),
                          timeout=60)) for _ in range(12)])
    race.assert_no_server_errors(responses)
    assert statuses(responses) == {(200, ""): 1, (400, "invalid_grant"): 11}
    with race.app.app_context():
        sessions = db.session.scalars(select(AuthSession)).all()
        live_tokens = db.session.scalar(select(func.count()).select_from(RefreshToken).where(
            RefreshToken.client_id == APP, RefreshToken.rotated_at.is_(None)))
    assert [s.revoke_reason for s in sessions] == ["refresh_reuse"]
    assert live_tokens == 1  # the one rotation's successor; dead with its session
