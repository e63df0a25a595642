"""The cooperative's side of id.card.coop: OAuth 2.0 with PKCE, tickets, shared data.

A cooperative (OAuth client ``client_id`` = coopname) sends the member to the consent page,
gets a ticket (the authorization code) back, exchanges it for an access token, fetches the JWE
the member's browser encrypted to the cooperative's key and decrypts it (PROTOCOL.md §6):

    coop = CoopClient("https://id.card.coop", "voskhod", client_secret)
    verifier, challenge = new_pkce()
    url = coop.authorization_url(redirect_uri, "openid share", state=state,
                                 code_challenge=challenge)
    ...                                      # the member consents; /callback?code=...&state=...
    tokens = coop.exchange_ticket(code, verifier, redirect_uri)
    shared = coop.get_encrypted_data(tokens)
    share = coop.decrypt(shared, "PVT_K1_...")   # share.data: the fields the member shared

Error answers raise `cardcoop.errors.ApiError` subclasses chosen by HTTP status, with the
OAuth ``error`` code in `.error` (``invalid_grant``, ``invalid_client``...). Messages never
carry the client secret, tickets, verifiers, tokens or keys.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from .client import HttpApi, _error
from .coop_models import (
    DATA_SCOPES,
    InvalidIdToken,
    SharedData,
    ShareMismatch,
    SharePlaintext,
    TicketTokens,
    check_share,
)
from .errors import ResponseError
from .models import _object
from .protocol.encoding import b64u_encode, parse_json_object
from .protocol.share import PrivateKeyLike, open_share

__all__ = [
    "DATA_SCOPES",
    "CoopClient",
    "InvalidIdToken",
    "ShareMismatch",
    "SharePlaintext",
    "SharedData",
    "TicketTokens",
    "check_share",
    "new_pkce",
    "new_state",
    "pkce_challenge",
]

# RS256 is OpenID Connect's default; a client may have registered ES256 instead.
_ID_TOKEN_ALGS = ["RS256", "ES256"]


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    if not 43 <= len(verifier) <= 128:
        raise ValueError("a PKCE verifier is 43 to 128 characters")
    return b64u_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def new_pkce() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge): 64 base64url characters from the OS CSPRNG."""
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier)


def new_state() -> str:
    """An unguessable `state` (or `nonce`) value."""
    return secrets.token_urlsafe(32)


def _words(value: str | Iterable[str]) -> str:
    return value if isinstance(value, str) else " ".join(value)


