"""Fixtures for the notification adapters: a real SMTP server (aiosmtpd) on 127.0.0.1, a
self-signed certificate for the TLS forms, and notification factories."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from common.notify import Notification, NotificationKind
from tests.live import free_port

# A payload that satisfies every kind, plus a key no template knows.
FULL_PAYLOAD: dict[str, str] = {
    "code": "482913",
    "expires_minutes": "15",
    "at": "2025-11-27T10:05:00Z",
    "ip": "203.0.113.7",
    "user_agent": "Firefox 133 on Linux",
    "unlock_minutes": "30",
    "coop": "ПК ВОСХОД",
    "coopname": "voskhod",
    "source": "ПК Зелёный сад",
    "fields": "first_name, email, phone",
    "opens": "5 декабря 2026 г., 09:00 (МСК)",
    "questions": "3",
    "amount": "300,00 ₽",
    "count": "2",
    "summary": "собрание пайщиков, паевой взнос",
    "unused": "ignored-value",
}


@pytest.fixture
def make_notification() -> Callable[..., Notification]:
    def make(kind: NotificationKind = NotificationKind.REGISTRATION_CODE,
             to_email: str = "ivan.petrov@example.com", subscriber_id: str = "member-1",
             payload: dict[str, str] | None = None, locale: str = "ru") -> Notification:
        return Notification(kind=kind, to_email=to_email, subscriber_id=subscriber_id,
                            payload=dict(FULL_PAYLOAD) if payload is None else payload,
                            locale=locale)
    return make


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    auth_login: bytes | None


@dataclass
class CollectingHandler:
    """Accepts mail and keeps it, or answers RCPT / DATA with a chosen reply."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        auth = session.auth_data
        self.received.append(Received(
            mail_from=str(envelope.mail_from), rcpt_tos=list(envelope.rcpt_tos), message=message,
            # session.ssl is only set by STARTTLS; implicit TLS shows on the transport.
            tls=session.ssl is not None
            or (server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None),
            auth_login=auth.login if isinstance(auth, LoginPassword) else None))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    handler: CollectingHandler
    port: int

    def url(self, scheme: str = "smtp", credentials: str = "") -> str:
        return f"{scheme}://{credentials}127.0.0.1:{self.port}"


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., SmtpServer]]:
    """Start a real SMTP server: ``start_smtp(rcpt_reply=..., **aiosmtpd_kwargs)``."""
    controllers: list[Controller] = []

    def start(rcpt_reply: str | None = None, data_reply: str | None = None,
              **kwargs: Any) -> SmtpServer:
        handler = CollectingHandler(rcpt_reply=rcpt_reply, data_reply=data_reply)
        port = free_port()
        # server_hostname: skip getfqdn(), which can stall on a machine without DNS.
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                server_hostname="mail.test", **kwargs)
        controller.start()
        controllers.append(controller)
        return SmtpServer(handler=handler, port=port)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return start_smtp()


@dataclass(frozen=True)
class TlsMaterial:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A self-signed certificate for 127.0.0.1, and a client context that trusts only it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (directory / "cert.pem").write_bytes(cert_pem)
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return TlsMaterial(server=server, client=client)


def login_checker(user: str, password: str) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator accepting exactly one user:password pair."""
    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


# Test modules take these as fixtures rather than importing conftest, which works in every
# pytest import mode.
@pytest.fixture
def full_payload() -> dict[str, str]:
    return dict(FULL_PAYLOAD)


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def make_login_checker() -> Callable[[str, str], Callable[..., AuthResult]]:
    return login_checker
