"""Rendering a notification to a plain-text email: ``render(notification) -> EmailContent``.

Plain text only: no HTML means no tracking pixels, no remote content and no markup a payload value
could smuggle in. Values are squeezed onto one line and cut short, because some of them come from
whoever sent the request (the User-Agent) and must not be able to write paragraphs of their own
("your account is blocked, call ...") into our mail.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Final, NamedTuple

from common.notify.port import Notification
from common.notify.port import NotificationKind as Kind
from common.notify.texts import LABELS, TEXTS, Labels, field_labels, format_time

DEFAULT_LOCALE: Final = "ru"
LOCALES: Final = frozenset(LABELS)

# The payload each kind needs. Keys beyond these (and the optional ones) are ignored.
REQUIRED: Final[Mapping[Kind, tuple[str, ...]]] = {
    Kind.REGISTRATION_CODE: ("code", "expires_minutes"),
    Kind.REGISTRATION_ATTEMPT: ("at",),
    Kind.NEW_DEVICE_LOGIN: ("at", "ip", "user_agent"),
    Kind.SUSPICIOUS_ACTIVITY: ("at", "ip", "user_agent"),
    Kind.ACCOUNT_LOCKED: ("at", "ip"),
    Kind.RECOVERY_CODE: ("code", "expires_minutes"),
    Kind.PASSWORD_CHANGED: ("at",),
    # "coop" is the cooperative's display name (from the chain: untrusted, squeezed like the
    # rest), "coopname" its account name.
    Kind.ACCESS_GRANTED: ("coop", "coopname", "at"),
    Kind.ACCESS_REVOKED: ("coop", "coopname", "at"),
    Kind.RECOVERY_KEY_CREATED: ("at",),
    Kind.RECOVERY_KEY_USED: ("at",),
    Kind.ACCOUNT_DELETED: ("at",),
    # "coop" asks "source" (display names) for the member's profile.
    Kind.DISCLOSURE_REQUESTED: ("coop", "coopname", "source", "at"),
    # The portal's: "opens" is the voting's start as the member reads it.
    Kind.MEETING_REMINDER: ("coop", "coopname", "opens", "questions", "at"),
    Kind.CONTRIBUTION_DUE: ("coop", "coopname", "amount", "at"),
    Kind.DEPOSIT_ARRIVED: ("coop", "coopname", "amount", "at"),
    Kind.DIGEST: ("count", "summary", "at"),
}
# Shown when present: "ip"/"user_agent" in the details block, "unlock_minutes" for a lockout,
# "fields" (the shared field names, comma-separated) for a granted access.
OPTIONAL: Final = ("ip", "user_agent", "unlock_minutes", "fields")

_MAX_VALUE_LENGTH: Final = 120


class PayloadError(ValueError):
    """The payload lacks a key its kind needs. Retrying cannot fix that: adapters turn it into
    ``PermanentDeliveryError``."""


class EmailContent(NamedTuple):
    subject: str
    text: str


def check_payload(notification: Notification) -> None:
    """Raise ``PayloadError`` naming the missing keys (never the values: they may be secrets)."""
    missing = [key for key in REQUIRED[notification.kind]
               if not notification.payload.get(key, "").strip()]
    if missing:
        raise PayloadError(
            f"{notification.kind.value} notification needs payload key(s): {', '.join(missing)}")


def normalize_locale(locale: str) -> str:
    """``en-US``/``en_GB`` -> ``en``; anything we do not translate into falls back to Russian."""
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def render(notification: Notification) -> EmailContent:
    check_payload(notification)
    locale = normalize_locale(notification.locale)
    text, labels = TEXTS[notification.kind][locale], LABELS[locale]
    values = {key: _one_line(value) for key, value in notification.payload.items()
              if key in REQUIRED[notification.kind] or key in OPTIONAL}
    if "at" in values:
        values["at"] = _format_time(values["at"], locale)
    if "fields" in values:
        # Field names (ids) become their labels; only then squeezed like the other values.
        values["fields"] = _one_line(field_labels(notification.payload["fields"], locale))

    paragraphs = [labels.greeting, text.intro.format_map(values)]
    if values.get("unlock_minutes") and notification.kind is Kind.ACCOUNT_LOCKED:
        paragraphs.append(labels.unlock.format_map(values))
    if values.get("fields") and notification.kind is Kind.ACCESS_GRANTED:
        paragraphs.append(labels.fields.format_map(values))
    details = _details(values, labels)
    if details:
        paragraphs.append(details)
    paragraphs += [text.advice, labels.footer]
    return EmailContent(subject=text.subject.format_map(values),
                        text="\n\n".join(paragraphs) + "\n")


def _details(values: Mapping[str, str], labels: Labels) -> str:
    rows = [(labels.at, values.get("at")), (labels.ip, values.get("ip")),
            (labels.user_agent, values.get("user_agent"))]
    return "\n".join(f"{label}: {value}" for label, value in rows if value)


def _one_line(value: str) -> str:
    # Category C covers line breaks, other control characters, and the invisible format
    # characters (bidi overrides, zero-width) used to disguise text.
    cleaned = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > _MAX_VALUE_LENGTH:
        cleaned = cleaned[: _MAX_VALUE_LENGTH - 1] + "…"
    return cleaned


def _format_time(value: str, locale: str) -> str:
    """ISO 8601 from the caller -> Moscow time in the email's language (texts.format_time);
    anything else is shown as given."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return format_time(moment, locale)
