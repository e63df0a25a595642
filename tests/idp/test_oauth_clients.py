"""The cooperative client registry and its CLI (issue #4, first part)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from cardcoop import crypto
from common.db import db
from idp.oauth import clients
from idp.oauth.models import OAuthClient
from idp.services import services


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["clients", *args], input=input)


def secret_of(output: str) -> str:
    match = re.search(r"client_secret: (\S+)", output)
    assert match, output
    return match.group(1)


def test_create_prints_the_secret_once_and_keeps_only_its_hash(app):
    result = cli(app, "create", "voskhod", "--redirect-uri", "https://voskhod.coop/callback",
                 "--redirect-uri", "http://127.0.0.1:8003/callback",
                 "--iframe-origin", "https://voskhod.coop/")
    assert result.exit_code == 0, result.output
    secret = secret_of(result.output)
    assert len(secret) >= 43
    with app.app_context():
        client = db.session.get(OAuthClient, "voskhod")
        assert client.redirect_uris == ["https://voskhod.coop/callback",
                                        "http://127.0.0.1:8003/callback"]
        assert client.iframe_origins == ["https://voskhod.coop"]
        assert secret not in client.secret_hash and clients.secret_matches(client, secret)
        assert not clients.secret_matches(client, secret + "x")
    listed = cli(app, "list")
    assert "voskhod" in listed.output and secret not in listed.output
    assert "ВОСХОД K1 key" in listed.output


def test_rotate_secret_invalidates_the_old_one(app):
    old = secret_of(cli(app, "create", "zelenyisad", "--redirect-uri",
                        "https://sad.example/cb").output)
    new = secret_of(cli(app, "rotate-secret", "zelenyisad").output)
    with app.app_context():
        client = clients.get("zelenyisad")
        assert clients.secret_matches(client, new) and not clients.secret_matches(client, old)


def test_delete_needs_confirmation(app):
    cli(app, "create", "narodnyhleb", "--redirect-uri", "https://hleb.example/cb")
    refused = cli(app, "delete", "narodnyhleb", input="n\n")
    assert refused.exit_code != 0
    with app.app_context():
        assert db.session.get(OAuthClient, "narodnyhleb") is not None
    assert cli(app, "delete", "narodnyhleb", "--yes").exit_code == 0
    with app.app_context():
        assert db.session.get(OAuthClient, "narodnyhleb") is None


def test_a_registered_jwk_replaces_the_chain_key(app, tmp_path):
    key = crypto.K1PrivateKey.generate()
    path = tmp_path / "coop.jwk"
    path.write_text(json.dumps(key.public_key.to_jwk()))
    result = cli(app, "create", "zelenyisad", "--redirect-uri", "https://j.example/cb",
                 "--jwk", str(path))
    assert result.exit_code == 0, result.output
    assert "JWK secp256k1" in cli(app, "list").output
    private = tmp_path / "private.jwk"
    private.write_text(json.dumps(key.to_jwk()))
    leaked = cli(app, "create", "narodnyhleb", "--redirect-uri", "https://j.example/cb",
                 "--jwk", str(private))
    assert leaked.exit_code != 0 and "private key" in leaked.output


@pytest.mark.parametrize("args, problem", [
    (["NotAName", "--redirect-uri", "https://a.example/cb"], "Antelope name"),
    (["goodname", "--redirect-uri", "http://evil.example/cb"], "https"),
    (["goodname", "--redirect-uri", "https://a.example/cb#frag"], "fragment"),
    (["goodname", "--redirect-uri", "/relative"], "absolute"),
    (["goodname", "--redirect-uri", "https://a.example/cb", "--iframe-origin",
      "https://a.example/path"], "scheme://host"),
])
def test_bad_definitions_are_refused_and_nothing_is_written(app, args, problem):
    result = cli(app, "create", *args)
    assert result.exit_code != 0 and problem in result.output
    with app.app_context():
        assert db.session.scalar(select(OAuthClient)) is None


def test_duplicates_and_unknown_clients(app):
    cli(app, "create", "voskhod", "--redirect-uri", "https://v.example/cb")
    again = cli(app, "create", "voskhod", "--redirect-uri", "https://v.example/cb")
    assert again.exit_code != 0 and "exists already" in again.output
    missing = cli(app, "rotate-secret", "nosuchcoop")
    assert missing.exit_code != 0 and "no client" in missing.output


def test_post_logout_uri_and_id_token_alg(app):
    result = cli(app, "create", "zelenyisad", "--redirect-uri", "https://coop.example/cb",
                 "--post-logout-uri", "https://coop.example/", "--id-token-alg", "ES256")
    assert result.exit_code == 0, result.output
    with app.app_context():
        client = clients.get("zelenyisad")
        assert client.post_logout_redirect_uris == ["https://coop.example/"]
        assert client.id_token_signed_response_alg == "ES256"
    bad = cli(app, "create", "narodnyhleb", "--redirect-uri", "https://coop.example/cb",
              "--id-token-alg", "HS256")
    assert bad.exit_code != 0


def test_demo_registers_the_sandbox_cooperative_and_writes_its_config(app, tmp_path):
    out = tmp_path / "coop_site.json"
    first = cli(app, "demo", "--site-url", "http://127.0.0.1:8003", "--out", str(out))
    assert first.exit_code == 0, first.output
    config = json.loads(out.read_text())
    assert out.stat().st_mode & 0o777 == 0o600
    assert config["client_id"] == "voskhod" and config["redirect_uri"].endswith("/callback")
    with app.app_context():
        registry = services().registry
        assert config["private_key"] == registry.private_key("voskhod").to_string()
        assert clients.secret_matches(clients.get("voskhod"), config["client_secret"])
    again = cli(app, "demo", "--out", str(out))  # a restart: same client, new secret
    assert again.exit_code == 0
    assert json.loads(out.read_text())["client_secret"] != config["client_secret"]
    with app.app_context():
        assert len(clients.all_clients()) == 1


def test_demo_refuses_a_real_chain(make_app, tmp_path):
    app = make_app(voskhod_chain_url="http://127.0.0.1:9")
    result = cli(app, "demo", "--out", str(tmp_path / "x.json"))
    assert result.exit_code != 0 and "sandbox" in result.output
    assert not (tmp_path / "x.json").exists()
