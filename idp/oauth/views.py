"""The standard OAuth 2.0 / OpenID Connect endpoints, and the aliases the ВОСХОД platform's
card.coop client uses (``/application/o/...``, Authentik's layout)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from common.api import Schema, endpoint
from common.errors import Forbidden
from common.openapi import HtmlPage, Redirect, oauth_errors, page_errors
from common.security import CSP, client_info
from idp.access import service
from idp.access.schemas import TokenOut
from idp.access.service import oauth_error, with_response_params
from idp.access.views import oauth_server, token_response
from idp.auth import browser, cookie
from idp.oauth import first_party, sso
from idp.oauth.bearer import current_coop_token
from idp.oauth.errors import error_page, speak_the_protocol
from idp.oauth.schemas import IntrospectionOut, RevocationOut
from idp.oauth.server import SCOPES, claims_for_scope, confirmed_in_page
from idp.services import services
from idp.tokens import ID_TOKEN_ALGS

ALIASES = "/application/o"
LOGOUT_PARAMS = ("client_id", "post_logout_redirect_uri", "state", "ui_locales")
CLAIMS = ("sub", "sid", "email", "email_verified", "card_number", "memberships", "iss", "aud",
          "exp", "iat", "auth_time", "nonce", "at_hash", "amr")


class ProviderMetadata(Schema):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    end_session_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    claims_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    claims_parameter_supported: bool
    request_parameter_supported: bool
    request_uri_parameter_supported: bool
    backchannel_logout_supported: bool
    backchannel_logout_session_supported: bool


class UserInfoOut(Schema):
    sub: str = Field(description="The card id")
    sid: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    card_number: str | None = None
    memberships: list[dict[str, Any]] | None = None


def metadata() -> ProviderMetadata:
    issuer = services().tokens.issuer
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return ProviderMetadata(
        issuer=issuer, authorization_endpoint=f"{issuer}/oauth/authorize",
        token_endpoint=f"{issuer}/oauth/token", userinfo_endpoint=f"{issuer}/oauth/userinfo",
        jwks_uri=f"{issuer}/.well-known/jwks.json",
        revocation_endpoint=f"{issuer}/oauth/revoke",
        introspection_endpoint=f"{issuer}/oauth/introspect",
        end_session_endpoint=f"{issuer}/oauth/logout", scopes_supported=list(SCOPES),
        response_types_supported=["code"], response_modes_supported=["query"],
        grant_types_supported=["authorization_code"], subject_types_supported=["public"],
        id_token_signing_alg_values_supported=list(ID_TOKEN_ALGS),
        token_endpoint_auth_methods_supported=auth_methods,
        revocation_endpoint_auth_methods_supported=auth_methods,
        introspection_endpoint_auth_methods_supported=auth_methods,
        code_challenge_methods_supported=["S256"], claims_supported=list(CLAIMS),
        authorization_response_iss_parameter_supported=True, claims_parameter_supported=False,
        request_parameter_supported=False, request_uri_parameter_supported=False,
        backchannel_logout_supported=True, backchannel_logout_session_supported=True)


def authorize() -> ResponseReturnValue:
    """Validate the request, then serve the member's page, which logs in, asks for consent and
    encrypts the share in the browser. Errors that cannot be trusted to the redirect URI
    (unknown client, unregistered URI or origin) are shown here and never redirected."""
    server = oauth_server()
    ctx = services()
    session = browser.session_of(ctx, cookie.presented())
    try:
        grant = server.get_consent_grant(end_user=session.member if session else None)
    except OAuth2Error as error:
        redirect_uri = getattr(error, "redirect_uri", None)
        if redirect_uri:
            location = with_response_params(services(), redirect_uri, {
                "error": error.error, "error_description": error.description or None,
                "state": request.args.get("state")})
            return Response(status=302, headers={"Location": location})
        return error_page(oauth_error(error).message)
    decision = sso.decide(grant, request.args, session)
    if decision.first_party and session is not None:
        return _answer_at_once(grant, {"code": first_party.sign_in(ctx, grant, session,
                                                                   client_info())})
    if decision.sign_in is not None and session is not None:
        ticket = service.sign_in_again(ctx, grant, decision.sign_in, session, client_info())
        return _answer_at_once(grant, {"code": ticket})
    if decision.error is not None:
        return _answer_at_once(grant, {"error": decision.error,
                                       "error_description": decision.description})
    client = grant.request.client
    return _framable(grant, Response(render_template(
        # What the member reads before logging in: the cooperative's name, never its id. A
        # first-party app's page comes back here after the login (it needs no consent).
        "idp/app.html", first_party=client.first_party,
        coop_name=None if client.first_party else service.cooperative_name(ctx,
                                                                          client.client_id))))


def _framable(grant: Any, response: Response) -> Response:
    """The iframe method: only the one registered origin that asked may frame the page."""
    if not grant.redirect_uri:
        origin = request.args["origin"]
        response.headers["Content-Security-Policy"] = (
            CSP.replace("frame-ancestors 'none'", f"frame-ancestors {origin}"))
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer_at_once(grant: Any, answer: dict[str, str | None]) -> Response:
    """Single sign-on and prompt=none: the authorization response without a page, by redirect
    (RFC 6749 §4.1.2, with iss) or, in the iframe method, posted to the validated origin."""
    state = request.args.get("state")
    if grant.redirect_uri:
        location = with_response_params(services(), grant.redirect_uri, {**answer, "state": state})
        return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})
    message: dict[str, str | None] = (
        {"type": "cardcoop:ticket", "ticket": answer["code"], "state": state} if "code" in answer
        else {"type": "cardcoop:error", "error": answer["error"], "state": state})
    return _framable(grant, Response(render_template(
        "idp/frame_answer.html", origin=request.args["origin"], message=message)))


def token() -> Response:
    return token_response()


def userinfo() -> ResponseReturnValue:
    token = current_coop_token()
    if "openid" not in token.scope.split():
        raise Forbidden("This token was not issued for OpenID Connect.",
                        code="insufficient_scope")
    return jsonify(claims_for_scope(token.claims, token.scope))


def make_blueprint() -> Blueprint:
    bp = Blueprint("oauth", __name__)
    speak_the_protocol(bp)

    documented_authorize = endpoint(
        summary="Authorization endpoint (authorization code + PKCE S256)", tags=("oauth",),
        responses={200: HtmlPage, 302: Redirect, **page_errors(400, 429)}, errors=(400, 429),
        description="Serves the member's page (login, consent, in-browser encryption). Without "
                    "redirect_uri it is the iframe method and `origin` is required.")(authorize)
    bp.add_url_rule("/oauth/authorize", "authorize", documented_authorize, methods=["GET"])
    bp.add_url_rule(f"{ALIASES}/authorize/", "authorize_alias", documented_authorize,
                    methods=["GET"])

    documented_token = endpoint(
        summary="Token endpoint (RFC 6749 §4.1.3)", tags=("oauth",),
        responses={200: TokenOut, **oauth_errors(400, 401, 413, 429)},
        errors=(400, 401, 413, 429),
        description="Form-encoded: grant_type=authorization_code, code, redirect_uri, "
                    "code_verifier; client_secret_basic or client_secret_post.")(token)
    bp.add_url_rule("/oauth/token", "token", documented_token, methods=["POST"])
    bp.add_url_rule(f"{ALIASES}/token/", "token_alias", documented_token, methods=["POST"])

    documented_userinfo = endpoint(
        summary="UserInfo (OpenID Connect Core §5.3)", tags=("oauth",), auth="coopToken",
        responses={200: UserInfoOut, **oauth_errors(400, 401, 403, 429)},
        errors=(403, 429))(userinfo)
    for path, name in (("/oauth/userinfo", "userinfo"),
                       (f"{ALIASES}/userinfo/", "userinfo_alias")):
        bp.add_url_rule(path, name, documented_userinfo, methods=["GET", "POST"])

    @bp.post("/oauth/revoke")
    @endpoint(summary="Token revocation (RFC 7009)", tags=("oauth",), auth="clientAuth",
              responses={200: RevocationOut, **oauth_errors(400, 401, 413, 429)},
              errors=(400, 413, 429))
    def revoke() -> ResponseReturnValue:
        response: Response = oauth_server().create_endpoint_response("revocation")
        return response

    @bp.post("/oauth/introspect")
    @endpoint(summary="Token introspection (RFC 7662)", tags=("oauth",), auth="clientAuth",
              responses={200: IntrospectionOut, **oauth_errors(400, 401, 413, 429)},
              errors=(400, 413, 429))
    def introspect() -> ResponseReturnValue:
        response: Response = oauth_server().create_endpoint_response("introspection")
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.route("/oauth/logout", methods=["GET", "POST"])
    @endpoint(summary="RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0)",
              tags=("oauth",),
              responses={200: HtmlPage, 302: Redirect, **page_errors(400, 413, 429)},
              errors=(400, 413, 429))
    def logout() -> ResponseReturnValue:
        server = oauth_server()
        try:
            validated = server.validate_endpoint_request("end_session")
        except OAuth2Error as error:
            return error_page(oauth_error(error).message)
        if not validated.id_token_claims and not confirmed_in_page() and \
                browser.session_of(services(), cookie.presented()) is not None:
            # No ID token names the session: the member says whether to sign out.
            return Response(render_template("idp/logout_confirm.html", params={
                name: request.values[name] for name in LOGOUT_PARAMS if name in request.values}))
        response = server.create_endpoint_response("end_session", validated)
        return response or Response(render_template("idp/logged_out.html"))

    @bp.get("/.well-known/openid-configuration")
    @endpoint(summary="OpenID Provider metadata (discovery)", tags=("oauth",),
              responses={200: ProviderMetadata}, errors=(429,))
    def discovery() -> ResponseReturnValue:
        response = jsonify(metadata().model_dump())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.get("/.well-known/oauth-authorization-server")
    @endpoint(summary="OAuth 2.0 Authorization Server Metadata (RFC 8414)", tags=("oauth",),
              responses={200: ProviderMetadata}, errors=(429,))
    def as_metadata() -> ResponseReturnValue:
        return discovery()

    return bp
