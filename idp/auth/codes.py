"""Emailed one-time codes: 6 digits, kept only as an HMAC under a per-purpose server key."""

from __future__ import annotations

import hmac
import secrets
import uuid

from idp.services import IdpServices


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(ctx: IdpServices, purpose: str, attempt_id: uuid.UUID, code: str) -> str:
    """Bound to the attempt, so a code is worthless for any other registration or reset."""
    key = ctx.derived_secret(f"{purpose}-code")
    return hmac.new(key, f"{attempt_id}:{code}".encode(), "sha256").hexdigest()


def code_matches(ctx: IdpServices, purpose: str, attempt_id: uuid.UUID, code: str,
                 stored: str | None) -> bool:
    return hmac.compare_digest(stored or "", code_hash(ctx, purpose, attempt_id, code))
