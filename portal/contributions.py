"""Contributions (паевые и членские взносы) per cooperative (issue #12): what joining asks
(``registrator::coops`` ``initial`` / ``minimum``), what the member has paid (the ledger's
wallets), deposits in flight (``wallet::deposits``), the settled ones from the chain's traces
(the deposit-history port: a Hyperion node, or the sandbox) and the ones started from the
portal. Without a history node the portal's own record is the only history shown.
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
    DepositHistory,
    Fees,
    Ledger,
    PendingDeposit,
    SettledDeposit,
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
    history: list[Deposit] = field(default_factory=list)  # started from the portal
    # From the chain's traces; None when there is no history node or it does not answer.
    settled: list[SettledDeposit] | None = None

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


def member_dues(registry: Registry, ledger: Ledger, deposits: DepositHistory | None,
                accounts: list[Account], sub: str) -> list[Dues]:
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
                          history(sub, account.coopname),
                          settled(deposits, account.coopname, account.username)))
    return found


def settled(deposits: DepositHistory | None, coopname: str,
            username: str) -> list[SettledDeposit] | None:
    if deposits is None:
        return None
    try:
        return deposits.settled_deposits(coopname, username)
    except RegistryUnavailable:
        return None  # the history node is down: the page says so, the rest still shows


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
