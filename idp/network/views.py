"""The ВОСХОД network's calls to card.coop (issue #11), as MONO's cardcoop extension makes them:
``POST /v1/...`` with a signed envelope and no other authentication, and the two keys it
fetches. Each view is: verify the envelope, check its ``type``, hand it to the service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, request
from pydantic import Field
from werkzeug.wrappers import Response as BaseResponse

from common.api import Schema, endpoint
from common.errors import ApiError, InvalidRequest, NotFound
from common.openapi import Redirect, page_errors
from idp.access.service import registry_answers
from idp.auth.bearer import current_session
from idp.card.service import find_card
from idp.network import disclosures, documents, entry, service
from idp.network.documents import DocumentRefused, SignedDocument
from idp.oauth.errors import error_page
from idp.services import services

# MONO treats every 4xx but 429 as final and retries 429 and 5xx: the errors each call lists.
SIGNED_ERRORS = (400, 403, 404, 413, 429, 503)


class Envelope(Schema):
    """A signed document (docs/integration-guide.md, «ВОСХОД и MONO»)."""

    payload: dict[str, Any] = Field(description="type, coopname (the signer), issued_at "
                                    "(ISO 8601), chain_id, and the fields of the type")
    signature: str = Field(description="SIG_K1_… over sha256 of the RFC 8785 form of payload")
    chain: list[str] = Field(default_factory=list,
                             description="coop-endorsement+jws links, root first")


class Admitted(Schema):
    coopname: str
    display_name: str


class RpClientOut(Schema):  # camelCase: what MONO reads
    clientId: str
    clientSecret: str
    issuer: str


class ConnectOut(Schema):
    rpClient: RpClientOut


class PublicKeyOut(Schema):
    publicKey: str


class IdOut(Schema):
    id: str


class AttestationOut(Schema):
    id: str
    status: str


class GrantKeys(Schema):
    keys: list[dict[str, str]]


class DeliveredOut(Schema):
    id: str
    status: str


class DisclosureOut(Schema):
    id: str
    requester: str
    requester_name: str
    source: str
    source_name: str
    created_at: datetime
    expires_at: datetime


class DisclosuresOut(Schema):
    disclosures: list[DisclosureOut]


class LinkedOut(Schema):
    coopname: str
    coop: str  # its display name


class DecisionOut(Schema):
    id: str
    status: str


def signed(expected_type: str) -> SignedDocument:
    """The request's envelope, verified, of the type this endpoint takes."""
    envelope = request.get_json(silent=True) if request.is_json else None
    if envelope is None:
        raise InvalidRequest("The body must be a JSON signed document.", code="invalid_json")
    ctx = services()
    with registry_answers():  # the registry unreachable: a 503, which MONO retries
        document = documents.verify(envelope, service.trust(ctx))
    if document.payload["type"] != expected_type:
        raise DocumentRefused("wrong_type", f"This endpoint takes a {expected_type} document.")
    return document


