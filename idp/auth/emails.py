"""Email addresses: the canonical form of PROTOCOL.md §1 (`email_norm`, the same function the
browser and the SDK apply before deriving keys), then a syntax check (no DNS at request time, so
example.com works)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from cardcoop.protocol.email import normalize_email as email_norm
from cardcoop.protocol.errors import InvalidEmail
from common.db import db
from common.errors import InvalidRequest
from idp.models import Member


def normalize_email(value: str) -> str:
    """`email_norm(value)`, or 400 ``invalid_email``: Unicode twins of one address come out as
    one string, and a local part mixing scripts is refused."""
    try:
        email = email_norm(value)
        validate_email(email, check_deliverability=False, test_environment=True)
    except (InvalidEmail, EmailNotValidError):
        raise InvalidRequest("This is not a valid email address.", code="invalid_email") from None
    return email


def kdf_email_for(email: str) -> str:
    """`kdfEmail` of initiate-login (PROTOCOL.md §2) for a canonical `email`: the string the
    member's keys were derived with, which differs from `email` only for an account from before
    email_norm v1.1 (migration 0006); `email` itself for an unknown address, like every other
    answer there."""
    kdf_email = db.session.scalar(select(Member.kdf_email).where(Member.email == email))
    return kdf_email or email
