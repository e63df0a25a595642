"""idp's OAuth 2.0 / OpenID Connect authorization server on Authlib (DESIGN.md §2).

Authlib does the protocol: request validation, client authentication, PKCE, the token response,
ID tokens, revocation (RFC 7009), introspection (RFC 7662) and RP-initiated logout. This module
supplies the storage hooks and two card.coop specifics:

- the authorization step is not a server-rendered form: the member's page does the consent in
  the browser (it encrypts the share to the cooperative's key) and sends the authorization
  request's parameters in a JSON body, so requests can be built from a dict
  (``ParamsRequest``);
- a request without ``redirect_uri`` is the iframe method: it must name a registered ``origin``
  instead, and the ticket goes back by ``postMessage`` to that origin only.
"""

from __future__ import annotations

import binascii
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Flask, g
from flask import request as flask_request
from joserfc.jwk import KeySet
from sqlalchemy import bindparam, exists, insert, select, update

from cardcoop.protocol.accounts import is_valid_antelope_name
from common.db import HotStatement, db, utcnow
from common.errors import Unauthorized
from common.security import client_info
from idp.auth.sessions import token_hash
from idp.models import AuthSession
from idp.oauth import backchannel
from idp.oauth.models import TOKEN_AUTH_METHODS, AuthorizationCode, Grant, OAuthClient, OAuthToken
from idp.oauth.params import MalformedParameter, check_oauth_params, malformed
from idp.services import services
from idp.tokens import ID_TOKEN_ALGS, Key

TICKET_TTL = timedelta(minutes=5)
# Server-side claims (never card data, DESIGN §2), the share and the joining scope.
OIDC_SCOPES = ("openid", "profile", "email", "cardcoop:card", "cardcoop:memberships")
DATA_SCOPES = ("share", "account")
# The member's API for card.coop's own apps (idp/oauth/first_party.py); no cooperative gets it.
APP_SCOPES = ("cardcoop:member",)
SCOPES = OIDC_SCOPES + DATA_SCOPES + APP_SCOPES
CLAIMS_BY_SCOPE = {"email": ("email", "email_verified"), "cardcoop:card": ("card_number",),
                   "cardcoop:memberships": ("memberships",)}
ALWAYS_CLAIMS = ("sub", "sid")


def claims_for_scope(claims: dict[str, Any], scope: str) -> dict[str, Any]:
    allowed = set(ALWAYS_CLAIMS)
    for name in scope.split():
        allowed.update(CLAIMS_BY_SCOPE.get(name, ()))
    return {k: v for k, v in claims.items() if k in allowed}


class ParamsRequest(OAuth2Request):
    """An OAuth request whose parameters arrived as a JSON object (the /access/* endpoints)."""

    def __init__(self, params: dict[str, str]) -> None:
        super().__init__(flask_request.method, flask_request.url, headers=flask_request.headers)
        self.payload = BasicOAuth2Payload(params)
        self._params = params

    @property
    def args(self) -> dict[str, str]:
        return self._params

    @property
    def form(self) -> dict[str, str]:
        return self._params


