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
GET_ABI = "/v1/chain/get_abi"
# Secondary indexes the adapters read, by (code, table, index_position): the row field they are
# built from (coopenomics/mono lib/domain/table_*.hpp ``indexed_by``).
SECONDARY_INDEXES = {
    ("ledger2", "userwallets", "3"): "username",  # byuser
    ("soviet", "progwallets", "2"): "username",  # byusername
    ("meet", "questions", "2"): "meet_id",  # bymeet
    ("wallet", "deposits", "3"): "username",  # byusername
}
ZERO_HASH = "0" * 64


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


def userwallet_row(row_id: int, wallet_name: str, username: str,
                   available: str) -> dict[str, Any]:
    """A ledger2::userwallets row (table_ledger2_userwallets.hpp); ``blocked`` is always zero
    since BLOCK/UNBLOCK were removed."""
    return {"id": row_id, "wallet_name": wallet_name, "username": username,
            "available": available, "blocked": "0.0000 RUB"}


def progwallet_row(row_id: int, coopname: str, program_id: int, username: str,
                   available: str) -> dict[str, Any]:
    """A soviet::progwallets row (table_soviet_progwallets.hpp), binary extensions set."""
    return {"id": row_id, "coopname": coopname, "program_id": program_id, "agreement_id": 3,
            "username": username, "available": available, "blocked": "0.0000 RUB",
            "membership_contribution": "0.0000 RUB"}


def document2(hash_hex: str = ZERO_HASH) -> dict[str, Any]:
    return {"version": "1.0.0" if hash_hex != ZERO_HASH else "", "hash": hash_hex,
            "doc_hash": hash_hex, "meta_hash": hash_hex,
            "meta": "{}" if hash_hex != ZERO_HASH else "", "signatures": []}


def meet_row(meet_id: int, coopname: str, *, status: str = "authorized",
             open_at: str, close_at: str, hash_hex: str | None = None) -> dict[str, Any]:
    """A meet::meets row (meet/include/tables/meet.hpp), fields in struct order; doubles print
    as strings with 17 decimals, as nodeos prints them."""
    hash_hex = hash_hex or f"{meet_id:064x}"
    return {"id": meet_id, "hash": hash_hex, "coopname": coopname, "type": "regular",
            "level": "cooperative", "initiator": "ant", "presider": "ant",
            "secretary": "petrov", "status": status, "created_at": "2025-12-01T10:00:00",
            "open_at": open_at, "close_at": close_at, "notified_users": [],
            "quorum_percent": "75.00000000000000000", "signed_ballots": 0,
            "current_quorum_percent": "0.00000000000000000", "cycle": 1,
            "quorum_passed": False, "proposal": document2("a" * 64),
            "authorization": document2("b" * 64), "decision1": document2(),
            "decision2": document2()}


def question_row(question_id: int, number: int, coopname: str, meet_id: int) -> dict[str, Any]:
    """A meet::questions row: the texts are only their sha256 on chain."""
    return {"id": question_id, "number": number, "coopname": coopname, "meet_id": meet_id,
            "title": f"{question_id:064x}", "context": "", "decision": f"{question_id + 1:064x}",
            "counter_votes_for": 0, "counter_votes_against": 0, "counter_votes_abstained": 0,
            "voters_for": [], "voters_against": [], "voters_abstained": []}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json")


@dataclass
class FakeChain:
    """Tables keyed by (code, scope, table) → {primary key name: row}; accounts by name."""

    tables: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Contract accounts with their ABI's table names (get_abi); ledger2 unless a test takes it
    # away (a chain of the time before ledger2).
    contracts: dict[str, list[str]] = field(default_factory=lambda: {
        "ledger2": ["userwallets", "wallets"], "soviet": ["participants", "progwallets"]})

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

    def add_wallet(self, coopname: str, username: str, wallet_name: str, available: str) -> None:
        rows = self.tables.setdefault(("ledger2", coopname, "userwallets"), {})
        row_id = len(rows)
        rows[str(row_id)] = userwallet_row(row_id, wallet_name, username, available)

    def add_progwallet(self, coopname: str, username: str, program_id: int,
                       available: str) -> None:
        rows = self.tables.setdefault(("soviet", coopname, "progwallets"), {})
        row_id = len(rows)
        rows[str(row_id)] = progwallet_row(row_id, coopname, program_id, username, available)

    def add_pending_deposit(self, coopname: str, username: str, quantity: str) -> None:
        """A wallet::deposits row of a deposit in flight (createdpst; erased when settled)."""
        rows = self.tables.setdefault(("wallet", coopname, "deposits"), {})
        row_id = len(rows) + 1
        rows[str(row_id)] = {"id": row_id, "coopname": coopname, "username": username,
                             "deposit_hash": f"{row_id:064x}", "quantity": quantity,
                             "status": "pending", "created_at": "2026-11-30T09:00:00"}

    def add_meeting(self, coopname: str, meet_id: int, *, open_at: str, close_at: str,
                    questions: int = 3, status: str = "authorized") -> None:
        self.put_row("meet", coopname, "meets", f"{meet_id:08d}",
                     meet_row(meet_id, coopname, status=status, open_at=open_at,
                              close_at=close_at))
        rows = self.tables.setdefault(("meet", coopname, "questions"), {})
        for number in range(1, questions + 1):
            question_id = len(rows) + 1
            rows[f"{question_id:08d}"] = question_row(question_id, number, coopname, meet_id)

    def get_abi(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((GET_ABI, body))
        name = body.get("account_name")
        if name not in self.contracts:
            return json_response({"code": 500, "message": "Internal Service Error",
                                  "error": {"code": 0, "name": "exception",
                                            "what": "unknown key", "details": []}}, status=500)
        return json_response({"account_name": name, "abi": {
            "version": "eosio::abi/1.2", "tables": [
                {"name": table, "index_type": "i64", "key_names": [], "key_types": [],
                 "type": table} for table in self.contracts[name]]}})

    def get_table_rows(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((GET_TABLE_ROWS, body))
        if body["code"] not in self.contracts and body["code"] in ("ledger2",):
            return json_response({"code": 500, "message": "Internal Service Error",
                                  "error": {"code": 0, "name": "exception",
                                            "what": "Fail to retrieve account", "details": []}},
                                 status=500)
        rows = self.tables.get((body["code"], body["scope"], body["table"]), {})
        index = SECONDARY_INDEXES.get((body["code"], body["table"],
                                       str(body.get("index_position", "1"))))
        if index is not None:
            # A secondary index with equal bounds: the rows whose indexed field is that key.
            wanted = str(body.get("lower_bound", ""))
            found = [row for row in rows.values() if str(row.get(index)) == wanted]
            return json_response({"rows": found[:int(body.get("limit", 10))],
                                  "more": len(found) > int(body.get("limit", 10)),
                                  "next_key": ""})
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
