"""What card.coop keeps of the network's cooperatives and their statements (issue #11)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JsonDocument, UtcDateTime, utcnow
from common.outbox import PENDING


class NetworkCooperative(Base):
    """A cooperative the operator admitted (``coop_admission``) and, once it connected
    (``coop_connect``), how card.coop reaches it. Its OIDC client in our server is the
    ``idp_oauth_clients`` row of the same name."""

    __tablename__ = "idp_network_cooperatives"

    coopname: Mapped[str] = mapped_column(String(12), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    admitted_by: Mapped[str] = mapped_column(String(12))
    admitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The cooperative's own CoopID, where card.coop signs its members in to issue cards.
    oidc_issuer: Mapped[str | None] = mapped_column(Text)
    oidc_client_id: Mapped[str | None] = mapped_column(String(200))
    # Encrypted with a key derived from the app secret (idp.network.service): card.coop must
    # present it to the cooperative's CoopID, so it cannot be a one-way hash.
    oidc_client_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    attestation_callback_url: Mapped[str | None] = mapped_column(Text)
    disclosure_url: Mapped[str | None] = mapped_column(Text)
    entry_callback_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Attestation(Base):
    """A cooperative's signed statement that a card's holder is its member (``membership``):
    one per (cooperative, card), refreshed by a repeat. ``identity`` is what the cooperative
    chose to state in clear — the holder's public names — and digests of the rest."""

    __tablename__ = "idp_network_attestations"
    __table_args__ = (UniqueConstraint("coopname", "card_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    coopname: Mapped[str] = mapped_column(
        ForeignKey("idp_network_cooperatives.coopname", ondelete="CASCADE"))
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp_cards.id", ondelete="CASCADE"),
                                               index=True)
    member_since: Mapped[date] = mapped_column(Date)
    identity: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the document's issued_at
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class UsedDocument(Base):
    """A document that must work once (``coop_connect``: it hands out a client secret), by the
    SHA-256 of its signature, kept while its ``issued_at`` is still fresh enough to be taken."""

    __tablename__ = "idp_network_used_documents"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class WebhookEvent(Base):
    """An event for a cooperative, in the webhooks' transactional outbox (idp.network.webhooks):
    ``body`` is exactly what is signed and sent. ``id`` orders each cooperative's queue."""

    __tablename__ = "idp_network_webhooks"
    __table_args__ = (Index("ix_idp_network_webhooks_queue", "coopname", "status", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    coopname: Mapped[str] = mapped_column(
        ForeignKey("idp_network_cooperatives.coopname", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class Disclosure(Base):
    """A cooperative (``requester``) asks another (``source``) for a card holder's profile
    (``disclosure_request``). The holder decides in card.coop; on "allow" card.coop signs a
    grant (its ``jti`` is this id) that the requester presents to the source, which hands the
    profile over directly: it never passes through card.coop."""

    __tablename__ = "idp_network_disclosures"
    __table_args__ = (Index("ix_idp_network_disclosures_card_status", "card_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp_cards.id", ondelete="CASCADE"))
    requester: Mapped[str] = mapped_column(
        ForeignKey("idp_network_cooperatives.coopname", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(
        ForeignKey("idp_network_cooperatives.coopname", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NetworkEntry(Base):
    """A sign-in at a cooperative's CoopID on the way to a card (idp.network.entry): the
    member's subject there, waiting for the card it will be linked to. The token the member app
    hands in is kept as its SHA-256 only, and works once."""

    __tablename__ = "idp_network_entries"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    coopname: Mapped[str] = mapped_column(
        ForeignKey("idp_network_cooperatives.coopname", ondelete="CASCADE"), index=True)
    external_subject: Mapped[str] = mapped_column(String(255))
    card_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("idp_cards.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