class CardAuthorizationServer(AuthorizationServer):
    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """Every request Authlib handles (query, form or the JSON of /access/*) passes here:
        its parameters' syntax is checked before any of them is used."""
        if not isinstance(request, OAuth2Request):
            request = cast(OAuth2Request, super().create_oauth2_request(request))
        check_oauth_params(request.payload.data)
        return request

    def authenticate_client(self, request: OAuth2Request, methods: list[str],
                            endpoint: str = "token") -> OAuthClient:
        """Basic credentials Authlib cannot take apart (base64 of something that is not UTF-8, or
        "Basic " with nothing after it) made its decoder raise (a 500): they are no
        credentials, so the client is not authenticated (401 invalid_client)."""
        try:
            client: OAuthClient = super().authenticate_client(request, methods, endpoint)
        except (UnicodeDecodeError, binascii.Error, ValueError):
            raise InvalidClientError(status_code=401) from None
        return client

    def get_consent_grant(self, request: Any = None, end_user: Any = None) -> Any:
        """A malformed parameter in an authorization request from a known client with its
        registered redirect URI goes back there as invalid_request (RFC 6749 §4.1.2.1), like
        any other error of the request; otherwise it is shown to the member, never followed."""
        try:
            return super().get_consent_grant(request, end_user)
        except MalformedParameter as error:
            params = (request.payload.data if isinstance(request, OAuth2Request)
                      else flask_request.values)
            raise InvalidRequestError(
                error.message, redirect_uri=self._registered_redirect(params),
                state=None if malformed(params, "state") else params.get("state")) from None

    def _registered_redirect(self, params: Any) -> str | None:
        if malformed(params, "client_id") or malformed(params, "redirect_uri"):
            return None
        client = self.query_client(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri")
        if client is None or not redirect_uri or not client.check_redirect_uri(redirect_uri):
            return None
        return str(redirect_uri)


@dataclass(frozen=True)
class TicketHolder:
    """Authlib's "user" at the token endpoint: the member as the ticket describes them."""

    member_id: uuid.UUID
    code: AuthorizationCode


@dataclass(frozen=True)
class Consent:
    """What the member's page established before a ticket is made."""

    member_id: uuid.UUID
    session_id: uuid.UUID
    grant_id: uuid.UUID
    claims: dict[str, Any]
    auth_time: datetime  # the session's last password proof (OpenID Connect auth_time)


class S256Challenge(CodeChallenge):
    """PKCE is required on every request, and only S256 (RFC 9700 §2.1.1): a missing method
    would otherwise mean "plain"."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 (Authlib's class attribute)

    def validate_code_challenge(self, grant: Any, redirect_uri: str | None) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required with code_challenge_method=S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode
                                                ) -> str:
        return authorization_code.code_challenge_method


class TicketGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)  # noqa: RUF012
    AUTHORIZATION_CODE_LENGTH = 43  # letters and digits: 256 bits

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: OAuthClient
                                            ) -> str | None:
        """Redirect method: the exact registered URI. Iframe method (no redirect_uri): a
        registered origin. Errors here are never redirected (RFC 6749 §4.1.2.1)."""
        redirect_uri = request.payload.redirect_uri
        if redirect_uri:
            if not client.check_redirect_uri(redirect_uri):
                raise InvalidRequestError("The redirect_uri is not registered for this client.")
            return cast(str, redirect_uri)
        origin = request.payload.data.get("origin")
        if not origin:
            raise InvalidRequestError(
                "Send redirect_uri (redirect method) or origin (iframe method).")
        if not client.check_iframe_origin(origin):
            raise InvalidRequestError("The origin is not registered for this client.")
        return None

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()
        client: OAuthClient = self.request.client
        if not client.first_party and set((self.request.scope or "").split()) & set(APP_SCOPES):
            raise InvalidScopeError("The member's API is only for card.coop's own applications.",
                                    redirect_uri=self.request.payload.redirect_uri,
                                    state=self.request.payload.state)

    def issue_ticket(self, consent: Consent) -> str:
        """The ticket (authorization code) for a request validated by ``get_consent_grant``."""
        ticket = self.generate_authorization_code()
        payload = self.request.payload
        db.session.add(AuthorizationCode(
            code_hash=token_hash(ticket), client_id=self.request.client.client_id,
            member_id=consent.member_id, grant_id=consent.grant_id,
            session_id=consent.session_id, redirect_uri=payload.redirect_uri or None,
            origin=None if payload.redirect_uri else payload.data.get("origin"),
            scope=self.request.scope, nonce=payload.data.get("nonce") or None,
            code_challenge=payload.data["code_challenge"], code_challenge_method="S256",
            claims=consent.claims, auth_time=int(consent.auth_time.timestamp()),
            expires_at=utcnow() + TICKET_TTL))
        return cast(str, ticket)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        raise NotImplementedError("tickets are made by issue_ticket, with the member's consent")

    def query_authorization_code(self, code: str, client: OAuthClient
                                 ) -> AuthorizationCode | None:
        """Spend the ticket in the statement that reads it (one round trip, committed at once):
        of two concurrent exchanges exactly one wins, and a ticket spent on a failed attempt
        (a wrong PKCE verifier) stays spent. Another cooperative's ticket is no ticket at all
        for this one and is left unspent."""
        row = _CLAIM_TICKET.first({"presented_hash": token_hash(code),
                                   "for_client": client.client_id, "spent_at": utcnow()})
        if row is None:
            _recognise_replay(code, client)
            return None
        if row["expires_at"] <= utcnow() or not row["grant_live"]:
            return None
        g.ticket_username = row["grant_username"]
        return AuthorizationCode(**{column.key: row[column.key] for column in _TICKET_COLUMNS})

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        pass  # spent by query_authorization_code; the row stays to recognise a replay

    def authenticate_user(self, authorization_code: AuthorizationCode) -> TicketHolder:
        return TicketHolder(authorization_code.member_id, authorization_code)


_TICKET_COLUMNS = tuple(AuthorizationCode.__table__.c)
_CLAIM_TICKET = HotStatement(
    update(AuthorizationCode)
    .where(AuthorizationCode.code_hash == bindparam("presented_hash"),
           AuthorizationCode.client_id == bindparam("for_client"),
           AuthorizationCode.used_at.is_(None))
    .values(used_at=bindparam("spent_at"))
    .returning(*_TICKET_COLUMNS,
               exists().where(Grant.id == AuthorizationCode.grant_id,
                              Grant.revoked_at.is_(None)).label("grant_live"),
               # The specification's exchange-ticket answer names the grant's account.
               select(Grant.username).where(Grant.id == AuthorizationCode.grant_id)
               .scalar_subquery().label("grant_username")))


def _recognise_replay(code: str, client: OAuthClient) -> None:
    """The rare path: a ticket of this client that was already spent is a replay, and the
    tokens it gave are revoked (RFC 6749 §4.1.2)."""
    row = db.session.scalar(select(AuthorizationCode).where(
        AuthorizationCode.code_hash == token_hash(code)))
    if row is not None and row.client_id == client.client_id and row.used_at is not None:
        revoke_tokens_of_ticket(row)


def revoke_tokens_of_ticket(row: AuthorizationCode) -> None:
    db.session.execute(update(OAuthToken).where(
        OAuthToken.code_id == row.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    db.session.commit()


class CardOpenIDCode(OpenIDCode):
    """ID tokens: signed with idp's current key for the client's algorithm (RS256 unless it
    registered ES256); ``aud`` is the client_id as a plain string (the ВОСХОД platform's client
    compares it so); claims as fixed at consent."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return bool(db.session.scalar(select(exists().where(
            AuthorizationCode.client_id == request.payload.client_id,
            AuthorizationCode.nonce == nonce))))

    def get_client_algorithm(self, client: OAuthClient) -> str:
        return client.id_token_signed_response_alg

    def get_encode_header(self, client: OAuthClient) -> dict[str, str]:
        key = services().tokens.signing_key(client.id_token_signed_response_alg)
        return {"alg": client.id_token_signed_response_alg, "typ": "JWT", "kid": key.kid or ""}

    def resolve_client_private_key(self, client: OAuthClient) -> Key:
        return services().tokens.signing_key(client.id_token_signed_response_alg)

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": services().tokens.issuer, "aud": client.client_id, "iat": now,
                "exp": now + services().settings.access_token_ttl}

    def generate_user_info(self, user: TicketHolder, scope: str) -> UserInfo:
        return UserInfo(claims_for_scope(user.code.claims, scope))


