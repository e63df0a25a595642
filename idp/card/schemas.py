"""Bodies of /card/* (field names as in the specification)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from common.api import Schema

SCHEMA_ID = "card.coop/schema/v1"
CARD_VERSION = 1  # the plaintext format new writes carry (PROTOCOL §4)

Jwe = Annotated[str, Field(min_length=60, max_length=100_000, pattern=r"^[A-Za-z0-9_\-.]+$",
                           description="Compact JWE (PROTOCOL.md §3)")]
AntelopeName = Annotated[str, Field(min_length=1, max_length=13,
                                    pattern=r"^[a-z1-5.]{0,11}[a-z1-5]$|^[a-z1-5.]{12}[a-j1-5]$",
                                    description="An Antelope account name")]


class CardMeta(Schema):
    """As stored: a card written by an older client may carry an older version."""

    version: int = Field(ge=0, description="Format of the plaintext; clients migrate older ones")
    schema_id: str = Field(alias="schema")


class WriteMeta(Schema):
    version: Literal[1] = Field(description="New writes use the current format")
    schema_id: Literal["card.coop/schema/v1"] = Field(alias="schema")


class IssueCardIn(Schema):
    encrypted_personal_data: Jwe
    wrapped_card_key: Jwe
    meta: WriteMeta


class IssueCardOut(Schema):
    card_id: uuid.UUID
    status: Literal["issued"] = "issued"
    revision: int = 1


class AccountIn(Schema):
    coopname: AntelopeName
    username: AntelopeName
    public_key: str = Field(min_length=50, max_length=64, description="PUB_K1_… or EOS…")
    encrypted_account: Jwe


class AccountOut(Schema):
    coopname: str
    username: str
    public_key: str
    encrypted_account: str
    created_at: datetime


class AccountsOut(Schema):
    accounts: list[AccountOut]


class CardOut(Schema):
    card_id: uuid.UUID
    card_number: str = Field(description="16 digits with a Luhn check digit; public")
    encrypted_personal_data: str
    wrapped_card_key: str
    meta: CardMeta
    revision: int
    accounts: list[AccountOut]


class UpdateCardIn(Schema):
    encrypted_personal_data: Jwe
    meta: WriteMeta
    revision: int = Field(ge=1, description="The revision the client read (optimistic lock)")


class UpdateCardOut(Schema):
    card_id: uuid.UUID
    revision: int


class PublicAccountOut(Schema):
    coopname: str
    username: str
    public_key: str
    created_at: datetime


class MembershipOut(Schema):
    coop: str = Field(description="The cooperative's public name (ВОСХОД `announce`)")
    coopname: str
    status: Literal["active", "revoked"]
    member_since: str | None = Field(description="ISO 8601, when the chain or the attestation "
                                                 "says")


class CardOverviewOut(Schema):
    """What a first-party app may know of the card: nothing encrypted, nothing personal."""

    card_id: uuid.UUID
    card_number: str
    created_at: datetime
    accounts: list[PublicAccountOut]
    memberships: list[MembershipOut] = Field(
        description="From the ВОСХОД chain and the network's attestations")
