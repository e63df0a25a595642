"""Sharing with a cooperative (DESIGN.md §2): prepare the consent, record it and make the ticket,
refuse, list and revoke. The member's page encrypts the share; the server checks its envelope
(recipient, algorithms) but can never open it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from sqlalchemy import select, update

from cardcoop.protocol.errors import InvalidKey
from cardcoop.protocol.jwk import jwk_thumbprint
from cardcoop.protocol.k1 import K1PublicKey
from common.db import db, insert_ignoring_conflict, utcnow
from common.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)
from common.notify import NotificationKind
from common.security import ClientInfo
from common.voskhod import Cooperative, RegistryUnavailable, UnknownCooperative
from common.voskhod.port import STATUS_ACCEPTED, STATUS_NONE
from idp import audit
from idp.auth.devices import device_name
from idp.card.models import Card, CoopAccount
from idp.card.service import find_card
from idp.models import AuthSession, Member
from idp.network.models import Attestation, NetworkCooperative
from idp.oauth import sso
from idp.oauth.models import AuthorizationCode, Grant, OAuthClient, OAuthToken
from idp.oauth.server import (
    CardAuthorizationServer,
    Consent,
    ParamsRequest,
    TicketGrant,
)
from idp.services import IdpServices

SHARE_CTY = "card-share+json"
SHARE_ALG = "ECDH-ES+A256KW"
SHARE_ENC = "A256GCM"
MAX_SHARE_BYTES = 64 * 1024
Mode = Literal["redirect", "iframe"]
# Messages that could echo a client's input are replaced by these.
OAUTH_MESSAGES = {
    "invalid_client": "Unknown client_id.",
    "unsupported_response_type": "Only response_type=code is supported.",
    "invalid_scope": "The scope names something this server does not offer.",
    "unauthorized_client": "This client may not use that response type.",
}


@dataclass(frozen=True)
class ShareTarget:
    """What the consent screen needs and the share is checked against."""

    grant: TicketGrant
    client: OAuthClient
    card: Card
    cooperative: Cooperative
    encryption_jwk: dict[str, str]
    kid: str
    scopes: list[str]
    account: CoopAccount | None

    @property
    def shares_data(self) -> bool:
        return "share" in self.scopes or "account" in self.scopes

    @property
    def joins(self) -> bool:
        return "account" in self.scopes and self.account is None

    @property
    def mode(self) -> Mode:
        return "redirect" if self.grant.redirect_uri else "iframe"


@dataclass(frozen=True)
class Ticket:
    ticket: str
    state: str | None
    mode: Mode
    redirect_to: str | None
    origin: str | None


@dataclass(frozen=True)
class Refusal:
    state: str | None
    mode: Mode
    redirect_to: str | None
    origin: str | None
    reason: str = "refused"


def oauth_error(error: OAuth2Error) -> ApiError:
    message = OAUTH_MESSAGES.get(error.error) or error.description or "Invalid request."
    return InvalidRequest(message, code=error.error)


def validate_request(server: CardAuthorizationServer, params: dict[str, str],
                     member: Member | None) -> TicketGrant:
    try:
        grant: TicketGrant = server.get_consent_grant(ParamsRequest(params), end_user=member)
    except OAuth2Error as error:
        raise oauth_error(error) from None
    return grant


@contextmanager
def registry_answers() -> Iterator[None]:
    """A registry that cannot be asked now fails this one request with a 503."""
    try:
        yield
    except RegistryUnavailable:
        raise ServiceUnavailable("The ВОСХОД registry does not answer; try again later.",
                                 code="registry_unavailable") from None


def _encryption_key(client: OAuthClient, cooperative: Cooperative) -> dict[str, str]:
    if client.encryption_jwk:
        return dict(client.encryption_jwk)
    return K1PublicKey.from_string(cooperative.public_key).to_jwk()


def target(ctx: IdpServices, server: CardAuthorizationServer, params: dict[str, str],
           coopname: str, member: Member) -> ShareTarget:
    if params.get("client_id") != coopname:
        raise InvalidRequest("coopname must be the client_id of the request.",
                             code="invalid_request")
    grant = validate_request(server, params, member)
    card = find_card(member.id)
    if card is None:
        raise Conflict("Issue your card first.", code="card_required")
    try:
        with registry_answers():
            cooperative = ctx.registry.cooperative(coopname)
    except UnknownCooperative:
        raise Forbidden("ВОСХОД does not know this cooperative.",
                        code="unknown_cooperative") from None
    jwk = _encryption_key(grant.request.client, cooperative)
    scopes = grant.request.scope.split()
    account = next((a for a in card.accounts if a.coopname == coopname), None)
    found = ShareTarget(grant, grant.request.client, card, cooperative, jwk, jwk_thumbprint(jwk),
                        scopes, account)
    # Sharing with a cooperative one is not (yet) a member of is joining: it needs `account`.
    if "share" in scopes and "account" not in scopes and not _is_member(ctx, account):
        raise Forbidden("You are not a member of this cooperative (ВОСХОД registry).",
                        code="not_a_member")
    return found


def _is_member(ctx: IdpServices, account: CoopAccount | None) -> bool:
    if account is None:
        return False
    with registry_answers():
        return ctx.registry.membership(account.coopname, account.username).is_member


# -- the share ------------------------------------------------------------------------------

def _check_share(found: ShareTarget, username: str, public_key: str, encrypted_data: str) -> None:
    account = found.account
    if account is None or account.username != username:
        raise InvalidRequest("Add the cooperative account to your card before sharing it.",
                             code="account_mismatch")
    try:
        same_key = (K1PublicKey.from_string(public_key).to_string() ==
                    K1PublicKey.from_string(account.public_key).to_string())
    except InvalidKey:
        same_key = False
    if not same_key:
        raise InvalidRequest("public_key is not the key of your account in this cooperative.",
                             code="account_mismatch")
    header = _jwe_header(encrypted_data)
    if header.get("alg") != SHARE_ALG or header.get("enc") != SHARE_ENC or \
            header.get("cty") != SHARE_CTY:
        raise InvalidRequest("encrypted_data must be an ECDH-ES+A256KW / A256GCM JWE with "
                             "cty card-share+json (PROTOCOL §6).", code="invalid_envelope")
    if header.get("kid") != found.kid:
        # Encrypted to another key: the cooperative could not read it (or someone else could).
        raise InvalidRequest("encrypted_data is not encrypted to this cooperative's key.",
                             code="wrong_recipient")


def _jwe_header(jwe: str) -> dict[str, Any]:
    from cardcoop.protocol.encoding import b64u_decode

    parts = jwe.split(".")
    if len(jwe) > MAX_SHARE_BYTES or len(parts) != 5 or not all(parts[i] for i in (0, 2, 3, 4)):
        raise InvalidRequest("encrypted_data must be a compact JWE.", code="invalid_envelope")
    try:
        header = json.loads(b64u_decode(parts[0]))
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise InvalidRequest("encrypted_data must be a compact JWE.", code="invalid_envelope")
    return header


def server_claims(ctx: IdpServices, member: Member, card: Card, scopes: list[str],
            session: AuthSession) -> dict[str, Any]:
    """What the ID token and userinfo will say: only what the server knows in clear."""
    claims: dict[str, Any] = {"sub": str(card.id), "sid": str(session.id),
                              "email": member.email, "email_verified": True,
                              "card_number": card.number}
    if "cardcoop:memberships" in scopes:
        claims["memberships"] = memberships(ctx, card)
    return claims


def memberships(ctx: IdpServices, card: Card) -> list[dict[str, Any]]:
    result = []
    with registry_answers():
        for account in card.accounts:
            membership = ctx.registry.membership(account.coopname, account.username)
            if membership.status == STATUS_NONE:
                continue  # joined on the card, not (yet) on the chain
            try:
                coop = ctx.registry.cooperative(account.coopname)
            except UnknownCooperative:
                continue
            result.append({
                "coop": coop.announce, "coopname": account.coopname,
                "status": "active" if membership.status == STATUS_ACCEPTED else "revoked",
                "member_since": (membership.member_since.isoformat()
                                 if membership.member_since else None)})
    return result + attested_memberships(card, {str(m["coopname"]) for m in result})


def attested_memberships(card: Card, known: set[str]) -> list[dict[str, Any]]:
    """Memberships the network's cooperatives attested for this card (issue #11), beside the
    chain's: a cooperative the chain already answered for is not listed twice."""
    rows = db.session.execute(
        select(Attestation, NetworkCooperative.display_name)
        .join(NetworkCooperative, NetworkCooperative.coopname == Attestation.coopname)
        .where(Attestation.card_id == card.id).order_by(Attestation.created_at)).all()
    return [{"coop": display_name, "coopname": row.coopname,
             "status": "revoked" if row.revoked_at else "active",
             "member_since": row.member_since.isoformat()}
            for row, display_name in rows if row.coopname not in known]


