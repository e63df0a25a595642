"""Which channels carry idp's notifications, and the development mailbox (DESIGN.md §3).

- ``smtp`` when CARDCOOP_SMTP_URL is set: email goes out by SMTP even when Novu is off.
- ``novu`` when CARDCOOP_NOVU_API_URL + _SECRET_KEY are set: the event triggers a Novu workflow.
- ``devmail`` when neither is set (the embedded default): the rendered email is kept in
  ``idp_dev_mailbox`` and shown at /dev/mailbox, so a newcomer can read the code.
"""

from __future__ import annotations

from collections.abc import Mapping

from common.db import db
from common.notify import (
    ConsoleNotifier,
    Notification,
    NotificationKind,
    Notifier,
    NovuNotifier,
    SmtpMailer,
    render,
)
from common.outbox import enqueue
from common.settings import Settings
from idp.models import DevMail, Outbox


class DevMailbox:
    """Development channel: stores the email it would send; logs a line without the secrets."""

    channel = "devmail"

    def __init__(self) -> None:
        self._console = ConsoleNotifier()

    def deliver(self, notification: Notification, idempotency_key: str | None = None) -> None:
        subject, body = render(notification)
        db.session.add(DevMail(to_email=notification.to_email, subject=subject, body=body))
        self._console.deliver(notification, idempotency_key=idempotency_key)


def channels(settings: Settings) -> list[str]:
    names = []
    if settings.smtp_url:
        names.append("smtp")
    if settings.novu_api_url:
        names.append("novu")
    if settings.uses_dev_mailbox:
        names.append("devmail")
    return names


def build_notifiers(settings: Settings) -> Mapping[str, Notifier]:
    notifiers: dict[str, Notifier] = {}
    if settings.smtp_url:
        notifiers["smtp"] = SmtpMailer(settings.smtp_url, sender=settings.smtp_sender)
    if settings.novu_api_url and settings.novu_secret_key:
        notifiers["novu"] = NovuNotifier(settings.novu_api_url, settings.novu_secret_key)
    if settings.uses_dev_mailbox:
        notifiers["devmail"] = DevMailbox()
    return notifiers


class Notify:
    """What services call: queue a notification in the current transaction."""

    def __init__(self, settings: Settings) -> None:
        self._channels = channels(settings)

    def __call__(self, kind: NotificationKind, *, to_email: str, subscriber_id: str,
                 **payload: str) -> None:
        enqueue(db.session, Outbox,
                Notification(kind=kind, to_email=to_email, subscriber_id=subscriber_id,
                             payload=payload), self._channels)
