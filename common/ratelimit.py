"""Rate limits with Flask-Limiter: per client IP and per account on credential endpoints.

Counters live in Redis when CARDCOOP_REDIS_URL is set (shared by every worker process) and in
process memory otherwise (the embedded default, one process per app).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter

from common.security import SESSION_COOKIES, client_info
from common.settings import Settings

KEY_SECRET = "cardcoop.ratelimit_key_secret"  # noqa: S105 (the name of an extensions slot)


def account_key() -> str:
    """The account a request is about: the email (or client_id) in the body, else the token or
    client credentials it carries, else the browser's session cookie.
    Keyed-hashed so that neither the limiter's storage nor its log lines ("ratelimit ...
    exceeded") hold an address or a token, nor a plain hash that a list of addresses would
    turn back into one (issue #8)."""
    try:
        data = request.get_json(silent=True) if request.is_json else request.form
    except Exception:  # too large, too deep: the view answers that; the limit still applies
        data = None
    subject = ""
    if isinstance(data, Mapping):
        # A member by email or refresh token; a cooperative by client_id (token endpoints).
        value = data.get("email") or data.get("refreshToken") or data.get("client_id")
        if isinstance(value, str):
            subject = value.strip().lower()
    if not subject:
        subject = request.headers.get("Authorization", "")
    if not subject:  # idp's browser session (POST /auth/session): the cookie names it
        subject = next((request.cookies[n] for n in SESSION_COOKIES if n in request.cookies), "")
    if not subject:
        return "ip:" + client_info().ip
    # surrogatepass: a lone surrogate in the body must not crash the key (and the limit).
    mac = hmac.new(_key_secret(), subject.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "acct:" + mac.hexdigest()[:32]


def _key_secret() -> bytes:
    secret: bytes | None = current_app.extensions.get(KEY_SECRET)
    if secret is None:
        secret = hashlib.sha256(b"card.coop/v1/ratelimit-key|"
                                + current_app.config["SECRET_KEY"].encode()).digest()
        current_app.extensions[KEY_SECRET] = secret
    return secret


def ip_key() -> str:
    return client_info().ip


def make_limiter(app: Flask, settings: Settings, *, prefix: str) -> Limiter:
    limiter = Limiter(
        key_func=ip_key, app=app, enabled=settings.ratelimit_enabled,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window", headers_enabled=True, key_prefix=prefix,
        # If Redis goes away, limits keep working per process rather than failing requests.
        in_memory_fallback_enabled=True, swallow_errors=True)
    return limiter


def limit_blueprint(limiter: Limiter, bp: Blueprint, settings: Settings) -> None:
    """Each endpoint of ``bp`` gets its own per-IP and per-account budget."""
    limiter.limit(settings.ratelimit_per_ip, key_func=ip_key)(bp)
    limiter.limit(settings.ratelimit_per_account, key_func=account_key)(bp)
