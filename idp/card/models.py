"""The card's tables. Everything personal is ciphertext (compact JWE); what is in clear is what a
cooperative's chain makes public anyway (coopname, username, public key) and the card meta."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, JsonDocument, UtcDateTime, utcnow
from idp.card.numbers import new_card_number


class Card(Base):
    """One card per member (PROTOCOL §3): the wrapped card key and the encrypted personal data."""

    __tablename__ = "idp_cards"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp_members.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(16), unique=True, default=new_card_number)
    wrapped_card_key: Mapped[str] = mapped_column(Text)
    encrypted_personal_data: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    # Optimistic concurrency: a PUT must name the revision it read (stale → 409).
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    accounts: Mapped[list[CoopAccount]] = relationship(
        back_populates="card", order_by="CoopAccount.created_at", cascade="all, delete-orphan")


class CoopAccount(Base):
    """The member's account in one cooperative (PROTOCOL §5); the private key only inside
    ``encrypted_account``."""

    __tablename__ = "idp_coop_accounts"
    __table_args__ = (UniqueConstraint("card_id", "coopname"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp_cards.id", ondelete="CASCADE"),
                                               index=True)
    coopname: Mapped[str] = mapped_column(String(13))
    username: Mapped[str] = mapped_column(String(13))
    public_key: Mapped[str] = mapped_column(String(64))
    encrypted_account: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    card: Mapped[Card] = relationship(back_populates="accounts")