def share(ctx: IdpServices, server: CardAuthorizationServer, params: dict[str, str],
          coopname: str, member: Member, session: AuthSession, data: dict[str, Any],
          client: ClientInfo) -> Ticket:
    found = target(ctx, server, params, coopname, member)
    supplied = {k: v for k, v in data.items() if v not in (None, [])}
    if found.shares_data:
        missing = [k for k in ("username", "public_key", "encrypted_data") if k not in supplied]
        if missing:
            raise InvalidRequest(f"This scope shares data: send {', '.join(missing)}.",
                                 code="invalid_request")
        _check_share(found, supplied["username"], supplied["public_key"],
                     supplied["encrypted_data"])
    elif supplied:
        raise InvalidRequest("This scope shares no card data: send no encrypted_data.",
                             code="invalid_request")
    if sso.password_too_old(session, params):
        raise Unauthorized("This cooperative asks for the password again.",
                           code="reauthentication_required")
    claims = server_claims(ctx, member, found.card, found.scopes, session)
    grant = _record_grant(found, member, supplied)
    ticket = found.grant.issue_ticket(Consent(member.id, session.id, grant.id, claims,
                                              session.auth_time))
    audit.record("access_granted", client=client, member_id=member.id, actor=str(member.id),
                 coopname=coopname, scope=" ".join(found.scopes))
    ctx.notify(NotificationKind.ACCESS_GRANTED, to_email=member.email,
               subscriber_id=str(member.id), coop=found.cooperative.announce,
               coopname=coopname, fields=", ".join(grant.shared_fields),
               at=utcnow().isoformat(timespec="seconds"))
    db.session.commit()
    state = params.get("state")
    redirect_uri = found.grant.redirect_uri
    redirect_to = None
    if redirect_uri:
        redirect_to = with_response_params(ctx, redirect_uri, {"code": ticket, "state": state})
    return Ticket(ticket, state, found.mode, redirect_to, None if redirect_uri else
                  params.get("origin"))


