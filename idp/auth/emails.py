"""Email addresses: syntax check only (no DNS at request time, so example.com works) and the
normalization of PROTOCOL.md §1, which the client also applies before deriving keys."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from common.errors import InvalidRequest


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise InvalidRequest("This is not a valid email address.", code="invalid_email") from None
    return email
