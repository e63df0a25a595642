"""The reminder job (issue #12; ``flask --app wsgi:portal reminders``): meetings that open
within ``portal_meeting_reminder_days``, a minimum share contribution still due (once a
month) and a contribution that arrived (from the chain's history), once per member and event,
through the member's settings (portal/notify_center.py); then the daily or weekly digests that
are due.

Safe with two instances running: the ``portal_reminders_sent`` row of (member, event) is
inserted with ``ON CONFLICT DO NOTHING`` in the transaction that stores the notification and
its outbox rows, so of two jobs exactly one goes on; the other finds the row and skips.
The chain is asked afresh for every member: a member no longer accepted is reminded of nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.numbers import format_currency
from sqlalchemy import select

from common.db import db, inserted_if_absent, utcnow
from common.notify.texts import format_time
from common.voskhod.ledger import SettledDeposit
from portal import contributions, meetings, notify_center
from portal.models import PortalMember, ReminderSent
from portal.services import PortalServices

log = logging.getLogger("cardcoop.portal.reminders")

# A contribution that arrived is told of when the job first sees it, if it is this recent: a
# member's older history (the first time the portal sees them) is not news.
ARRIVALS_WINDOW = timedelta(days=7)


@dataclass
class Report:
    members: int = 0
    meetings: int = 0
    contributions: int = 0
    deposits: int = 0
    digests: int = 0


def run_once(ctx: PortalServices, *, now: datetime | None = None) -> Report:
    now = now or utcnow()
    ahead = timedelta(days=ctx.settings.portal_meeting_reminder_days)
    report = Report()
    for sub in list(db.session.scalars(select(PortalMember.sub).order_by(PortalMember.sub))):
        member = db.session.get(PortalMember, sub)
        if member is None:
            continue
        report.members += 1
        accounts = meetings.stored_accounts(member)
        for item in meetings.member_meetings(ctx.registry, ctx.ledger, accounts):
            if item.state(now) == "upcoming" and item.meeting.open_at - now <= ahead:
                report.meetings += _remind_meeting(sub, item, now)
        for dues in contributions.member_dues(ctx.registry, ctx.ledger, ctx.history, accounts,
                                              sub):
            if dues.minimum_due > 0:
                report.contributions += _remind_contribution(sub, dues, now)
            for deposit in dues.settled or []:
                if now - deposit.settled_at <= ARRIVALS_WINDOW:
                    report.deposits += _tell_arrival(sub, dues, deposit, now)
        digest = notify_center.Text("card.coop", "Новые уведомления в кабинете пайщика")
        if notify_center.digest_due(sub, now, digest):
            report.digests += 1
        db.session.commit()
    log.info("reminders: %s", report)
    return report


def _once(sub: str, event_key: str) -> bool:
    return inserted_if_absent(ReminderSent, sub=sub, event_key=event_key, sent_at=utcnow())


def _remind_meeting(sub: str, item: meetings.CoopMeeting, now: datetime) -> int:
    key = f"meeting:{item.coopname}:{item.meeting.id}:{item.meeting.hash[:16]}"
    if not _once(sub, key):
        return 0
    opens = format_time(item.meeting.open_at, "ru")  # the words the meetings page uses
    notify_center.record(
        sub, notify_center.MEETINGS, key, coopname=item.coopname,
        params={"coop": item.coop, "coopname": item.coopname, "opens": opens,
                "questions": str(item.meeting.questions), "at": now.isoformat()},
        text=notify_center.Text(f"Собрание: {item.coop}",
                                f"Голосование открывается {opens}"))
    db.session.commit()
    return 1


def _tell_arrival(sub: str, dues: contributions.Dues, deposit: SettledDeposit,
                  now: datetime) -> int:
    key = f"deposit:{dues.coopname}:{deposit.hash[:32]}"
    if deposit.amount is None or not _once(sub, key):
        return 0
    amount = str(format_currency(deposit.amount.value, deposit.amount.symbol, locale="ru"))
    notify_center.record(
        sub, notify_center.PAYMENTS, key, coopname=dues.coopname,
        params={"coop": dues.coop, "coopname": dues.coopname, "amount": amount,
                "at": deposit.settled_at.isoformat()},
        text=notify_center.Text(f"Взнос поступил: {dues.coop}", amount),
        at=deposit.settled_at)
    db.session.commit()
    return 1


def _remind_contribution(sub: str, dues: contributions.Dues, now: datetime) -> int:
    key = f"contribution:{dues.coopname}:{now:%Y-%m}"
    if not _once(sub, key):
        return 0
    amount = str(format_currency(dues.minimum_due, "RUB", locale="ru"))
    notify_center.record(
        sub, notify_center.CONTRIBUTIONS, key, coopname=dues.coopname,
        params={"coop": dues.coop, "coopname": dues.coopname, "amount": amount,
                "at": now.isoformat()},
        text=notify_center.Text(f"Паевой взнос: {dues.coop}", f"Осталось внести {amount}"))
    db.session.commit()
    return 1
