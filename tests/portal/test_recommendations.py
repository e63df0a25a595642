"""Recommendations (the specification's personalised recommendations): from the chain's dues
and meetings of the member's cooperatives and the member's own settings; what is done
disappears, what is pressing comes first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from common.voskhod.ledger import Amount, Fees, Meeting
from portal.contributions import Dues
from portal.meetings import CoopMeeting
from portal.member import Joinable
from portal.recommendations import for_member
from tests.portal.conftest import ChainSetup, member_with_accounts, signed_in_browser
from tests.portal.test_meetings import chain_time, csrf

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
RUB = "RUB"


def meeting(opens_in: timedelta, lasts: timedelta = timedelta(days=7)) -> CoopMeeting:
    return CoopMeeting("voskhod", "ПК ВОСХОД", Meeting(
        id=1, hash="a" * 64, type="regular", status="authorized", open_at=NOW + opens_in,
        close_at=NOW + opens_in + lasts, quorum_percent=Decimal(75), questions=2))


def dues(paid: str) -> Dues:
    fees = Fees(Amount(Decimal(100), RUB), Amount(Decimal(900), RUB), None, None)
    return Dues("voskhod", "ПК ВОСХОД", "memberone", fees,
                {"w.reg.minshr": Amount(Decimal(paid), RUB)})


def keys(**state: object) -> list[str]:
    options: dict[str, object] = {"dues": [], "meetings": [], "joinable": [],
                                  "has_feed": True, "push_on": True, "now": NOW}
    return [r.key for r in for_member(**(options | state))]  # type: ignore[arg-type]


def test_the_rules() -> None:
    assert keys() == []
    assert keys(dues=[dues("300")]) == ["pay_minimum"]
    assert keys(dues=[dues("900")]) == []
    assert keys(meetings=[meeting(-timedelta(days=1))], has_feed=False) == [
        "vote_now", "subscribe_calendar"]
    assert keys(meetings=[meeting(timedelta(days=5))]) == ["meeting_soon"]
    assert keys(meetings=[meeting(timedelta(days=30))]) == []  # not soon yet
    assert keys(meetings=[meeting(-timedelta(days=10))], has_feed=False) == []  # finished
    assert keys(push_on=False) == ["turn_on_push"]
    join = [Joinable("zelenyisad", "ПК Зелёный сад", "https://z.example/join")]
    assert keys(joinable=join) == ["join"]  # no membership yet
    assert keys(joinable=join, dues=[dues("900")]) == []
    everything = keys(dues=[dues("0")], meetings=[meeting(-timedelta(days=1)),
                      meeting(timedelta(days=2))], has_feed=False, push_on=False)
    assert everything == ["pay_minimum", "vote_now", "meeting_soon", "subscribe_calendar"]


def test_the_dashboard_recommends_and_forgets_what_is_done(chain_portal: ChainSetup) -> None:
    live, chain = chain_portal.portal, chain_portal.chain
    email, usernames = member_with_accounts(live.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"])
    chain.add_wallet("voskhod", usernames["voskhod"], "w.reg.minshr", "300.0000 RUB")
    now = datetime.now(UTC).replace(microsecond=0)
    chain.add_meeting("voskhod", 3, open_at=chain_time(now - timedelta(days=1)),
                      close_at=chain_time(now + timedelta(days=5)))
    browser = signed_in_browser(live.idp, email)
    page = browser.get(f"{live.url}/auth/login").text
    assert re.findall(r'data-advice="([a-z_]+)"', page) == [
        "pay_minimum", "vote_now", "subscribe_calendar", "turn_on_push"]
    assert "Внесите остаток минимального паевого взноса в ПК ВОСХОД: 600,00\xa0₽" in page
    meetings_page = browser.get(f"{live.url}/meetings").text
    browser.post(f"{live.url}/meetings/feed", data={"csrf_token": csrf(meetings_page)})
    page = browser.get(f"{live.url}/").text
    assert "subscribe_calendar" not in page and 'data-advice="turn_on_push"' in page
