"""The sandbox ledger (make run's chain): deposits settle into the share wallet and into the
history it answers as a history node would; the first meeting falls within the portal's
default reminder window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from common.voskhod.ledger import SHARE_WALLET
from common.voskhod.port import UnknownCooperative
from common.voskhod.sandbox_ledger import SandboxLedger


def test_deposits_settle_into_the_wallet_and_the_history(tmp_path: Path) -> None:
    ledger = SandboxLedger(tmp_path / "ledger.json", ["voskhod"])
    assert ledger.settled_deposits("voskhod", "memberone") == []
    ledger.deposit("voskhod", "memberone", Decimal("1500.0000"))
    ledger.deposit("voskhod", "memberone", Decimal("20.5000"))
    wallets = {w.name: w.available.value for w in ledger.wallets("voskhod", "memberone")}
    assert wallets[SHARE_WALLET] == Decimal("1520.5000")
    # Another reader of the same file (the portal's process) sees the same history.
    settled = SandboxLedger(tmp_path / "ledger.json", ["voskhod"]).settled_deposits(
        "voskhod", "memberone")
    assert [d.amount.value for d in settled if d.amount] == [Decimal("20.5000"),
                                                            Decimal("1500.0000")]
    assert len({d.hash for d in settled}) == 2
    assert ledger.settled_deposits("voskhod", "membertwo") == []
    for coopname, amount in (("nosuchcoop", Decimal(1)), ("voskhod", Decimal("-1")),
                             ("voskhod", Decimal("0.00001"))):
        with pytest.raises((UnknownCooperative, ValueError)):
            ledger.deposit(coopname, "memberone", amount)


def test_the_first_meeting_is_within_three_days(tmp_path: Path) -> None:
    ledger = SandboxLedger(tmp_path / "ledger.json", ["voskhod", "zelenyisad"])
    first = ledger.meetings("voskhod")[0].open_at
    assert datetime.now(UTC) < first <= datetime.now(UTC) + timedelta(days=3)
    assert ledger.meetings("zelenyisad")[0].open_at > first