def _save_token(token: dict[str, Any], request: OAuth2Request) -> None:
    code: AuthorizationCode = request.authorization_code
    if request.client.first_party:
        from idp.oauth.first_party import save_first_party_token

        save_first_party_token(token, request.user)
        return
    now = utcnow()
    _STORE_TOKEN.run({  # one statement: it commits on its own
        "id": uuid.uuid4(), "token_hash": token_hash(token["access_token"]),
        "client_id": code.client_id, "member_id": code.member_id, "grant_id": code.grant_id,
        "code_id": code.id, "scope": token["scope"], "claims": code.claims, "issued_at": now,
        "expires_at": now + timedelta(seconds=int(token["expires_in"]))})
    token["username"] = g.ticket_username
    token["coopname"] = code.client_id


_STORE_TOKEN = HotStatement(insert(OAuthToken).values(
    {column: bindparam(column.key) for column in OAuthToken.__table__.c
     if column.key != "revoked_at"}))
_CLIENT = HotStatement(select(*OAuthClient.__table__.c)
                       .where(OAuthClient.client_id == bindparam("wanted")))


def _query_client(client_id: str) -> OAuthClient | None:
    """The client, read in one autocommit statement and handed over detached: Authlib only
    compares it (secret, redirect URIs, origins), nothing writes it back."""
    # A client id is a cooperative's account name: anything else names no client.
    if not isinstance(client_id, str) or not is_valid_antelope_name(client_id):
        return None
    row = _CLIENT.first({"wanted": client_id})
    return OAuthClient(**row) if row is not None else None


def find_token(token_string: str) -> OAuthToken | None:
    if not isinstance(token_string, str) or not token_string or len(token_string) > 200:
        return None
    return db.session.scalar(select(OAuthToken).where(
        OAuthToken.token_hash == token_hash(token_string)))


