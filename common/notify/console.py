"""``ConsoleNotifier``: the sandbox channel. One log line per notification, so a developer sees
that something was sent, to whom (masked) and why.

Never the payload: a registration code in a log is a registration anyone with log access can
finish. The development mailbox page, not the log, is where a developer reads the code.
"""

from __future__ import annotations

import logging
from typing import Final

from common.notify.masking import mask_email
from common.notify.messages import PayloadError, check_payload
from common.notify.port import Notification, PermanentDeliveryError

log = logging.getLogger("cardcoop.notify")


class ConsoleNotifier:
    channel: Final = "console"

    def deliver(self, notification: Notification, idempotency_key: str | None = None) -> None:
        try:
            # Fail like the real channels do, so a missing value shows up in development and
            # not first in production.
            check_payload(notification)
        except PayloadError as error:
            raise PermanentDeliveryError(str(error)) from None
        log.info("notification %s to %s (key %s)", notification.kind.value,
                 mask_email(notification.to_email), idempotency_key or "-")
