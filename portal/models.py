"""The portal's tables (``portal_*``; DESIGN.md §4): its server-side sessions.

What the portal keeps of a member is only what its servers may know: the card id (the ID
token's ``sub``), idp's session id (``sid``, for back-channel logout) and idp's tokens,
encrypted at rest. Never a password-derived value, never personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JsonDocument, UtcDateTime, utcnow


class PortalSession(Base):
    """A browser's portal session. The cookie holds a random id; only its SHA-256 is here, so
    a copy of the table opens no session."""

    __tablename__ = "portal_sessions"
    __table_args__ = (Index("ix_portal_sessions_sid", "sid"),
                      Index("ix_portal_sessions_sub", "sub"),
                      Index("ix_portal_sessions_expires_at", "expires_at"))

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Flask's session dictionary: the sign-in's state and nonce while it runs, the CSRF token.
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    sub: Mapped[str | None] = mapped_column(String(64))  # the card id, once signed in
    sid: Mapped[str | None] = mapped_column(String(64))  # idp's session id
    # idp's access and refresh tokens (Fernet; key derived from the app secret).
    tokens_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
