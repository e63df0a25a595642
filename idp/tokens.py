"""Access tokens: ES256 JWTs (RFC 9068 profile) signed by idp's rotating keys.

The private halves live in ``idp_signing_keys`` encrypted with a key derived from the app
secret. A rotated-out key stays in the JWKS (and keeps verifying) until every token it signed
has expired, then drops out.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey, import_key
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.db import READ_ONLY_OPTIONS, db, utcnow
from common.errors import Unauthorized
from idp.models import SigningKey

ALG = "ES256"  # access tokens (and ID tokens of clients that ask for it)
ID_TOKEN_DEFAULT_ALG = "RS256"  # noqa: S105 — OpenID Connect Core §15.1: every OP has it
ID_TOKEN_ALGS = (ID_TOKEN_DEFAULT_ALG, ALG)
RSA_BITS = 2048
TOKEN_TYPE = "at+jwt"  # noqa: S105 — RFC 9068 §2.1: keeps an ID token from passing as an access token
CACHE_SECONDS = 30.0
# The client_id of the tokens idp's own pages and API clients hold (/auth/*). A token issued
# to a first-party app names that app instead, and a scope (idp/oauth/first_party.py).
OWN_CLIENT_ID = "id.card.coop"


@dataclass(frozen=True)
class AccessClaims:
    member_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: int
    raw: dict[str, Any]

    @property
    def client_id(self) -> str:
        return str(self.raw.get("client_id") or OWN_CLIENT_ID)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(str(self.raw.get("scope") or "").split())


Key = ECKey | RSAKey


class TokenService:
    def __init__(self, *, secret_key: str, issuer: str, ttl: int) -> None:
        digest = hashlib.sha256(b"card.coop/v1/signing-key-wrap|" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self.issuer = issuer
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._signing: dict[str, Key] = {}  # alg -> the key that signs now
        self._private: dict[str, Key] = {}  # kid -> decrypted private key
        self._verifying = KeySet([])
        self._published: list[dict[str, Any]] = []

    # -- keys -----------------------------------------------------------------------------

    def rotate(self) -> str:
        """Make new signing keys (every algorithm in use); the previous ones retire and keep
        verifying for ttl. Returns the new ES256 kid."""
        self._refresh_cache(force=True)
        for alg in list(self._signing):
            self._create_key(alg, retire_others=True)
        self._refresh_cache(force=True)
        return str(self._signing[ALG].kid)

    def _create_key(self, alg: str, *, retire_others: bool = False) -> None:
        """In a session of its own: a key made while serving a request must not commit, or be
        rolled back with, that request's half-done work.

        Processes racing here (workers starting together, two rotations at once) meet the
        database's one-active-key-per-algorithm index: one insert wins, the others' fail and
        they load the winner's key instead."""
        kid = secrets.token_urlsafe(12)
        parameters: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
        key: Key = (RSAKey.generate_key(RSA_BITS, parameters=parameters, private=True)
                    if alg == ID_TOKEN_DEFAULT_ALG else
                    ECKey.generate_key("P-256", parameters=parameters, private=True))
        try:
            with Session(db.engine) as session, session.begin():
                if retire_others:
                    session.execute(update(SigningKey).where(SigningKey.retired_at.is_(None),
                                                             SigningKey.alg == alg)
                                    .values(retired_at=utcnow()))
                session.add(SigningKey(
                    kid=kid, alg=alg, public_jwk=key.as_dict(private=False),
                    private_key_encrypted=self._fernet.encrypt(key.as_pem(private=True))))
        except IntegrityError:
            pass  # another process made this algorithm's key first: it is the one to use

    def _refresh_cache(self, *, force: bool = False) -> None:
        if not force and self._fresh():
            return
        with self._lock:
            if not force and self._fresh():
                return  # another thread reloaded while this one waited for the lock
            live = self._live_keys()
            if not any(r.retired_at is None and r.alg == ALG for r in live):
                self._create_key(ALG)  # first start, or every key retired by hand
                live = self._live_keys()
            self._signing = {r.alg: self._load_private(r) for r in live if r.retired_at is None}
            self._verifying = KeySet([import_key(r.public_jwk) for r in live])
            self._published = [dict(r.public_jwk) for r in live]
            self._loaded_at = time.monotonic()

    def _fresh(self) -> bool:
        return time.monotonic() - self._loaded_at < CACHE_SECONDS

    def _live_keys(self) -> list[SigningKey]:
        """Active keys and retired ones that may still have unexpired tokens out there."""
        horizon = utcnow() - timedelta(seconds=self.ttl + 60)
        # Its own short read-only session: the request's session stays untouched, and on
        # SQLite a deferred read never waits for the write lock the request may hold.
        with Session(db.engine.execution_options(**READ_ONLY_OPTIONS)) as session:
            rows = session.scalars(select(SigningKey).where(SigningKey.alg.in_(ID_TOKEN_ALGS))
                                   .order_by(SigningKey.created_at)).all()
        return [r for r in rows if r.retired_at is None or r.retired_at > horizon]

    def _load_private(self, row: SigningKey) -> Key:
        """Decrypted once per key and process (an RSA import costs tens of milliseconds)."""
        if row.kid in self._private:
            return self._private[row.kid]
        try:
            pem = self._fernet.decrypt(row.private_key_encrypted)
        except InvalidToken:
            raise RuntimeError("signing key cannot be decrypted: was CARDCOOP_SECRET_KEY "
                               "changed?") from None
        key_type = RSAKey if row.alg == ID_TOKEN_DEFAULT_ALG else ECKey
        key = key_type.import_key(pem, parameters={"kid": row.kid, "alg": row.alg, "use": "sig"})
        self._private[row.kid] = key
        return key

    def ensure_fresh(self, algs: tuple[str, ...] = (ALG,)) -> None:
        """Called before each request: a first key (per algorithm the endpoints sign with) is
        then made before the request writes anything (SQLite allows one writer, and the key has
        its own transaction)."""
        for alg in algs:
            self.signing_key(alg)

    def signing_key(self, alg: str = ALG) -> Key:
        """The key that signs with ``alg`` now. The RS256 key (ID tokens, OpenID Connect's
        mandatory algorithm) is made on first need, so member-only use never pays for RSA."""
        if alg not in ID_TOKEN_ALGS:
            raise ValueError(f"unsupported signing algorithm {alg}")
        self._refresh_cache()
        if alg not in self._signing:
            self._create_key(alg)
            self._refresh_cache(force=True)
        return self._signing[alg]

    def verifying_keys(self) -> KeySet:
        self._refresh_cache()
        return self._verifying

    def jwks(self) -> dict[str, Any]:
        # Published before any ID token is signed with it: clients cache the JWKS.
        self.signing_key(ID_TOKEN_DEFAULT_ALG)
        return {"keys": self._published}

    # -- tokens ---------------------------------------------------------------------------

    def issue(self, member_id: uuid.UUID, session_id: uuid.UUID, *,
              client_id: str = OWN_CLIENT_ID, scope: str | None = None) -> tuple[str, int]:
        signing = self.signing_key(ALG)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": str(member_id), "aud": self.issuer,
            "client_id": client_id, "sid": str(session_id), "iat": now,
            "exp": now + self.ttl, "jti": secrets.token_urlsafe(12)}
        if scope:
            claims["scope"] = scope  # RFC 9068 §2.2.3
        header = {"alg": ALG, "typ": TOKEN_TYPE, "kid": signing.kid}
        return jwt.encode(header, claims, signing, algorithms=[ALG]), self.ttl

    def verify(self, token: str) -> AccessClaims:
        """Any problem at all (format, alg, kid, signature, type, issuer, expiry) is a 401."""
        self._refresh_cache()
        try:
            decoded = self._decode(token)
        except LookupError:
            # An unknown kid may be a key another worker just made: reload once.
            self._refresh_cache(force=True)
            try:
                decoded = self._decode(token)
            except LookupError:
                raise Unauthorized("The access token is not valid.", code="invalid_token") from None
        return decoded

    def _decode(self, token: str) -> AccessClaims:
        try:
            result = jwt.decode(token, self._verifying, algorithms=[ALG])
        except InvalidKeyIdError:
            raise LookupError from None
        except (JoseError, ValueError, TypeError, KeyError):
            raise Unauthorized("The access token is not valid.", code="invalid_token") from None
        if result.header.get("typ") != TOKEN_TYPE or result.header.get("alg") != ALG:
            raise Unauthorized("The access token is not valid.", code="invalid_token")
        registry = JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.issuer},
            sub={"essential": True}, sid={"essential": True}, exp={"essential": True})
        try:
            registry.validate(result.claims)
            return AccessClaims(member_id=uuid.UUID(result.claims["sub"]),
                                session_id=uuid.UUID(result.claims["sid"]),
                                expires_at=int(result.claims["exp"]), raw=result.claims)
        except JoseError as exc:
            code = "token_expired" if "expired" in type(exc).__name__.lower() else "invalid_token"
            raise Unauthorized("The access token is not valid.", code=code) from None
        except (ValueError, TypeError):
            raise Unauthorized("The access token is not valid.", code="invalid_token") from None
