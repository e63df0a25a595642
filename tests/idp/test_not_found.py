"""An unknown address: a person's browser reads a page in their language, an API client keeps
the JSON error (issue #9: no developer text on a member's screen)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("language", "words"), [
    ("ru-RU,ru;q=0.9", "Страница не найдена"), ("en-GB,en;q=0.9", "Page not found")])
def test_a_browser_gets_a_translated_page(client: FlaskClient, language: str,
                                          words: str) -> None:
    answer = client.get("/no/such/page", headers={"Accept": BROWSER,
                                                  "Accept-Language": language})
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert words in html and "not_found" not in html and '"error"' not in html


@pytest.mark.parametrize("path", ["/no/such/page", "/auth/nothing", "/static/widget/x/y.js"])
def test_api_clients_keep_the_json_error(client: FlaskClient, path: str) -> None:
    answer = client.get(path, headers={"Accept": "application/json"})
    assert answer.status_code == 404 and answer.json["error"] == "not_found"


def test_api_paths_stay_json_even_for_a_browser(client: FlaskClient) -> None:
    answer = client.get("/auth/nothing", headers={"Accept": BROWSER})
    assert answer.status_code == 404 and answer.json["error"] == "not_found"
