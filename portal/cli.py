"""The portal's commands: ``flask --app wsgi:portal worker`` (its outbox: email through idp,
Web Push, Novu preferences; and the purge of what has ended), ``purge`` (that once) and
``reminders`` (the scheduled job, portal/reminders.py)."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any, cast

import click
from flask.cli import with_appcontext

from common.db import db
from common.notify import Notifier
from common.outbox import DeliveryReport, deliver_claimed
from common.retention import Schedule, ended_rows_command
from portal import reminders, retention
from portal.delivery import IdpRelay, WebPushChannel
from portal.models import Outbox
from portal.push import load_vapid
from portal.services import services

log = logging.getLogger("cardcoop.portal.worker")


def build_channels() -> Mapping[str, Notifier]:
    settings = services().settings
    channels: dict[str, Any] = {
        "email": IdpRelay(settings.idp_url, settings.portal_client_id,
                          settings.portal_client_secret),
        "push": WebPushChannel(load_vapid(settings).private_pem, settings.portal_vapid_contact),
    }
    if settings.novu_api_url and settings.novu_secret_key:
        from portal.novu_preferences import CHANNEL, NovuPreferences

        channels[CHANNEL] = NovuPreferences(settings.novu_api_url, settings.novu_secret_key)
    # The outbox loop is shared with idp (common/outbox.py); these channels take the portal's
    # own message rows (portal.delivery.Message) rather than idp's addressed notifications.
    return cast(Mapping[str, Notifier], channels)


def _stoppable() -> list[bool]:
    stopping = [False]

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping[0] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopping


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver the portal's outbox with retries and backoff; delete what has ended every
    ``purge_interval`` seconds."""
    settings = services().settings
    channels = build_channels()
    stopping = _stoppable()
    log.info("portal worker started; channels: %s", ", ".join(channels))
    total = DeliveryReport()
    purging = Schedule(retention.purge_expired, settings.purge_interval)
    while not stopping[0]:
        purging.run_if_due()
        report = deliver_claimed(db.session, Outbox, channels,
                             max_attempts=settings.outbox_max_attempts)
        db.session.remove()
        total += report
        if once and not report.busy:
            click.echo(f"sent {total.sent}, retried {total.retried}, dead {total.dead}")
            return
        if not report.busy:
            time.sleep(settings.worker_poll_interval)


purge_command = ended_rows_command(retention.purge_expired, help=(
    "Delete the expired sessions and the delivered outbox rows; idempotent."))


@click.command("reminders")
@click.option("--every", type=click.IntRange(min=10), default=None,
              help="Run again every this many seconds (default: once).")
@with_appcontext
def reminders_command(every: int | None) -> None:
    """Remind members of meetings and contributions due, and send the digests due."""
    stopping = _stoppable()
    while True:
        report = reminders.run_once(services())
        db.session.remove()
        click.echo(f"members {report.members}, meetings {report.meetings}, "
                   f"contributions {report.contributions}, digests {report.digests}")
        if every is None or stopping[0]:
            return
        for _ in range(every):
            if stopping[0]:
                return
            time.sleep(1)
