"""``ChainLedger``: the ledger port (common/voskhod/ledger.py) over the same chain API as the
registry, with its HTTP, timeouts and error rules (``ChainRegistry``).

Whether a chain has ``ledger2`` is asked once per ``cache_ttl`` with ``get_abi``: a chain
where the account has no contract (or no such account) is read from ``soviet::progwallets``
instead. An outage is never taken for "no ledger2".
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import requests

from common.voskhod.chain import ChainRegistry, _time_point_sec
from common.voskhod.ledger import (
    Amount,
    Fees,
    Meeting,
    PendingDeposit,
    Wallet,
    fees_from,
    wallets_from_progwallets,
    wallets_from_userwallets,
)
from common.voskhod.port import RegistryUnavailable, UnknownCooperative, is_account_name

GET_ABI: Final = "/v1/chain/get_abi"
LEDGER2: Final = "ledger2"
MEET: Final = "meet"
WALLET: Final = "wallet"
_ROWS: Final = 100


class ChainLedger(ChainRegistry):
    def __init__(self, api_url: str, **options: Any) -> None:
        super().__init__(api_url, **options)
        self._ledger2_known: tuple[float, bool] | None = None

    def wallets(self, coopname: str, username: str) -> list[Wallet]:
        if not (is_account_name(coopname) and is_account_name(username)):
            return []
        if self._has_ledger2():
            rows = self._by_index(LEDGER2, coopname, "userwallets", "3", username)
            return wallets_from_userwallets(rows, username)
        rows = self._by_index("soviet", coopname, "progwallets", "2", username)
        return wallets_from_progwallets(rows, username)

    def fees(self, coopname: str) -> Fees:
        if not is_account_name(coopname):
            raise UnknownCooperative(coopname, "not an account name")
        row = self._one_row("registrator", "registrator", self._table, "username", coopname)
        if row is None:
            raise UnknownCooperative(coopname)
        return fees_from(row)

    def meetings(self, coopname: str) -> list[Meeting]:
        if not is_account_name(coopname):
            return []
        meetings = []
        for row in self._all_rows(MEET, coopname, "meets"):
            meeting = _meeting(row)
            if meeting is not None:
                questions = self._by_index(MEET, coopname, "questions", "2", str(meeting.id),
                                           key_type="i64")
                meetings.append(_with_questions(meeting, sum(
                    1 for q in questions if q.get("meet_id") == meeting.id)))
        return sorted(meetings, key=lambda m: m.open_at)

    def pending_deposits(self, coopname: str, username: str) -> list[PendingDeposit]:
        if not (is_account_name(coopname) and is_account_name(username)):
            return []
        rows = self._by_index(WALLET, coopname, "deposits", "3", username)
        return [PendingDeposit(int(row.get("id", 0)), Amount.parse(row.get("quantity")),
                               str(row.get("status") or ""), _time_point_sec(row.get("created_at")))
                for row in rows if row.get("username") == username]

    # -- reading ------------------------------------------------------------------------------

    def _by_index(self, code: str, scope: str, table: str, position: str, key: str, *,
                  key_type: str = "name") -> list[dict[str, Any]]:
        rows, _, _ = self._table_rows(code, scope, table, lower=key, upper=key, limit=_ROWS,
                                      index_position=position, key_type=key_type)
        return rows

    def _has_ledger2(self) -> bool:
        now = self._clock()
        if self._ledger2_known is not None and now - self._ledger2_known[0] < self._cache_ttl:
            return self._ledger2_known[1]
        try:
            response = self._session.post(self._base + GET_ABI, json={"account_name": LEDGER2},
                                          timeout=self._timeout, allow_redirects=False)
            answer = response.json() if response.content else {}
        except (requests.RequestException, ValueError):
            raise RegistryUnavailable("chain API get_abi failed") from None
        if response.status_code == 200 and isinstance(answer, dict):
            tables = (answer.get("abi") or {}).get("tables") or []
            found = any(isinstance(t, dict) and t.get("name") == "userwallets" for t in tables)
        elif response.status_code == 500 and isinstance(answer, dict) and "error" in answer:
            found = False  # nodeos: no such account
        else:
            raise RegistryUnavailable(f"chain API get_abi answered {response.status_code}")
        self._ledger2_known = (now, found)
        return found


def _meeting(row: dict[str, Any]) -> Meeting | None:
    opens, closes = _time_point_sec(row.get("open_at")), _time_point_sec(row.get("close_at"))
    if opens is None or closes is None or not isinstance(row.get("id"), int):
        return None
    try:
        quorum = Decimal(str(row.get("quorum_percent", "0")))
    except InvalidOperation:
        quorum = Decimal(0)
    return Meeting(id=row["id"], hash=str(row.get("hash") or ""), type=str(row.get("type") or ""),
                   status=str(row.get("status") or ""), open_at=opens, close_at=closes,
                   quorum_percent=quorum, questions=0)


def _with_questions(meeting: Meeting, count: int) -> Meeting:
    return replace(meeting, questions=count)

