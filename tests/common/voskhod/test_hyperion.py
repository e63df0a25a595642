"""HyperionHistory against a history node on 127.0.0.1 (tests/common/voskhod/historystub.py):
the member's settled deposits with their amounts, nothing of others, and every malformed or
failed answer an outage (RegistryUnavailable), never a wrong history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

from common.voskhod.hyperion import HyperionHistory
from common.voskhod.port import RegistryUnavailable
from tests.common.voskhod.chainstub import FakeClock, json_response
from tests.common.voskhod.historystub import GET_ACTIONS, GET_TRANSACTION, FakeHistory


@pytest.fixture
def node(httpserver: HTTPServer) -> FakeHistory:
    fake = FakeHistory()
    httpserver.expect_request(GET_ACTIONS).respond_with_handler(fake.get_actions)
    httpserver.expect_request(GET_TRANSACTION).respond_with_handler(fake.get_transaction)
    return fake


def history(server: HTTPServer, **options: object) -> HyperionHistory:
    return HyperionHistory(server.url_for("/").rstrip("/"), **options)  # type: ignore[arg-type]


def test_the_members_settled_deposits_newest_first(node: FakeHistory,
                                                   httpserver: HTTPServer) -> None:
    first = node.add_settled_deposit("voskhod", "memberone", "1500.0000 RUB",
                                     "2026-11-20T08:15:00.000")
    second = node.add_settled_deposit("voskhod", "memberone", "20.0000 RUB",
                                      "2026-11-21T08:15:00.000")
    node.add_settled_deposit("zelenyisad", "memberone", "99.0000 RUB", "2026-11-22T08:15:00.000")
    node.add_settled_deposit("voskhod", "membertwo", "77.0000 RUB", "2026-11-23T08:15:00.000")
    found = history(httpserver).settled_deposits("voskhod", "memberone")
    assert [(d.hash, d.amount.value if d.amount else None) for d in found] == [
        (second, Decimal("20.0000")), (first, Decimal("1500.0000"))]
    assert found[0].settled_at.isoformat() == "2026-11-21T08:15:00+00:00"
    path, query = node.requests[0]
    assert (path, query["account"], query["filter"], query["sort"]) == (
        GET_ACTIONS, "memberone", "wallet:completedpst", "desc")


def test_amounts_are_read_once_and_the_list_is_cached_for_its_ttl(
        node: FakeHistory, httpserver: HTTPServer) -> None:
    node.add_settled_deposit("voskhod", "memberone", "1500.0000 RUB", "2026-11-20T08:15:00.000")
    clock = FakeClock()
    reader = history(httpserver, cache_ttl=30, clock=clock)
    reader.settled_deposits("voskhod", "memberone")
    reader.settled_deposits("voskhod", "memberone")
    assert [p for p, _ in node.requests] == [GET_ACTIONS, GET_TRANSACTION]
    clock.advance(31)
    reader.settled_deposits("voskhod", "memberone")
    assert [p for p, _ in node.requests] == [GET_ACTIONS, GET_TRANSACTION, GET_ACTIONS]


def test_a_transaction_without_the_credit_leaves_the_amount_unknown(
        node: FakeHistory, httpserver: HTTPServer) -> None:
    node.add_settled_deposit("voskhod", "memberone", "1500.0000 RUB", "2026-11-20T08:15:00.000")
    actions = next(iter(node.transactions.values()))
    actions[2]["act"]["data"]["operation_code"] = "o.wal.wthcpl"  # another operation
    [deposit] = history(httpserver).settled_deposits("voskhod", "memberone")
    assert deposit.amount is None


def test_an_action_that_does_not_name_the_member_is_not_theirs(
        node: FakeHistory, httpserver: HTTPServer) -> None:
    node.add_settled_deposit("voskhod", "memberone", "1500.0000 RUB", "2026-11-20T08:15:00.000")
    actions = next(iter(node.transactions.values()))
    actions[1]["notified"] = ["wallet", "memberone"]
    actions[1]["act"]["data"]["coopname"] = "zelenyisad"  # the node answered another coop's
    assert history(httpserver).settled_deposits("voskhod", "memberone") == []


def test_names_that_are_not_account_names_ask_nothing(node: FakeHistory,
                                                      httpserver: HTTPServer) -> None:
    reader = history(httpserver)
    for coopname, username in (("voskhod", "Robert'); --"), ("x" * 20, "memberone"),
                               ("voskhod", "")):
        assert reader.settled_deposits(coopname, username) == []
    assert node.requests == []


@pytest.mark.parametrize("body, status", [
    ({"statusCode": 503}, 503), ({"actions": "many"}, 200), (["not", "an", "object"], 200),
    ("<html>gateway timeout</html>", 200),
])
def test_a_broken_answer_is_an_outage(httpserver: HTTPServer, body: object,
                                      status: int) -> None:
    if isinstance(body, str):
        httpserver.expect_request(GET_ACTIONS).respond_with_data(body, status=status)
    else:
        httpserver.expect_request(GET_ACTIONS).respond_with_handler(
            lambda _request: json_response(body, status=status))
    with pytest.raises(RegistryUnavailable):
        history(httpserver).settled_deposits("voskhod", "memberone")


def test_a_node_that_does_not_answer_in_time_is_an_outage() -> None:
    reader = HyperionHistory("http://127.0.0.1:9", timeout=0.5)  # discard port: refused
    with pytest.raises(RegistryUnavailable):
        reader.settled_deposits("voskhod", "memberone")
    with pytest.raises(ValueError):
        HyperionHistory("http://127.0.0.1:9", limit=0)
