"""Card issuance from a cooperative (issue #11): ``{idp}/enter/{coopname}``, the link MONO shows
in its members' desk.

1. ``GET /enter/{coopname}``: card.coop, as the OpenID Connect client the cooperative gave it in
   ``coop_connect``, sends the browser to the cooperative's CoopID (code + PKCE S256, ``state``
   and ``nonce``), with ``{idp}/source/oauth/callback/{coopname}/`` as its redirect URI. What
   the callback must check rides in a signed, HttpOnly, SameSite=Lax cookie bound to this
   browser (a login CSRF cannot splice another person's answer in).
2. The callback exchanges the code (``client_secret_post``) and checks the ID token (the CoopID's
   JWKS, ``iss``, ``aud``, ``exp``, ``nonce``): its ``sub`` is the member's subject at the
   cooperative. The browser goes on to the member app with a one-time entry token in the URL
   fragment (never sent to a server or in a Referer).
3. The member signs in to (or registers with) card.coop and opens their card as always — the
   card is encrypted in the browser, so no server can make it for them — and the app hands the
   entry token in: ``POST /card/entries/{token}`` links the card to the subject and tells the
   cooperative (``link.created``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from cardcoop.protocol.encoding import b64u_encode
from common.db import compare_and_set, db, utcnow
from common.errors import Forbidden, NotFound, ServiceUnavailable
from idp.card.models import Card
from idp.network import webhooks
from idp.network.models import NetworkCooperative, NetworkEntry
from idp.network.service import oidc_client_secret
from idp.services import IdpServices

COOKIE = "cardcoop_entry"
FLOW_SECONDS = 600  # the CoopID sign-in must come back within ten minutes
ENTRY_TTL = timedelta(minutes=30)  # then the member has half an hour to open their card
SCOPE = "openid email profile coop:membership"  # what MONO's CoopID client for card.coop has
TIMEOUT = 10.0


@dataclass(frozen=True)
class Started:
    location: str
    cookie: str


def _serializer(ctx: IdpServices) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.derived_secret("network-entry").hex(),
                                  salt="cardcoop-entry")


def callback_url(ctx: IdpServices, coopname: str) -> str:
    return f"{ctx.settings.idp_url.rstrip('/')}/source/oauth/callback/{coopname}/"


def _coop(coopname: str) -> NetworkCooperative:
    coop = db.session.get(NetworkCooperative, coopname) if len(coopname) <= 12 else None
    if coop is None or coop.connected_at is None or not coop.oidc_issuer \
            or not coop.oidc_client_id:
        raise NotFound("This cooperative does not issue cards through card.coop.",
                       code="unknown_cooperative")
    return coop


def _discovery(issuer: str) -> dict[str, Any]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = requests.get(url, timeout=TIMEOUT)
        document = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError):
        document = None
    if not isinstance(document, dict) or not all(
            isinstance(document.get(k), str) for k in
            ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise ServiceUnavailable("The cooperative's sign-in does not answer; try again later.",
                                 code="coopid_unavailable")
    return document


def start(ctx: IdpServices, coopname: str) -> Started:
    coop = _coop(coopname)
    assert coop.oidc_issuer is not None and coop.oidc_client_id is not None
    endpoints = _discovery(coop.oidc_issuer)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = b64u_encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({"response_type": "code", "client_id": coop.oidc_client_id,
                       "redirect_uri": callback_url(ctx, coopname), "scope": SCOPE,
                       "state": state, "nonce": nonce, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    cookie = _serializer(ctx).dumps({"coop": coopname, "state": state, "nonce": nonce,
                                     "verifier": verifier})
    return Started(f"{endpoints['authorization_endpoint']}?{query}", cookie)


def finish(ctx: IdpServices, coopname: str, args: dict[str, str], cookie: str | None) -> str:
    """The CoopID's answer checked; the one-time entry token for the member app."""
    try:
        flow = _serializer(ctx).loads(cookie or "", max_age=FLOW_SECONDS)
    except BadSignature:
        flow = None
    if not isinstance(flow, dict) or flow.get("coop") != coopname \
            or not secrets.compare_digest(str(flow.get("state")), args.get("state", "")):
        raise Forbidden("This sign-in did not start in this browser, or took too long. "
                        "Start again from your cooperative.", code="entry_mismatch")
    if "error" in args or not args.get("code"):
        raise Forbidden("The cooperative's sign-in was cancelled.", code="entry_cancelled")
    coop = _coop(coopname)
    assert coop.oidc_issuer is not None and coop.oidc_client_id is not None
    endpoints = _discovery(coop.oidc_issuer)
    claims = _id_token_claims(ctx, coop, endpoints, args["code"], flow)
    token = secrets.token_urlsafe(32)
    db.session.add(NetworkEntry(
        token_hash=hashlib.sha256(token.encode()).hexdigest(), coopname=coopname,
        external_subject=str(claims["sub"]), expires_at=utcnow() + ENTRY_TTL))
    db.session.commit()
    return token


def _id_token_claims(ctx: IdpServices, coop: NetworkCooperative, endpoints: dict[str, Any],
                     code: str, flow: dict[str, Any]) -> dict[str, Any]:
    refused = ServiceUnavailable("The cooperative's sign-in did not confirm who you are; try "
                                 "again later.", code="coopid_unavailable")
    try:
        answer = requests.post(endpoints["token_endpoint"], timeout=TIMEOUT, data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": callback_url(ctx, coop.coopname),
            "client_id": coop.oidc_client_id, "client_secret": oidc_client_secret(ctx, coop),
            "code_verifier": flow["verifier"]})
        id_token = answer.json().get("id_token") if answer.status_code == 200 else None
        keys = KeySet.import_key_set(requests.get(endpoints["jwks_uri"], timeout=TIMEOUT).json())
    except (requests.RequestException, ValueError, JoseError):
        raise refused from None
    if not isinstance(id_token, str):
        raise refused
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": str(coop.oidc_issuer)},
            aud={"essential": True, "value": str(coop.oidc_client_id)},
            nonce={"essential": True, "value": flow["nonce"]},
            sub={"essential": True}, exp={"essential": True}).validate(token.claims)
    except (JoseError, ValueError):
        raise Forbidden("The cooperative's answer could not be verified. Start again from "
                        "your cooperative.", code="entry_invalid") from None
    return dict(token.claims)


@dataclass(frozen=True)
class Linked:
    coopname: str
    display_name: str


def link(card_id: uuid.UUID, token: str) -> Linked:
    """``POST /card/entries/{token}``: the card linked to the subject, ``link.created`` queued.
    An entry token works once (parallel copies meet the compare-and-set)."""
    if not 20 <= len(token) <= 100:
        raise NotFound("This card link is unknown or has expired.", code="unknown_entry")
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    now = utcnow()
    if not compare_and_set(NetworkEntry, NetworkEntry.token_hash == token_hash,
                           NetworkEntry.used_at.is_(None), NetworkEntry.expires_at > now,
                           used_at=now, card_id=card_id):
        db.session.rollback()
        raise NotFound("This card link is unknown or has expired. Start again from your "
                       "cooperative.", code="unknown_entry")
    entry = db.session.get(NetworkEntry, token_hash)
    card = db.session.get(Card, card_id)
    coop = db.session.get(NetworkCooperative, entry.coopname) if entry else None
    assert entry is not None and card is not None and coop is not None
    webhooks.queue(db.session, entry.coopname, "link.created", {
        "card_id": str(card_id), "card_number": card.number, "coopname": entry.coopname,
        "external_subject": entry.external_subject, "origin": "enter"})
    db.session.commit()
    return Linked(coop.coopname, coop.display_name)
