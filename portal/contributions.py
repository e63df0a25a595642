"""Contributions (паевые и членские взносы) per cooperative (issue #12): what joining asks
(``registrator::coops`` ``initial`` / ``minimum``), what the member has paid (the ledger's
wallets), deposits in flight (``wallet::deposits``) and the ones started from the portal.

The chain keeps no history of settled deposits (ledger2.hpp: it is rebuilt from action
traces by the cooperative's platform), so the history shown is the portal's own record of
the deposits the member started here, beside the balances the chain reports now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from common.db import db
from common.voskhod import Registry, RegistryUnavailable, UnknownCooperative
from common.voskhod.ledger import (
    MEMBER_WALLET,
    MIN_SHARE_WALLET,
    SHARE_WALLET,
    Amount,
    Fees,
    Ledger,
    PendingDeposit,
)
from portal.analytics import note
from portal.member import Account, accepted
from portal.models import Deposit

MAX_DEPOSIT = Decimal("10000000")


@dataclass(frozen=True)
class Dues:
    coopname: str
    coop: str
    username: str
    fees: Fees | None
    balances: dict[str, Amount]
    pending: list[PendingDeposit] = field(default_factory=list)
    history: list[Deposit] = field(default_factory=list)

    @property
    def minimum_due(self) -> Decimal:
        """What is still missing of the minimum share contribution."""
        if self.fees is None:
            return Decimal(0)
        paid = self.balances.get(MIN_SHARE_WALLET)
        return max(Decimal(0), self.fees.minimum.value - (paid.value if paid else Decimal(0)))

    @property
    def share(self) -> Amount | None:
        return self.balances.get(SHARE_WALLET)

    @property
    def membership(self) -> Amount | None:
        return self.balances.get(MEMBER_WALLET)


def member_dues(registry: Registry, ledger: Ledger, accounts: list[Account],
                sub: str) -> list[Dues]:
    found = []
    for account, coop in accepted(registry, accounts):
        try:
            fees = ledger.fees(account.coopname)
            balances = {w.name: w.available
                        for w in ledger.wallets(account.coopname, account.username)}
            pending = ledger.pending_deposits(account.coopname, account.username)
        except (UnknownCooperative, RegistryUnavailable):
            continue
        found.append(Dues(account.coopname, coop, account.username, fees, balances, pending,
                          history(sub, account.coopname)))
    return found


def history(sub: str, coopname: str) -> list[Deposit]:
    return list(db.session.scalars(select(Deposit).where(
        Deposit.sub == sub, Deposit.coopname == coopname)
        .order_by(Deposit.created_at.desc()).limit(50)))


def parse_amount(text: str | None) -> Decimal | None:
    """A deposit in roubles: positive, at most two decimals, within reason."""
    if not text or len(text) > 20:
        return None
    try:
        amount = Decimal(text.replace(",", ".").replace(" ", "").replace("\xa0", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount > MAX_DEPOSIT or \
            amount != amount.quantize(Decimal("0.01")):
        return None
    return amount


def record(sub: str, account: Account, amount: Decimal) -> Deposit:
    deposit = Deposit(sub=sub, coopname=account.coopname, username=account.username,
                      amount=amount, wallet=SHARE_WALLET)
    db.session.add(deposit)
    note(sub, "deposit")
    db.session.commit()
    return deposit
