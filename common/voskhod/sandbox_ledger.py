"""``SandboxLedger``: the ledger port without a chain, for ``make run`` and tests.

Its state is one JSON file under the instance folder, shared by the processes of a development
setup: the portal reads balances and meetings; the demo cooperative site
(examples/coop_site) settles deposits into it, as a cooperative's MONO would on chain. Writes
hold an exclusive ``flock`` and replace the file atomically, so a reader never sees half.

It answers the deposit-history port too (``settled_deposits``), from the deposits settled into
it, as a history node answers from the chain's traces.

What a member sees before any deposit: the minimum share paid at joining (``w.reg.minshr``),
as every accepted member of a ВОСХОД cooperative has it, and each cooperative's next general
meeting, a few days ahead of the day the file was made.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common.voskhod.ledger import (
    MIN_SHARE_WALLET,
    SHARE_WALLET,
    Amount,
    Fees,
    Meeting,
    PendingDeposit,
    SettledDeposit,
    Wallet,
)
from common.voskhod.port import UnknownCooperative, is_account_name

SYMBOL = "RUB"
FEES = Fees(Amount(Decimal("100.0000"), SYMBOL), Amount(Decimal("300.0000"), SYMBOL),
            Amount(Decimal("1000.0000"), SYMBOL), Amount(Decimal("3000.0000"), SYMBOL))


class SandboxLedger:
    def __init__(self, path: Path, cooperatives: list[str]) -> None:
        self.path = path
        self.cooperatives = list(cooperatives)

    def __repr__(self) -> str:
        return f"SandboxLedger({str(self.path)!r})"

    # -- the port -----------------------------------------------------------------------------

    def wallets(self, coopname: str, username: str) -> list[Wallet]:
        if coopname not in self.cooperatives or not is_account_name(username):
            return []
        held = self._read()["wallets"].get(_key(coopname, username))
        if held is None:
            held = {MIN_SHARE_WALLET: str(FEES.minimum)}
        return [Wallet(name, Amount.parse(value)) for name, value in held.items()
                if Amount.parse(value).value != 0]

    def fees(self, coopname: str) -> Fees:
        if coopname not in self.cooperatives:
            raise UnknownCooperative(coopname)
        return FEES

    def meetings(self, coopname: str) -> list[Meeting]:
        if coopname not in self.cooperatives:
            return []
        return [_meeting(row) for row in self._read()["meetings"].get(coopname, [])]

    def pending_deposits(self, coopname: str, username: str) -> list[PendingDeposit]:
        return []  # the sandbox settles at once

    # -- the history port (DepositHistory), as a history node would answer -------------------

    def settled_deposits(self, coopname: str, username: str) -> list[SettledDeposit]:
        rows = self._read().get("settled", {}).get(_key(coopname, username), [])
        return [SettledDeposit(str(row["hash"]), Amount.parse(row["amount"]),
                               datetime.fromisoformat(row["at"])) for row in reversed(rows)]

    # -- what a cooperative's platform does ---------------------------------------------------

    def deposit(self, coopname: str, username: str, amount: Decimal) -> Amount:
        """Settle a share deposit into ``w.wal.share`` (MONO's ``o.wal.depcpl``); the new
        balance. Amounts are RUB with 4 decimals, as on chain."""
        if coopname not in self.cooperatives or not is_account_name(username):
            raise UnknownCooperative(coopname)
        if amount <= 0 or amount != amount.quantize(Decimal("0.0001")):
            raise ValueError("a deposit is a positive amount with at most 4 decimals")
        with self._writing() as state:
            held = state["wallets"].setdefault(_key(coopname, username),
                                               {MIN_SHARE_WALLET: str(FEES.minimum)})
            before = Amount.parse(held.get(SHARE_WALLET, f"0.0000 {SYMBOL}")).value
            after = Amount((before + amount).quantize(Decimal("0.0001")), SYMBOL)
            held[SHARE_WALLET] = str(after)
            state.setdefault("settled", {}).setdefault(_key(coopname, username), []).append({
                "hash": secrets.token_hex(32), "amount": str(Amount(amount, SYMBOL)),
                "at": datetime.now(UTC).isoformat()})
        return after

    def add_meeting(self, coopname: str, meeting: Meeting) -> None:
        with self._writing() as state:
            state["meetings"].setdefault(coopname, []).append(_meeting_row(meeting))

    # -- the file -----------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            with self._writing():
                pass
        state: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return state

    @contextmanager
    def _writing(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_suffix(".lock")
        with open(lock_path, "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = (json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists()
                     else self._initial())
            yield state
            fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, ensure_ascii=False, indent=2)
            os.replace(temporary, self.path)

    def _initial(self) -> dict[str, Any]:
        today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
        meetings = {}
        for number, coopname in enumerate(self.cooperatives, start=1):
            # The first within the portal's default reminder window (3 days), so that a
            # newcomer's `make run` shows a reminder; the others later.
            opens = today + timedelta(days=2 + 5 * (number - 1))
            meetings[coopname] = [_meeting_row(Meeting(
                id=1, hash=f"{number:064x}", type="regular", status="authorized",
                open_at=opens, close_at=opens + timedelta(days=7),
                quorum_percent=Decimal(75), questions=2 + number))]
        return {"wallets": {}, "meetings": meetings, "settled": {}}


def _key(coopname: str, username: str) -> str:
    return f"{coopname}/{username}"


def _meeting_row(meeting: Meeting) -> dict[str, Any]:
    return {"id": meeting.id, "hash": meeting.hash, "type": meeting.type,
            "status": meeting.status, "open_at": meeting.open_at.isoformat(),
            "close_at": meeting.close_at.isoformat(),
            "quorum_percent": str(meeting.quorum_percent), "questions": meeting.questions}


def _meeting(row: dict[str, Any]) -> Meeting:
    return Meeting(id=int(row["id"]), hash=str(row["hash"]), type=str(row["type"]),
                   status=str(row["status"]), open_at=datetime.fromisoformat(row["open_at"]),
                   close_at=datetime.fromisoformat(row["close_at"]),
                   quorum_percent=Decimal(row["quorum_percent"]),
                   questions=int(row["questions"]))