def sign_in_again(ctx: IdpServices, grant: TicketGrant, consent: Grant,
                  session: AuthSession, client: ClientInfo) -> str:
    """Single sign-on (idp.oauth.sso): a ticket under the member's earlier consent to this
    client, for sign-in scopes only; the consent itself is left as it was."""
    member = session.member
    card = find_card(member.id)
    assert card is not None  # sso.earlier_consent checked it
    claims = server_claims(ctx, member, card, grant.request.scope.split(), session)
    ticket = grant.issue_ticket(Consent(member.id, session.id, consent.id, claims,
                                        session.auth_time))
    session.last_used_at = utcnow()
    audit.record("signed_in", client=client, member_id=member.id, actor=str(member.id),
                 coopname=consent.client_id, scope=grant.request.scope,
                 device=device_name(client.user_agent))
    db.session.commit()
    return ticket


def _record_grant(found: ShareTarget, member: Member, supplied: dict[str, Any]) -> Grant:
    """One grant per (member, cooperative). A new consent replaces the old one whole, and the
    tokens issued under the old one stop: they were for what the member agreed to then."""
    # Make the row exist, then hold it: two consents at once (two tabs, a double click) take
    # turns on the lock instead of both inserting (a duplicate key) — the later one wins.
    db.session.execute(insert_ignoring_conflict(
        Grant, id=uuid.uuid4(), member_id=member.id, client_id=found.client.client_id,
        scope="", shared_fields=[]))
    grant = db.session.scalars(
        select(Grant).where(Grant.member_id == member.id,
                            Grant.client_id == found.client.client_id)
        .with_for_update().execution_options(populate_existing=True)).one()
    db.session.execute(update(OAuthToken).where(
        OAuthToken.grant_id == grant.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    grant.scope = " ".join(found.scopes)
    # The account is named to the cooperative only when the member shares with it.
    grant.username = supplied.get("username")
    grant.public_key = supplied.get("public_key")
    grant.encrypted_data = supplied.get("encrypted_data")
    grant.recipient_kid = found.kid if grant.encrypted_data else None
    grant.shared_fields = list(supplied.get("shared_fields") or [])
    grant.updated_at, grant.revoked_at = utcnow(), None
    db.session.flush()
    return grant


def with_response_params(ctx: IdpServices, uri: str, params: dict[str, str | None]) -> str:
    """An authorization response's redirect, with ``iss`` (RFC 9207: mix-up defence)."""
    pairs = [(k, v) for k, v in params.items() if v is not None]
    pairs.append(("iss", ctx.tokens.issuer))
    return str(add_params_to_uri(uri, pairs))


# The refusal as the cooperative receives it: always error=access_denied (RFC 6749 §4.1.2.1, so
# any OAuth client reads it as a refusal), and why in a vendor-prefixed extension parameter
# (RFC 6749 §8.2), which clients that do not know it ignore.
REFUSAL_TEXT = {
    "refused": "The member refused.",
    "not_a_member": "The member is not a member of this cooperative yet.",
}


def refuse(ctx: IdpServices, server: CardAuthorizationServer, params: dict[str, str],
           reason: str = "refused") -> Refusal:
    """Where the refusal goes. The reason is what the member's page says (the request needs no
    login): a hint for the cooperative's next step, naming nobody."""
    grant = validate_request(server, params, None)
    state = params.get("state")
    if grant.redirect_uri:
        return Refusal(state, "redirect", with_response_params(
            ctx, grant.redirect_uri, {"error": "access_denied",
                                      "error_description": REFUSAL_TEXT[reason],
                                      "cardcoop_reason": reason, "state": state}), None, reason)
    return Refusal(state, "iframe", None, params.get("origin"), reason)


# -- the member's list ----------------------------------------------------------------------

def active_grants(member_id: uuid.UUID) -> list[Grant]:
    """The cooperatives the member let in; card.coop's own apps are not among them."""
    from idp.oauth.first_party import hidden_clients

    return list(db.session.scalars(select(Grant).where(
        Grant.member_id == member_id, Grant.revoked_at.is_(None),
        Grant.client_id.not_in(hidden_clients())).order_by(Grant.created_at)))


def cooperative_name(ctx: IdpServices, coopname: str) -> str | None:
    """The cooperative's display name from ВОСХОД, or None when the registry does not answer
    or no longer knows it."""
    try:
        return ctx.registry.cooperative(coopname).announce
    except (RegistryUnavailable, UnknownCooperative):
        return None


def announce(ctx: IdpServices, coopname: str) -> str:
    """The display name; the list still works with the chain down (then it shows coopname)."""
    return cooperative_name(ctx, coopname) or coopname


def revoke(ctx: IdpServices, member: Member, grant_id: uuid.UUID, client: ClientInfo) -> None:
    grant = db.session.get(Grant, grant_id)
    # Someone else's grant answers exactly like one that does not exist.
    if grant is None or grant.member_id != member.id or grant.revoked_at is not None:
        raise NotFound("No such access.", code="grant_not_found")
    now = utcnow()
    grant.revoked_at = now
    db.session.execute(update(OAuthToken).where(
        OAuthToken.grant_id == grant.id, OAuthToken.revoked_at.is_(None)).values(revoked_at=now))
    db.session.execute(update(AuthorizationCode).where(
        AuthorizationCode.grant_id == grant.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now))
    audit.record("access_revoked", client=client, member_id=member.id, actor=str(member.id),
                 coopname=grant.client_id)
    ctx.notify(NotificationKind.ACCESS_REVOKED, to_email=member.email,
               subscriber_id=str(member.id), coop=announce(ctx, grant.client_id),
               coopname=grant.client_id, at=now.isoformat(timespec="seconds"))
    db.session.commit()
