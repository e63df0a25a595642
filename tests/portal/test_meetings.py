"""Meetings from the chain's meet::meets (issue #12): listed and in a month calendar for the
member's cooperatives only, with their number of questions; and the personal iCalendar feed
(secret address, revocable) that calendar apps subscribe to, parsed with icalendar."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from icalendar import Calendar

from common.notify.texts import format_time
from tests.portal.conftest import ChainSetup, member_with_accounts, signed_in_browser


def chain_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_meetings_of_the_members_cooperatives_and_the_calendar_feed(
        chain_portal: ChainSetup) -> None:
    live, chain = chain_portal.portal, chain_portal.chain
    email, usernames = member_with_accounts(live.idp, "voskhod", "zelenyisad")
    chain.add_participant("voskhod", usernames["voskhod"])
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    chain.add_meeting("voskhod", 3, open_at=chain_time(opens),
                      close_at=chain_time(opens + timedelta(days=7)), questions=4)
    # Not a member of zelenyisad: its meeting is not the member's to see.
    chain.add_meeting("zelenyisad", 1, open_at=chain_time(opens),
                      close_at=chain_time(opens + timedelta(days=7)), questions=2)
    browser = signed_in_browser(live.idp, email)
    browser.get(f"{live.url}/auth/login")
    page = browser.get(f"{live.url}/meetings").text
    assert "ПК ВОСХОД" in page and "Вопросов в повестке: 4" in page
    assert "Зелёный сад" not in page and "Вопросов в повестке: 2" not in page
    # The hour is Moscow time, named, to the minute: the same words as the reminder email's.
    assert format_time(opens, "ru") in page and "(МСК)" in page
    english = browser.get(f"{live.url}/meetings?lang=en").text
    assert format_time(opens, "en") in english
    month = browser.get(f"{live.url}/meetings?view=month&month={opens:%Y-%m}").text
    assert 'class=" has-meeting"' in month or "has-meeting" in month
    assert browser.get(f"{live.url}/meetings?view=month&month=9999-99").status_code == 200

    made = browser.post(f"{live.url}/meetings/feed", data={"csrf_token": csrf(page)})
    feed_url = re.search(r'<code class="feed-url">([^<]+)</code>', made.text).group(1)
    assert feed_url.startswith(f"{live.url}/calendar/") and feed_url.endswith(".ics")
    # Shown once: the next page no longer has it.
    assert feed_url not in browser.get(f"{live.url}/meetings").text
    fetched = httpx.get(feed_url, timeout=20)  # a calendar app: no cookies
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith(
        "text/calendar")
    calendar = Calendar.from_ical(fetched.content)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    assert "ПК ВОСХОД" in str(event["summary"]) and "4" in str(event["description"])
    assert event.decoded("dtstart") == opens
    assert event.decoded("dtend") == opens + timedelta(days=7)
    assert str(event["uid"]).endswith("@card.coop")
    # A new address stops the old; switching off stops every one.
    again = browser.post(f"{live.url}/meetings/feed", data={"csrf_token": csrf(page)})
    second = re.search(r'<code class="feed-url">([^<]+)</code>', again.text).group(1)
    assert httpx.get(feed_url, timeout=20).status_code == 404
    assert httpx.get(second, timeout=20).status_code == 200
    browser.post(f"{live.url}/meetings/feed/revoke", data={"csrf_token": csrf(page)})
    assert httpx.get(second, timeout=20).status_code == 404
    for bad in ("x", "a" * 300, "%00"):
        assert httpx.get(f"{live.url}/calendar/{bad}.ics", timeout=20).status_code in (400, 404)


def test_a_feed_stops_listing_a_cooperative_that_no_longer_accepts_the_member(
        chain_portal: ChainSetup) -> None:
    live, chain = chain_portal.portal, chain_portal.chain
    email, usernames = member_with_accounts(live.idp, "voskhod")
    chain.add_participant("voskhod", usernames["voskhod"])
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    chain.add_meeting("voskhod", 1, open_at=chain_time(opens),
                      close_at=chain_time(opens + timedelta(days=3)))
    browser = signed_in_browser(live.idp, email)
    browser.get(f"{live.url}/auth/login")
    page = browser.get(f"{live.url}/meetings").text
    made = browser.post(f"{live.url}/meetings/feed", data={"csrf_token": csrf(page)})
    feed_url = re.search(r'<code class="feed-url">([^<]+)</code>', made.text).group(1)
    assert len(Calendar.from_ical(httpx.get(feed_url).content).walk("VEVENT")) == 1
    chain.add_participant("voskhod", usernames["voskhod"], status="blocked")
    assert Calendar.from_ical(httpx.get(feed_url).content).walk("VEVENT") == []
