"""How the portal's outbox rows leave (issue #12): "email" relayed by idp (the portal never
knows an address), "push" by Web Push with VAPID (RFC 8030, RFC 8291 encryption, RFC 8292),
through pywebpush. Both are channels of common/outbox.py's worker loop."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select

from common.db import db
from common.notify import DeliveryError, PermanentDeliveryError
from portal.models import PushSubscription

log = logging.getLogger("cardcoop.portal.delivery")

PUSH_TTL = 24 * 3600  # seconds a push service keeps a message for an offline browser


@dataclass(frozen=True)
class Message:
    """A portal outbox row as its channel sees it: the card, the kind, the text's values."""

    kind: str
    sub: str
    payload: dict[str, str]
    locale: str = "ru"


class IdpRelay:
    """``POST {idp}/notifications`` with the portal's client credentials."""

    channel = "email"

    def __init__(self, idp_url: str, client_id: str, client_secret: str | None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=idp_url, timeout=10, transport=transport,
                                  auth=(client_id, client_secret or ""))

    def deliver(self, message: Message, idempotency_key: str | None = None) -> None:
        params = {k: v for k, v in message.payload.items() if not k.startswith("_")}
        try:
            answer = self._http.post("/notifications", json={
                "sub": message.sub, "kind": message.kind, "params": params,
                "idempotency_key": idempotency_key or ""})
        except httpx.HTTPError as error:
            raise DeliveryError(f"idp unreachable: {type(error).__name__}") from None
        if answer.status_code == 202:
            return
        if answer.status_code in (429, 502, 503, 504) or answer.status_code >= 500:
            raise DeliveryError(f"idp answered {answer.status_code}")
        try:
            code = str(answer.json().get("error", ""))[:40]
        except ValueError:
            code = ""
        raise PermanentDeliveryError(f"idp refused the notification: {answer.status_code} {code}")


class WebPushChannel:
    """Every browser the member subscribed; a subscription the push service says is gone
    (404, 410) is forgotten."""

    channel = "push"

    def __init__(self, vapid_private_key: str, contact: str) -> None:
        self._key = Vapid.from_pem(vapid_private_key.encode())
        self._claims = {"sub": contact}

    def deliver(self, message: Message, idempotency_key: str | None = None) -> None:
        subscriptions = list(db.session.scalars(select(PushSubscription).where(
            PushSubscription.sub == message.sub)))
        db.session.commit()  # no transaction held while the push services answer
        body = json.dumps({"kind": message.kind, "title": message.payload.get("_title", ""),
                           "body": message.payload.get("_body", ""),
                           "url": message.payload.get("_url", "/notifications")},
                          ensure_ascii=False)
        failed = 0
        for subscription in subscriptions:
            try:
                webpush(subscription_info={"endpoint": subscription.endpoint, "keys": {
                    "p256dh": subscription.p256dh, "auth": subscription.auth}},
                    data=body, vapid_private_key=self._key, vapid_claims=dict(self._claims),
                    ttl=PUSH_TTL, timeout=10)
            except WebPushException as error:
                status = getattr(error.response, "status_code", None)
                if status in (404, 410):
                    db.session.execute(delete(PushSubscription).where(
                        PushSubscription.id == subscription.id))
                    db.session.commit()
                    log.info("push subscription gone (%s): forgotten", status)
                else:
                    failed += 1
                    log.warning("push failed: %s", status or type(error).__name__)
            except (OSError, ValueError) as error:
                failed += 1
                log.warning("push failed: %s", type(error).__name__)
        if failed:
            raise DeliveryError(f"{failed} push subscription(s) failed")


def payload_for_push(title: str, body: str, url: str) -> dict[str, Any]:
    """The push's own text rides in the row's payload under keys idp never sees (``_``)."""
    return {"_title": title, "_body": body, "_url": url}
