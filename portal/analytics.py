"""Analytics (issue #12): the member's own activity over time (from idp's account history),
and, for operators (``portal_admins``: card ids), the portal's aggregates — active members per
day and week, sign-ins, accesses revoked, deposits started, notifications delivered — with a
CSV export. Counts only: no operator sees who did what."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from common.db import db, insert_ignoring_conflict
from portal.idp_api import IdpClient
from portal.models import ActivityDay, Outbox

ACTIVITY_KINDS = ("visit", "sign_in", "grant_revoked", "device_revoked", "deposit")
SIGN_INS = frozenset({"login_ok", "signed_in"})
GRANTS = frozenset({"access_granted", "access_revoked"})
HISTORY_PAGES = 4  # 200 events: a few months of a member's history


def note(sub: str, kind: str, day: date | None = None) -> None:
    """Count the member once for this kind today (caller commits)."""
    db.session.execute(insert_ignoring_conflict(
        ActivityDay, day=day or datetime.now(UTC).date(), sub=sub, kind=kind))


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


@dataclass(frozen=True)
class Series:
    title: str
    bars: list[Bar]

    @property
    def peak(self) -> int:
        return max((b.value for b in self.bars), default=0) or 1


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def member_history(idp: IdpClient, token: str, *, weeks: int = 12,
                   today: date | None = None) -> list[Series]:
    """Sign-ins, accesses given or revoked, and devices signed in, per week."""
    today = today or datetime.now(UTC).date()
    events: list[dict[str, Any]] = []
    before = None
    for _ in range(HISTORY_PAGES):
        page = idp.get(token, "/auth/activity", limit=50, **({"before": before} if before else {}))
        events += page.get("events", [])
        before = page.get("next_before")
        if not before:
            break
    first = week_start(today) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    counts: dict[str, Counter[date]] = {"sign_ins": Counter(), "grants": Counter(),
                                        "devices": Counter()}
    devices: dict[date, set[str]] = {}
    for event in events:
        day = datetime.fromisoformat(str(event["at"])).date()
        week = week_start(day)
        if week < first:
            continue
        if event["event"] in SIGN_INS:
            counts["sign_ins"][week] += 1
            devices.setdefault(week, set()).add(str(event.get("device") or "?"))
        elif event["event"] in GRANTS:
            counts["grants"][week] += 1
    for week, names in devices.items():
        counts["devices"][week] = len(names)
    return [Series(name, [Bar(start.isoformat(), counts[name][start]) for start in starts])
            for name in ("sign_ins", "grants", "devices")]


@dataclass(frozen=True)
class DayRow:
    day: date
    active: int
    sign_ins: int
    grants_revoked: int
    devices_revoked: int
    deposits: int
    notifications_sent: int
    notifications_failed: int


def daily(days: int = 30, today: date | None = None) -> list[DayRow]:
    today = today or datetime.now(UTC).date()
    since = today - timedelta(days=days - 1)
    activity = db.session.execute(
        select(ActivityDay.day, ActivityDay.kind, func.count())
        .where(ActivityDay.day >= since).group_by(ActivityDay.day, ActivityDay.kind)).all()
    by_day: dict[tuple[date, str], int] = {(d, k): int(n) for d, k, n in activity}
    sent = db.session.execute(
        select(Outbox.status, Outbox.created_at).where(
            Outbox.created_at >= datetime.combine(since, datetime.min.time(), UTC))).all()
    delivered: Counter[tuple[date, str]] = Counter(
        (created.astimezone(UTC).date(), status) for status, created in sent)
    rows = []
    for offset in range(days):
        day = since + timedelta(days=offset)
        rows.append(DayRow(day, by_day.get((day, "visit"), 0), by_day.get((day, "sign_in"), 0),
                           by_day.get((day, "grant_revoked"), 0),
                           by_day.get((day, "device_revoked"), 0),
                           by_day.get((day, "deposit"), 0), delivered[(day, "sent")],
                           delivered[(day, "dead")]))
    return rows


def weekly_active(days: int = 84, today: date | None = None) -> list[Bar]:
    today = today or datetime.now(UTC).date()
    since = week_start(today - timedelta(days=days - 1))
    rows = db.session.execute(select(ActivityDay.day, ActivityDay.sub).where(
        ActivityDay.day >= since, ActivityDay.kind == "visit")).all()
    weeks: dict[date, set[str]] = {}
    for day, sub in rows:
        weeks.setdefault(week_start(day), set()).add(sub)
    starts = []
    start = since
    while start <= today:
        starts.append(start)
        start += timedelta(weeks=1)
    return [Bar(s.isoformat(), len(weeks.get(s, set()))) for s in starts]


def as_csv(rows: list[DayRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "active_members", "sign_ins", "grants_revoked", "devices_revoked",
                     "deposits", "notifications_sent", "notifications_failed"])
    for r in rows:
        writer.writerow([r.day.isoformat(), r.active, r.sign_ins, r.grants_revoked,
                         r.devices_revoked, r.deposits, r.notifications_sent,
                         r.notifications_failed])
    return out.getvalue()
