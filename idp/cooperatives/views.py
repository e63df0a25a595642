"""``GET /cooperatives``: the cooperatives where the member is a member, checked through the
registry for every cooperative account on the member's card — the card says which accounts the
member holds, the chain says whether the cooperative accepted them."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import Field

from common.api import Schema, endpoint
from common.voskhod import UnknownCooperative
from idp.access.service import registry_answers
from idp.auth.bearer import current_session
from idp.card.service import find_card
from idp.oauth import clients
from idp.services import services


class CooperativeOut(Schema):
    coopname: str
    announce: str
    username: str
    public_key: str
    member_since: datetime | None


class CooperativesOut(Schema):
    cooperatives: list[CooperativeOut]


class SiteOut(Schema):
    coopname: str
    client_uri: str = Field(description="The cooperative's site")
    initiate_login_uri: str | None = Field(
        description="Where a sign-in at the site starts (OpenID Connect Core §4): send the "
                    "member there with `iss` (and `target_link_uri`) and they arrive signed "
                    "in through idp's single sign-on")
    join_uri: str | None = Field(
        description="Where the cooperative's own join with the member card starts: its "
                    "authorization request with scope `account`, in which the member's "
                    "browser makes the new account's keys")


class SitesOut(Schema):
    sites: list[SiteOut]


def make_blueprint() -> Blueprint:
    bp = Blueprint("cooperatives", __name__)

    @bp.get("/cooperatives")
    @endpoint(summary="The cooperatives where the member is a member (checked with ВОСХОД)",
              tags=("cooperatives",), auth="bearer", responses={200: CooperativesOut},
              errors=(429, 503))
    def cooperatives() -> CooperativesOut:
        claims, _ = current_session()
        card = find_card(claims.member_id)
        registry = services().registry
        found = []
        with registry_answers():
            for account in card.accounts if card else []:
                membership = registry.membership(account.coopname, account.username)
                if not membership.is_member:
                    continue
                try:
                    coop = registry.cooperative(account.coopname)
                except UnknownCooperative:
                    continue  # deregistered since: not a cooperative to show
                found.append(CooperativeOut(
                    coopname=coop.coopname, announce=coop.announce, username=account.username,
                    public_key=coop.public_key, member_since=membership.member_since))
        return CooperativesOut(cooperatives=found)

    @bp.get("/cooperatives/sites")
    @endpoint(summary="Where the cooperatives' sites are, and where sign-ins there start",
              tags=("cooperatives",), responses={200: SitesOut}, errors=(429,),
              reads_only=True,
              description="Public: what cooperatives registered about their sites. The portal "
                          "links each member's cooperatives with it; names stay with the "
                          "ВОСХОД registry.")
    def sites() -> SitesOut:
        return SitesOut(sites=[SiteOut(coopname=c.client_id, client_uri=c.client_uri or "",
                                       initiate_login_uri=c.initiate_login_uri,
                                       join_uri=c.join_uri)
                               for c in clients.directory()])

    return bp
