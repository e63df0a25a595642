"""The ВОСХОД ledger port (issue #12): a member's balances in a cooperative, the cooperative's
contributions and general meetings, as the chain keeps them today.

Tables (coopenomics/mono ``components/contracts/cpp/lib/domain``):

- ``ledger2`` / scope <coopname> / ``userwallets`` (``table_ledger2_userwallets.hpp``):
  ``{id, wallet_name, username, available, blocked}``; one member's rows by index 3
  (``byuser``, key_type name). A row exists only while its balance is not zero. Wallet names
  (``lib/core/ledger2/wallets.hpp``): ``w.wal.share`` the share contribution (deposits land
  there), ``w.wal.member`` the membership part, ``w.reg.minshr`` the minimum share.
- older chains without ``ledger2``: ``soviet`` / <coopname> / ``progwallets``
  (``{id, coopname, program_id, agreement_id, username, available, ...}``, index 2
  ``byusername``); program 1 is the main share wallet, as the ledger2 migration maps it.
- ``registrator`` / ``registrator`` / ``coops``: ``initial`` (entrance fee) and ``minimum``
  (minimum share) for individuals, ``org_initial`` / ``org_minimum`` for organizations.
- ``meet`` / <coopname> / ``meets`` (``meet.hpp``): ``id, hash, type, status, open_at,
  close_at, quorum_percent`` (a double, printed as a string), ...; agenda questions are rows of
  ``meet`` / <coopname> / ``questions`` by index 2 (``bymeet``), their texts only hashes.
- ``wallet`` / <coopname> / ``deposits``: deposits in flight (``status`` "pending").
  ``wallet::completedpst`` erases the row when a deposit settles, so the chain's state keeps no
  history of settled ones; it is in the action traces, read through a history node
  (``DepositHistory``, common/voskhod/hyperion.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Protocol, runtime_checkable

from common.voskhod.port import RegistryUnavailable

SHARE_WALLET: Final = "w.wal.share"
MEMBER_WALLET: Final = "w.wal.member"
MIN_SHARE_WALLET: Final = "w.reg.minshr"
# soviet::progwallets program ids → the ledger2 wallet they became (migration 049).
PROGRAM_WALLETS: Final = {1: SHARE_WALLET, 3: "w.cap.gen", 4: "w.cap.blago"}


@dataclass(frozen=True)
class Amount:
    """An Antelope asset: "1500.0000 RUB" → 1500.0000, "RUB"."""

    value: Decimal
    symbol: str

    @classmethod
    def parse(cls, text: object) -> Amount:
        if not isinstance(text, str):
            raise RegistryUnavailable("an asset that is not a string")
        number, _, symbol = text.strip().partition(" ")
        try:
            value = Decimal(number)
        except InvalidOperation:
            raise RegistryUnavailable("an asset that does not parse") from None
        if not symbol.isalpha() or not symbol.isupper() or not value.is_finite():
            raise RegistryUnavailable("an asset that does not parse")
        return cls(value, symbol)

    def __str__(self) -> str:
        return f"{self.value} {self.symbol}"


@dataclass(frozen=True)
class Wallet:
    name: str  # the ledger2 wallet name, e.g. w.wal.share
    available: Amount


@dataclass(frozen=True)
class Fees:
    """What joining costs (registrator::coops): for individuals and for organizations."""

    initial: Amount
    minimum: Amount
    org_initial: Amount | None
    org_minimum: Amount | None


@dataclass(frozen=True)
class Meeting:
    id: int
    hash: str
    type: str  # regular | extra
    status: str  # created | authorized | onrestart | preclosed | closed
    open_at: datetime
    close_at: datetime
    quorum_percent: Decimal
    questions: int


@dataclass(frozen=True)
class PendingDeposit:
    id: int
    quantity: Amount
    status: str
    created_at: datetime | None


@dataclass(frozen=True)
class SettledDeposit:
    """A share contribution that arrived: ``wallet::completedpst`` of ``hash`` at ``settled_at``,
    ``amount`` as ``ledger2::apply`` (``o.wal.depcpl``) credited it (None if not found)."""

    hash: str
    amount: Amount | None
    settled_at: datetime


@runtime_checkable
class DepositHistory(Protocol):
    """The member's settled deposits in a cooperative, newest first (at most ``limit``).
    Raises RegistryUnavailable when the history cannot be read now."""

    def settled_deposits(self, coopname: str, username: str) -> list[SettledDeposit]: ...


@runtime_checkable
class Ledger(Protocol):
    def wallets(self, coopname: str, username: str) -> list[Wallet]: ...

    def fees(self, coopname: str) -> Fees: ...

    def meetings(self, coopname: str) -> list[Meeting]: ...

    def pending_deposits(self, coopname: str, username: str) -> list[PendingDeposit]: ...


def fees_from(row: dict[str, Any]) -> Fees:
    def optional(name: str) -> Amount | None:
        return Amount.parse(row[name]) if row.get(name) else None

    return Fees(Amount.parse(row.get("initial")), Amount.parse(row.get("minimum")),
                optional("org_initial"), optional("org_minimum"))


def wallets_from_userwallets(rows: list[dict[str, Any]], username: str) -> list[Wallet]:
    return [Wallet(str(row.get("wallet_name")), Amount.parse(row.get("available")))
            for row in rows if row.get("username") == username]


def wallets_from_progwallets(rows: list[dict[str, Any]], username: str) -> list[Wallet]:
    wallets = []
    for row in rows:
        if row.get("username") != username:
            continue
        program = row.get("program_id")
        name = PROGRAM_WALLETS.get(int(program)) if isinstance(program, int | str) and \
            str(program).isdigit() else None
        if name is not None:
            wallets.append(Wallet(name, Amount.parse(row.get("available"))))
    return wallets
