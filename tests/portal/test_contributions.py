"""Contributions from the chain (issue #12): what joining asks (``registrator::coops``), the
member's balances (ledger2), deposits in flight (``wallet::deposits``) and the settled ones
from the chain's traces through a Hyperion history node; the member's own only."""

from __future__ import annotations

import re

from tests.portal.conftest import ChainSetup, member_with_accounts, signed_in_browser


def dues_block(html: str, coopname: str) -> str:
    found = re.search(rf'<section class="panel coop-dues" id="coop-{coopname}".*?</section>',
                      html, re.S)
    return found.group(0) if found else ""


def test_dues_in_flight_and_the_history_from_the_chain(chain_portal: ChainSetup) -> None:
    live, chain, history = chain_portal.portal, chain_portal.chain, chain_portal.history
    email, usernames = member_with_accounts(live.idp, "voskhod", "zelenyisad")
    member = usernames["voskhod"]
    chain.add_participant("voskhod", member)
    chain.add_wallet("voskhod", member, "w.reg.minshr", "300.0000 RUB")
    chain.add_wallet("voskhod", member, "w.wal.share", "1750.5000 RUB")
    chain.add_pending_deposit("voskhod", member, "400.0000 RUB")
    chain.add_pending_deposit("voskhod", "someoneelse", "9100.0000 RUB")
    history.add_settled_deposit("voskhod", member, "1500.0000 RUB", "2026-11-20T08:15:00.000")
    history.add_settled_deposit("voskhod", member, "250.5000 RUB", "2026-11-28T16:40:00.000")
    history.add_settled_deposit("voskhod", "someoneelse", "7300.0000 RUB",
                                "2026-11-29T10:00:00.000")
    # The same account name in a cooperative that has not accepted it: not shown.
    history.add_settled_deposit("zelenyisad", member, "6600.0000 RUB", "2026-11-29T11:00:00.000")
    browser = signed_in_browser(live.idp, email)
    assert browser.get(f"{live.url}/auth/login").status_code == 200
    page = browser.get(f"{live.url}/contributions").text
    voskhod = dues_block(page, "voskhod")
    assert "Вступительный взнос" in voskhod and "100,00\xa0₽" in voskhod
    assert "600,00\xa0₽" in voskhod  # 900 of minimum share asked, 300 paid
    assert "В обработке: 400,00\xa0₽" in voskhod and "9\xa0100" not in page
    settled = re.findall(r'<li class="row settled-deposit"><span>([^<]+)</span><span>([^<]+)'
                         r'</span>', voskhod)
    assert [amount for _, amount in settled] == ["250,50\xa0₽", "1\xa0500,00\xa0₽"]
    assert settled[0][0] == "28 ноября 2026 г., 19:40 (МСК)"  # 16:40 UTC, in Moscow time
    assert "7\xa0300" not in page and "6\xa0600" not in page
    assert dues_block(page, "zelenyisad") == ""
    # Amounts are read once per transaction: the second view asks only for the list.
    history.requests.clear()
    assert browser.get(f"{live.url}/contributions").status_code == 200
    assert [path for path, _ in history.requests] == ["/v2/history/get_actions"]


def test_a_history_node_that_is_down_leaves_the_rest_of_the_page(
        chain_portal: ChainSetup) -> None:
    live, chain, history = chain_portal.portal, chain_portal.chain, chain_portal.history
    email, usernames = member_with_accounts(live.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"])
    chain.add_wallet("voskhod", usernames["voskhod"], "w.wal.share", "500.0000 RUB")
    history.down = True
    browser = signed_in_browser(live.idp, email)
    assert browser.get(f"{live.url}/auth/login").status_code == 200
    page = browser.get(f"{live.url}/contributions")
    assert page.status_code == 200
    voskhod = dues_block(page.text, "voskhod")
    assert "500,00\xa0₽" in voskhod
    assert "История взносов кооператива сейчас недоступна." in voskhod
