"""``SmtpMailer``: the notification port over SMTP (RFC 5321) with smtplib.

URL forms (parsed once, at construction, so a typo fails at start-up and not at the first login):
``smtp://host[:25]`` plain, upgraded with STARTTLS when the server offers it;
``smtp+starttls://host[:587]`` STARTTLS required; ``smtps://host[:465]`` implicit TLS (RFC 8314).
``user:password@`` (percent-encoded) enables AUTH.

Error mapping: a 5xx reply to RCPT or DATA is permanent (RFC 5321 §4.2.1: the same request will
fail again); everything else (4xx, timeouts, refused connections, TLS trouble, and refusals of our
own login or sender, which an operator fixes) is worth another try.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Final, Literal
from urllib.parse import unquote, urlsplit

from common.notify.masking import mask_emails_in
from common.notify.messages import PayloadError, normalize_locale, render
from common.notify.port import DeliveryError, Notification, PermanentDeliveryError

Security = Literal["opportunistic", "starttls", "tls"]

_SCHEMES: Final[dict[str, tuple[Security, int]]] = {
    "smtp": ("opportunistic", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
_SAFE_KEY = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str | None
    password: str | None

    def __repr__(self) -> str:
        # Settings and tracebacks print this; the password must not come with it.
        return (f"SmtpConfig(host={self.host!r}, port={self.port}, security={self.security!r}, "
                f"auth={self.username is not None})")


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse and validate; every ``ValueError`` names what is wrong (never the password)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"SMTP URL scheme must be one of {', '.join(sorted(_SCHEMES))}, "
                         f"got {scheme or 'nothing'!r}")
    security, default_port = _SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError("SMTP URL has no host (expected smtp://host:port)")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("SMTP URL port must be a number between 1 and 65535")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("SMTP URL must not have a path, query or fragment")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if (username is None) != (password is None) or username == "":
        raise ValueError("SMTP URL credentials must be given as user:password@ (both parts)")
    return SmtpConfig(parts.hostname, port or default_port, security, username, password)


class SmtpMailer:
    channel: Final = "smtp"

    def __init__(self, url: str, sender: str = "card.coop <no-reply@card.coop>",
                 timeout: float = 10, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._config = parse_smtp_url(url)
        sender_address = _parse_sender(sender)
        self._sender = str(sender_address)
        self._sender_domain = sender_address.domain
        if timeout <= 0:
            raise ValueError("SMTP timeout must be positive")
        self._timeout = timeout
        # A private CA (or a test certificate) comes in here; the default verifies as browsers do.
        self._ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpMailer({self._config!r})"

    def build_message(self, notification: Notification,
                      idempotency_key: str | None = None) -> EmailMessage:
        subject, text = render(notification)
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = notification.to_email
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = self._message_id(idempotency_key)
        # RFC 3834 §5: tells vacation responders and ticket systems not to answer us.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text, charset="utf-8")
        # After set_content, which drops any Content-* header set before it.
        message["Content-Language"] = normalize_locale(notification.locale)
        return message

    def deliver(self, notification: Notification, idempotency_key: str | None = None) -> None:
        try:
            message = self.build_message(notification, idempotency_key)
        except PayloadError as error:
            raise PermanentDeliveryError(str(error)) from None
        try:
            self._send(message)
        except smtplib.SMTPRecipientsRefused as error:
            # One recipient per message, so this is its reply.
            code, reply = next(iter(error.recipients.values()))
            raise _from_reply("recipient refused", code, reply) from None
        except smtplib.SMTPDataError as error:
            raise _from_reply("message refused", error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPResponseException as error:
            # Greeting, EHLO, AUTH or MAIL FROM refused, even with a 5xx: the server or our
            # account is misconfigured. That is no fault of this message and an operator fixes
            # it, so retry instead of dropping everything queued meanwhile.
            raise DeliveryError(f"SMTP {type(error).__name__}: {error.smtp_code} "
                                f"{_reply_text(error.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            # Refused or dropped connections, timeouts, TLS failures (ssl.SSLError is an
            # OSError), a server without STARTTLS or AUTH that the URL asks for.
            raise DeliveryError(f"SMTP {type(error).__name__}: {mask_emails_in(str(error))}") \
                from None

    def _send(self, message: EmailMessage) -> None:
        config = self._config
        client: smtplib.SMTP
        if config.security == "tls":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=self._timeout,
                                      context=self._ssl_context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=self._timeout)
        with client:
            client.ehlo()
            if config.security != "tls":
                if client.has_extn("starttls"):
                    client.starttls(context=self._ssl_context)
                    client.ehlo()  # RFC 3207 §4.2: forget what was said before TLS.
                elif config.security == "starttls":
                    # Could be a server misconfiguration or someone stripping STARTTLS on the
                    # way: either way not this message's fault, so try again later.
                    raise DeliveryError("SMTP server does not offer STARTTLS, which the "
                                        "smtp+starttls URL requires")
            if config.username is not None and config.password is not None:
                # Over plain smtp:// without STARTTLS this sends the password in clear; that is
                # only sensible for a relay on the same host, which is what that form is for.
                client.login(config.username, config.password)
            try:
                # One envelope recipient, the To header; SMTPUTF8 is used when the address needs it.
                client.send_message(message)
            except smtplib.SMTPNotSupportedError:
                # Only raised here for an internationalized address the server cannot take.
                raise PermanentDeliveryError(
                    "SMTP server cannot deliver to this address (no SMTPUTF8)") from None

    def _message_id(self, idempotency_key: str | None) -> str:
        if idempotency_key is None:
            return make_msgid(domain=self._sender_domain)
        # The same outbox row always gets the same Message-ID, so a retry after a lost "250 OK"
        # is recognisable as a duplicate by the receiving side. Keys that are not plain tokens are
        # hashed rather than escaped.
        token = idempotency_key if _SAFE_KEY.fullmatch(idempotency_key) else \
            hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        return f"<notify.{token}@{self._sender_domain}>"


def _parse_sender(sender: str) -> Address:
    addresses = getaddresses([sender])
    if len(addresses) != 1 or "@" not in addresses[0][1]:
        raise ValueError(f"SMTP sender must be one address like 'Name <user@domain>', "
                         f"got {sender!r}")
    name, address = addresses[0]
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise ValueError(f"SMTP sender address is incomplete: {sender!r}")
    return Address(display_name=name, username=local, domain=domain)


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return mask_emails_in(text)


def _from_reply(what: str, code: int, reply: bytes | str) -> DeliveryError:
    """A refusal of this recipient or this message: 5xx is final (RFC 5321 §4.2.1)."""
    message = f"SMTP {what}: {code} {_reply_text(reply)}"
    if 500 <= code <= 599:
        return PermanentDeliveryError(message)
    return DeliveryError(message)
