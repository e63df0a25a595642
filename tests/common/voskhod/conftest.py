"""Fixtures for the registry adapters: a fake chain API behind pytest-httpserver, a fake clock."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from tests.common.voskhod.chainstub import GET_ACCOUNT, GET_TABLE_ROWS, FakeChain, FakeClock


@pytest.fixture
def fake_chain(httpserver: HTTPServer) -> FakeChain:
    chain = FakeChain()
    httpserver.expect_request(GET_TABLE_ROWS, method="POST").respond_with_handler(
        chain.get_table_rows)
    httpserver.expect_request(GET_ACCOUNT, method="POST").respond_with_handler(chain.get_account)
    return chain


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/")