def make_blueprint() -> Blueprint:
    bp = Blueprint("network", __name__, url_prefix="/v1")
    tags = ("network",)

    @bp.post("/registrar/announce")
    @endpoint(summary="Admit a cooperative to the network (coop_admission, operator only)",
              tags=tags, body=Envelope, responses={200: Admitted}, errors=SIGNED_ERRORS)
    def announce(body: Envelope) -> Admitted:
        coop = service.admit(services(), signed("coop_admission"))
        return Admitted(coopname=coop.coopname, display_name=coop.display_name)

    @bp.post("/coops/connect")
    @endpoint(summary="Connect an admitted cooperative (coop_connect): its OIDC client here",
              tags=tags, body=Envelope, responses={200: ConnectOut}, errors=SIGNED_ERRORS,
              description="Every connect returns the client with a fresh secret.")
    def connect(body: Envelope) -> ConnectOut:
        rp = service.connect(services(), signed("coop_connect"))
        return ConnectOut(rpClient=RpClientOut(clientId=rp.client_id,
                                               clientSecret=rp.client_secret, issuer=rp.issuer))

    @bp.get("/webhooks/public-key")
    @endpoint(summary="The key card.coop signs webhooks with (ano@cardcoop on chain)",
              tags=tags, responses={200: PublicKeyOut}, errors=(429,))
    def webhook_key() -> PublicKeyOut:
        _, key = services().network_keys.current()
        return PublicKeyOut(publicKey=key.public_key.to_string())

    @bp.get("/disclosures/jwks")
    @endpoint(summary="The key disclosure grants are signed with (ES256K JWK set)", tags=tags,
              responses={200: GrantKeys}, errors=(429,))
    def disclosure_jwks() -> GrantKeys:
        return GrantKeys(**services().network_keys.jwks())

    @bp.post("/attestations")
    @endpoint(summary="A cooperative attests a card holder's membership (membership)",
              tags=tags, body=Envelope, responses={201: IdOut}, errors=SIGNED_ERRORS,
              description="One attestation per cooperative and card: a repeat answers the "
                          "same id.")
    def attest(body: Envelope) -> tuple[IdOut, int]:
        return IdOut(id=service.attest(signed("membership")).id), 201

    @bp.post("/disclosures")
    @endpoint(summary="A cooperative asks another for a holder's profile (disclosure_request)",
              tags=tags, body=Envelope, responses={201: IdOut}, errors=(409, *SIGNED_ERRORS),
              description="The holder decides in card.coop; the id is the grant's jti. 409 "
                          "while an earlier request for the same profile waits.")
    def request_disclosure(body: Envelope) -> tuple[IdOut, int]:
        return IdOut(id=disclosures.request_disclosure(services(), signed("disclosure_request")).id
                     ), 201

    @bp.post("/disclosures/delivered")
    @endpoint(summary="The source reports the profile handed over (disclosure_delivered)",
              tags=tags, body=Envelope, responses={200: DeliveredOut}, errors=SIGNED_ERRORS)
    def disclosure_delivered(body: Envelope) -> DeliveredOut:
        return DeliveredOut(id=disclosures.delivered(signed("disclosure_delivered")).id,
                            status="delivered")

    @bp.post("/attestations/<attestation_id>/revoke")
    @endpoint(summary="The cooperative withdraws its attestation (revocation)", tags=tags,
              body=Envelope, responses={200: AttestationOut}, errors=SIGNED_ERRORS)
    def revoke(body: Envelope, attestation_id: str) -> AttestationOut:
        found = service.revoke(signed("revocation"), attestation_id)
        return AttestationOut(id=found.id, status="revoked")

    return bp


def make_member_blueprint() -> Blueprint:
    """The holder's side of disclosures: the requests waiting for them, and their answer."""
    bp = Blueprint("network_member", __name__)
    tags = ("card",)

    @bp.before_request
    def network_key_first() -> None:
        # An answer signs a grant: the key (made on first use, in a session of its own) must
        # exist before the request writes, or SQLite's one writer would wait for itself.
        services().network_keys.current()

    def my_card_id() -> uuid.UUID:
        claims, _ = current_session()
        card = find_card(claims.member_id)
        if card is None:
            raise NotFound("You have no card yet.", code="no_card")
        return card.id

    @bp.get("/card/disclosures")
    @endpoint(summary="Requests of cooperatives for the member's profile, waiting for an answer",
              tags=tags, auth="bearer", responses={200: DisclosuresOut}, errors=(404, 429))
    def waiting_disclosures() -> DisclosuresOut:
        return DisclosuresOut(disclosures=[
            DisclosureOut(id=d.id, requester=d.requester, requester_name=requester,
                          source=d.source, source_name=source, created_at=d.created_at,
                          expires_at=d.expires_at)
            for d, requester, source in disclosures.pending(my_card_id())])

    @bp.post("/card/entries/<token>")
    @endpoint(summary="Link the member's card to their sign-in at a cooperative (link.created)",
              tags=tags, auth="bearer", responses={200: LinkedOut}, errors=(404, 429),
              description="The token is the one-time one the member app got from "
                          "/source/oauth/callback/{coopname}/, valid 30 minutes.")
    def link_card(token: str) -> LinkedOut:
        linked = entry.link(my_card_id(), token)
        return LinkedOut(coopname=linked.coopname, coop=linked.display_name)

    for answer, allow in (("allow", True), ("deny", False)):
        def decide(disclosure_id: str, allow: bool = allow) -> DecisionOut:
            status = disclosures.decide(services(), my_card_id(), disclosure_id, allow=allow)
            return DecisionOut(id=disclosure_id, status=status)

        bp.add_url_rule(
            f"/card/disclosures/<disclosure_id>/{answer}", f"{answer}_disclosure", endpoint(
                summary=f"The member's answer to a request for their profile: {answer}",
                tags=tags, auth="bearer", responses={200: DecisionOut},
                errors=(404, 429))(decide), methods=["POST"])

    return bp


