"""Recommendations for the member (the specification's «персонализированные рекомендации»):
what to do next, worked out from what the portal may know of the member — the chain's dues and
meetings of their cooperatives, the cooperatives they could join, and their own settings here.
Nothing is learnt from personal data (the portal has none) and nothing leaves the portal.

Rules, most pressing first, at most ``LIMIT``: a minimum share still due; a meeting whose
voting is open; a meeting opening within ``SOON``; a calendar not subscribed while meetings
are planned; browser notifications off; with no membership yet, a cooperative to join.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from portal.contributions import Dues
from portal.meetings import CoopMeeting
from portal.member import Joinable

LIMIT: Final = 4
SOON: Final = timedelta(days=14)


@dataclass(frozen=True)
class Recommendation:
    key: str  # what to do (the template says it in the page's language)
    url: str
    params: dict[str, str] = field(default_factory=dict)
    amount: object | None = None  # a Decimal of roubles, formatted by the page
    at: datetime | None = None


def for_member(*, dues: list[Dues], meetings: list[CoopMeeting], joinable: list[Joinable],
               has_feed: bool, push_on: bool, now: datetime) -> list[Recommendation]:
    found = [Recommendation("pay_minimum", f"/contributions#coop-{d.coopname}",
                            {"coop": d.coop}, amount=d.minimum_due)
             for d in dues if d.minimum_due > 0]
    upcoming = [m for m in meetings if m.state(now) != "finished"]
    found += [Recommendation("vote_now", "/meetings", {"coop": m.coop}, at=m.meeting.close_at)
              for m in upcoming if m.state(now) == "voting"]
    found += [Recommendation("meeting_soon", "/meetings", {"coop": m.coop}, at=m.meeting.open_at)
              for m in upcoming
              if m.state(now) == "upcoming" and m.meeting.open_at - now <= SOON]
    if upcoming and not has_feed:
        found.append(Recommendation("subscribe_calendar", "/meetings#feed"))
    if not push_on:
        found.append(Recommendation("turn_on_push", "/settings#push"))
    if not dues and joinable:
        first = joinable[0]
        found.append(Recommendation("join", first.join_url, {"coop": first.name}))
    return found[:LIMIT]
