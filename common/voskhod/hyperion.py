"""``HyperionHistory``: the member's settled deposits from the ВОСХОД chain's action traces,
through a Hyperion history node (the Antelope history API, ``/v2/history/...``).

Why traces: ``wallet::completedpst`` (coopenomics/mono ``wallet/src/deposit/completedpst.cpp``)
credits the deposit through ``ledger2::apply`` and then erases the ``wallet::deposits`` row, so
no table keeps settled deposits; MONO's own platform rebuilds that history from the traces too
(``ledger2/src/common/apply.cpp``). Two facts of the contracts make it readable per member:

- ``completedpst`` calls ``require_recipient(username)``: the member's account is notified, so
  ``get_actions?account=<username>&filter=wallet:completedpst`` lists exactly the member's
  settled deposits (coopname, deposit_hash, time);
- the amount is not in that action: it is in the same transaction's ``ledger2::apply`` with
  ``operation_code`` ``o.wal.depcpl`` and ``process_hash`` = the deposit's hash, read with
  ``get_transaction``. A transaction does not change once written, so its amount is kept.

No client library is used: Hyperion publishes a plain REST API, and its official clients are
JavaScript only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import requests

from common.voskhod.chain import json_object
from common.voskhod.ledger import Amount, SettledDeposit
from common.voskhod.port import RegistryUnavailable, is_account_name

log = logging.getLogger(__name__)

GET_ACTIONS: Final = "/v2/history/get_actions"
GET_TRANSACTION: Final = "/v2/history/get_transaction"
COMPLETE_DEPOSIT: Final = "o.wal.depcpl"  # lib/core/ledger2/operations.hpp
_KEPT_AMOUNTS: Final = 5000


class HyperionHistory:
    def __init__(self, api_url: str, *, timeout: float = 5.0, limit: int = 20,
                 cache_ttl: float = 60.0, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if timeout <= 0 or not 1 <= limit <= 100:
            raise ValueError("a positive timeout and a limit of 1..100")
        self._base = api_url.rstrip("/")
        self._timeout, self._limit, self._cache_ttl = timeout, limit, cache_ttl
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: dict[tuple[str, str], tuple[float, list[SettledDeposit]]] = {}
        self._amounts: OrderedDict[tuple[str, str], Amount | None] = OrderedDict()

    def settled_deposits(self, coopname: str, username: str) -> list[SettledDeposit]:
        if not (is_account_name(coopname) and is_account_name(username)):
            return []
        key = (coopname, username)
        with self._lock:
            cached = self._recent.get(key)
        if cached is not None and self._clock() - cached[0] < self._cache_ttl:
            return cached[1]
        answer = self._get(GET_ACTIONS, {"account": username, "filter": "wallet:completedpst",
                                         "sort": "desc", "limit": str(self._limit)})
        found = []
        for action in _actions(answer):
            data = action["act"].get("data")
            trx_id = action.get("trx_id")
            settled_at = _timestamp(action.get("@timestamp") or action.get("timestamp"))
            if not isinstance(data, dict) or data.get("coopname") != coopname or \
                    not isinstance(data.get("deposit_hash"), str) or not isinstance(trx_id, str) \
                    or settled_at is None or not _is_notified(action, username):
                continue
            deposit_hash = data["deposit_hash"]
            found.append(SettledDeposit(deposit_hash, self._amount(trx_id, deposit_hash,
                                                                   username), settled_at))
        with self._lock:
            self._recent[key] = (self._clock(), found)
        return found

    def _amount(self, trx_id: str, deposit_hash: str, username: str) -> Amount | None:
        key = (trx_id, deposit_hash)
        with self._lock:
            if key in self._amounts:
                return self._amounts[key]
        amount = None
        for action in _actions(self._get(GET_TRANSACTION, {"id": trx_id})):
            act, data = action["act"], action["act"].get("data")
            if act.get("account") == "ledger2" and act.get("name") == "apply" and \
                    isinstance(data, dict) and data.get("operation_code") == COMPLETE_DEPOSIT \
                    and data.get("process_hash") == deposit_hash \
                    and data.get("username") == username:
                try:
                    amount = Amount.parse(data.get("amount"))
                except RegistryUnavailable:
                    amount = None
                break
        with self._lock:
            self._amounts[key] = amount
            while len(self._amounts) > _KEPT_AMOUNTS:
                self._amounts.popitem(last=False)
        return amount

    def _get(self, path: str, query: Mapping[str, str]) -> dict[str, Any]:
        try:
            response = self._session.get(self._base + path, params=dict(query),
                                         headers={"Accept": "application/json"},
                                         timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as error:
            log.warning("history API %s: %s", path, type(error).__name__)
            raise RegistryUnavailable(f"history API request failed: {type(error).__name__}"
                                      ) from None
        return json_object(response, "history API", path)


def _actions(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    actions = answer.get("actions")
    if not isinstance(actions, list):
        raise RegistryUnavailable("history API answer without a list of actions")
    return [a for a in actions if isinstance(a, dict) and isinstance(a.get("act"), dict)]


def _is_notified(action: Mapping[str, Any], username: str) -> bool:
    """Hyperion lists the receivers of an action in ``notified``; an answer that names them
    must name the member (older nodes leave the field out)."""
    notified = action.get("notified")
    return not isinstance(notified, list) or username in notified


def _timestamp(value: object) -> datetime | None:
    """Hyperion's block time ("2026-11-30T10:00:00.000", UTC without a zone)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
