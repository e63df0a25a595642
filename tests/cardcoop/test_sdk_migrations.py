"""Card data versions (PROTOCOL.md §4): cardcoop.migrations.

The v0 samples and their v1 results live in widget/test/fixtures/cards.json, shared with
widget/test/card-migrate.test.js.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cardcoop.migrations import CURRENT_VERSION, MIGRATIONS, CardMigrationError, migrate
from cardcoop.protocol.errors import ProtocolError
from cardcoop.schema import validate_card

FIXTURES = Path(__file__).resolve().parents[2] / "widget" / "test" / "fixtures" / "cards.json"
CARDS: dict[str, Any] = json.loads(FIXTURES.read_text(encoding="utf-8"))


def test_one_step_per_version_up_to_the_current_one() -> None:
    assert CURRENT_VERSION == 1
    assert sorted(MIGRATIONS) == list(range(CURRENT_VERSION))
    with pytest.raises(TypeError):
        MIGRATIONS[1] = MIGRATIONS[0]  # type: ignore[index]


@pytest.mark.parametrize("sample", CARDS["v0"], ids=lambda s: s["name"])
def test_v0_cards_become_the_recorded_v1_cards(sample: dict[str, Any]) -> None:
    before = copy.deepcopy(sample["data"])
    migrated = migrate(sample["data"], 0)
    assert migrated == sample["v1"]
    assert sample["data"] == before
    assert [p.path for p in validate_card(migrated)] == sample["problems"]


def test_v0_samples_cover_every_person_type_and_validate() -> None:
    valid = {migrate(s["data"], 0)["person_type"] for s in CARDS["v0"] if not s["problems"]}
    assert valid == {"individual", "entrepreneur", "organization"}


def test_the_current_version_is_returned_as_a_copy() -> None:
    card = CARDS["valid"][0]["data"]
    same = migrate(card, CURRENT_VERSION)
    assert same == card
    assert same is not card and same["passport"] is not card["passport"]


def test_a_future_version_is_refused() -> None:
    newer = r"version 2 is newer than this SDK supports \(1\)"
    with pytest.raises(CardMigrationError, match=newer):
        migrate(CARDS["v0"][0]["data"], 2)


@pytest.mark.parametrize("version", [-1, -7])
def test_an_unknown_version_is_refused(version: int) -> None:
    with pytest.raises(CardMigrationError, match=f"unknown card data version {version}"):
        migrate(CARDS["v0"][0]["data"], version)


@pytest.mark.parametrize("version", [1.0, "0", None, True])
def test_a_version_must_be_an_integer(version: Any) -> None:
    with pytest.raises(CardMigrationError, match="must be an integer"):
        migrate(CARDS["v0"][0]["data"], version)


def test_v0_data_that_is_not_a_card_is_refused_naming_fields_not_values() -> None:
    with pytest.raises(CardMigrationError, match="JSON object"):
        migrate([], 0)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError, match="type must be individual, entrepreneur or"):
        migrate({**CARDS["v0"][0]["data"], "type": "company"}, 0)
    twice = {**CARDS["v0"][0]["data"], "full_address": "Москва, ул. Секретная"}
    with pytest.raises(CardMigrationError, match="'full_address'") as raised:
        migrate(twice, 0)
    assert "Секретная" not in str(raised.value)


@pytest.mark.parametrize(("fio", "names"), [
    ("Алиев Рашид Мамед оглы", ("Алиев", "Рашид", "Мамед оглы")),
    ("\tПетров\u00a0\u00a0Иван\n", ("Петров", "Иван", "")),
    ("", ("", "", "")),
])
def test_v0_names(fio: str, names: tuple[str, str, str]) -> None:
    card = migrate({**CARDS["v0"][0]["data"], "fio": fio}, 0)
    assert (card["last_name"], card["first_name"], card["middle_name"]) == names
