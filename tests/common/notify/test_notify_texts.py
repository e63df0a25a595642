"""The emails' field labels agree with the card schema the member's card shows (issue #9: field
labels in the member's language, never field ids), and times are Moscow time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common.notify.texts import FIELD_LABELS, format_time

SCHEMA = Path(__file__).resolve().parents[3] / "idp" / "card" / "schema_v1.json"


def _top_level_titles() -> dict[str, tuple[str, str]]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))

    def node(ref_or_node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in ref_or_node:
            found: Any = schema
            for part in ref_or_node["$ref"].lstrip("#/").split("/"):
                found = found[part]
            return node(found)
        return ref_or_node

    def title(n: dict[str, Any]) -> tuple[str, str] | None:
        # A title beside a $ref wins over the referenced one's.
        for candidate in (n, node(n)):
            if candidate.get("title"):
                return candidate["title"], candidate.get("x-title-en", "")
        return next((t for t in map(title, node(n).get("allOf", [])) if t), None)

    def properties(n: dict[str, Any]) -> dict[str, Any]:
        n = node(n)
        out = dict(n.get("properties", {}))
        for sub in n.get("allOf", []):
            out.update(properties(sub))
        return out

    titles: dict[str, tuple[str, str]] = {}
    for branch in schema["oneOf"]:
        for name, prop in properties(branch).items():
            found = title(prop)
            if found and name not in titles:
                titles[name] = found
    return titles


def test_every_top_level_field_has_the_schemas_label() -> None:
    titles = _top_level_titles()
    assert set(titles) == set(FIELD_LABELS)
    for name, (ru, en) in titles.items():
        assert FIELD_LABELS[name] == {"ru": ru, "en": en}, name


def test_times_are_moscow_time_in_the_emails_language() -> None:
    moment = datetime(2026, 3, 8, 21, 30, tzinfo=UTC)
    assert format_time(moment, "ru") == "9 марта 2026 г., 00:30 (МСК)"
    assert format_time(moment, "en") == "9 March 2026, 00:30 Moscow time"
    assert format_time(moment.replace(tzinfo=None), "ru") == "9 марта 2026 г., 00:30 (МСК)"
    vladivostok = moment.astimezone(timezone(timedelta(hours=10)))
    assert format_time(vladivostok, "de") == "9 марта 2026 г., 00:30 (МСК)"