class CoopClient(HttpApi):
    """Client of id.card.coop for one cooperative (`client_id` = coopname).

    `http`: an `httpx.Client` to use (not closed by `close()`); by default one is made with
    `timeout` seconds. Redirects are never followed. Network failures raise
    `httpx.TransportError`.
    """

    def __init__(self, idp_url: str, client_id: str, client_secret: str, *,
                 http: httpx.Client | None = None, timeout: float = 10.0) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        super().__init__(idp_url, http=http, timeout=timeout)
        self.client_id = client_id
        self._secret = client_secret
        self._jwks: KeySet | None = None

    @property
    def idp_url(self) -> str:
        return self.base_url

    def __repr__(self) -> str:
        return f"CoopClient({self.idp_url!r}, client_id={self.client_id!r}, secret=<hidden>)"

    # -- the authorization request -----------------------------------------------------------

    new_pkce = staticmethod(new_pkce)
    new_state = staticmethod(new_state)

    def authorization_url(self, redirect_uri: str | None, scope: str | Iterable[str], *,
                          state: str, code_challenge: str, nonce: str | None = None,
                          fields: str | Iterable[str] | None = None, origin: str | None = None,
                          prompt: str | None = None) -> str:
        """`GET /oauth/authorize?...`. Redirect mode: pass `redirect_uri`. Iframe mode: pass
        None and the embedding page's `origin` (what the widget does for you). `fields`: the card
        fields asked for with `share` (None: let the member choose among all)."""
        if redirect_uri is None and origin is None:
            raise ValueError("either redirect_uri (redirect mode) or origin (iframe) is needed")
        if not state or not code_challenge:
            raise ValueError("state and code_challenge are required")
        params: dict[str, str] = {"response_type": "code", "client_id": self.client_id}
        if redirect_uri is not None:
            params["redirect_uri"] = redirect_uri
        params |= {"scope": _words(scope), "state": state, "code_challenge": code_challenge,
                   "code_challenge_method": "S256"}
        optional = {"nonce": nonce, "fields": None if fields is None else _words(fields),
                    "origin": origin, "prompt": prompt}
        params |= {key: value for key, value in optional.items() if value is not None}
        return f"{self.idp_url}/oauth/authorize?{urlencode(params, quote_via=quote)}"

    # -- server to server --------------------------------------------------------------------

    def exchange_ticket(self, ticket: str, code_verifier: str,
                        redirect_uri: str | None = None) -> TicketTokens:
        """`POST /access/exchange-ticket`. `redirect_uri` iff the authorization request had one.
        A used, expired or foreign ticket, or a wrong verifier -> `BadRequest` (``invalid_grant``);
        wrong client credentials -> `Unauthorized` (``invalid_client``)."""
        body: dict[str, str] = {"ticket": ticket, "code_verifier": code_verifier,
                                "client_id": self.client_id, "client_secret": self._secret}
        if redirect_uri is not None:
            body["redirect_uri"] = redirect_uri
        response = self._call("POST", "/access/exchange-ticket", json=body,
                              secrets=(ticket, code_verifier))
        tokens = self._parse(response, TicketTokens.from_json)
        if tokens.coopname != self.client_id:
            raise ResponseError("malformed response: the token is for another cooperative",
                                status=response.status_code)
        return tokens

    def get_encrypted_data(self, tokens: TicketTokens | str, username: str | None = None,
                           coopname: str | None = None) -> SharedData:
        """`GET /access/get-encrypted-data/{username}/{coopname}` with the access token.
        With `TicketTokens`, username and coopname default to the token's. The answer must be
        about the account asked for (else `ResponseError`)."""
        if isinstance(tokens, TicketTokens):
            access_token = tokens.access_token
            username = username or tokens.username
            coopname = coopname or tokens.coopname
        else:
            access_token = tokens
        if not username or not coopname:
            raise ValueError("username and coopname are required")
        path = f"/access/get-encrypted-data/{quote(username, safe='')}/{quote(coopname, safe='')}"
        response = self._call("GET", path, token=access_token)
        shared = self._parse(response, SharedData.from_json)
        if (shared.username, shared.coopname) != (username, coopname):
            raise ResponseError("malformed response: the data is about another account",
                                status=response.status_code)
        return shared

    def revoke(self, token: str,
               token_type_hint: str | None = "access_token") -> None:  # noqa: S107
        """`POST /oauth/revoke` (RFC 7009) with HTTP Basic client authentication. An unknown or
        already revoked token is not an error (RFC 7009 §2.2)."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        self._call("POST", "/oauth/revoke", data=form, basic=True, secrets=(token,))

    # -- decryption and the ID token ---------------------------------------------------------

    def decrypt(self, shared: SharedData, private_key: PrivateKeyLike) -> SharePlaintext:
        """Decrypt the member's JWE with the cooperative's key ("PVT_K1_..."/WIF, a private JWK,
        a `K1PrivateKey`) and check it is bound to the account asked for. Wrong key or tampered
        data -> `cardcoop.protocol.errors.DecryptionFailed`; bound to another cooperative,
        account or key -> `ShareMismatch`."""
        header, plaintext = open_share(shared.encrypted_data, private_key)
        kid = header.get("kid")
        return check_share(parse_json_object(plaintext), shared,
                           kid=kid if isinstance(kid, str) else None)

    def verify_id_token(self, id_token: str, *, nonce: str | None = None,
                        leeway: int = 60) -> dict[str, Any]:
        """The claims of an ID token, verified: RS256/ES256 signature by idp's JWKS (fetched
        once, refetched for an unknown key), ``iss`` = idp_url, ``aud`` = client_id, ``exp``,
        and ``nonce`` when one was sent. Anything wrong -> `InvalidIdToken`."""
        try:
            try:
                token = jwt.decode(id_token, self._keyset(refresh=False),
                                   algorithms=_ID_TOKEN_ALGS)
            except InvalidKeyIdError:  # a key idp made since the JWKS was fetched
                token = jwt.decode(id_token, self._keyset(refresh=True),
                                   algorithms=_ID_TOKEN_ALGS)
        except (JoseError, ValueError, TypeError, KeyError):
            raise InvalidIdToken() from None
        if token.header.get("typ", "JWT") not in ("JWT", "jwt"):
            raise InvalidIdToken()  # e.g. an access token (at+jwt) offered as an ID token
        claims: dict[str, Any] = {
            "iss": {"essential": True, "value": self.idp_url},
            "aud": {"essential": True, "value": self.client_id},
            "sub": {"essential": True}, "exp": {"essential": True}}
        if nonce is not None:
            claims["nonce"] = {"essential": True, "value": nonce}
        try:
            JWTClaimsRegistry(leeway=leeway, **claims).validate(token.claims)
        except JoseError:
            raise InvalidIdToken() from None
        return dict(token.claims)

    def _keyset(self, *, refresh: bool) -> KeySet:
        if self._jwks is None or refresh:
            data = self._parse(self._call("GET", "/.well-known/jwks.json"),
                               lambda body: _object(body, "the body"))
            try:
                self._jwks = KeySet.import_key_set(data)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise ResponseError("malformed response: not a JWK set") from None
        return self._jwks

    # -- plumbing ----------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, json: Mapping[str, object] | None = None,
              data: Mapping[str, str] | None = None, token: str | None = None,
              basic: bool = False, secrets: Iterable[str] = ()) -> httpx.Response:
        headers = {"Accept": "application/json"}
        auth: httpx.BasicAuth | None = None
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if basic:
            # RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
            auth = httpx.BasicAuth(quote(self.client_id, safe=""), quote(self._secret, safe=""))
        response = self._http.request(method, self.idp_url + path, json=json, data=data,
                                      headers=headers, auth=auth, follow_redirects=False)
        if not response.is_success:
            hidden = [self._secret, *secrets]
            if token is not None:
                hidden.append(token)
            raise _error(response, hidden)
        return response


