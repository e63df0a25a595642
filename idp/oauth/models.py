"""OAuth client records: one per cooperative, ``client_id`` = coopname (DESIGN.md §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JsonDocument, UtcDateTime, utcnow


class OAuthClient(Base):
    __tablename__ = "idp_oauth_clients"

    client_id: Mapped[str] = mapped_column(String(13), primary_key=True)  # the coopname
    # SHA-256 of a 256-bit random secret: with that much entropy a slow hash adds nothing,
    # and the token endpoint stays fast.
    secret_hash: Mapped[str] = mapped_column(String(64))
    redirect_uris: Mapped[list[str]] = mapped_column(JsonDocument)  # exact match only
    iframe_origins: Mapped[list[str]] = mapped_column(JsonDocument)  # frame-ancestors
    # None: encrypt to the cooperative's ВОСХОД K1 key; else a registered public JWK.
    encryption_jwk: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