# The member's words for what can go wrong on the way from a cooperative to a card.
ENTRY_WORDS = {
    "unknown_cooperative": {"ru": "Этот кооператив не выпускает карты через card.coop.",
                            "en": "This cooperative does not issue cards through card.coop."},
    "coopid_unavailable": {"ru": "Вход в кооперативе сейчас не отвечает. Попробуйте позже.",
                           "en": "The cooperative’s sign-in does not answer now. Try again "
                                 "later."},
    "entry_mismatch": {"ru": "Вход начался не в этом браузере или занял слишком много времени. "
                             "Начните заново на сайте кооператива.",
                       "en": "The sign-in did not start in this browser, or took too long. "
                             "Start again on the cooperative’s site."},
    "entry_cancelled": {"ru": "Вход в кооперативе отменён.",
                        "en": "The sign-in at the cooperative was cancelled."},
    "entry_invalid": {"ru": "Ответ кооператива не удалось проверить. Начните заново на сайте "
                            "кооператива.",
                      "en": "The cooperative’s answer could not be verified. Start again on "
                            "the cooperative’s site."},
}


def make_entry_blueprint() -> Blueprint:
    """Card issuance from a cooperative (idp.network.entry): pages for a person's browser."""
    bp = Blueprint("network_entry", __name__)

    def refused(error: ApiError) -> BaseResponse:
        return error_page(detail=error.message, status=error.status,
                          message=ENTRY_WORDS.get(error.code, ENTRY_WORDS["entry_invalid"]))

    @bp.get("/enter/<coopname>")
    @endpoint(summary="Card issuance from a cooperative: sign in at its CoopID first",
              tags=("network",), responses={302: Redirect, **page_errors(404, 503)},
              errors=(404, 503),
              description="The link MONO shows its members. Redirects to the cooperative's "
                          "CoopID (code + PKCE S256, state, nonce); error pages for a person.")
    def enter(coopname: str) -> BaseResponse:
        ctx = services()
        try:
            started = entry.start(ctx, coopname)
        except ApiError as error:
            return refused(error)
        response = redirect(started.location, code=302)
        response.set_cookie(entry.COOKIE, started.cookie, max_age=entry.FLOW_SECONDS,
                            path="/source/oauth/callback/", httponly=True, samesite="Lax",
                            secure=ctx.settings.idp_url.startswith("https://"))
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/source/oauth/callback/<coopname>/")
    @endpoint(summary="The CoopID's answer: on to the member app with a one-time entry token",
              tags=("network",), responses={303: Redirect, **page_errors(403, 404, 503)},
              errors=(403, 404, 503),
              description="The redirect URI card.coop registers at each cooperative's CoopID. "
                          "Checks state (a cookie of this browser), the code and the ID token.")
    def callback(coopname: str) -> BaseResponse:
        try:
            token = entry.finish(services(), coopname, request.args.to_dict(),
                                 request.cookies.get(entry.COOKIE))
        except ApiError as error:
            return refused(error)
        # The token rides in the fragment: never sent to a server, never in a Referer.
        response = redirect(f"/#/enter/{token}", code=303)
        response.delete_cookie(entry.COOKIE, path="/source/oauth/callback/")
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp

