"""Docs are part of the feature: every setting is documented, and the committed OpenAPI file is
the one the code generates."""

from __future__ import annotations

import json

from common.settings import ENV_PREFIX, Settings
from tests.conftest import REPO


def test_every_setting_is_documented():
    text = (REPO / "docs" / "configuration.md").read_text()
    missing = [f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields
               if f"`{ENV_PREFIX}{name.upper()}`" not in text]
    assert missing == []


def test_committed_openapi_matches_the_code(client):
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    served = client.get("/openapi.json").json
    committed["servers"] = served["servers"] = []
    assert committed == served, "run `make openapi` and commit docs/openapi.json"
