"""``NovuNotifier``: the notification port over Novu's trigger API, with plain requests.

``POST {api_url}/v1/events/trigger``, ``Authorization: ApiKey <secret>``, body
``{"name": <workflow id>, "to": {"subscriberId", "email", "locale"}, "payload", "transactionId"}``
(https://docs.novu.co/api-reference/events/trigger-event). Novu renders the message from the
workflow; the payload carries the values it needs (``messages.REQUIRED``).

The secret key and the payload values (a registration code is a secret) are never logged and
never put into an exception message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urlsplit

import requests

from common.notify.masking import mask_emails_in
from common.notify.messages import PayloadError, check_payload, normalize_locale
from common.notify.port import (
    DeliveryError,
    Notification,
    NotificationKind,
    PermanentDeliveryError,
)

log = logging.getLogger("cardcoop.notify")

# The workflow each kind triggers; an operator creates workflows with exactly these identifiers.
NOVU_WORKFLOW_IDS: Final[Mapping[NotificationKind, str]] = {
    NotificationKind.REGISTRATION_CODE: "registration-code",
    NotificationKind.REGISTRATION_ATTEMPT: "registration-attempt",
    NotificationKind.NEW_DEVICE_LOGIN: "new-device-login",
    NotificationKind.SUSPICIOUS_ACTIVITY: "suspicious-activity",
    NotificationKind.ACCOUNT_LOCKED: "account-locked",
    NotificationKind.RECOVERY_CODE: "recovery-code",
    NotificationKind.PASSWORD_CHANGED: "password-changed",
    NotificationKind.ACCESS_GRANTED: "access-granted",
    NotificationKind.ACCESS_REVOKED: "access-revoked",
    NotificationKind.RECOVERY_KEY_CREATED: "recovery-key-created",
    NotificationKind.RECOVERY_KEY_USED: "recovery-key-used",
    NotificationKind.ACCOUNT_DELETED: "account-deleted",
    NotificationKind.DISCLOSURE_REQUESTED: "disclosure-requested",
    NotificationKind.MEETING_REMINDER: "meeting-reminder",
    NotificationKind.CONTRIBUTION_DUE: "contribution-due",
    NotificationKind.DEPOSIT_ARRIVED: "deposit-arrived",
    NotificationKind.DIGEST: "digest",
}

TRIGGER_PATH: Final = "/v1/events/trigger"

# 2xx answers whose "status" says nothing will be sent (TriggerEventResponseDto): the workflow is
# missing, inactive or empty. Sending the same trigger again changes none of that.
_NOT_SENT_STATUSES: Final = frozenset({
    "error", "trigger_not_active", "no_workflow_active_steps_defined",
    "no_workflow_steps_defined", "no_tenant_found", "invalid_recipients",
})
# Novu answers 400 with this when a transactionId was already used: the earlier attempt got
# through and only its answer was lost, so the notification counts as delivered.
_DUPLICATE_TRANSACTION: Final = "transactionid property is not unique"


class NovuNotifier:
    channel: Final = "novu"

    def __init__(self, api_url: str, secret_key: str, timeout: float = 10,
                 session: requests.Session | None = None) -> None:
        parts = urlsplit(api_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL is not echoed: someone may have put credentials into it.
            raise ValueError("Novu API URL must be http(s)://host[/prefix], "
                             "like https://api.novu.co")
        if parts.query or parts.fragment:
            raise ValueError("Novu API URL must not have a query or fragment")
        if not secret_key.strip():
            raise ValueError("Novu secret key is empty")
        if timeout <= 0:
            raise ValueError("Novu timeout must be positive")
        # A path prefix is kept: self-hosted Novu often lives under /api behind a proxy.
        self._endpoint = api_url.strip().rstrip("/") + TRIGGER_PATH
        self._secret_key = secret_key.strip()
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"NovuNotifier({self._endpoint!r})"

    def trigger_body(self, notification: Notification,
                     idempotency_key: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": NOVU_WORKFLOW_IDS[notification.kind],
            # Novu upserts the subscriber from this, so a changed address or language follows.
            "to": {
                "subscriberId": notification.subscriber_id,
                "email": notification.to_email,
                "locale": normalize_locale(notification.locale),
            },
            "payload": dict(notification.payload),
        }
        if idempotency_key is not None:
            body["transactionId"] = idempotency_key
        return body

    def deliver(self, notification: Notification, idempotency_key: str | None = None) -> None:
        try:
            # Novu would accept a trigger with a missing value and send a broken email.
            check_payload(notification)
        except PayloadError as error:
            raise PermanentDeliveryError(str(error)) from None
        headers = {"Authorization": f"ApiKey {self._secret_key}", "Accept": "application/json"}
        if idempotency_key is not None:
            # Novu's Idempotency-Key replays the first answer to a retry; transactionId alone
            # would turn the retry into a 400 (handled below for when the replay window passed).
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self._session.post(
                self._endpoint, json=self.trigger_body(notification, idempotency_key),
                headers=headers, timeout=self._timeout,
                # A redirect means a wrong URL; following it could turn the POST into a GET.
                allow_redirects=False)
        except requests.Timeout:
            raise DeliveryError(f"Novu did not answer within {self._timeout:g}s") from None
        except requests.RequestException as error:
            raise DeliveryError(
                f"Novu request failed: {type(error).__name__}: {mask_emails_in(str(error))}"
            ) from None
        self._check(response, notification.kind, idempotency_key)

    def _check(self, response: requests.Response, kind: NotificationKind,
               idempotency_key: str | None) -> None:
        status = response.status_code
        answer = _json(response)
        if 200 <= status < 300:
            data = answer.get("data", answer)
            outcome = data.get("status") if isinstance(data, dict) else None
            if outcome in _NOT_SENT_STATUSES:
                raise PermanentDeliveryError(f"Novu accepted the trigger but will not send it: "
                                             f"status {outcome} (workflow "
                                             f"{NOVU_WORKFLOW_IDS[kind]})")
            log.debug("novu trigger accepted: kind=%s transaction=%s", kind, idempotency_key)
            return
        reason = _reason(answer)
        if (status == 400 and idempotency_key is not None
                and _DUPLICATE_TRANSACTION in reason.lower()):
            log.info("novu trigger already accepted earlier: kind=%s transaction=%s",
                     kind, idempotency_key)
            return
        message = f"Novu answered {status}: {reason}"
        # 409: an earlier attempt with the same Idempotency-Key is still being processed.
        if status in (408, 409, 425, 429) or status >= 500 or status < 400:
            raise DeliveryError(message, retry_after=_retry_after(response))
        raise PermanentDeliveryError(message)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reason(answer: Mapping[str, Any]) -> str:
    """Novu's error text ("message" is a string or a list of them), without addresses."""
    message = answer.get("message") or answer.get("error") or ""
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message)
    return mask_emails_in(str(message)) or "no error message"


def _retry_after(response: requests.Response) -> float | None:
    """RFC 9110 §10.2.3: delay in seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
