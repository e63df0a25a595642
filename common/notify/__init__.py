"""Notifications: the port (``Notifier``), the texts, and the adapters (DESIGN.md §3).

The outbox worker builds one adapter from settings and calls ``deliver``; everything it needs to
decide about retries is in the two error classes.
"""

from common.notify.console import ConsoleNotifier
from common.notify.masking import mask_email
from common.notify.messages import EmailContent, PayloadError, check_payload, render
from common.notify.novu import NOVU_WORKFLOW_IDS, NovuNotifier
from common.notify.port import (
    DeliveryError,
    Notification,
    NotificationKind,
    Notifier,
    PermanentDeliveryError,
)
from common.notify.smtp import SmtpMailer, parse_smtp_url

__all__ = [
    "NOVU_WORKFLOW_IDS",
    "ConsoleNotifier",
    "DeliveryError",
    "EmailContent",
    "Notification",
    "NotificationKind",
    "Notifier",
    "NovuNotifier",
    "PayloadError",
    "PermanentDeliveryError",
    "SmtpMailer",
    "check_payload",
    "mask_email",
    "parse_smtp_url",
    "render",
]
