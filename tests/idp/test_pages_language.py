"""The pages the server renders speak the member's language (issue #9): the OAuth error page and
the signed-out page in Russian (default) or English, chosen by ``ui_locales`` (OpenID Connect
Core §3.1.2.1) or Accept-Language, with a switch to the other one; the protocol's reason stays,
folded, for the cooperative's developers; no page shows both languages at once."""

from __future__ import annotations

import re
from html import unescape

import pytest

BAD = "/oauth/authorize?client_id=nobody&response_type=code"


def text_of(html: str) -> str:
    body = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize(("query", "headers", "lang"), [
    ("", {}, "ru"),
    ("", {"Accept-Language": "en-GB,en;q=0.9"}, "en"),
    ("", {"Accept-Language": "de-DE, fr;q=0.8"}, "ru"),
    ("&ui_locales=en", {"Accept-Language": "ru"}, "en"),
    ("&ui_locales=de+en-US", {}, "en"),
    ("&ui_locales=ru", {"Accept-Language": "en"}, "ru"),
    ("&ui_locales=" + "x" * 300, {}, "ru"),
    ("&ui_locales=", {"Accept-Language": "en"}, "en"),
])
def test_the_error_page_in_one_language(client, query, headers, lang):
    r = client.get(BAD + query, headers=headers)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert r.headers["Content-Language"] == lang
    words = text_of(html)
    if lang == "en":
        assert "Request refused" in words and "This sign-in link is not valid." in words
        assert not re.search("[А-Яа-яЁё]", words.replace("Русский", ""))
    else:
        assert "Запрос не принят" in words and "Ссылка для входа неверна." in words
        assert "Request refused" not in words and "sign-in" not in words
    # The protocol's reason is there for developers, folded; the way back is the card.
    assert re.search(r'<details class="developer-detail">.*id="oauth-error-detail"', html, re.S)
    assert 'href="/"' in html


def test_the_language_switch_echoes_nothing_of_the_request(client):
    html = client.get(BAD + "&state=s1&redirect_uri=https://evil.example/").get_data(as_text=True)
    links = dict(re.findall(r'<a href="([^"]+)" lang="(ru|en)"', html))
    by_lang = {lang: unescape(href) for href, lang in links.items()}
    assert by_lang == {"ru": "/oauth/authorize?ui_locales=ru",
                       "en": "/oauth/authorize?ui_locales=en"}
    assert "evil" not in html and "s1" not in html
    english = client.get(by_lang["en"])
    assert english.status_code == 400
    page = english.get_data(as_text=True)
    assert '<html lang="en">' in page and 'aria-current="true">English' in page


def test_the_signed_out_page_in_one_language(client):
    ru = text_of(client.get("/oauth/logout").get_data(as_text=True))
    en = text_of(client.get("/oauth/logout?ui_locales=en").get_data(as_text=True))
    assert "Вы вышли" in ru and "Signed out" not in ru
    assert "Signed out" in en and "Вы вышли" not in en


def test_a_hostile_switch_parameter_is_escaped(client):
    html = client.get(BAD + '&x="><script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)" not in html


def test_the_app_shell_and_the_logout_question_in_one_language(client):
    ru = text_of(client.get("/").get_data(as_text=True))
    en = text_of(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "JavaScript: данные" in ru and "The member card needs" not in ru
    assert "The member card needs JavaScript" in en and "данные шифруются" not in en


def test_every_page_links_its_icons(client):
    html = client.get("/oauth/logout").get_data(as_text=True)
    for icon in ("img/favicon.svg", "img/favicon-32.png", "img/icon-180.png", "img/logo.svg"):
        assert icon in html
        assert client.get(f"/static/{icon}").status_code == 200
