"""``ChainRegistry``: the registry port over the Antelope chain API (``chain_api_plugin``).

What it reads (tables as defined in coopenomics/mono ``components/contracts/cpp/lib/domain``):

- membership: ``POST /v1/chain/get_table_rows`` code ``soviet``, scope <coopname>, table
  ``participants``, bounds = <username>. Row (``table_soviet_participants.hpp``): ``username``,
  ``created_at`` / ``last_update`` / ``last_min_pay`` (time_point_sec, "2024-10-01T12:00:00",
  UTC without a zone), ``status`` (name: "accepted" | "blocked"), ``is_initial``,
  ``is_minimum``, ``has_vote`` and binary extensions ``type``, ``braname``,
  ``initial_amount``, ``minimum_amount``. A member is a row with ``status == "accepted"``
  (the contract's own ``participant::is_active()``).
- cooperative: code ``registrator``, scope ``registrator``, table ``coops`` (struct
  ``cooperative2``; what ``regcoop`` writes and ``get_cooperative_or_fail`` reads today) or the
  older ``orgs`` (struct ``cooperative``, same fields), bounds = <coopname>. Fields used:
  ``username``, ``announce`` (top-level string: the public display name), ``is_cooperative``
  and ``status`` (binary extension, name: "active" | "pending" | "blocked"). Only an active
  cooperative (or a row too old to have a status) counts, as in ``get_cooperative_or_fail``.
- endorsement: code ``ano``, scope ``ano``, table ``endorsements`` (written by ``ano::endorse``,
  as MONO's cardcoop extension publishes them), bounds = <subject>. Row: ``issuer``, ``subject``,
  ``chain_id``, ``cert_key`` ("PUB_K1_..."), ``expires_at`` (time_point_sec), ``credential``
  (the compact JWS). Never cached.
- key: ``POST /v1/chain/get_account`` → ``permissions[perm_name == "active"].required_auth.keys``,
  the first K1 key ("EOS..." from most nodes, "PUB_K1_..." from some), stored as "PUB_K1_...".

``key_type: "name"`` is sent with the bounds: without it nodeos reads a digits-only name such as
"12345" as the number 12345 (``convert_to_type<uint64_t>`` tries ``lexical_cast`` first). The
scope has no such switch, so a digits-only cooperative name cannot be looked up; ВОСХОД names
are words.

Cooperatives (name + key) are cached for ``cache_ttl`` seconds; memberships never are. Logs and
exception messages carry the HTTP status at most, never a response body.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import requests

from cardcoop.protocol.errors import InvalidKey
from cardcoop.protocol.k1 import K1PublicKey
from common.voskhod.port import (
    Cooperative,
    Endorsement,
    Membership,
    RegistryUnavailable,
    UnknownCooperative,
    is_account_name,
)

log = logging.getLogger("cardcoop.voskhod")

GET_TABLE_ROWS: Final = "/v1/chain/get_table_rows"
GET_ACCOUNT: Final = "/v1/chain/get_account"
SOVIET: Final = "soviet"
REGISTRATOR: Final = "registrator"
PARTICIPANTS_TABLE: Final = "participants"
COOPERATIVES_TABLE: Final = "coops"
LEGACY_COOPERATIVES_TABLE: Final = "orgs"
ANO: Final = "ano"
ENDORSEMENTS_TABLE: Final = "endorsements"
ACTIVE_PERMISSION: Final = "active"
COOP_STATUS_ACTIVE: Final = "active"

_PAGE_SIZE: Final = 100
# A listing longer than this is a node answering "more" forever, not a registry.
_MAX_PAGES: Final = 1000


class ChainRegistry:
    def __init__(self, api_url: str, *, timeout: float = 5.0, cache_ttl: float = 300.0,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 cooperatives_table: str = COOPERATIVES_TABLE) -> None:
        parts = urlsplit(api_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL is not echoed: it may carry credentials.
            raise ValueError("chain API URL must be http(s)://host[:port][/prefix]")
        if parts.query or parts.fragment:
            raise ValueError("chain API URL must not have a query or fragment")
        if timeout <= 0:
            raise ValueError("chain API timeout must be positive")
        if cooperatives_table not in (COOPERATIVES_TABLE, LEGACY_COOPERATIVES_TABLE):
            raise ValueError("cooperatives_table must be 'coops' or 'orgs'")
        self._base = api_url.strip().rstrip("/")
        self._timeout = timeout
        self._cache_ttl = cache_ttl
        self._session = session or requests.Session()
        self._clock = clock
        self._table = cooperatives_table
        self._cache: dict[str, tuple[float, Cooperative]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        parts = urlsplit(self._base)
        # Credentials in the URL (user:password@) stay out of reprs, logs and tracebacks.
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return f"ChainRegistry({shown!r})"

    # -- the port -----------------------------------------------------------------------------

    def cooperative(self, coopname: str) -> Cooperative:
        if not is_account_name(coopname):
            raise UnknownCooperative(coopname, "not an account name")
        cached = self._cached(coopname)
        if cached is not None:
            return cached
        row = self._one_row(REGISTRATOR, REGISTRATOR, self._table, "username", coopname)
        if row is None:
            raise UnknownCooperative(coopname)
        return self._remember(self._cooperative_from(row, coopname))

    def membership(self, coopname: str, username: str) -> Membership:
        if not (is_account_name(coopname) and is_account_name(username)):
            return Membership.absent(str(coopname), str(username))
        row = self._one_row(SOVIET, coopname, PARTICIPANTS_TABLE, "username", username)
        if row is None:
            return Membership.absent(coopname, username)
        status = row.get("status")
        if not isinstance(status, str) or not status:
            raise RegistryUnavailable("participants row without a status")
        return Membership.of(coopname, username, status, _time_point_sec(row.get("created_at")))

    def cooperatives(self) -> list[Cooperative]:
        found: list[Cooperative] = []
        for row in self._all_rows(REGISTRATOR, REGISTRATOR, self._table):
            coopname = row.get("username")
            if not is_account_name(coopname) or not _is_active_cooperative(row):
                continue
            try:
                found.append(self._cached(coopname)
                             or self._remember(self._cooperative_from(row, coopname)))
            except UnknownCooperative as error:
                log.info("registry listing skips %s", error)
        return found

    def endorsement(self, subject: str) -> Endorsement | None:
        if not is_account_name(subject):
            return None
        row = self._one_row(ANO, ANO, ENDORSEMENTS_TABLE, "subject", subject)
        if row is None:
            return None
        expires_at = _time_point_sec(row.get("expires_at"))
        try:
            return Endorsement(subject, str(row.get("issuer")), str(row.get("chain_id", "")),
                               K1PublicKey.from_string(row.get("cert_key", "")),
                               expires_at or datetime.fromtimestamp(0, UTC),
                               str(row.get("credential", "")))
        except (InvalidKey, ValueError):
            raise RegistryUnavailable("endorsements row with a malformed field") from None

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- cache --------------------------------------------------------------------------------

    def _cached(self, coopname: str) -> Cooperative | None:
        with self._lock:
            entry = self._cache.get(coopname)
            if entry is None:
                return None
            if self._clock() < entry[0]:
                return entry[1]
            del self._cache[coopname]
            return None

    def _remember(self, cooperative: Cooperative) -> Cooperative:
        if self._cache_ttl > 0:
            with self._lock:
                self._cache[cooperative.coopname] = (self._clock() + self._cache_ttl, cooperative)
        return cooperative

    # -- reading rows -------------------------------------------------------------------------

    def _cooperative_from(self, row: Mapping[str, Any], coopname: str) -> Cooperative:
        if not _is_active_cooperative(row):
            raise UnknownCooperative(coopname, "not an active cooperative")
        announce = row.get("announce", "")
        if not isinstance(announce, str):
            raise RegistryUnavailable("cooperative row with a malformed announce")
        key = self._active_key(coopname)
        # An empty announce would leave the consent screen without a name: show the account.
        return Cooperative(coopname, announce.strip() or coopname, key.to_string())

    def _active_key(self, coopname: str) -> K1PublicKey:
        account = self._post(GET_ACCOUNT, {"account_name": coopname})
        permissions = account.get("permissions")
        if not isinstance(permissions, list):
            raise RegistryUnavailable("get_account answer without permissions")
        for permission in permissions:
            if not isinstance(permission, dict):
                raise RegistryUnavailable("get_account answer with a malformed permission")
            if permission.get("perm_name") == ACTIVE_PERMISSION:
                return _first_k1_key(permission, coopname)
        raise UnknownCooperative(coopname, "account has no active permission")

    def _one_row(self, code: str, scope: str, table: str, key_field: str,
                 key: str) -> dict[str, Any] | None:
        rows, _, _ = self._table_rows(code, scope, table, lower=key, upper=key, limit=1)
        # The bounds make the node return the row with that key or nothing; a node that ignored
        # them would hand back some other row, so the key is checked rather than trusted.
        for row in rows:
            if row.get(key_field) == key:
                return row
        return None

    def _all_rows(self, code: str, scope: str, table: str) -> Iterator[dict[str, Any]]:
        lower = ""
        for _ in range(_MAX_PAGES):
            rows, more, next_key = self._table_rows(code, scope, table, lower=lower, upper="",
                                                    limit=_PAGE_SIZE)
            yield from rows
            if not more:
                return
            if not next_key or next_key == lower:
                raise RegistryUnavailable("get_table_rows paging does not advance")
            lower = next_key
        raise RegistryUnavailable("get_table_rows paging does not end")

    def _table_rows(self, code: str, scope: str, table: str, *, lower: str, upper: str,
                    limit: int, index_position: str | None = None,
                    key_type: str = "name") -> tuple[list[dict[str, Any]], bool, str]:
        body: dict[str, Any] = {
            "json": True, "code": code, "scope": scope, "table": table,
            "lower_bound": lower, "upper_bound": upper, "limit": limit, "key_type": key_type,
        }
        if index_position is not None:
            body["index_position"] = index_position
        answer = self._post(GET_TABLE_ROWS, body)
        rows = answer.get("rows")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise RegistryUnavailable("get_table_rows answer without a list of rows")
        more = answer.get("more", False)
        next_key = answer.get("next_key", "")
        if not isinstance(more, bool) or not isinstance(next_key, str):
            raise RegistryUnavailable("get_table_rows answer with malformed paging")
        return rows, more, next_key

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = self._session.post(
                self._base + path, json=body, headers={"Accept": "application/json"},
                timeout=self._timeout,
                # A redirect means a wrong URL; following it could turn the POST into a GET.
                allow_redirects=False)
        except requests.Timeout:
            log.warning("chain API %s: no answer within %gs", path, self._timeout)
            raise RegistryUnavailable(
                f"chain API did not answer within {self._timeout:g}s") from None
        except requests.RequestException as error:
            log.warning("chain API %s: %s", path, type(error).__name__)
            raise RegistryUnavailable(
                f"chain API request failed: {type(error).__name__}") from None
        # nodeos answers errors (unknown account, bad table) with a 500 and a JSON body that
        # echoes the request; only the status goes into logs and messages.
        return json_object(response, "chain API", path)


def json_object(response: requests.Response, api: str, path: str) -> dict[str, Any]:
    """A 200 answer's JSON object; any other status, malformed JSON or a non-object is an
    outage (RegistryUnavailable), logged with the status only."""
    if response.status_code != 200:
        log.warning("%s %s answered %s", api, path, response.status_code)
        raise RegistryUnavailable(f"{api} {path} answered {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise RegistryUnavailable(f"{api} {path} answered with malformed JSON") from None
    if not isinstance(answer, dict):
        raise RegistryUnavailable(f"{api} {path} answered with a non-object")
    return answer


def _is_active_cooperative(row: Mapping[str, Any]) -> bool:
    # "status" is a binary extension: rows written before it existed have none and count as
    # active, as they did for the contracts of that time.
    status = row.get("status")
    return row.get("is_cooperative") is True and status in (None, "", COOP_STATUS_ACTIVE)


def _first_k1_key(permission: Mapping[str, Any], coopname: str) -> K1PublicKey:
    required_auth = permission.get("required_auth")
    keys = required_auth.get("keys") if isinstance(required_auth, dict) else None
    if not isinstance(keys, list):
        raise RegistryUnavailable("get_account answer with malformed required_auth")
    for entry in keys:
        text = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(text, str):
            raise RegistryUnavailable("get_account answer with a malformed key")
        try:
            return K1PublicKey.from_string(text)
        except InvalidKey:
            continue  # R1 / WebAuthn keys cannot receive shares; a later K1 key can
    raise UnknownCooperative(coopname, "no K1 key in the active permission")


def _time_point_sec(value: object) -> datetime | None:
    """Antelope time_point_sec JSON ("2024-10-01T12:00:00", UTC, no zone) → aware datetime.
    A value that does not parse is left out: it must not cost the member their membership."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    # The zero time point is what an unset field serializes to.
    return None if moment.timestamp() == 0 else moment
