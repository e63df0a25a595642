"""Signing in to the portal: OpenID Connect against idp (Authlib's Flask client: discovery,
code + PKCE S256 + nonce, the ID token checked against idp's JWKS), single sign-on through
idp's session, RP-initiated logout and Back-Channel Logout 1.0 (issue #12).

The portal is a first-party client of idp (idp/oauth/first_party.py): a member who is signed
in at idp comes back at once, without a page; idp's tokens stay on the portal's server.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from common.db import db
from common.settings import Settings
from portal import analytics
from portal.idp_api import IdpUnavailable, Tokens
from portal.services import services
from portal.session_store import ServerSession, end_sessions

log = logging.getLogger("cardcoop.portal.signin")

# The member's API and the card's public facts; no email, no profile (DESIGN §2).
SCOPE = "openid cardcoop:card cardcoop:memberships cardcoop:member"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_MAX_AGE = 300


def init_oidc(app: Flask) -> OAuth:
    settings: Settings = app.extensions["portal"].settings
    oauth = OAuth(app)
    oauth.register(
        "idp", client_id=settings.portal_client_id, client_secret=settings.portal_client_secret,
        server_metadata_url=f"{settings.idp_url}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic", "timeout": 10})
    app.extensions["portal_oauth"] = oauth
    return oauth


def idp_client() -> Any:
    """Authlib's registered client (untyped)."""
    return current_app.extensions["portal_oauth"].idp


def current_session() -> ServerSession:
    assert isinstance(session, ServerSession)
    return session


def make_blueprint() -> Blueprint:
    bp = Blueprint("signin", __name__)

    @bp.get("/auth/login")
    def login() -> ResponseReturnValue:
        if not services().settings.portal_client_secret:
            return render_template("portal/problem.html", problem="not_configured"), 503
        try:
            # idp's page speaks the member's language (OpenID Connect Core §3.1.2.1).
            answer: Response = idp_client().authorize_redirect(
                redirect_uri=callback_url(), ui_locales=str(g.get("lang", "ru")))
            return answer
        except (OAuthError, OSError, ValueError):
            log.warning("idp discovery failed")
            return render_template("portal/problem.html", problem="idp_down"), 503

    @bp.get("/auth/callback")
    def callback() -> ResponseReturnValue:
        if request.args.get("error"):
            # The member refused, or idp could not sign them in: back to the start page.
            return render_template("portal/problem.html", problem="sign_in_failed"), 400
        release_database()
        try:
            token = idp_client().authorize_access_token()
        except (OAuthError, KeyError, ValueError) as error:
            log.info("sign-in refused: %s", type(error).__name__)
            return render_template("portal/problem.html", problem="sign_in_failed"), 400
        except OSError:
            return render_template("portal/problem.html", problem="idp_down"), 503
        claims = token.get("userinfo") or {}
        sub, sid = claims.get("sub"), claims.get("sid")
        if not isinstance(sub, str) or not token.get("refresh_token"):
            return render_template("portal/problem.html", problem="sign_in_failed"), 400
        try:
            tokens = Tokens.from_response(token)
        except IdpUnavailable:
            return render_template("portal/problem.html", problem="sign_in_failed"), 400
        current_session().sign_in(sub=sub, sid=sid if isinstance(sid, str) else None,
                                  tokens=services().idp.box.seal(tokens))
        analytics.note(sub, "sign_in")
        return redirect("/", code=303)

    @bp.post("/auth/logout")
    def logout() -> ResponseReturnValue:
        """Sign out of the portal and of idp (RP-initiated logout): idp ends its session, and
        with it every app the member signed in to with it."""
        ours = current_session()
        row = ours.row
        tokens = services().idp.box.open(row.tokens_encrypted if row else None)
        ours.sign_out()
        settings = services().settings
        params = {"client_id": settings.portal_client_id,
                  "post_logout_redirect_uri": f"{settings.portal_url}/"}
        if tokens is not None and tokens.id_token:
            params["id_token_hint"] = tokens.id_token
        return redirect(f"{settings.idp_url}/oauth/logout?{urlencode(params)}", code=303)

    @bp.post("/auth/backchannel-logout")
    def backchannel_logout() -> ResponseReturnValue:
        """OpenID Connect Back-Channel Logout 1.0 §2.8: a valid logout token ends the portal
        sessions of that idp session; anything else is a 400 and ends nothing."""
        presented = request.form.get("logout_token")
        if not presented or len(presented) > 8_000:
            return _logout_refused("logout_token is missing")
        try:
            claims = verify_logout_token(presented)
        except ValueError as error:
            return _logout_refused(str(error))
        ended = end_sessions(sid=claims.get("sid"), sub=None if claims.get("sid")
                             else claims.get("sub"))
        log.info("back-channel logout ended %d portal session(s)", ended)
        return Response(status=200, headers={"Cache-Control": "no-store"})

    return bp


def release_database() -> None:
    """End the request's read transaction before Authlib calls idp (see IdpClient._call)."""
    db.session.commit()


def callback_url() -> str:
    return f"{services().settings.portal_url}/auth/callback"


def _logout_refused(reason: str) -> Response:
    log.info("back-channel logout refused: %s", reason)
    response = Response('{"error": "invalid_request"}', status=400,
                        mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def verify_logout_token(presented: str) -> dict[str, Any]:
    """§2.6: signed by idp (its JWKS), typ logout+jwt, iss, aud = our client id, recent iat,
    the back-channel logout event, sid or sub, and no nonce."""
    client = idp_client()
    release_database()
    try:
        metadata = client.load_server_metadata()
        keys = KeySet.import_key_set(client.fetch_jwk_set())
        decoded = jwt.decode(presented, keys, algorithms=["RS256", "ES256"])
    except (JoseError, ValueError, KeyError, TypeError, OSError):
        raise ValueError("the logout token does not verify") from None
    if decoded.header.get("typ") != "logout+jwt":
        raise ValueError("not a logout token")
    claims = decoded.claims
    registry = JWTClaimsRegistry(iss={"essential": True, "value": metadata.get("issuer")},
                                 aud={"essential": True,
                                      "value": services().settings.portal_client_id},
                                 iat={"essential": True})
    try:
        registry.validate(claims)
    except JoseError:
        raise ValueError("the logout token's claims do not match") from None
    events = claims.get("events")
    if not isinstance(events, dict) or LOGOUT_EVENT not in events or "nonce" in claims:
        raise ValueError("the logout token names no logout event")
    if not (isinstance(claims.get("sid"), str) or isinstance(claims.get("sub"), str)):
        raise ValueError("the logout token names no session")
    if abs(time.time() - float(claims["iat"])) > LOGOUT_TOKEN_MAX_AGE:
        raise ValueError("the logout token is too old")
    return dict(claims)
