"""Errors of the API client (`cardcoop.client`).

Every failure of a call to id.card.coop that the server answered raises `ApiError` or one of its
subclasses, chosen by HTTP status (and, for 401, by the stable `error` code). An answer that does
not follow the API (not JSON, a missing or mistyped field, unsafe KDF parameters) raises
`ResponseError`. Network failures are left to httpx (`httpx.TransportError`).

Messages never carry tokens, `hashKey`s, passwords or keys: the client builds its own messages
from fixed strings and field names only, and removes from a server-supplied message any secret it
sent in that request.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccessDenied",
    "AccessRefused",
    "ApiError",
    "AuthorizationError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "InvalidCredentials",
    "NotAMember",
    "NotFound",
    "RateLimited",
    "ResponseError",
    "ServerError",
    "Unauthorized",
    "UnsafeKdf",
    "authorization_error",
    "error_for_status",
]


class ApiError(Exception):
    """The server refused or failed a request.

    `status` is the HTTP status, `error` the stable machine-readable code of the body
    (``{"error": ..., "message": ...}``), `message` the human text, `retry_after` the seconds of
    a ``Retry-After`` header (429) and `details` the field problems of a 400, when given.
    """

    def __init__(self, status: int, error: str, message: str, *,
                 retry_after: int | None = None, details: Any = None) -> None:
        super().__init__(status, error, message)
        self.status = status
        self.error = error
        self.message = message
        self.retry_after = retry_after
        self.details = details

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.message}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status!r}, error={self.error!r}, "
                f"message={self.message!r}, retry_after={self.retry_after!r})")


class BadRequest(ApiError):
    """400: the request was not valid (see `details` for the fields)."""


class Unauthorized(ApiError):
    """401: missing, invalid, expired or revoked token (or a rotated refresh token)."""


class InvalidCredentials(Unauthorized):
    """401 ``invalid_credentials``: wrong password or unknown email (indistinguishable)."""


class Forbidden(ApiError):
    """403: not allowed (yet), e.g. completing a registration before verifying the email."""


class NotFound(ApiError):
    """404: no such resource, or not the caller's."""


class Conflict(ApiError):
    """409: the request conflicts with the current state (e.g. ``already_registered``)."""


class Gone(ApiError):
    """410: expired or used up (a code, a registration attempt)."""


class RateLimited(ApiError):
    """429: rate limit, resend too soon or account lockout; wait `retry_after` seconds."""


class ServerError(ApiError):
    """5xx: the server (or a proxy before it) failed."""


class ResponseError(ApiError):
    """The server's answer does not follow the API: not JSON, a missing or mistyped field, a value
    the client refuses. `status` is the HTTP status of that answer."""

    def __init__(self, message: str, *, status: int = 0, error: str = "invalid_response") -> None:
        super().__init__(status, error, message)


class UnsafeKdf(ResponseError):
    """The server asked for KDF parameters the client refuses (an unknown type, fewer than
    `MIN_ITERATIONS` iterations, or more than the client's ceiling). Raised before any key
    derivation, so a hostile server cannot weaken it (or stall the client)."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message, status=status, error="unsafe_kdf")


class AuthorizationError(ApiError):
    """The authorization response (the redirect to your redirect_uri, or the widget's
    ``onError``) carried an error instead of a ticket (RFC 6749 §4.1.2.1): `error` is its code
    (``invalid_scope``, ``server_error``, ``temporarily_unavailable``...), `message` its
    ``error_description``, `state` the state it answered. `status` is 0: no HTTP call failed."""

    def __init__(self, error: str, message: str, *, state: str | None = None) -> None:
        super().__init__(0, error, message)
        self.state = state


class AccessDenied(AuthorizationError):
    """``error=access_denied``: no access was given. One of its two subclasses says why when idp
    said (``cardcoop_reason``); an ``AccessDenied`` itself has no known reason."""

    reason: str | None = None


class AccessRefused(AccessDenied):
    """The member refused (``cardcoop_reason=refused``)."""

    reason = "refused"


class NotAMember(AccessDenied):
    """The member is not a member of the cooperative yet (``cardcoop_reason=not_a_member``):
    offer joining (scope ``account``) instead of sharing. A hint from the member's browser that
    names nobody, not a statement about any member."""

    reason = "not_a_member"


_REASONS: dict[str, type[AccessDenied]] = {"refused": AccessRefused, "not_a_member": NotAMember}


def authorization_error(error: str, message: str, *, reason: str | None = None,
                        state: str | None = None) -> AuthorizationError:
    """The most specific `AuthorizationError` for an error authorization response."""
    if error != "access_denied":
        return AuthorizationError(error, message, state=state)
    return _REASONS.get(reason or "", AccessDenied)(error, message, state=state)


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    429: RateLimited,
}


def error_for_status(status: int, error: str, message: str, *, retry_after: int | None = None,
                     details: Any = None) -> ApiError:
    """The most specific `ApiError` for an error answer."""
    cls: type[ApiError]
    if status == 401 and error == "invalid_credentials":
        cls = InvalidCredentials
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, ApiError)
    return cls(status, error, message, retry_after=retry_after, details=details)
