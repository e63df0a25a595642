"""Email addresses: the canonical form of PROTOCOL.md §1 (`email_norm`, the same function the
browser and the SDK apply before deriving keys), then a syntax check (no DNS at request time, so
example.com works)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from cardcoop.protocol.email import normalize_email as email_norm
from cardcoop.protocol.errors import InvalidEmail
from common.errors import InvalidRequest


def normalize_email(value: str) -> str:
    """`email_norm(value)`, or 400 ``invalid_email``: Unicode twins of one address come out as
    one string, and a local part mixing scripts is refused."""
    try:
        email = email_norm(value)
        validate_email(email, check_deliverability=False, test_environment=True)
    except (InvalidEmail, EmailNotValidError):
        raise InvalidRequest("This is not a valid email address.", code="invalid_email") from None
    return email
