"""One typed settings object for all three apps, read from ``CARDCOOP_*`` variables.

Validated at start-up: a bad value stops the process with a message that names the variable
(DESIGN.md §6.2). Tests build ``Settings(...)`` explicitly instead of touching the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cardcoop.protocol.accounts import is_valid_antelope_name
from cardcoop.protocol.errors import InvalidKey
from cardcoop.protocol.k1 import K1PublicKey

ENV_PREFIX = "CARDCOOP_"
DEFAULT_INSTANCE = Path("instance")
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """Raised at start-up when a CARDCOOP_* variable is missing or wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = "development"
    instance_path: Path = DEFAULT_INSTANCE

    database_url: str = ""  # empty: a SQLite file under instance_path
    redis_url: str | None = None
    secret_key: str | None = Field(default=None, min_length=MIN_SECRET_LENGTH, repr=False)

    idp_url: str = "http://127.0.0.1:8000"
    portal_url: str = "http://127.0.0.1:8001"
    business_url: str = "http://127.0.0.1:8002"

    # ВОСХОД registry: the Antelope chain API; unset -> the sandbox with demo cooperatives.
    voskhod_chain_url: str | None = None
    voskhod_cache_ttl: float = Field(default=300.0, ge=0)
    # A Hyperion history node of the same chain (its /v2/history API): the members' settled
    # deposits, which the chain's tables do not keep. Unset with a chain URL: no such history.
    voskhod_history_url: str | None = None
    # The registrator's table of cooperatives: "coops" in current contracts, "orgs" in older.
    voskhod_cooperatives_table: Literal["coops", "orgs"] = "coops"

    # The ВОСХОД network (issue #11): the signed documents of MONO's cardcoop extension.
    # network_chain_id unset: every document is refused (503) until the operator sets it.
    network_operator: str = "voskhod"  # the cooperative that admits others (coop_admission)
    network_chain_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    # ano's certification key (PUB_K1_...): the chains' root. Unset: each signer is compared
    # with its ano::endorsements row read through the registry.
    network_trust_anchor: str | None = None
    network_document_max_age: int = Field(default=300, ge=30, le=3_600)  # seconds

    # The portal (issue #12): its client at idp (`flask clients first-party portal`), and the
    # members (card ids) who see the operators' analytics.
    portal_client_id: str = "portal"
    portal_client_secret: str | None = Field(default=None, repr=False)
    portal_session_ttl: int = Field(default=8 * 3_600, ge=300)  # idle lifetime, seconds
    portal_admins: tuple[str, ...] = ()
    # Web Push (RFC 8292): a P-256 private key in PEM; unset in development: made under
    # instance/. The contact a push service may write to about our pushes.
    portal_vapid_private_key: str | None = Field(default=None, repr=False)
    portal_vapid_contact: str = "mailto:support@card.coop"
    # Reminders (flask --app wsgi:portal reminders): how long before a meeting opens.
    portal_meeting_reminder_days: int = Field(default=3, ge=1, le=60)

    # Notifications: neither SMTP nor Novu configured -> the development mailbox.
    smtp_url: str | None = None
    smtp_sender: str = "card.coop <no-reply@card.coop>"
    novu_api_url: str | None = None
    novu_secret_key: str | None = Field(default=None, repr=False)
    dev_mailbox: bool | None = None  # None: on when no real channel is configured

    # PROTOCOL.md §2: PBKDF2 iterations handed to new accounts (OWASP 2023; floor 100000).
    kdf_iterations: int = Field(default=600_000, ge=100_000, le=10_000_000)
    # Argon2id cost for the hashKey verifier; PROTOCOL.md §2 sets the floor.
    argon2_memory_kib: int = Field(default=19_456, ge=19_456)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    # How many verifier hashes one server process runs at once (idp/passwords.py Verifier):
    # processes × this ≈ the cores left for hashing.
    argon2_concurrency: int = Field(default=1, ge=1, le=64)

    access_token_ttl: int = Field(default=900, ge=60, le=900)  # seconds; issue #2: ≤ 15 min
    # The idp session (one per browser, held by an HttpOnly cookie, issue #9): its absolute
    # lifetime (also that of its refresh tokens) and how long it survives without use.
    refresh_token_ttl: int = Field(default=30 * 86_400, ge=3_600)
    session_idle_ttl: int = Field(default=8 * 3_600, ge=300)

    # Email codes (issue #2): 6 digits, 15 min, 5 wrong tries, resend throttled.
    code_ttl: int = Field(default=900, ge=60)
    code_max_attempts: int = Field(default=5, ge=1)
    code_resend_interval: int = Field(default=60, ge=0)
    code_max_sends: int = Field(default=5, ge=1)

    # Lockout: this many failed logins for one email within the window lock it for a while.
    lockout_threshold: int = Field(default=10, ge=1)
    lockout_window: int = Field(default=900, ge=1)
    lockout_duration: int = Field(default=900, ge=1)

    # Rate limits, in Flask-Limiter notation, per client IP and per account (email or session).
    # Far above what a person does, low enough to make guessing pointless.
    ratelimit_enabled: bool = True
    ratelimit_per_ip: str = "120/minute;2000/hour"
    ratelimit_per_account: str = "30/minute;300/hour"

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    trusted_proxies: int = Field(default=0, ge=0)  # X-Forwarded-For hops to trust

    outbox_max_attempts: int = Field(default=8, ge=1)
    worker_poll_interval: float = Field(default=1.0, gt=0)
    # How often the worker deletes what has ended (idp/retention.py), in seconds.
    purge_interval: int = Field(default=3_600, ge=60)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("must be a database URL like postgresql://user@host:5432/db") from None
        if url.get_backend_name() not in {"postgresql", "sqlite"}:
            raise ValueError("only postgresql:// and sqlite:// are supported")
        return value

    @field_validator("network_trust_anchor", "network_operator")
    @classmethod
    def _network(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.field_name == "network_operator":
            if not is_valid_antelope_name(value or ""):
                raise ValueError("must be the operator cooperative's account name")
            return value
        if not value:
            return None
        try:
            return K1PublicKey.from_string(value).to_string()
        except InvalidKey:
            raise ValueError("must be a K1 public key (PUB_K1_... or EOS...)") from None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must look like redis://host:6379/0")
        return value or None

    @field_validator("ratelimit_per_ip", "ratelimit_per_account")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        # Flask-Limiter would log and skip an unparsable limit: refuse it here instead.
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be Flask-Limiter notation like 30/minute;300/hour") from None
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"smtp", "smtps", "smtp+starttls"}:
            raise ValueError("must look like smtp://host:port (or smtps://, smtp+starttls://)")
        return value or None

    @field_validator("idp_url", "portal_url", "business_url", "novu_api_url", "voskhod_chain_url",
                     "voskhod_history_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _novu_pair(self) -> Settings:
        if bool(self.novu_api_url) != bool(self.novu_secret_key):
            raise ValueError("CARDCOOP_NOVU_API_URL and CARDCOOP_NOVU_SECRET_KEY go together")
        if self.env == "production" and not self.secret_key:
            raise ValueError("CARDCOOP_SECRET_KEY is required in production")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            # postgresql:// means psycopg 3 here (SQLAlchemy would pick psycopg2).
            if self.database_url.startswith("postgresql://"):
                return "postgresql+psycopg://" + self.database_url.removeprefix("postgresql://")
            return self.database_url
        return f"sqlite:///{(self.instance_path / 'cardcoop.sqlite3').resolve()}"

    @property
    def uses_dev_mailbox(self) -> bool:
        if self.dev_mailbox is not None:
            return self.dev_mailbox
        return not (self.smtp_url or self.novu_api_url)

    def resolved_secret_key(self) -> str:
        """The secret key; in development one is generated once and kept under instance/."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Created 0600 in one step: never readable by others, not even for a moment.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(f"{path} holds no usable secret (under {MIN_SECRET_LENGTH} "
                                "characters): delete it to generate a new one")
        return secret


def load_settings(**overrides: object) -> Settings:
    """Read the environment, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"]).upper() if err["loc"] else ""
            lines.append(f"{name or 'settings'}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
