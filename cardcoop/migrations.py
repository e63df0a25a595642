"""Card data versions (PROTOCOL.md §4): bring an older card plaintext to the current format.

`meta.version` travels in clear beside the encrypted card. A client that decrypts an older version
calls `migrate(data, meta["version"])`, checks the result with `cardcoop.schema.validate_card`,
re-encrypts it and stores it with `meta.version = CURRENT_VERSION` (`PUT /card`); the server never
sees the plaintext. `widget/src/card/migrate.js` is the same chain for the browser, and
`widget/test/fixtures/cards.json` pins both to the same results.

`MIGRATIONS[n]` turns version n into version n + 1; `migrate` applies them in order.

Version 0 is the legacy pre-release format of the original specification, e.g. for a person:
`{"type": "individual", "fio": "Фамилия Имя Отчество", "birthdate": "DD.MM.YYYY", "phone",
"email", "address", "passport"?: {"series", "number", "issued_by", "issued_at": "DD.MM.YYYY",
"code"}}`; an entrepreneur adds `inn`, `ogrnip`, `country`, `city`; an organization has
`org_type`, `short_name`, `full_name`, `director_fio`, `director_position`, `based_on`, `inn`,
`ogrn`, `kpp`, `country`, `city`, `address`, `fact_address`, `phone`, `email`.

A migration converts; it does not judge. A value it cannot convert (a date not in DD.MM.YYYY, a
one-word name) is carried over as it is, and so is a field it does not know: nothing is lost
silently, and validation then shows the member exactly which field to correct.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from .protocol.errors import ProtocolError

__all__ = ["CURRENT_VERSION", "MIGRATIONS", "CardMigrationError", "migrate", "v0_to_v1"]

CURRENT_VERSION = 1


class CardMigrationError(ProtocolError):
    """The card data cannot be brought to the current version (unknown or newer version, or not
    a card at all). Messages name versions and field names, never values."""


Migration = Callable[[Mapping[str, Any]], dict[str, Any]]

_V0_TYPES = ("individual", "entrepreneur", "organization")
# Separators between the words of a full name: ASCII whitespace and the no-break space (the same
# explicit set as the widget; Python's str.split() and JavaScript's \s disagree on exotic ones).
_NAME_SEPARATORS = re.compile(r"[\t\n\v\f\r \u00a0]+")
_V0_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def _split_fio(fio: str) -> dict[str, str]:
    """"Фамилия Имя Отчество" -> last, first, middle; the middle name is "" when there is none
    and keeps every further word ("Алиев Рашид Мамед оглы" -> middle "Мамед оглы")."""
    words = [word for word in _NAME_SEPARATORS.split(fio) if word]
    return {
        "last_name": words[0] if words else "",
        "first_name": words[1] if len(words) > 1 else "",
        "middle_name": " ".join(words[2:]),
    }


def _iso_date(value: Any) -> Any:
    """DD.MM.YYYY (day and month may have one digit) -> YYYY-MM-DD; anything else unchanged."""
    if isinstance(value, str):
        match = _V0_DATE.fullmatch(value)
        if match is not None:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return value


class _Card:
    """The v0 fields not yet consumed, and the v1 result being built."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.rest = dict(data)
        self.out: dict[str, Any] = {}

    def move(self, old: str, new: str | None = None, convert: Callable[[Any], Any] | None = None,
             into: dict[str, Any] | None = None) -> None:
        if old not in self.rest:
            return
        value = self.rest.pop(old)
        target = self.out if into is None else into
        target[new or old] = convert(value) if convert is not None else value

    def names(self, old: str, into: dict[str, Any]) -> None:
        if isinstance(self.rest.get(old), str):
            into.update(_split_fio(self.rest.pop(old)))

    def finish(self) -> dict[str, Any]:
        for key, value in self.rest.items():  # unknown fields: kept for validation to flag
            if key in self.out:
                raise CardMigrationError(
                    f"version 0 card has field {key!r} both in its old and its new spelling")
            self.out[key] = value
        return self.out


def _passport(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    passport = dict(value)
    if "issued_at" in passport:
        passport["issued_at"] = _iso_date(passport["issued_at"])
    return passport


def v0_to_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """Legacy pre-release card -> `card.coop/schema/v1` (see the module docstring)."""
    kind = data.get("type")
    if kind not in _V0_TYPES:
        raise CardMigrationError(
            "version 0 card: type must be individual, entrepreneur or organization")
    card = _Card(data)
    del card.rest["type"]
    card.out["person_type"] = kind
    if kind == "organization":
        card.move("org_type", "type")
        card.move("short_name")
        card.move("full_name")
        represented_by: dict[str, Any] = {}
        card.names("director_fio", represented_by)
        card.move("director_position", "position", into=represented_by)
        card.move("based_on", into=represented_by)
        if represented_by:
            card.out["represented_by"] = represented_by
        card.move("country")
        card.move("city")
        card.move("address", "full_address")
        card.move("fact_address")
        card.move("phone")
        card.move("email")
        details: dict[str, Any] = {}
        for field in ("inn", "ogrn", "kpp"):
            card.move(field, into=details)
    else:
        card.names("fio", card.out)
        card.move("birthdate", convert=_iso_date)
        card.move("phone")
        card.move("email")
        card.move("address", "full_address")
        if "passport" in card.rest and card.rest["passport"] is None:
            del card.rest["passport"]  # an explicit "no passport"
        card.move("passport", convert=_passport)
        details = {}
        if kind == "entrepreneur":
            card.move("country")
            card.move("city")
            card.move("inn", into=details)
            card.move("ogrnip", "ogrn", into=details)
    if details:
        card.out["details"] = details
    return card.finish()


MIGRATIONS: Mapping[int, Migration] = MappingProxyType({0: v0_to_v1})


def migrate(data: Mapping[str, Any], version: int) -> dict[str, Any]:
    """The card plaintext `data` of format `version`, brought to CURRENT_VERSION (a new dict;
    `data` is not modified). Raises CardMigrationError for a version this SDK does not know,
    including a newer one (update cardcoop), and for data that is not a JSON object."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise CardMigrationError("card data version must be an integer")
    if version > CURRENT_VERSION:
        raise CardMigrationError(
            f"card data version {version} is newer than this SDK supports "
            f"({CURRENT_VERSION}); update cardcoop")
    if version < 0 or any(step not in MIGRATIONS for step in range(version, CURRENT_VERSION)):
        raise CardMigrationError(f"unknown card data version {version}")
    if not isinstance(data, Mapping):
        raise CardMigrationError("card data must be a JSON object")
    result: dict[str, Any] = copy.deepcopy(dict(data))
    for step in range(version, CURRENT_VERSION):
        result = MIGRATIONS[step](result)
    return result
