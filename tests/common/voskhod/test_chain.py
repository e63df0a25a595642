"""ChainRegistry over HTTP against a local stub of the chain API: exact requests, caching,
failures, key formats and the registry rows' rules."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cardcoop.protocol.k1 import K1PrivateKey
from common.voskhod import (
    ChainRegistry,
    Cooperative,
    Membership,
    RegistryError,
    RegistryUnavailable,
    UnknownCooperative,
)
from tests.common.voskhod.chainstub import (
    GET_ACCOUNT,
    GET_TABLE_ROWS,
    FakeChain,
    FakeClock,
    account_body,
    coop_row,
    json_response,
    participant_row,
)
from tests.live import free_port

JSON = {"Content-Type": "application/json"}


def table_body(code: str, scope: str, table: str, key: str, limit: int = 1) -> dict[str, Any]:
    return {"json": True, "code": code, "scope": scope, "table": table, "lower_bound": key,
            "upper_bound": key, "limit": limit, "key_type": "name"}


def rows(*found: dict[str, Any], more: bool = False, next_key: str = "") -> dict[str, Any]:
    return {"rows": list(found), "more": more, "next_key": next_key}


def expect_cooperative(httpserver: HTTPServer, coopname: str, announce: str,
                       key: str, *, table: str = "coops") -> None:
    httpserver.expect_ordered_request(
        GET_TABLE_ROWS, method="POST", headers=JSON,
        json=table_body("registrator", "registrator", table, coopname),
    ).respond_with_json(rows(coop_row(coopname, announce)))
    httpserver.expect_ordered_request(
        GET_ACCOUNT, method="POST", headers=JSON, json={"account_name": coopname},
    ).respond_with_json(account_body(coopname, [key]))


@pytest.fixture
def key() -> K1PrivateKey:
    return K1PrivateKey.generate()


@pytest.fixture
def registry(api_url: str, clock: FakeClock) -> ChainRegistry:
    return ChainRegistry(api_url, timeout=2, cache_ttl=300, clock=clock)


# -- requests ----------------------------------------------------------------------------------


def test_membership_request(httpserver: HTTPServer, registry: ChainRegistry) -> None:
    httpserver.expect_oneshot_request(
        GET_TABLE_ROWS, method="POST", headers=JSON,
        json=table_body("soviet", "voskhod", "participants", "ivanpetrov"),
    ).respond_with_json(rows(participant_row("ivanpetrov", created_at="2024-10-01T12:00:00")))

    membership = registry.membership("voskhod", "ivanpetrov")

    assert membership == Membership("voskhod", "ivanpetrov", "accepted",
                                    datetime(2024, 10, 1, 12, 0, tzinfo=UTC), True)
    httpserver.check_assertions()
    assert len(httpserver.log) == 1


def test_cooperative_requests(httpserver: HTTPServer, registry: ChainRegistry,
                              key: K1PrivateKey) -> None:
    expect_cooperative(httpserver, "voskhod", "ПК ВОСХОД", key.public_key.to_legacy_string())

    cooperative = registry.cooperative("voskhod")

    assert cooperative == Cooperative("voskhod", "ПК ВОСХОД", key.public_key.to_string())
    assert cooperative.public_key.startswith("PUB_K1_")  # converted from "EOS..."
    httpserver.check_assertions()
    assert len(httpserver.log) == 2


def test_legacy_orgs_table(httpserver: HTTPServer, api_url: str, key: K1PrivateKey) -> None:
    expect_cooperative(httpserver, "voskhod", "ПК ВОСХОД", key.public_key.to_string(),
                       table="orgs")

    registry = ChainRegistry(api_url, cooperatives_table="orgs")

    assert registry.cooperative("voskhod").announce == "ПК ВОСХОД"
    httpserver.check_assertions()


def test_path_prefix_is_kept(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/chain-api" + GET_TABLE_ROWS, method="POST").respond_with_json(
        rows())

    registry = ChainRegistry(httpserver.url_for("/chain-api/"))

    assert not registry.membership("voskhod", "ivanpetrov").is_member
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(("coopname", "username"), [
    ("Voskhod", "ivanpetrov"), ("voskhod", "IvanPetrov"), ("toolongname123", "ivanpetrov"),
    ("voskhod", "ivan petrov"), ("voskhod", "ivan."), ("", "ivanpetrov"), ("voskhod", "6789"),
    ("voskhod", "ivan\"petrov"),
])
def test_invalid_names_make_no_request(httpserver: HTTPServer, registry: ChainRegistry,
                                       coopname: str, username: str) -> None:
    assert registry.membership(coopname, username) == Membership.absent(coopname, username)
    if coopname != "voskhod":
        with pytest.raises(UnknownCooperative):
            registry.cooperative(coopname)
    assert httpserver.log == []


# -- caching -----------------------------------------------------------------------------------


def test_cooperative_is_cached_for_the_ttl(fake_chain: FakeChain, httpserver: HTTPServer,
                                           registry: ChainRegistry, clock: FakeClock) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    first = registry.cooperative("voskhod")
    assert len(httpserver.log) == 2

    clock.advance(299)
    assert registry.cooperative("voskhod") == first
    assert len(httpserver.log) == 2

    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД (новое имя)")  # new key and name
    clock.advance(2)
    renewed = registry.cooperative("voskhod")
    assert len(httpserver.log) == 4
    assert renewed.announce == "ПК ВОСХОД (новое имя)"
    assert renewed.public_key != first.public_key


def test_cache_clear(fake_chain: FakeChain, httpserver: HTTPServer,
                     registry: ChainRegistry) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    registry.cooperative("voskhod")
    registry.cache_clear()
    registry.cooperative("voskhod")
    assert len(httpserver.log) == 4


def test_zero_ttl_disables_the_cache(fake_chain: FakeChain, httpserver: HTTPServer,
                                     api_url: str) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    registry = ChainRegistry(api_url, cache_ttl=0)
    registry.cooperative("voskhod")
    registry.cooperative("voskhod")
    assert len(httpserver.log) == 4


def test_unknown_cooperative_is_not_cached(fake_chain: FakeChain, httpserver: HTTPServer,
                                           registry: ChainRegistry) -> None:
    with pytest.raises(UnknownCooperative):
        registry.cooperative("voskhod")
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")  # registered a moment later
    assert registry.cooperative("voskhod").announce == "ПК ВОСХОД"


def test_membership_is_not_cached(fake_chain: FakeChain, httpserver: HTTPServer,
                                  registry: ChainRegistry) -> None:
    fake_chain.add_participant("voskhod", "ivanpetrov")
    assert registry.membership("voskhod", "ivanpetrov").is_member

    fake_chain.add_participant("voskhod", "ivanpetrov", status="blocked")  # revoked

    assert not registry.membership("voskhod", "ivanpetrov").is_member
    assert len(httpserver.log) == 2


# -- failures ----------------------------------------------------------------------------------


def test_timeout(httpserver: HTTPServer, api_url: str) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response('{"rows": []}', content_type="application/json")

    httpserver.expect_request(GET_TABLE_ROWS).respond_with_handler(slow)
    registry = ChainRegistry(api_url, timeout=0.2)

    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match=r"within 0\.2s"):
        registry.membership("voskhod", "ivanpetrov")
    assert time.monotonic() - started < 0.9


def test_connection_refused() -> None:
    registry = ChainRegistry(f"http://127.0.0.1:{free_port()}", timeout=2)

    with pytest.raises(RegistryUnavailable, match="ConnectionError"):
        registry.membership("voskhod", "ivanpetrov")
    with pytest.raises(RegistryUnavailable):
        registry.cooperative("voskhod")


SECRET = "body-text-that-must-not-leak"


@pytest.mark.parametrize("answer", [
    Response(f'{{"code": 500, "message": "{SECRET}"}}', status=500,
             content_type="application/json"),
    Response(SECRET, status=502),
    Response(SECRET, status=503),
    Response(SECRET, status=404),
    Response("", status=302, headers={"Location": "http://example.invalid/"}),
    Response(f"<html>{SECRET}</html>", status=200, content_type="application/json"),
    Response('["rows"]', status=200, content_type="application/json"),
    Response('{"rows": "x"}', status=200, content_type="application/json"),
    Response('{"rows": ["x"]}', status=200, content_type="application/json"),
    Response('{"more": false}', status=200, content_type="application/json"),
    Response('{"rows": [], "more": "yes"}', status=200, content_type="application/json"),
    Response('{"rows": [{"username": "ivanpetrov"}]}', status=200,
             content_type="application/json"),
], ids=["500", "502", "503", "404", "redirect", "malformed-json", "not-an-object",
        "rows-not-a-list", "row-not-an-object", "no-rows", "bad-more", "row-without-status"])
def test_bad_answers_are_unavailable(httpserver: HTTPServer, registry: ChainRegistry,
                                     caplog: pytest.LogCaptureFixture, answer: Response) -> None:
    httpserver.expect_request(GET_TABLE_ROWS).respond_with_response(answer)

    with caplog.at_level(logging.DEBUG), pytest.raises(RegistryUnavailable) as raised:
        registry.membership("voskhod", "ivanpetrov")

    assert isinstance(raised.value, RegistryError)
    assert SECRET not in str(raised.value)
    assert SECRET not in caplog.text


def test_status_is_logged(httpserver: HTTPServer, registry: ChainRegistry,
                          caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request(GET_TABLE_ROWS).respond_with_data(SECRET, status=503)

    with caplog.at_level(logging.WARNING, "cardcoop.voskhod"), pytest.raises(
            RegistryUnavailable, match="503"):
        registry.cooperative("voskhod")

    assert "503" in caplog.text


@pytest.mark.parametrize("account", [
    {"account_name": "voskhod"},
    {"permissions": "active"},
    {"permissions": ["active"]},
    {"permissions": [{"perm_name": "active", "required_auth": {"keys": "x"}}]},
    {"permissions": [{"perm_name": "active", "required_auth": {"keys": [{"weight": 1}]}}]},
])
def test_malformed_account_is_unavailable(httpserver: HTTPServer, registry: ChainRegistry,
                                          account: dict[str, Any]) -> None:
    httpserver.expect_request(GET_TABLE_ROWS).respond_with_json(
        rows(coop_row("voskhod", "ПК ВОСХОД")))
    httpserver.expect_request(GET_ACCOUNT).respond_with_json(account)

    with pytest.raises(RegistryUnavailable):
        registry.cooperative("voskhod")


def test_missing_account_is_unavailable(fake_chain: FakeChain, registry: ChainRegistry) -> None:
    fake_chain.put_row("registrator", "registrator", "coops", "voskhod",
                       coop_row("voskhod", "ПК ВОСХОД"))  # row, but no account: nodeos 500

    with pytest.raises(RegistryUnavailable, match="500"):
        registry.cooperative("voskhod")


# -- keys --------------------------------------------------------------------------------------


R1_KEY = "PUB_R1_6FPFZqw5ahYrR9jD96yDbbDNTdKtNqRbze6oTDLntrsANgQKZu"
WA_KEY = "PUB_WA_8PPYTWYNkRqrveNAoX7PJWDtSqDUp3c29QGBfr6MD9EaLocaxbHQgHUW6vLaQ"


@pytest.mark.parametrize("printed", ["legacy", "k1"])
def test_key_forms(fake_chain: FakeChain, registry: ChainRegistry, printed: str) -> None:
    key = fake_chain.add_cooperative("voskhod", "ПК ВОСХОД", legacy_key=printed == "legacy")

    assert registry.cooperative("voskhod").public_key == key.public_key.to_string()


def test_first_k1_key_of_the_active_permission(fake_chain: FakeChain, registry: ChainRegistry,
                                               key: K1PrivateKey) -> None:
    owner = K1PrivateKey.generate()
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    fake_chain.accounts["voskhod"] = account_body(
        "voskhod", [R1_KEY, WA_KEY, key.public_key.to_legacy_string()],
        owner_key=owner.public_key.to_string())
    # owner listed first, so the adapter must pick by name, not by position
    fake_chain.accounts["voskhod"]["permissions"].reverse()

    assert registry.cooperative("voskhod").public_key == key.public_key.to_string()


@pytest.mark.parametrize("active_keys", [[], [R1_KEY], ["EOS1111111111111111111111111111"]])
def test_no_usable_key_is_unknown(fake_chain: FakeChain, registry: ChainRegistry,
                                  active_keys: list[str]) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    fake_chain.accounts["voskhod"] = account_body("voskhod", active_keys)

    with pytest.raises(UnknownCooperative, match="no K1 key"):
        registry.cooperative("voskhod")


def test_no_active_permission_is_unknown(fake_chain: FakeChain, registry: ChainRegistry) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    fake_chain.accounts["voskhod"]["permissions"] = [
        p for p in fake_chain.accounts["voskhod"]["permissions"] if p["perm_name"] != "active"]

    with pytest.raises(UnknownCooperative, match="no active permission"):
        registry.cooperative("voskhod")


# -- registry rows -----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{"status": "pending"}, {"status": "blocked"},
                                     {"is_cooperative": False}])
def test_inactive_or_not_a_cooperative_is_unknown(fake_chain: FakeChain, httpserver: HTTPServer,
                                                  registry: ChainRegistry,
                                                  options: dict[str, Any]) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД", **options)

    with pytest.raises(UnknownCooperative, match="not an active cooperative"):
        registry.cooperative("voskhod")
    assert len(httpserver.log) == 1  # no get_account for it
    assert registry.cooperatives() == []


def test_row_from_before_the_status_extension(fake_chain: FakeChain,
                                              registry: ChainRegistry) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД", status=None, table="coops")

    assert registry.cooperative("voskhod").announce == "ПК ВОСХОД"


def test_empty_announce_shows_the_account_name(fake_chain: FakeChain,
                                               registry: ChainRegistry) -> None:
    fake_chain.add_cooperative("voskhod", "  ")

    assert registry.cooperative("voskhod").announce == "voskhod"


def test_malformed_announce_is_unavailable(fake_chain: FakeChain,
                                           registry: ChainRegistry) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    fake_chain.tables["registrator", "registrator", "coops"]["voskhod"]["announce"] = 42

    with pytest.raises(RegistryUnavailable):
        registry.cooperative("voskhod")


def test_row_for_another_key_is_ignored(httpserver: HTTPServer, registry: ChainRegistry) -> None:
    # A node that ignored the bounds would answer with the first row of the table.
    httpserver.expect_request(GET_TABLE_ROWS).respond_with_json(rows(participant_row("aaaaa")))

    assert registry.membership("voskhod", "ivanpetrov") == Membership.absent("voskhod",
                                                                             "ivanpetrov")
    with pytest.raises(UnknownCooperative):
        registry.cooperative("voskhod")


@pytest.mark.parametrize(("created_at", "expected"), [
    ("2024-10-01T12:00:00", datetime(2024, 10, 1, 12, tzinfo=UTC)),
    ("2024-10-01T12:00:00.500", datetime(2024, 10, 1, 12, 0, 0, 500_000, tzinfo=UTC)),
    ("1970-01-01T00:00:00", None),
    ("yesterday", None),
    ("", None),
])
def test_member_since(fake_chain: FakeChain, registry: ChainRegistry, created_at: str,
                      expected: datetime | None) -> None:
    fake_chain.add_participant("voskhod", "ivanpetrov", created_at=created_at)

    membership = registry.membership("voskhod", "ivanpetrov")

    assert membership.is_member
    assert membership.member_since == expected


# -- listing -----------------------------------------------------------------------------------


def test_listing_pages_through_the_table(fake_chain: FakeChain, httpserver: HTTPServer,
                                         api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("common.voskhod.chain._PAGE_SIZE", 2)
    names = ["alpha", "bravo", "charlie", "delta", "echo"]
    for name in names:
        fake_chain.add_cooperative(name, f"ПК {name}")
    fake_chain.add_cooperative("foxtrot", "ПК foxtrot", status="blocked")
    registry = ChainRegistry(api_url)

    listed = registry.cooperatives()

    assert [cooperative.coopname for cooperative in listed] == names
    pages = [body for path, body in fake_chain.requests if path == GET_TABLE_ROWS]
    assert [(page["lower_bound"], page["upper_bound"], page["limit"]) for page in pages] == [
        ("", "", 2), ("charlie", "", 2), ("echo", "", 2)]
    # the listing filled the cache: lookups need no request
    before = len(httpserver.log)
    assert registry.cooperative("delta") == listed[3]
    assert len(httpserver.log) == before


def test_listing_skips_cooperatives_without_a_key(fake_chain: FakeChain,
                                                  registry: ChainRegistry) -> None:
    fake_chain.add_cooperative("voskhod", "ПК ВОСХОД")
    fake_chain.add_cooperative("zelenyisad", "ПК Зелёный сад")
    fake_chain.accounts["zelenyisad"] = account_body("zelenyisad", [R1_KEY])

    assert [c.coopname for c in registry.cooperatives()] == ["voskhod"]


@pytest.mark.parametrize("next_key", ["", "alpha"])
def test_listing_that_does_not_advance(httpserver: HTTPServer, registry: ChainRegistry,
                                       next_key: str) -> None:
    def answer(request: Request) -> Response:
        lower = request.get_json()["lower_bound"]
        return json_response(rows(more=True, next_key=next_key or lower))

    httpserver.expect_request(GET_TABLE_ROWS).respond_with_handler(answer)

    with pytest.raises(RegistryUnavailable, match="does not advance"):
        registry.cooperatives()


# -- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["", "ftp://chain.example", "chain.example",
                                 "https://chain.example/?x=1", "https://chain.example/#a"])
def test_bad_url(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        ChainRegistry(url)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="timeout"):
        ChainRegistry("https://chain.example", timeout=0)
    with pytest.raises(ValueError, match="cooperatives_table"):
        ChainRegistry("https://chain.example", cooperatives_table="accounts")


def test_repr_leaves_credentials_out() -> None:
    registry = ChainRegistry("https://user:secret@chain.example:8888/api/")

    assert repr(registry) == "ChainRegistry('https://chain.example:8888/api')"


def test_uses_the_given_session(api_url: str, fake_chain: FakeChain) -> None:
    session = requests.Session()
    fake_chain.add_participant("voskhod", "ivanpetrov")
    assert ChainRegistry(api_url, session=session).membership("voskhod", "ivanpetrov").is_member