class UnknownHintsIgnored:
    """RFC 7009 §2.1 / RFC 7662 §2.1: a ``token_type_hint`` the server does not know is ignored
    (the token is looked up anyway). Authlib refused it as a 401 ``unsupported_token_type``
    without a challenge, which no client can act on."""

    def check_params(self, request: OAuth2Request, client: OAuthClient) -> None:
        if "token" not in request.form:
            raise InvalidRequestError()


class CoopRevocation(UnknownHintsIgnored, RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return find_token(token_string)

    def revoke_token(self, token: OAuthToken, request: OAuth2Request) -> None:
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        db.session.commit()


class CoopIntrospection(UnknownHintsIgnored, IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return find_token(token_string)

    def check_permission(self, token: OAuthToken, client: OAuthClient,
                         request: OAuth2Request) -> bool:
        return token.client_id == client.client_id  # a cooperative sees its own tokens only

    def introspect_token(self, token: OAuthToken) -> dict[str, Any]:
        grant = db.session.get(Grant, token.grant_id)
        return {"active": True, "client_id": token.client_id, "token_type": "Bearer",
                "scope": token.scope, "sub": token.claims.get("sub"),
                "iss": services().tokens.issuer, "aud": token.client_id,
                "iat": int(token.issued_at.timestamp()), "exp": int(token.expires_at.timestamp()),
                "username": grant.username if grant else None, "coopname": token.client_id}


class CardEndSession(EndSessionEndpoint):
    """RP-initiated logout ends an idp session: the one named by the ID token's ``sid``, or,
    without a hint, this browser's once the member confirmed it on idp's own page (a bare
    link must not sign anyone out). The clients it signed in to hear of it by back-channel."""

    def get_server_jwks(self) -> KeySet:
        return services().tokens.verifying_keys()

    def get_algorithms(self) -> list[str]:
        return list(ID_TOKEN_ALGS)

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        from idp.auth import browser, cookie
        from idp.auth.sessions import end_session

        ctx = services()
        in_browser = browser.session_of(ctx, cookie.presented())
        session = (self._hinted_session(end_session_request)
                   if end_session_request.id_token_claims else
                   in_browser if confirmed_in_page() else None)
        if session is None or session.revoked_at is not None:
            return
        end_session(session, "rp_logout", client_info(), event="rp_logout")
        db.session.commit()
        if in_browser is not None and in_browser.id == session.id:
            cookie.clear_on_response()

    @staticmethod
    def _hinted_session(end_session_request: EndSessionRequest) -> AuthSession | None:
        claims = end_session_request.id_token_claims or {}
        client = end_session_request.client
        # Only an ID token issued to a client counts: a member's own access token (aud = idp)
        # is signed by the same keys and must not work as a hint.
        if client is None or claims.get("aud") != client.client_id or "sid" not in claims:
            return None
        try:
            session_id = uuid.UUID(str(claims["sid"]))
        except ValueError:
            return None
        return db.session.get(AuthSession, session_id)


def confirmed_in_page() -> bool:
    """The member pressed "Sign out" on idp's confirmation page (a same-site POST)."""
    return flask_request.method == "POST" and flask_request.form.get("confirm") == "yes"


def make_authorization_server(app: Flask) -> CardAuthorizationServer:
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN",
                          {"authorization_code": services_ttl(app)})
    from idp.oauth.first_party import FirstPartyRefreshGrant, access_token, refresh_token

    app.config.setdefault("OAUTH2_ACCESS_TOKEN_GENERATOR", access_token)
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", refresh_token)
    # Unknown scopes are refused (invalid_scope) rather than dropped: a cooperative asking for
    # something we do not have should hear so, not get less than it thinks.
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    server = CardAuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(TicketGrant, [S256Challenge(required=True), CardOpenIDCode()])
    server.register_grant(FirstPartyRefreshGrant)
    server.register_endpoint(CoopRevocation)
    server.register_endpoint(CoopIntrospection)
    server.register_endpoint(CardEndSession)
    backchannel.install()
    return server


def services_ttl(app: Flask) -> int:
    return int(app.extensions["idp"].settings.access_token_ttl)


def client_credentials_present() -> None:
    """``@endpoint(auth="clientAuth")``: refuse a request that carries no client credentials at
    all; Authlib checks the ones presented."""
    basic = flask_request.headers.get("Authorization", "").lower().startswith("basic ")
    posted = bool(flask_request.form.get("client_id") and flask_request.form.get("client_secret"))
    if not (basic or posted):
        raise Unauthorized("Authenticate the client (HTTP Basic or client_secret_post).",
                           code="invalid_client")
