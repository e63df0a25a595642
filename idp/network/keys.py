"""card.coop's own key in the ВОСХОД network (issue #11): one secp256k1 key that signs the
webhooks (``SIG_K1_...`` in ``x-cardcoop-signature``, published as ``PUB_K1_...`` at
``/v1/webhooks/public-key``, which the operator copies to the chain as ``ano@cardcoop``) and the
disclosure grants (ES256K JWS, published at ``/v1/disclosures/jwks``).

It lives in ``idp_signing_keys`` as the one active ``ES256K`` row, made on first need; the
private half is encrypted with a key derived from the app secret, as the token keys are. MONO
accepts exactly one key on ``ano@cardcoop``, so a rotation is a swap the operator publishes,
not an overlap (docs/operations.md).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cardcoop.protocol.k1 import K1PrivateKey
from common.db import READ_ONLY_OPTIONS, db
from idp.models import SigningKey

ALG = "ES256K"
CACHE_SECONDS = 30.0


class NetworkKeys:
    def __init__(self, wrap_secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(wrap_secret))
        self._lock = threading.Lock()
        self._cached: tuple[float, str, K1PrivateKey] | None = None

    def current(self) -> tuple[str, K1PrivateKey]:
        """(kid, key): the active key, made if there is none yet."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1], cached[2]
        with self._lock:
            row = self._active() or self._create()
            key = K1PrivateKey(serialization.load_pem_private_key(
                self._fernet.decrypt(row.private_key_encrypted), None))  # type: ignore[arg-type]
            self._cached = (time.monotonic(), row.kid, key)
            return row.kid, key

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        kid, key = self.current()
        return {"keys": [key.public_key.to_jwk() | {"kid": kid, "alg": ALG, "use": "sig"}]}

    def _active(self) -> SigningKey | None:
        with Session(db.engine.execution_options(**READ_ONLY_OPTIONS)) as session:
            return session.scalar(select(SigningKey).where(SigningKey.alg == ALG,
                                                           SigningKey.retired_at.is_(None)))

    def _create(self) -> SigningKey:
        """In a session of its own; processes racing here meet the one-active-key-per-algorithm
        index, and the losers read the winner's key."""
        key = K1PrivateKey.generate()
        kid = secrets.token_urlsafe(12)
        pem = key.key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        try:
            with Session(db.engine) as session, session.begin():
                session.add(SigningKey(kid=kid, alg=ALG,
                                       public_jwk=key.public_key.to_jwk() | {"kid": kid},
                                       private_key_encrypted=self._fernet.encrypt(pem)))
        except IntegrityError:
            pass
        found = self._active()
        if found is None:
            raise RuntimeError("no active network key after creating one")
        return found
