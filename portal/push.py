"""The portal's VAPID key pair (RFC 8292) for Web Push, and the browsers' subscriptions.

In production the private key comes from ``CARDCOOP_PORTAL_VAPID_PRIVATE_KEY`` (PEM); in
development one is made once and kept under instance/ (0600), like the secret key. The public
half, as the browser's ``applicationServerKey`` wants it, is the uncompressed P-256 point in
base64url.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select

from common.db import db
from common.settings import Settings
from portal.models import PushSubscription

KEY_FILE = "vapid_private.pem"
MAX_SUBSCRIPTIONS = 10  # browsers per member


@dataclass(frozen=True)
class VapidKeys:
    private_pem: str
    public_key: str  # base64url, for applicationServerKey


def load_vapid(settings: Settings) -> VapidKeys:
    pem = settings.portal_vapid_private_key
    if not pem:
        path = settings.instance_path / KEY_FILE
        if not path.exists():
            _write_new_key(path)
        pem = path.read_text()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be a P-256 private key (PEM)")
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    return VapidKeys(pem, base64.urlsafe_b64encode(point).rstrip(b"=").decode())


def _write_new_key(path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


class InvalidSubscription(ValueError):
    pass


def _b64url_bytes(value: object, length: int | None = None) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 200:
        raise InvalidSubscription("a key is missing or malformed")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        raise InvalidSubscription("a key is not base64url") from None
    if length is not None and len(raw) != length:
        raise InvalidSubscription("a key has the wrong length")
    return value


def subscribe(sub: str, body: object) -> None:
    """A browser's PushSubscription.toJSON(): an https endpoint (http on loopback, for the
    tests' local push service) and its p256dh (65 bytes) and auth (16 bytes) keys."""
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        raise InvalidSubscription("not a push subscription")
    endpoint = body.get("endpoint")
    parts = urlsplit(endpoint if isinstance(endpoint, str) else "")
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not parts.netloc or \
            not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise InvalidSubscription("the endpoint must be an https URL")
    p256dh = _b64url_bytes(body["keys"].get("p256dh"), 65)
    auth = _b64url_bytes(body["keys"].get("auth"), 16)
    db.session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    db.session.add(PushSubscription(sub=sub, endpoint=endpoint, p256dh=p256dh, auth=auth))
    db.session.flush()
    mine = list(db.session.scalars(select(PushSubscription.id).where(
        PushSubscription.sub == sub).order_by(PushSubscription.id.desc())))
    if len(mine) > MAX_SUBSCRIPTIONS:  # the oldest browsers go first
        db.session.execute(delete(PushSubscription).where(
            PushSubscription.id.in_(mine[MAX_SUBSCRIPTIONS:])))
    db.session.commit()


def unsubscribe(sub: str, endpoint: object) -> bool:
    if not isinstance(endpoint, str):
        return False
    done = db.session.execute(delete(PushSubscription).where(
        PushSubscription.sub == sub, PushSubscription.endpoint == endpoint)).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return bool(done)


def subscriptions(sub: str) -> int:
    return len(list(db.session.scalars(select(PushSubscription.id).where(
        PushSubscription.sub == sub))))
