"""card.coop Python SDK.

`cardcoop.crypto` implements the zero-knowledge protocol v1 (see shared/protocol/PROTOCOL.md);
the API client lives beside it.
"""

from __future__ import annotations

from .client import IdpClient, Session
from .errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InvalidCredentials,
    NotFound,
    RateLimited,
    ResponseError,
    ServerError,
    Unauthorized,
    UnsafeKdf,
)
from .models import Attempt, PrivacyPolicy, ResendResult, SessionInfo, Tokens

__all__ = [
    "ApiError",
    "Attempt",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "IdpClient",
    "InvalidCredentials",
    "NotFound",
    "PrivacyPolicy",
    "RateLimited",
    "ResendResult",
    "ResponseError",
    "ServerError",
    "Session",
    "SessionInfo",
    "Tokens",
    "Unauthorized",
    "UnsafeKdf",
]
