"""Phones and passport parts of the card (cardcoop.schema.normalize_phone / normalize_card)
against tests/data/phones.json, the fixture that widget/test/card-phone.test.js also reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cardcoop.schema import is_valid_ru_phone, normalize_card, normalize_phone, validate_card

FIXTURE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "phones.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=lambda c: repr(c["input"]))
def test_phone_fixture(case: dict[str, Any]) -> None:
    assert normalize_phone(case["input"]) == case["e164"]
    assert is_valid_ru_phone(case["input"]) is (case["e164"] is not None)
    if case["e164"] is not None:
        assert normalize_phone(case["e164"]) == case["e164"]


def test_fixture_is_the_russian_default_and_large_enough() -> None:
    assert FIXTURE["region"] == "RU"
    assert len(FIXTURE["cases"]) >= 30


@pytest.mark.parametrize("value", [None, 79123456789, ["+79123456789"], {}, b"+79123456789"])
def test_phone_not_a_string(value: object) -> None:
    assert normalize_phone(value) is None


def test_phone_length_counts_code_points() -> None:
    assert normalize_phone("+7 912 345 67 89" + " " * 16) == "+79123456789"
    assert normalize_phone("+7 912 345 67 89" + " " * 17) is None


@pytest.mark.parametrize("case", FIXTURE["passport"], ids=lambda c: repr(c["input"]))
def test_passport_fixture(case: dict[str, Any]) -> None:
    assert normalize_card({"person_type": "individual", "passport": case["input"]})["passport"] \
        == case["output"]


def test_normalize_card_copies_and_keeps_what_it_cannot_read() -> None:
    card: dict[str, Any] = {
            "person_type": "individual", "last_name": "Петров", "first_name": "Иван",
            "birthdate": "1990-03-05", "email": "ivan@example.ru", "phone": "8 912 345-67-89",
            "passport": {"series": "45 06", "number": "123456", "issued_by": "ОВД",
                         "issued_at": "2010-02-01", "code": "770001"}}
    out = normalize_card(card)
    assert out["phone"] == "+79123456789"
    assert out["passport"]["series"] == "4506" and out["passport"]["code"] == "770-001"
    assert card["phone"] == "8 912 345-67-89" and card["passport"]["series"] == "45 06"
    assert validate_card(out) == []
    assert [p.path for p in validate_card(card)] == ["/passport/code", "/passport/series"]
    assert normalize_card({"phone": "call me"})["phone"] == "call me"
    assert normalize_card({"phone": 5, "passport": "x"}) == {"phone": 5, "passport": "x"}


def test_only_the_required_fields_of_an_individual() -> None:
    card = {"person_type": "individual", "last_name": "Иванова", "first_name": "Мария",
            "birthdate": "2001-07-15", "email": "maria@example.ru"}
    assert validate_card(card) == []
    for name in ("last_name", "first_name", "birthdate", "email"):
        rest = {k: v for k, v in card.items() if k != name}
        assert [p.path for p in validate_card(rest)] == [f"/{name}"]
