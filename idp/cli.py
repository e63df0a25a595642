"""idp's commands: ``flask --app wsgi:idp worker``, ``purge``, ``keys rotate``, ``audit purge``."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import click
from flask.cli import with_appcontext

from common.db import db, utcnow
from common.outbox import DeliveryReport, deliver_due
from common.retention import Schedule, ended_rows_command
from idp.models import Outbox
from idp.network import disclosures, webhooks
from idp.notifications import build_notifiers
from idp.retention import purge_expired
from idp.services import services

log = logging.getLogger("cardcoop.worker")


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver queued notifications and the network's webhooks, with retries and backoff; delete
    what has ended every ``purge_interval`` seconds."""
    settings = services().settings
    notifiers = build_notifiers(settings)
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started; channels: %s", ", ".join(notifiers) or "none")
    total = DeliveryReport()
    purging = Schedule(purge_expired, settings.purge_interval)
    while not stopping:
        purging.run_if_due()
        report = deliver_due(db.session, Outbox, notifiers,
                             max_attempts=settings.outbox_max_attempts)
        db.session.remove()
        # The network (issue #11): unanswered disclosures expire (the requester is told), and
        # the webhooks have their own outbox, in order per cooperative.
        disclosures.expire_due()
        report += webhooks.deliver_due(db.session, services().network_keys.current()[1],
                                       max_attempts=settings.outbox_max_attempts)
        db.session.remove()
        total += report
        idle = not report.busy
        if once and idle:  # everything that was due is handled (retries wait for later)
            click.echo(f"sent {total.sent}, retried {total.retried}, dead {total.dead}")
            return
        if idle:
            time.sleep(settings.worker_poll_interval)


purge_ended_command = ended_rows_command(purge_expired, help=(
    "Delete the sessions, tickets, tokens and attempts that ended a week ago (the worker does "
    "this every hour on its own); idempotent."))


@click.group("keys")
def keys_cli() -> None:
    """Manage the keys that sign access tokens."""


@keys_cli.command("rotate")
@with_appcontext
def rotate_command() -> None:
    """Start signing with a new key; the old one keeps verifying until its tokens expire."""
    kid = services().tokens.rotate()
    click.echo(f"new signing key: {kid}")


@click.group("audit")
def audit_cli() -> None:
    """The audit log's retention (docs/security.md: deleting an account)."""


@audit_cli.command("purge")
@with_appcontext
def purge_command() -> None:
    """Erase what the audit kept of accounts deleted more than the retention period ago. Run
    it daily (cron or a systemd timer); it is idempotent."""
    from idp.audit import purge_retained

    erased = purge_retained(utcnow())
    db.session.commit()
    click.echo(f"erased {erased} audit event(s) past their retention")
