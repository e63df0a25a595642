"""A fake Hyperion history node (``/v2/history/get_actions``, ``/v2/history/get_transaction``)
holding the traces of settled deposits as the ВОСХОД contracts write them
(coopenomics/mono): ``gateway::incomplete`` calls ``wallet::completedpst`` (the member
notified), which sends ``ledger2::apply`` with ``o.wal.depcpl``, the amount and the deposit's
hash, and ``ledger2::apply`` sends ``walletop`` / ``debit`` / ``credit``. Answers in Hyperion's
v2 shapes; ``account`` matches the ``notified`` receivers, as Hyperion does."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

from tests.common.voskhod.chainstub import json_response

GET_ACTIONS = "/v2/history/get_actions"
GET_TRANSACTION = "/v2/history/get_transaction"


def _action(trx_id: str, at: str, seq: int, account: str, name: str, data: dict[str, Any],
            notified: list[str]) -> dict[str, Any]:
    return {"@timestamp": at, "timestamp": at, "block_num": 1000 + seq, "block_id": "0" * 64,
            "trx_id": trx_id, "act": {"account": account, "name": name,
                                      "authorization": [{"actor": account,
                                                         "permission": "active"}],
                                      "data": data},
            "notified": notified, "cpu_usage_us": 300, "net_usage_words": 0,
            "global_sequence": seq, "producer": "eosio", "action_ordinal": seq % 10 + 1,
            "creator_action_ordinal": 0}


@dataclass
class FakeHistory:
    transactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    down: bool = False  # answer 503, as a node that is restarting

    def add_settled_deposit(self, coopname: str, username: str, amount: str, at: str) -> str:
        """One deposit settled at ``at`` ("2026-11-30T10:00:00.000"); its hash."""
        number = len(self.transactions) + 1
        deposit_hash = hashlib.sha256(f"{coopname}/{username}/{number}".encode()).hexdigest()
        trx_id = hashlib.sha256(f"trx/{number}".encode()).hexdigest()
        seq = number * 10
        hashes = {"coopname": coopname, "deposit_hash": deposit_hash}
        apply = {"coopname": coopname, "initiator": "wallet", "operation_code": "o.wal.depcpl",
                 "amount": amount, "username": username, "process_hash": deposit_hash,
                 "memo": f"Паевой взнос пайщика с username={username}"}
        self.transactions[trx_id] = [
            _action(trx_id, at, seq, "gateway", "incomplete",
                    {"coopname": coopname, "income_hash": deposit_hash}, ["gateway"]),
            _action(trx_id, at, seq + 1, "wallet", "completedpst", hashes,
                    ["wallet", username]),
            _action(trx_id, at, seq + 2, "ledger2", "apply", apply, ["ledger2", coopname]),
            _action(trx_id, at, seq + 3, "ledger2", "walletop",
                    {"coopname": coopname, "op_code": 0, "wallet_from": "",
                     "wallet_to": "w.wal.share", "username": username, "amount": amount,
                     "process_hash": deposit_hash, "memo": ""}, ["ledger2"]),
        ]
        return deposit_hash

    def get_actions(self, request: Request) -> Response:
        query = dict(request.args)
        self.requests.append((GET_ACTIONS, query))
        if self.down:
            return json_response({"statusCode": 503, "error": "Service Unavailable"}, 503)
        code, _, name = query.get("filter", ":").partition(":")
        found = [a for actions in self.transactions.values() for a in actions
                 if query.get("account") in a["notified"]
                 and (a["act"]["account"], a["act"]["name"]) == (code, name)]
        found.sort(key=lambda a: a["global_sequence"], reverse=query.get("sort") == "desc")
        found = found[:int(query.get("limit", "10"))]
        return json_response({"query_time_ms": 1.5, "cached": False, "lib": 0,
                              "total": {"value": len(found), "relation": "eq"},
                              "actions": found})

    def get_transaction(self, request: Request) -> Response:
        trx_id = request.args.get("id", "")
        self.requests.append((GET_TRANSACTION, dict(request.args)))
        if trx_id not in self.transactions:
            return json_response({"statusCode": 404, "error": "Not Found",
                                  "message": "transaction not found"}, status=404)
        return json_response({"query_time_ms": 2.0, "executed": True, "trx_id": trx_id,
                              "lib": 0, "cached_lib": False,
                              "actions": self.transactions[trx_id]})
