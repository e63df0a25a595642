"""The dashboard from the chain (issue #12): accounts, memberships and balances as the ВОСХОД
contracts keep them (ledger2 ``userwallets``, or ``soviet::progwallets`` on older chains); a
cooperative that has not accepted the member shows neither its name nor a balance."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from idp.oauth import clients
from tests.portal.conftest import ChainSetup, member_with_accounts, signed_in_browser


def coop_block(html: str, coopname: str) -> str:
    found = re.search(rf'<li class="coop" data-coopname="{coopname}">(.*?)</li>', html, re.S)
    return found.group(1) if found else ""


def test_balances_and_names_only_where_the_chain_says_member(chain_portal: ChainSetup) -> None:
    live, chain = chain_portal.portal, chain_portal.chain
    email, usernames = member_with_accounts(live.idp, "voskhod", "zelenyisad")
    member = usernames["voskhod"]
    chain.add_participant("voskhod", member, created_at="2025-03-04T10:00:00")
    chain.add_wallet("voskhod", member, "w.reg.minshr", "300.0000 RUB")
    chain.add_wallet("voskhod", member, "w.wal.share", "1500.0000 RUB")
    chain.add_wallet("voskhod", member, "w.wal.member", "200.0000 RUB")
    chain.add_wallet("voskhod", "someoneelse", "w.wal.share", "9999.0000 RUB")
    # zelenyisad holds wallets for the account, but has not accepted it: nothing shows.
    chain.add_wallet("zelenyisad", usernames["zelenyisad"], "w.wal.share", "777.0000 RUB")
    browser = signed_in_browser(live.idp, email)
    page = browser.get(f"{live.url}/auth/login").text
    voskhod = coop_block(page, "voskhod")
    assert "ПК ВОСХОД" in voskhod
    assert "1\xa0500,00\xa0₽" in voskhod and "300,00\xa0₽" in voskhod and "200,00\xa0₽" in voskhod
    assert "Паевой взнос" in voskhod and "Членский взнос" in voskhod
    assert "4 марта 2025" in voskhod
    assert "9\xa0999" not in page
    assert coop_block(page, "zelenyisad") == ""
    assert "Зелёный сад" not in page and "777" not in page
    # Both accounts are listed as the member's own; only one with a name.
    assert usernames["zelenyisad"] in page and "членство ещё не подтверждено" in page
    english = browser.get(f"{live.url}/?lang=en").text
    assert "Share contribution" in coop_block(english, "voskhod")
    assert "RUB1,500.00" in coop_block(english, "voskhod")


def test_a_chain_without_ledger2_is_read_from_progwallets(chain_portal: ChainSetup) -> None:
    live, chain = chain_portal.portal, chain_portal.chain
    del chain.contracts["ledger2"]
    email, usernames = member_with_accounts(live.idp, "voskhod")
    member = usernames["voskhod"]
    chain.add_participant("voskhod", member)
    chain.add_progwallet("voskhod", member, 1, "2500.0000 RUB")
    chain.add_progwallet("voskhod", member, 2, "50.0000 RUB")  # marketplace: not a balance here
    page = signed_in_browser(live.idp, email).get(f"{live.url}/auth/login").text
    voskhod = coop_block(page, "voskhod")
    assert "2\xa0500,00\xa0₽" in voskhod and "Паевой взнос" in voskhod
    assert "50,00" not in voskhod


def test_a_blocked_member_shows_no_name_and_no_balance(chain_portal: ChainSetup) -> None:
    live, chain = chain_portal.portal, chain_portal.chain
    email, usernames = member_with_accounts(live.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"], status="blocked")
    chain.add_wallet("voskhod", usernames["voskhod"], "w.wal.share", "1500.0000 RUB")
    page = signed_in_browser(live.idp, email).get(f"{live.url}/auth/login").text
    assert coop_block(page, "voskhod") == "" and "1\xa0500" not in page


def test_the_member_joins_only_where_no_account_is_yet(chain_portal: ChainSetup) -> None:
    """"Add an account in a new cooperative": the cooperatives that registered where their
    join starts, by their registry name, leaving out those where the member has an account,
    those without a join address and those the chain does not know."""
    live = chain_portal.portal
    with live.idp.app.app_context():
        for coopname in ("voskhod", "zelenyisad", "lesnoi"):
            clients.create(coopname, [f"https://{coopname}.example/callback"], [],
                           join_uri=f"https://{coopname}.example/join?via=card")
        clients.create("rassvet", ["https://rassvet.example/callback"], [])  # no join address
        for bad in ("javascript:alert(1)", "http://plain.example/join", "https://x.example/#j"):
            with pytest.raises(clients.ClientError):
                clients.set_site("rassvet", None, None, bad)
    chain_portal.chain.add_cooperative("rassvet", "ПК Рассвет")
    email, _ = member_with_accounts(live.idp, "voskhod")
    page = signed_in_browser(live.idp, email).get(f"{live.url}/auth/login").text
    offered = re.findall(r'<li class="join" data-coopname="([a-z1-5.]+)"><span>([^<]+)</span> '
                         r'<a class="btn" href="([^"]+)"', page)
    back = quote(f"{live.url}/", safe="")
    assert offered == [("zelenyisad", "ПК Зелёный сад",
                        f"https://zelenyisad.example/join?via=card&amp;return_to={back}")]
    assert "Вступить в кооператив" in page
