"""The specification's /access/* endpoints (DESIGN.md §2): the member's consent from the page, the
cooperative's ticket exchange and data fetch, and the member's list of accesses."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app

from common.api import endpoint
from common.db import db
from common.errors import Forbidden, NotFound
from common.openapi import oauth_errors
from common.security import client_info
from idp.access import service
from idp.access.schemas import (
    AccountRef,
    AuthorizationRequestIn,
    DenyIn,
    ExchangeTicketIn,
    GrantOut,
    GrantsOut,
    PreparedShareOut,
    RefusalOut,
    ShareDataIn,
    SharedDataMeta,
    SharedDataOut,
    TicketOut,
    TokenOut,
)
from idp.auth.bearer import MEMBER_API_SCOPE, current_session
from idp.card.schemas import SCHEMA_ID
from idp.models import AuthSession, Member
from idp.oauth.bearer import current_coop_token
from idp.oauth.errors import speak_the_protocol
from idp.oauth.server import CLAIMS_BY_SCOPE, CardAuthorizationServer, ParamsRequest
from idp.services import services

TOKEN_ERRORS = (400, 401, 413, 429)


def oauth_server() -> CardAuthorizationServer:
    server: CardAuthorizationServer = current_app.extensions["idp_oauth"]
    return server


def current_member(*, app_scope: str | None = None) -> tuple[Member, AuthSession]:
    claims, session = current_session(app_scope=app_scope)
    member = db.session.get(Member, claims.member_id)
    assert member is not None  # an open session always has its member (FK, cascade)
    return member, session


def token_response(params: dict[str, str] | None = None) -> Response:
    """Authlib's token endpoint; the token is kept only when it was issued."""
    server = oauth_server()
    request = ParamsRequest(params) if params is not None else None
    response: Response = server.create_token_response(request)
    # A cooperative's exchange writes through single statements (idp/oauth/server.py) and
    # opens no session at all; making one only to commit nothing was 7 % of its CPU.
    if db.session.registry.has():
        if response.status_code == 200:
            db.session.commit()
        else:
            db.session.rollback()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def make_blueprint() -> Blueprint:
    bp = Blueprint("access", __name__, url_prefix="/access")
    speak_the_protocol(bp)  # for /access/exchange-ticket, the token endpoint by another name

    @bp.post("/prepare-share-data")
    @endpoint(summary="Validate an authorization request and show what consenting means",
              tags=("access",), auth="bearer", body=AuthorizationRequestIn,
              responses={200: PreparedShareOut}, errors=(400, 403, 409, 413, 429, 503),
              description="The member's page sends the authorization request it was opened "
                          "with. Checks the client, redirect URI or iframe origin, scope, PKCE "
                          "and (for `share`) the membership with ВОСХОД.")
    def prepare(body: AuthorizationRequestIn) -> PreparedShareOut:
        member, _ = current_member()
        found = service.target(services(), oauth_server(), body.oauth_params(), body.coopname,
                               member)
        requested = (body.fields or "").split()
        account = found.account
        claims = sorted({"sub"} | {c for s in found.scopes for c in CLAIMS_BY_SCOPE.get(s, ())})
        return PreparedShareOut(
            coopname=found.client.client_id, announce=found.cooperative.announce,
            public_key=None if found.client.encryption_jwk else found.cooperative.public_key,
            encryption_jwk=found.encryption_jwk, kid=found.kid, scopes=found.scopes,
            requested_fields=requested or None, share=found.shares_data, join=found.joins,
            account=(AccountRef(username=account.username, public_key=account.public_key)
                     if account else None),
            mode=found.mode, redirect_uri=found.grant.redirect_uri,
            origin=None if found.grant.redirect_uri else body.origin, schema_id=SCHEMA_ID,
            claims=claims)

    @bp.post("/share-data")
    @endpoint(summary="The member's consent: record the grant and make the ticket",
              tags=("access",), auth="bearer", body=ShareDataIn, responses={200: TicketOut},
              errors=(400, 403, 409, 413, 429, 503),
              description="`encrypted_data` is the JWE the page made to the cooperative's key "
                          "(PROTOCOL §6). The ticket is the authorization code: single use, "
                          "5 minutes, bound to the client, redirect URI and PKCE challenge.")
    def share_data(body: ShareDataIn) -> TicketOut:
        member, session = current_member()
        ticket = service.share(services(), oauth_server(), body.oauth_params(), body.coopname,
                               member, session, body.share_data(), client_info())
        return TicketOut(ticket=ticket.ticket, state=ticket.state, mode=ticket.mode,
                         redirect_to=ticket.redirect_to, origin=ticket.origin)

    @bp.post("/deny")
    @endpoint(summary="The member refuses: where to send the refusal", tags=("access",),
              body=DenyIn, responses={200: RefusalOut},
              description="`reason`: `refused` (the member said no) or `not_a_member` (the "
                          "member is not a member of the cooperative yet). The cooperative "
                          "receives `error=access_denied` with `cardcoop_reason` = the reason "
                          "(redirect), or `{type: 'cardcoop:error', error: 'access_denied', "
                          "reason}` (iframe).")
    def deny(body: DenyIn) -> RefusalOut:
        refusal = service.refuse(services(), oauth_server(), body.oauth_params(), body.reason)
        return RefusalOut(error="access_denied", reason=body.reason, state=refusal.state,
                          mode=refusal.mode, redirect_to=refusal.redirect_to,
                          origin=refusal.origin)

    @bp.post("/exchange-ticket")
    @endpoint(summary="Exchange a ticket for the cooperative's access token",
              tags=("cooperatives",), body=ExchangeTicketIn,
              responses={200: TokenOut, **oauth_errors(*TOKEN_ERRORS)}, errors=TOKEN_ERRORS,
              description="The token endpoint with a JSON body: the same as `POST /oauth/token` "
                          "with `grant_type=authorization_code`, `code` = the ticket. Client "
                          "authentication: HTTP Basic or client_id + client_secret.")
    def exchange_ticket(body: ExchangeTicketIn) -> Response:
        params = {"grant_type": "authorization_code", "code": body.ticket}
        for name in ("code_verifier", "redirect_uri", "client_id", "client_secret"):
            if (value := getattr(body, name)) is not None:
                params[name] = value
        return token_response(params)

    @bp.get("/get-encrypted-data/<username>/<coopname>")
    @endpoint(summary="The member's share, for the cooperative holding the token",
              tags=("cooperatives",), auth="coopToken", responses={200: SharedDataOut},
              errors=(403, 404), description="A token reads only its own (username, coopname).")
    def get_encrypted_data(username: str, coopname: str) -> SharedDataOut:
        grant = current_coop_token().grant
        if grant is None or grant.client_id != coopname:
            raise Forbidden("This token is for another cooperative.", code="insufficient_scope")
        if grant.encrypted_data is None:
            raise NotFound("The member shared no data with this cooperative.",
                           code="no_shared_data")
        if grant.username != username:
            raise Forbidden("This token is for another member.", code="insufficient_scope")
        return SharedDataOut(
            encrypted_data=grant.encrypted_data, coopname=grant.client_id,
            username=username, public_key=grant.public_key,
            meta=SharedDataMeta(kid=grant.recipient_kid, schema_id=SCHEMA_ID,
                                shared_fields=grant.shared_fields, scope=grant.scope.split(),
                                granted_at=grant.updated_at))

    @bp.get("/list")
    @endpoint(summary="The cooperatives the member gave access to", tags=("access",),
              auth="memberApi", responses={200: GrantsOut}, errors=(403, 429), reads_only=True)
    def list_grants() -> GrantsOut:
        member, _ = current_member(app_scope=MEMBER_API_SCOPE)
        ctx = services()
        return GrantsOut(grants=[GrantOut(
            id=g.id, coopname=g.client_id, announce=service.announce(ctx, g.client_id),
            username=g.username, scope=g.scope.split(), shared_fields=g.shared_fields,
            created_at=g.created_at, updated_at=g.updated_at)
            for g in service.active_grants(member.id)])

    @bp.delete("/grants/<grant_id>")
    @endpoint(summary="Revoke an access: the cooperative's tokens stop working at once",
              tags=("access",), auth="memberApi", responses={204: None},
              errors=(403, 404, 429))
    def revoke_grant(grant_id: str) -> None:
        member, _ = current_member(app_scope=MEMBER_API_SCOPE)
        try:
            parsed = uuid.UUID(grant_id)
        except ValueError:
            raise NotFound("No such access.", code="grant_not_found") from None
        service.revoke(services(), member, parsed, client_info())

    return bp
