"""The ВОСХОД registry port (DESIGN.md §3): which cooperatives exist, their public name and K1 key,
and whether an account is an accepted member (пайщик) of one.

Adapters raise only the errors below. ``RegistryUnavailable`` means "could not ask right now"
(network, timeout, a 5xx, an answer that is not what the chain API sends): the caller answers that
one request with a 503 and tries again on the next. A cooperative that does not exist is
``UnknownCooperative``; an account without a membership row is not an error at all, it is a
``Membership`` with ``is_member`` False.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol, TypeGuard, runtime_checkable

from cardcoop.protocol.accounts import is_valid_antelope_name
from cardcoop.protocol.errors import InvalidKey
from cardcoop.protocol.k1 import K1PublicKey

# soviet::participants.status values written by the contracts (addpartcpnt/unblock: "accepted",
# block: "blocked"). Only "accepted" makes a member (participant::is_active() in the contract).
STATUS_ACCEPTED: Final = "accepted"
STATUS_BLOCKED: Final = "blocked"
# Not a chain value: what ``Membership.status`` says when there is no participants row.
STATUS_NONE: Final = "none"

# `newaccount` allows at most 12 symbols; 13-symbol names exist only for tables and actions.
_ACCOUNT_NAME_MAX: Final = 12


def is_account_name(name: object) -> TypeGuard[str]:
    """True for a valid Antelope account name: 1-12 symbols from a-z, 1-5 and '.', no trailing
    dot. Adapters check names with this before any request, so nothing else reaches the chain."""
    return (isinstance(name, str) and len(name) <= _ACCOUNT_NAME_MAX
            and is_valid_antelope_name(name))


class RegistryError(Exception):
    """Base class of the registry's errors. Messages never contain response bodies."""


class RegistryUnavailable(RegistryError):
    """The registry could not be asked now (timeout, connection error, 5xx, malformed answer).
    Worth retrying later; the caller maps it to a 503 for the one request."""


class UnknownCooperative(RegistryError):
    """No usable cooperative of that name: not a valid name, no registry row, not a cooperative,
    not active, or no K1 key to encrypt shares to."""

    def __init__(self, coopname: str, reason: str = "not registered") -> None:
        # The name is echoed only when valid: anything else may be arbitrary user input.
        shown = coopname if is_account_name(coopname) else "<invalid name>"
        super().__init__(f"unknown cooperative {shown}: {reason}")
        self.coopname = coopname


@dataclass(frozen=True)
class Cooperative:
    """A cooperative as the registry shows it: account name, public display name (``announce``
    on chain, e.g. «ПК ВОСХОД») and the key shares are encrypted to, always "PUB_K1_..." (the
    legacy "EOS..." form the chain API prints is converted)."""

    coopname: str
    announce: str
    public_key: str

    def __post_init__(self) -> None:
        if not is_account_name(self.coopname):
            raise ValueError("coopname is not a valid Antelope account name")
        if not isinstance(self.announce, str) or not self.announce.strip():
            raise ValueError("announce is empty")
        try:
            normalized = K1PublicKey.from_string(self.public_key).to_string()
        except InvalidKey:
            raise ValueError("public_key is not an Antelope K1 public key") from None
        object.__setattr__(self, "public_key", normalized)

    @property
    def key(self) -> K1PublicKey:
        """``public_key`` parsed, for encrypting a share (PROTOCOL.md §6)."""
        return K1PublicKey.from_string(self.public_key)


@dataclass(frozen=True)
class Membership:
    """One account's standing in one cooperative.

    ``status`` is the participants row's status ("accepted", "blocked", or another value a later
    contract writes) or "none" when there is no row. ``is_member`` is True exactly for
    "accepted". ``member_since`` is the row's ``created_at`` (UTC) when known.
    """

    coopname: str
    username: str
    status: str
    member_since: datetime | None
    is_member: bool

    def __post_init__(self) -> None:
        if self.is_member != (self.status == STATUS_ACCEPTED):
            raise ValueError("is_member must be True exactly when status is 'accepted'")
        if self.member_since is not None and self.member_since.utcoffset() is None:
            raise ValueError("member_since must be timezone-aware")

    @classmethod
    def of(cls, coopname: str, username: str, status: str,
           member_since: datetime | None = None) -> Membership:
        return cls(coopname, username, status, member_since, status == STATUS_ACCEPTED)

    @classmethod
    def absent(cls, coopname: str, username: str) -> Membership:
        """No participants row: not a member (and not an error)."""
        return cls(coopname, username, STATUS_NONE, None, False)


@dataclass(frozen=True)
class Endorsement:
    """A row of ``ano::endorsements`` (scope ``ano``, one per subject): the network's
    certification of a cooperative's key. ``credential`` is the compact ES256K JWS
    (``coop-endorsement+jws``) that MONO sends as the last link of its documents' ``chain``."""

    subject: str
    issuer: str
    chain_id: str
    cert_key: K1PublicKey
    expires_at: datetime  # UTC
    credential: str = ""

    def __post_init__(self) -> None:
        if not (is_account_name(self.subject) and is_account_name(self.issuer)):
            raise ValueError("subject and issuer must be account names")
        if self.expires_at.utcoffset() is None:
            raise ValueError("expires_at must be timezone-aware")


@runtime_checkable
class Registry(Protocol):
    """Read access to the ВОСХОД registry."""

    def cooperative(self, coopname: str) -> Cooperative:
        """The cooperative, or ``UnknownCooperative``; ``RegistryUnavailable`` when it cannot
        be asked."""

    def membership(self, coopname: str, username: str) -> Membership:
        """Never cached by adapters: a membership can be revoked at any time. An invalid name or
        a missing row gives ``Membership.absent``."""

    def cooperatives(self) -> list[Cooperative]:
        """Every usable cooperative (for listings such as the sandbox's demo page)."""

    def endorsement(self, subject: str) -> Endorsement | None:
        """The network's endorsement of ``subject``'s certification key, or None. Never
        cached: an expired or replaced endorsement takes effect at once."""
