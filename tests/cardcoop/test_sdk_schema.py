"""The card schema (idp/card/schema_v1.json) and cardcoop.schema.

The samples live in widget/test/fixtures/cards.json, shared with widget/test/card-schema.test.js:
both implementations must give exactly the problems (paths and messages) recorded there.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from cardcoop.schema import (
    SCHEMA_ID,
    CardProblem,
    format_checker,
    is_valid_date,
    is_valid_email,
    is_valid_inn,
    is_valid_kpp,
    is_valid_ogrn,
    is_valid_ogrnip,
    is_valid_ru_phone,
    load_schema,
    validate_card,
)

FIXTURES = Path(__file__).resolve().parents[2] / "widget" / "test" / "fixtures" / "cards.json"
CARDS: dict[str, Any] = json.loads(FIXTURES.read_text(encoding="utf-8"))


def _properties(node: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every subschema that describes a property, with its place in the schema."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                found.extend((f"{where}/properties/{name}", prop) for name, prop in value.items())
            found.extend(_properties(value, f"{where}/{key}"))
    return found


def test_schema_is_valid_2020_12_with_one_closed_branch_per_person_type() -> None:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["properties"]["person_type"]["enum"] == ["individual", "entrepreneur",
                                                           "organization"]
    branches = [schema["$defs"][b["$ref"].rsplit("/", 1)[1]] for b in schema["oneOf"]]
    assert [b["properties"]["person_type"]["const"] for b in branches] == [
        "individual", "entrepreneur", "organization"]
    for branch in branches:
        assert branch["additionalProperties"] is False
        assert "person_type" in branch["required"]
    organization = branches[2]["properties"]
    assert organization["type"]["enum"] == ["coop", "ooo", "oao", "zao", "pao", "ao"]
    assert list(organization["type"]["x-enum-titles"]) == organization["type"]["enum"]


def test_every_property_has_russian_and_english_titles() -> None:
    props = _properties(load_schema())
    assert len(props) > 40
    for where, prop in props:
        assert re.search("[А-Яа-яЁё]", prop["title"]), where
        assert not re.search("[А-Яа-яЁё]", prop["x-title-en"]), where
        if prop.get("type") == "object":
            assert prop["additionalProperties"] is False, where


def test_every_format_in_the_schema_is_asserted() -> None:
    used = set(re.findall(r'"format": "([^"]+)"', json.dumps(load_schema())))
    assert used == set(format_checker().checkers)


def test_load_schema_returns_a_copy() -> None:
    schema = load_schema()
    schema["$defs"].clear()
    assert load_schema()["$defs"]
    assert validate_card(CARDS["valid"][0]["data"]) == []


@pytest.mark.parametrize("sample", CARDS["valid"], ids=lambda s: s["name"])
def test_valid_cards(sample: dict[str, Any]) -> None:
    assert validate_card(sample["data"]) == []


@pytest.mark.parametrize("sample", CARDS["invalid"], ids=lambda s: s["name"])
def test_invalid_cards_have_exactly_the_recorded_problem(sample: dict[str, Any]) -> None:
    problems = validate_card(sample["data"])
    assert [p.as_dict() for p in problems] == [
        {"path": sample["path"], "message_ru": sample["message_ru"],
         "message_en": sample["message_en"]}]


def test_fixtures_cover_every_kind_of_problem() -> None:
    names = " ".join(s["name"] for s in CARDS["invalid"])
    for kind in ("INN: wrong check digit", "INN: 11 digits", "OGRN: wrong check digit",
                 "KPP", "birthdate in the future", "no such day", "email", "unknown property",
                 "missing", "wrong person_type"):
        assert kind in names, kind


def test_problems_never_repeat_the_value() -> None:
    for sample in CARDS["invalid"]:
        value: Any = sample["data"]
        for key in sample["path"].split("/")[1:]:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value.strip()) >= 3:
            for problem in validate_card(sample["data"]):
                assert value.strip() not in problem.message_ru + problem.message_en


def test_several_problems_one_per_field_sorted_by_path() -> None:
    card = copy.deepcopy(CARDS["valid"][0]["data"])
    card.update(email="nope", phone="12", extra=1)
    card["passport"]["code"] = "1"
    del card["first_name"]
    before = copy.deepcopy(card)
    problems = validate_card(card)
    assert [p.path for p in problems] == ["/email", "/extra", "/first_name", "/passport/code",
                                          "/phone"]
    assert all(isinstance(p, CardProblem) for p in problems)
    assert card == before


def test_birthdate_rule() -> None:
    card = CARDS["valid"][0]["data"]
    today = date(2020, 1, 1)

    def at(birthdate: str) -> list[str]:
        return [p.message_en for p in validate_card({**card, "birthdate": birthdate}, today=today)]

    assert at("2020-01-01") == []
    assert at("2020-01-02") == ["Date of birth: must not be in the future"]
    assert at("1900-01-01") == []
    assert at("1899-12-31") == ["Date of birth: must not be before 1900"]
    # Default "today": the latest date anywhere on Earth (UTC+14).
    now = datetime.now(UTC)
    assert validate_card({**card, "birthdate": now.date().isoformat()}) == []
    in_two_days = (now + timedelta(days=2)).date().isoformat()
    assert len(validate_card({**card, "birthdate": in_two_days})) == 1
    organization = {**CARDS["valid"][3]["data"], "birthdate": "2999-01-01"}
    assert [p.message_en for p in validate_card(organization)] == ["Unknown field"]


def test_mappings_other_than_dict_are_accepted() -> None:
    from types import MappingProxyType

    card = copy.deepcopy(CARDS["valid"][0]["data"])
    card["passport"] = MappingProxyType(card["passport"])
    assert validate_card(MappingProxyType(card)) == []


def test_real_world_identifiers() -> None:
    assert is_valid_inn("7707083893")  # Sberbank
    assert is_valid_inn("7736207543")
    assert is_valid_inn("500100732259")
    assert not is_valid_inn("7707083894")
    assert not is_valid_inn("500100732258")
    assert not is_valid_inn("500100732269")  # the 11th digit wrong
    assert not is_valid_inn("77070838931")
    assert not is_valid_inn(7707083893)
    assert is_valid_ogrn("1027700132195")  # Sberbank
    assert not is_valid_ogrn("1027700132194")
    assert not is_valid_ogrn("304500116000157")
    assert is_valid_ogrnip("304500116000157")
    assert not is_valid_ogrnip("304500116000158")
    assert not is_valid_ogrnip("1027700132195")
    assert is_valid_kpp("773601001")
    assert is_valid_kpp("7736AB001")
    assert not is_valid_kpp("7736ab001")
    assert not is_valid_kpp("77360100")
    assert not is_valid_kpp("773601001\n")


@pytest.mark.parametrize("phone", ["+7 (916) 123-45-67", "89161234567", "79161234567",
                                   "(812) 123-45-67", "+44 20 7946 0958", "+380441234567"])
def test_good_phones(phone: str) -> None:
    assert is_valid_ru_phone(phone)


@pytest.mark.parametrize("phone", ["+7 916 123 45 6", "+7 916 123 45 678", "8 916 123 45 678",
                                   "123456789", "+1234567890123456", "+7 916 ABC 45 67",
                                   "++79161234567", "7916+1234567", "", "+", "+7 916 123 45 67\n",
                                   "+٧ ٩١٦ ١٢٣ ٤٥ ٦٧", "380441234567"])  # without + it is Russian
def test_bad_phones(phone: str) -> None:
    assert not is_valid_ru_phone(phone)


def test_emails_and_dates() -> None:
    for good in ("a@b.ru", "ivan.petrov+card@example.co.uk", "john@почта.рф"):
        assert is_valid_email(good), good
    for bad in ("a@b", "a b@c.ru", "a@b..ru", "@b.ru", "a@b.r", "a@@b.ru", "a" * 65 + "@b.ru",
                "a@b.ru\n"):
        assert not is_valid_email(bad), bad
    for good in ("2000-02-29", "1900-01-01", "2024-12-31"):
        assert is_valid_date(good), good
    for bad in ("1900-02-29", "2023-02-29", "2024-04-31", "2024-00-10", "0000-01-01", "2024-1-1",
                "2024-01-01T00:00", "١٩٩٠-٠١-٠١", "2024-01-01\n"):
        assert not is_valid_date(bad), bad
