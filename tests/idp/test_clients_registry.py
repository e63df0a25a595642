"""`flask clients create` registers only cooperatives the ВОСХОД registry knows (issue #9): an
unknown coopname is refused with a message that says what to do, nothing is written, and a
registry that does not answer refuses too (a client is never created unchecked)."""

from __future__ import annotations

from sqlalchemy import func, select

from common.db import db
from common.voskhod import DEMO_COOPERATIVES
from idp.oauth.models import OAuthClient
from tests.common.voskhod.conftest import fake_chain  # noqa: F401 (the fake chain fixture)
from tests.live import free_port


def create(app, coopname, *extra):
    return app.test_cli_runner().invoke(args=[
        "clients", "create", coopname, "--redirect-uri", "https://coop.example/cb", *extra])


def client_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OAuthClient))


def test_unknown_to_the_sandbox_is_refused_and_names_the_sandbox_cooperatives(app):
    result = create(app, "nosuchcoop", "--iframe-origin", "https://coop.example")
    assert result.exit_code != 0
    assert "registry does not know the cooperative 'nosuchcoop'" in result.output
    for coopname, _ in DEMO_COOPERATIVES:
        assert coopname in result.output
    assert "client_secret" not in result.output and "Traceback" not in result.output
    assert client_count(app) == 0


def test_every_sandbox_cooperative_can_be_registered(app):
    for coopname, _ in DEMO_COOPERATIVES:
        result = create(app, coopname)
        assert result.exit_code == 0, result.output
        assert "client_secret:" in result.output
    assert client_count(app) == len(DEMO_COOPERATIVES)


def test_a_bad_definition_is_reported_before_the_registry(app):
    result = create(app, "nosuchcoop", "--iframe-origin", "https://coop.example/path")
    assert result.exit_code != 0 and "scheme://host" in result.output


def test_chain_knows_it_or_not(make_app, httpserver, fake_chain):  # noqa: F811
    app = make_app(voskhod_chain_url=httpserver.url_for("/").rstrip("/"))
    fake_chain.add_cooperative("realcoop", "ПК Настоящий")
    unknown = create(app, "voskhod")  # a sandbox name means nothing to a real chain
    assert unknown.exit_code != 0
    assert "registry does not know the cooperative 'voskhod'" in unknown.output
    assert "sandbox" not in unknown.output
    assert create(app, "realcoop").exit_code == 0
    assert client_count(app) == 1


def test_registry_down_refuses_and_writes_nothing(make_app):
    app = make_app(voskhod_chain_url=f"http://127.0.0.1:{free_port()}")
    result = create(app, "voskhod")
    assert result.exit_code != 0 and "does not answer" in result.output
    assert "Traceback" not in result.output
    assert client_count(app) == 0
