"""A fake Antelope chain API for the registry adapters: ``get_table_rows`` and ``get_account``
answered from in-memory tables, in the shapes nodeos sends (bodies as in the chain API
reference; tables as in coopenomics/mono ``lib/domain/table_*.hpp``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

from cardcoop.protocol.k1 import K1PrivateKey

GET_TABLE_ROWS = "/v1/chain/get_table_rows"
GET_ACCOUNT = "/v1/chain/get_account"


def participant_row(username: str, status: str = "accepted",
                    created_at: str = "2024-10-01T12:00:00") -> dict[str, Any]:
    """A soviet::participants row as get_table_rows(json=true) prints it."""
    return {
        "username": username, "created_at": created_at, "last_update": "2025-01-15T08:30:00",
        "last_min_pay": created_at, "status": status, "is_initial": True, "is_minimum": True,
        "has_vote": status == "accepted", "type": "individual", "braname": "",
        "initial_amount": "100.0000 RUB", "minimum_amount": "300.0000 RUB",
    }


def coop_row(coopname: str, announce: str, *, status: str | None = "active",
             is_cooperative: bool = True) -> dict[str, Any]:
    """A registrator::coops (cooperative2) row; binary extensions are left out when unset."""
    row: dict[str, Any] = {
        "username": coopname, "parent_username": "voskhod", "announce": announce,
        "description": "Потребительский кооператив", "is_cooperative": is_cooperative,
        "is_branched": False, "is_enrolled": False, "coop_type": "conscoop",
        "registration": "1000.0000 RUB", "initial": "100.0000 RUB", "minimum": "900.0000 RUB",
        "org_registration": "10000.0000 RUB", "org_initial": "1000.0000 RUB",
        "org_minimum": "9000.0000 RUB", "created_at": "2024-10-01T12:00:00",
        "document": {"version": "1.0.0", "hash": "0" * 64, "doc_hash": "0" * 64,
                     "meta_hash": "0" * 64, "meta": "{}", "signatures": []},
        "active_participants_count": 3,
    }
    if status is not None:
        row["status"] = status
    return row


def account_body(account_name: str, active_keys: list[str],
                 owner_key: str | None = None) -> dict[str, Any]:
    """A get_account answer (leap 5), trimmed of nothing the adapter might trip over."""
    def authority(keys: list[str]) -> dict[str, Any]:
        return {"threshold": 1, "keys": [{"key": key, "weight": 1} for key in keys],
                "accounts": [], "waits": []}

    return {
        "account_name": account_name, "head_block_num": 48_123_456,
        "head_block_time": "2025-11-27T10:00:00.000", "privileged": False,
        "last_code_update": "1970-01-01T00:00:00.000", "created": "2024-10-01T12:00:00.000",
        "core_liquid_balance": "12.0000 AXON", "ram_quota": 1_048_576, "net_weight": 10_000,
        "cpu_weight": 10_000,
        "net_limit": {"used": 120, "available": 1_000_000, "max": 1_000_120},
        "cpu_limit": {"used": 340, "available": 999_660, "max": 1_000_000},
        "ram_usage": 5_432,
        "permissions": [
            {"perm_name": "active", "parent": "owner", "required_auth": authority(active_keys),
             "linked_actions": []},
            {"perm_name": "owner", "parent": "",
             "required_auth": authority([owner_key or active_keys[0]] if active_keys else []),
             "linked_actions": []},
        ],
        "total_resources": None, "self_delegated_bandwidth": None, "refund_request": None,
        "voter_info": None, "rex_info": None, "eosio_any_linked_actions": [],
    }


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json")


@dataclass
class FakeChain:
    """Tables keyed by (code, scope, table) → {primary key name: row}; accounts by name."""

    tables: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def put_row(self, code: str, scope: str, table: str, key: str, row: dict[str, Any]) -> None:
        self.tables.setdefault((code, scope, table), {})[key] = row

    def add_cooperative(self, coopname: str, announce: str, *, table: str = "coops",
                        legacy_key: bool = True, **row_options: Any) -> K1PrivateKey:
        key = K1PrivateKey.generate()
        self.put_row("registrator", "registrator", table, coopname,
                     coop_row(coopname, announce, **row_options))
        printed = key.public_key.to_legacy_string() if legacy_key else key.public_key.to_string()
        self.accounts[coopname] = account_body(coopname, [printed])
        return key

    def add_participant(self, coopname: str, username: str, status: str = "accepted",
                        created_at: str = "2024-10-01T12:00:00") -> None:
        self.put_row("soviet", coopname, "participants", username,
                     participant_row(username, status, created_at))

    def get_table_rows(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((GET_TABLE_ROWS, body))
        rows = self.tables.get((body["code"], body["scope"], body["table"]), {})
        # Plain string order is Antelope name order for valid names ("." < "1-5" < "a-z").
        keys = sorted(key for key in rows
                      if (not body.get("lower_bound") or key >= body["lower_bound"])
                      and (not body.get("upper_bound") or key <= body["upper_bound"]))
        limit = int(body.get("limit", 10))
        page, rest = keys[:limit], keys[limit:]
        return json_response({"rows": [rows[key] for key in page], "more": bool(rest),
                              "next_key": rest[0] if rest else ""})

    def get_account(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((GET_ACCOUNT, body))
        account = self.accounts.get(body["account_name"])
        if account is None:
            # nodeos: HTTP 500 with an error object for an account that does not exist.
            return json_response({"code": 500, "message": "Internal Service Error",
                                  "error": {"code": 0, "name": "exception",
                                            "what": "unknown key", "details": []}}, status=500)
        return json_response(account)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
