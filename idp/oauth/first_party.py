"""card.coop's own apps (portal, business) as clients of idp: first-party clients (issue #12).

A first-party client is registered by the operator (``flask clients first-party``), not by a
cooperative, and is treated the way Keycloak treats a realm's own applications:

- **No consent screen.** A member with an idp session is signed in at once, even the first
  time; one without logs in on idp's page and is then sent on. The consent is recorded as a
  grant like any other (the ID token's ``sid`` and back-channel logout rely on it), but the
  member's list of accesses does not show it: it is card.coop itself, not a cooperative.
- **Tokens of the member's session.** The access token is idp's own JWT for the idp session
  the member signed in with, naming the app (``client_id``) and its scope; the app may call
  the member's API with it (``cardcoop:member``, idp/auth/bearer.py) and nothing else. Ending
  that session (logout, "revoke device", a password change) stops the app's tokens at once.
- **Rotating refresh tokens** (RFC 6749 §6, RFC 9700 §4.14.2): each one belongs to the session
  and to the app; using one twice closes the session, as for the member's own.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import RefreshTokenGrant
from sqlalchemy import select

from common.db import db, insert_ignoring_conflict, utcnow
from common.errors import ApiError
from common.security import ClientInfo, client_info
from idp import audit
from idp.auth import sessions
from idp.auth.devices import device_name
from idp.card.service import find_card
from idp.models import AuthSession, RefreshToken
from idp.oauth.models import Grant, OAuthClient
from idp.oauth.server import Consent, TicketGrant, TicketHolder
from idp.services import IdpServices, services


def sign_in(ctx: IdpServices, grant: TicketGrant, session: AuthSession,
            client: ClientInfo) -> str:
    """A ticket for a first-party app, for a member with an open session and a card."""
    from idp.access.service import server_claims

    member = session.member
    card = find_card(member.id)
    assert card is not None  # sso.decide sends a member without a card to the page
    scope = grant.request.scope
    consent = _record_consent(member.id, grant.request.client.client_id, scope)
    claims = server_claims(ctx, member, card, scope.split(), session)
    ticket = grant.issue_ticket(Consent(member.id, session.id, consent.id, claims,
                                        session.auth_time))
    session.last_used_at = utcnow()
    audit.record("signed_in", client=client, member_id=member.id, actor=str(member.id),
                 coopname=consent.client_id, scope=scope, device=device_name(client.user_agent))
    db.session.commit()
    return ticket


def _record_consent(member_id: uuid.UUID, client_id: str, scope: str) -> Grant:
    # As for a cooperative (access/service.py _record_grant): make the row exist, then hold it,
    # so that two sign-ins at once (two tabs) do not both insert.
    db.session.execute(insert_ignoring_conflict(
        Grant, id=uuid.uuid4(), member_id=member_id, client_id=client_id, scope=scope,
        shared_fields=[]))
    consent = db.session.scalars(
        select(Grant).where(Grant.member_id == member_id, Grant.client_id == client_id)
        .with_for_update().execution_options(populate_existing=True)).one()
    consent.scope, consent.revoked_at, consent.updated_at = scope, None, utcnow()
    return consent


def hidden_clients() -> Any:
    """The first-party clients' ids, as a subquery: the member's list of accesses leaves them
    out."""
    return select(OAuthClient.client_id).where(OAuthClient.first_party.is_(True))


# -- the token endpoint ------------------------------------------------------------------------

def access_token(client: OAuthClient, grant_type: str, user: Any, scope: str) -> str:
    """Authlib's access-token generator (``OAUTH2_ACCESS_TOKEN_GENERATOR``): a cooperative gets
    an opaque token kept by its hash (oauth/server.py ``_save_token``); a first-party app gets
    idp's JWT for the member's session."""
    if not client.first_party:
        return secrets.token_urlsafe(32)
    holder: TicketHolder = user
    token, _ = services().tokens.issue(holder.member_id, holder.code.session_id,
                                       client_id=client.client_id, scope=scope)
    return token


def refresh_token(**_kwargs: Any) -> str:
    return secrets.token_urlsafe(32)


def save_first_party_token(token: dict[str, Any], holder: TicketHolder) -> None:
    """The code exchange's refresh token, stored by its hash in the member's session."""
    db.session.add(RefreshToken(session_id=holder.code.session_id,
                                token_hash=sessions.token_hash(token["refresh_token"]),
                                client_id=holder.code.client_id))


@dataclass(frozen=True)
class _Presented:
    value: str


class FirstPartyRefreshGrant(RefreshTokenGrant):
    """``grant_type=refresh_token`` for first-party apps. The rotation is idp's own
    (idp/auth/rotation.py: one atomic statement, reuse detection on the rare path), so this
    grant only authenticates the app, checks the scope and shapes the answer."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def validate_token_request(self) -> None:
        client: OAuthClient = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("Only card.coop's own applications refresh tokens.")
        presented = self.request.form.get("refresh_token")
        if not presented or not isinstance(presented, str) or len(presented) > 200:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        self.request.client = client
        self.request.refresh_token = _Presented(presented)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client: OAuthClient = self.request.client
        ctx = services()
        presented = self.request.refresh_token.value
        # The scope is checked before the token is spent: a refused request loses nothing.
        granted = _granted_scope(presented, client.client_id)
        scope = self.request.payload.scope or granted
        if granted and not set(granted.split()).issuperset(str(scope).split()):
            raise InvalidScopeError("The scope asked is wider than the one granted.")
        try:
            # The app's server is not the member's device: the session keeps its own.
            rotated = sessions.rotate_refresh(ctx, presented, client_info(),
                                              client_id=client.client_id)
        except ApiError as error:
            _refused(error)
        if not granted:
            raise InvalidGrantError("The member's sign-in to this application has ended.")
        access, ttl = ctx.tokens.issue(rotated.member_id, rotated.session_id,
                                       client_id=client.client_id, scope=scope)
        return 200, {"token_type": "Bearer", "access_token": access, "expires_in": ttl,
                     "refresh_token": rotated.refresh_token, "scope": scope}, \
            self.TOKEN_RESPONSE_HEADER


def _granted_scope(presented: str, client_id: str) -> str | None:
    """The app's live consent's scope, for the session the presented token belongs to."""
    return db.session.scalar(
        select(Grant.scope)
        .join(AuthSession, AuthSession.member_id == Grant.member_id)
        .join(RefreshToken, RefreshToken.session_id == AuthSession.id)
        .where(RefreshToken.token_hash == sessions.token_hash(presented),
               RefreshToken.client_id == client_id, Grant.client_id == client_id,
               Grant.revoked_at.is_(None)))


def _refused(error: ApiError) -> NoReturn:
    """The member API's refusal (invalid_token, token_reused) in the token endpoint's terms."""
    raise InvalidGrantError(error.message)
