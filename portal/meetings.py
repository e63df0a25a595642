"""General meetings of the member's cooperatives, from the chain (``meet::meets``), as a list,
a month calendar and a personal iCalendar feed (issue #12).

Agenda texts are only hashes on the chain, so a meeting shows its number of questions and a
link to the cooperative's site. Only cooperatives that accept the member (the chain, asked now)
are shown; the feed asks the chain again on every fetch.
"""

from __future__ import annotations

import calendar
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select, update

from common.db import db, utcnow
from common.voskhod import Registry, RegistryUnavailable
from common.voskhod.ledger import Ledger, Meeting
from portal.member import Account, accepted
from portal.models import CalendarFeed, PortalMember

# meet::meets statuses (meet.hpp): what the member reads of each.
UPCOMING = frozenset({"created", "authorized", "onrestart"})
PRODID = "-//card.coop//portal meetings//RU"


@dataclass(frozen=True)
class CoopMeeting:
    coopname: str
    coop: str  # the cooperative's public name
    meeting: Meeting

    @property
    def uid(self) -> str:
        return f"meet-{self.coopname}-{self.meeting.id}-{self.meeting.hash[:16]}@card.coop"

    def state(self, now: datetime) -> str:
        """upcoming | voting | finished — what a member needs to know of it."""
        if self.meeting.status not in UPCOMING or now >= self.meeting.close_at:
            return "finished"
        return "voting" if now >= self.meeting.open_at else "upcoming"


def member_meetings(registry: Registry, ledger: Ledger,
                    accounts: list[Account]) -> list[CoopMeeting]:
    found: list[CoopMeeting] = []
    for account, name in accepted(registry, accounts):
        try:
            meetings = ledger.meetings(account.coopname)
        except RegistryUnavailable:
            continue
        found += [CoopMeeting(account.coopname, name, m) for m in meetings]
    return sorted(found, key=lambda m: m.meeting.open_at)


@dataclass(frozen=True)
class MonthGrid:
    year: int
    month: int
    first: date
    weeks: list[list[tuple[date, list[CoopMeeting]]]]  # Monday first
    previous: str
    following: str


def month_grid(meetings: list[CoopMeeting], year: int, month: int) -> MonthGrid:
    """The month's weeks, each day with the meetings open (voting) that day."""
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([(day, [m for m in meetings if _open_on(m.meeting, day)]) for day in week])
    first = date(year, month, 1)
    before = first - timedelta(days=1)
    after = first + timedelta(days=32)
    return MonthGrid(year, month, first, weeks, f"{before.year:04d}-{before.month:02d}",
                     f"{after.year:04d}-{after.month:02d}")


def _open_on(meeting: Meeting, day: date) -> bool:
    return meeting.open_at.date() <= day <= meeting.close_at.date()


def parse_month(value: str | None, today: date) -> tuple[int, int]:
    if value and len(value) == 7 and value[4] == "-" and value[:4].isdigit() and \
            value[5:].isdigit() and 1 <= int(value[5:]) <= 12 and 1900 < int(value[:4]) < 3000:
        return int(value[:4]), int(value[5:])
    return today.year, today.month


# -- the personal iCalendar feed ------------------------------------------------------------

def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed(sub: str) -> str:
    """A new secret address (the token is shown once); the member's older ones stop."""
    revoke_feeds(sub)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(token_hash=feed_token_hash(token), sub=sub))
    db.session.commit()
    return token


def revoke_feeds(sub: str) -> None:
    db.session.execute(update(CalendarFeed).where(
        CalendarFeed.sub == sub, CalendarFeed.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.commit()


def has_feed(sub: str) -> bool:
    return db.session.scalar(select(CalendarFeed.token_hash).where(
        CalendarFeed.sub == sub, CalendarFeed.revoked_at.is_(None)).limit(1)) is not None


def feed_owner(token: str) -> PortalMember | None:
    if not token or len(token) > 100:
        return None
    sub = db.session.scalar(select(CalendarFeed.sub).where(
        CalendarFeed.token_hash == feed_token_hash(token), CalendarFeed.revoked_at.is_(None)))
    return db.session.get(PortalMember, sub) if sub else None


def ics(meetings: list[CoopMeeting], sites: dict[str, str], *, lang: str) -> bytes:
    """RFC 5545, one VEVENT per meeting (voting opens → closes), in UTC."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "card.coop: собрания" if lang == "ru" else "card.coop: meetings")
    stamp = datetime.now(UTC)
    for item in meetings:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.meeting.open_at.astimezone(UTC))
        event.add("dtend", item.meeting.close_at.astimezone(UTC))
        questions = item.meeting.questions
        if lang == "ru":
            event.add("summary", f"Общее собрание пайщиков — {item.coop}")
            description = f"Вопросов в повестке: {questions}."
        else:
            event.add("summary", f"General meeting of members — {item.coop}")
            description = f"Questions on the agenda: {questions}."
        site = sites.get(item.coopname)
        if site:
            event.add("url", site)
            description += (" Повестка и голосование — на сайте кооператива: " if lang == "ru"
                            else " Agenda and voting on the cooperative's site: ") + site
        event.add("description", description)
        event.add("status", "CANCELLED" if item.meeting.status == "closed" else "CONFIRMED")
        cal.add_component(event)
    return bytes(cal.to_ical())


def remember_member(sub: str, accounts: list[Account]) -> None:
    """Keep the member's (public) accounts for the jobs that run without the member."""
    row = db.session.get(PortalMember, sub) or PortalMember(sub=sub)
    row.accounts = [{"coopname": a.coopname, "username": a.username} for a in accounts]
    row.updated_at = row.last_seen_at = utcnow()
    db.session.add(row)
    db.session.commit()


def stored_accounts(member: PortalMember) -> list[Account]:
    return [Account(a["coopname"], a["username"], "", "") for a in member.accounts]
