"""card.coop Python SDK.

`cardcoop.crypto` implements the zero-knowledge protocol v1 (see protocol/PROTOCOL.md);
the API client lives beside it (`cardcoop.client`), and the card operations on top of it
(`cardcoop.card`).
"""

from __future__ import annotations

from .card import CardSession, recover
from .card_models import (
    Account,
    Card,
    CardInvalid,
    CardMeta,
    RecoveryStatus,
    RecoveryUnlocked,
    StoredAccount,
    StoredCard,
)
from .client import IdpClient, Session, read_authorization_response
from .errors import (
    AccessDenied,
    AccessRefused,
    ApiError,
    AuthorizationError,
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InvalidCredentials,
    NotAMember,
    NotFound,
    RateLimited,
    ResponseError,
    ServerError,
    Unauthorized,
    UnsafeKdf,
)
from .models import Attempt, PrivacyPolicy, ResendResult, SessionInfo, Tokens

__all__ = [
    "AccessDenied",
    "AccessRefused",
    "Account",
    "ApiError",
    "Attempt",
    "AuthorizationError",
    "BadRequest",
    "Card",
    "CardInvalid",
    "CardMeta",
    "CardSession",
    "Conflict",
    "Forbidden",
    "Gone",
    "IdpClient",
    "InvalidCredentials",
    "NotAMember",
    "NotFound",
    "PrivacyPolicy",
    "RateLimited",
    "RecoveryStatus",
    "RecoveryUnlocked",
    "ResendResult",
    "ResponseError",
    "ServerError",
    "Session",
    "SessionInfo",
    "StoredAccount",
    "StoredCard",
    "Tokens",
    "Unauthorized",
    "UnsafeKdf",
    "read_authorization_response",
    "recover",
]
