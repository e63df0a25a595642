"""The authorization server's tables (DESIGN.md §2).

- ``OAuthClient``: one per cooperative, ``client_id`` = coopname; or one of card.coop's own apps
  (portal, business: ``first_party``), which sign members in without a consent screen, get
  refresh tokens and may call the member's API.
- ``Grant``: the member's consent to one cooperative: the scopes, and for a data share the JWE
  encrypted in the browser to the cooperative's key (the server cannot open it).
- ``AuthorizationCode``: the specification's "ticket": single use, minutes long, bound to the
  client, the redirect URI (or the iframe origin) and the PKCE challenge.
- ``OAuthToken``: a cooperative's access token for one grant, stored as SHA-256 only.

Everything a token or an ID token says about the member is fixed at consent (``claims``): the
server-side facts (card id and number, email, memberships checked with ВОСХОД), never card data.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JsonDocument, UtcDateTime, utcnow

TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(Base):
    """A cooperative's client record; the methods are what Authlib asks of a client."""

    __tablename__ = "idp_oauth_clients"

    client_id: Mapped[str] = mapped_column(String(13), primary_key=True)  # the coopname
    # SHA-256 of a 256-bit random secret: with that much entropy a slow hash adds nothing,
    # and the token endpoint stays fast.
    secret_hash: Mapped[str] = mapped_column(String(64))
    redirect_uris: Mapped[list[str]] = mapped_column(JsonDocument)  # exact match only
    iframe_origins: Mapped[list[str]] = mapped_column(JsonDocument)  # frame-ancestors
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    # OpenID Connect Back-Channel Logout 1.0 §2.2: where idp posts a logout token when a
    # session this client signed in with ends.
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    # OpenID Connect Registration §2: RS256 unless the client asks for another.
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8), default="RS256")
    # OpenID Connect Registration §2: the cooperative's site, and where a third party (the
    # portal's "go to the cooperative") starts a sign-in there (OpenID Connect Core §4).
    client_uri: Mapped[str | None] = mapped_column(Text)
    initiate_login_uri: Mapped[str | None] = mapped_column(Text)
    # Where the cooperative's own join with the member card starts (its authorization request
    # with scope `account`, idp's join flow): the portal's "join a cooperative" links here.
    join_uri: Mapped[str | None] = mapped_column(Text)
    # card.coop's own app (portal, business), not a cooperative: no ВОСХОД row, no consent
    # screen, refresh tokens, the member's API (idp/oauth/first_party.py).
    first_party: Mapped[bool] = mapped_column(default=False, server_default=false())
    # None: encrypt to the cooperative's ВОСХОД K1 key; else a registered public JWK.
    encryption_jwk: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # -- authlib.oauth2.rfc6749.ClientMixin ------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # Never guessed: a request without redirect_uri is the iframe method (DESIGN §2).
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # Every supported scope is allowed (the server refuses unknown ones first); an empty
        # request names nothing to consent to.
        return scope if scope and scope.split() else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_iframe_origin(self, origin: str) -> bool:
        return origin in self.iframe_origins

    def check_client_secret(self, client_secret: str) -> bool:
        from idp.oauth.clients import secret_matches

        return secret_matches(self, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        # Authlib asks this to decide whether a code exchange also gets a refresh token.
        return grant_type == "authorization_code" or (
            grant_type == "refresh_token" and self.first_party)

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris or [])}


class Grant(Base):
    """The member's consent to one cooperative; a new consent replaces the previous one."""

    __tablename__ = "idp_grants"
    __table_args__ = (UniqueConstraint("member_id", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp_members.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("idp_oauth_clients.client_id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    # The member's account in the cooperative (public on its chain) and the share, if any.
    username: Mapped[str | None] = mapped_column(String(13))
    public_key: Mapped[str | None] = mapped_column(String(64))
    encrypted_data: Mapped[str | None] = mapped_column(Text)
    recipient_kid: Mapped[str | None] = mapped_column(String(64))
    shared_fields: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuthorizationCode(Base):
    """The ticket. Only its SHA-256 is stored; ``used_at`` is set by compare-and-set."""

    __tablename__ = "idp_oauth_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("idp_oauth_clients.client_id", ondelete="CASCADE"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp_members.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("idp_grants.id", ondelete="CASCADE"),
                                                index=True)
    # The member's idp session that consented; indexed: its end looks up its clients.
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    redirect_uri: Mapped[str | None] = mapped_column(Text)  # None: the iframe method
    origin: Mapped[str | None] = mapped_column(String(300))
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    claims: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    auth_time: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    # -- authlib.oauth2.rfc6749.AuthorizationCodeMixin + OIDC ------------------------------

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]


class OAuthToken(Base):
    """A cooperative's access token (opaque, 256 bits): revocable at once, introspectable."""

    __tablename__ = "idp_oauth_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("idp_oauth_clients.client_id", ondelete="CASCADE"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp_members.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("idp_grants.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("idp_oauth_codes.id", ondelete="SET NULL"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    claims: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)  # idp/retention.py
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    # -- authlib.oauth2.rfc6749.TokenMixin -------------------------------------------------

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at.timestamp() - time.time()))

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None
