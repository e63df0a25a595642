"""common.settings: one typed settings object from CARDCOOP_* variables, validated at start-up
with a message that names the variable (DESIGN.md §6.2)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.settings import ENV_PREFIX, Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No CARDCOOP_* variable from the caller's shell (CI sets some) and a scratch directory,
    so that the relative default ``instance/`` lands in tmp_path."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def error_of(**overrides: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    return str(caught.value)


def env_error(monkeypatch, **variables: str) -> str:
    for name, value in variables.items():
        monkeypatch.setenv(ENV_PREFIX + name.upper(), value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


# -- defaults ----------------------------------------------------------------------------------

def test_defaults(tmp_path):
    settings = load_settings()
    assert settings.env == "development"
    assert settings.instance_path == Path("instance")
    assert settings.database_url == ""
    assert settings.sqlalchemy_url == f"sqlite:///{(tmp_path / 'instance').resolve()}" \
                                      "/cardcoop.sqlite3"
    assert settings.kdf_iterations == 600_000
    assert settings.access_token_ttl <= 900
    assert settings.redis_url is None
    assert settings.secret_key is None
    assert settings.ratelimit_enabled is True
    assert settings.uses_dev_mailbox is True  # no SMTP, no Novu
    assert settings.max_body_bytes == 1024 * 1024


def test_sqlite_lives_under_the_instance_path(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("CARDCOOP_INSTANCE_PATH", str(elsewhere))
    settings = load_settings()
    assert settings.instance_path == elsewhere
    assert settings.sqlalchemy_url == f"sqlite:///{elsewhere.resolve()}/cardcoop.sqlite3"


def test_environment_is_read_with_the_prefix(monkeypatch):
    monkeypatch.setenv("CARDCOOP_KDF_ITERATIONS", "700000")
    monkeypatch.setenv("CARDCOOP_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("KDF_ITERATIONS", "1")  # without the prefix: not ours
    settings = load_settings()
    assert settings.kdf_iterations == 700_000
    assert settings.ratelimit_enabled is False


def test_settings_are_frozen():
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.kdf_iterations = 1  # type: ignore[misc]


# -- refused values name their variable ------------------------------------------------------

def test_too_few_kdf_iterations_are_refused(monkeypatch):
    message = env_error(monkeypatch, kdf_iterations="99999")
    assert "CARDCOOP_KDF_ITERATIONS" in message
    monkeypatch.setenv("CARDCOOP_KDF_ITERATIONS", "100000")  # the floor itself is fine
    assert load_settings().kdf_iterations == 100_000


@pytest.mark.parametrize(("variable", "value"), [
    ("kdf_iterations", "many"),
    ("kdf_iterations", "10000001"),
    ("access_token_ttl", "3600"),  # issue #2: access tokens live at most 15 minutes
    ("argon2_memory_kib", "1024"),
    ("env", "staging"),
    ("max_body_bytes", "10"),
    ("ratelimit_enabled", "perhaps"),
    ("network_chain_id", "not-hex"),
    ("network_trust_anchor", "PUB_K1_notakey"),
    ("network_operator", "Not An Account"),
    ("network_document_max_age", "5"),
])
def test_bad_values_name_the_variable(monkeypatch, variable, value):
    message = env_error(monkeypatch, **{variable: value})
    assert f"CARDCOOP_{variable.upper()}" in message
    assert message.startswith("invalid configuration")


@pytest.mark.parametrize("url", ["http://mail.example.com:25", "mail.example.com:25",
                                 "imap://mail.example.com"])
def test_smtp_url_needs_an_smtp_scheme(monkeypatch, url):
    assert "CARDCOOP_SMTP_URL" in env_error(monkeypatch, smtp_url=url)


@pytest.mark.parametrize("url", ["smtp://mail.example.com:25", "smtps://u:p@mail.example.com",
                                 "smtp+starttls://mail.example.com:587"])
def test_smtp_urls_that_are_fine(monkeypatch, url):
    monkeypatch.setenv("CARDCOOP_SMTP_URL", url)
    settings = load_settings()
    assert settings.smtp_url == url
    assert settings.uses_dev_mailbox is False


@pytest.mark.parametrize("variable", ["idp_url", "portal_url", "business_url"])
@pytest.mark.parametrize("url", ["idp.example.com", "ftp://idp.example.com", "http://",
                                 "javascript:alert(1)", "/relative"])
def test_public_urls_must_be_absolute_http(monkeypatch, variable, url):
    assert f"CARDCOOP_{variable.upper()}" in env_error(monkeypatch, **{variable: url})


def test_public_urls_lose_their_trailing_slash(monkeypatch):
    monkeypatch.setenv("CARDCOOP_IDP_URL", "https://id.card.coop/")
    assert load_settings().idp_url == "https://id.card.coop"


def test_novu_url_without_key_is_refused(monkeypatch):
    message = env_error(monkeypatch, novu_api_url="https://api.novu.co")
    assert "CARDCOOP_NOVU_SECRET_KEY" in message
    monkeypatch.delenv("CARDCOOP_NOVU_API_URL")
    assert "CARDCOOP_NOVU_API_URL" in env_error(monkeypatch, novu_secret_key="k" * 40)
    monkeypatch.setenv("CARDCOOP_NOVU_API_URL", "https://api.novu.co")
    assert load_settings().novu_api_url == "https://api.novu.co"


def test_novu_url_must_be_http(monkeypatch):
    message = env_error(monkeypatch, novu_api_url="novu.example", novu_secret_key="k" * 40)
    assert "CARDCOOP_NOVU_API_URL" in message


def test_production_needs_a_secret_key(monkeypatch):
    message = env_error(monkeypatch, env="production")
    assert "CARDCOOP_SECRET_KEY" in message
    monkeypatch.setenv("CARDCOOP_SECRET_KEY", "s" * 48)
    assert load_settings().env == "production"


def test_short_secret_key_is_refused(monkeypatch):
    assert "CARDCOOP_SECRET_KEY" in env_error(monkeypatch, secret_key="short")


def test_every_bad_variable_is_reported_at_once(monkeypatch):
    message = env_error(monkeypatch, kdf_iterations="1", smtp_url="http://x", env="nope")
    for name in ("CARDCOOP_KDF_ITERATIONS", "CARDCOOP_SMTP_URL", "CARDCOOP_ENV"):
        assert name in message


@pytest.mark.parametrize(("variable", "value", "secret"), [
    ("smtp_url", "http://user:Pa55-w0rd-XYZ@mail.example.com", "Pa55-w0rd-XYZ"),
    ("secret_key", "too-short-S3CRET", "too-short-S3CRET"),
    ("novu_api_url", "https://novu:N0vuK3y-secret@", "N0vuK3y-secret"),
])
def test_error_messages_do_not_echo_values(monkeypatch, variable, value, secret):
    message = env_error(monkeypatch, **{variable: value})
    assert secret not in message


def test_overrides_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("CARDCOOP_KDF_ITERATIONS", "99999")
    assert load_settings(kdf_iterations=200_000).kdf_iterations == 200_000
    assert "CARDCOOP_KDF_ITERATIONS" in error_of(kdf_iterations=5)


@pytest.mark.parametrize(("variable", "value"), [
    ("database_url", "not a url"),
    ("redis_url", "localhost:6379"),
    ("ratelimit_per_ip", "lots"),
    ("ratelimit_per_account", "30 a minute"),
])
def test_connection_urls_and_rate_limits_are_validated(monkeypatch, variable, value):
    assert f"CARDCOOP_{variable.upper()}" in env_error(monkeypatch, **{variable: value})


# -- database URL --------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u:p@db.example:5432/cardcoop", "postgresql+psycopg://u:p@db.example:5432/cardcoop"),
    ("postgresql://postgres@127.0.0.1/x", "postgresql+psycopg://postgres@127.0.0.1/x"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////var/lib/cardcoop.sqlite3", "sqlite:////var/lib/cardcoop.sqlite3"),
])
def test_database_url_means_psycopg_3(monkeypatch, given, expected):
    monkeypatch.setenv("CARDCOOP_DATABASE_URL", given)
    assert load_settings().sqlalchemy_url == expected


# -- the secret key ------------------------------------------------------------------------------

def test_development_secret_is_generated_once_under_the_instance_path(tmp_path):
    instance = tmp_path / "inst"
    first = Settings(instance_path=instance).resolved_secret_key()
    path = instance / "secret_key"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert path.read_text().strip() == first
    again = load_settings(instance_path=instance).resolved_secret_key()
    assert again == first
    other = Settings(instance_path=tmp_path / "other").resolved_secret_key()
    assert other != first


def test_configured_secret_wins_and_writes_no_file(tmp_path):
    instance = tmp_path / "inst"
    key = "k" * 40
    assert Settings(instance_path=instance, secret_key=key).resolved_secret_key() == key
    assert not (instance / "secret_key").exists()


def test_secret_key_is_not_in_the_repr():
    settings = Settings(secret_key="visible-or-not-" + "z" * 30, novu_secret_key="novu-" * 8,
                        novu_api_url="https://api.novu.co")
    assert "visible-or-not" not in repr(settings)
    assert "novu-novu" not in repr(settings)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_generated_secret_is_never_readable_by_others(tmp_path, monkeypatch, umask_022):
    modes: list[int] = []
    write_text = Path.write_text

    def watched(self: Path, *args, **kwargs):
        written = write_text(self, *args, **kwargs)
        modes.append(stat.S_IMODE(self.stat().st_mode))
        return written

    monkeypatch.setattr(Path, "write_text", watched)
    Settings(instance_path=tmp_path / "inst").resolved_secret_key()
    assert stat.S_IMODE((tmp_path / "inst" / "secret_key").stat().st_mode) == 0o600
    assert all(mode & 0o077 == 0 for mode in modes), [oct(m) for m in modes]


@pytest.mark.parametrize("content", ["", "\n", "short"])
def test_a_truncated_secret_file_is_not_used(tmp_path, content):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "secret_key").write_text(content)
    try:
        key = Settings(instance_path=instance).resolved_secret_key()
    except SettingsError:
        return  # refusing to start is a fine answer
    assert len(key) >= 32
