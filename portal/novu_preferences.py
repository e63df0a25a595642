"""The member's settings mirrored to Novu's subscriber preferences (issue #12), through the
official ``novu-py`` SDK, when Novu is configured: Novu then honours them too for the emails
idp sends on the portal's behalf (subscriber = the card id, workflow = the kind).

A mirror is an outbox row ("novu-preferences" channel), so Novu being down loses nothing:
the worker retries it like any delivery.
"""

from __future__ import annotations

from typing import Any

import httpx
from novu_py import Novu
from novu_py.models import APIError
from novu_py.models.novuerror import NovuError

from common.db import db
from common.notify import DeliveryError, PermanentDeliveryError
from common.notify.novu import NOVU_WORKFLOW_IDS
from common.notify.port import NotificationKind
from portal.delivery import Message
from portal.models import Outbox
from portal.notify_center import EMAIL_KINDS

CHANNEL = "novu-preferences"


def queue_mirror(sub: str, chosen: dict[str, dict[str, Any]]) -> None:
    """In the caller's transaction: one row for the member's whole settings."""
    payload = {kind: {c: bool(chosen[kind][c]) for c in ("email", "in_app", "push")}
               for kind in EMAIL_KINDS}
    db.session.add(Outbox(channel=CHANNEL, kind="preferences", to_email="", subscriber_id=sub,
                          payload=payload))


class NovuPreferences:
    channel = CHANNEL

    def __init__(self, api_url: str, secret_key: str) -> None:
        self._novu = Novu(secret_key=secret_key, server_url=api_url)

    def deliver(self, message: Message, idempotency_key: str | None = None) -> None:
        wanted: dict[str, Any] = dict(message.payload)
        for kind, channels in wanted.items():
            workflow = NOVU_WORKFLOW_IDS[NotificationKind(kind)]
            try:
                self._novu.subscribers.preferences.update(
                    subscriber_id=message.sub, idempotency_key=idempotency_key,
                    patch_subscriber_preferences_dto={
                        "workflow_id": workflow,
                        "channels": {"email": channels["email"], "in_app": channels["in_app"],
                                     "push": channels["push"]}})
            except APIError as error:
                status = error.raw_response.status_code
                if status == 429 or status >= 500:
                    raise DeliveryError(f"Novu answered {status}") from None
                raise PermanentDeliveryError(f"Novu refused the preferences: {status}") from None
            except NovuError as error:
                raise DeliveryError(f"Novu: {type(error).__name__}") from None
            except (httpx.HTTPError, OSError) as error:
                raise DeliveryError(f"Novu unreachable: {type(error).__name__}") from None
