"""``GET /cooperatives``: the cooperatives where the member is a member, checked through the
registry for every cooperative account on the member's card — the card says which accounts the
member holds, the chain says whether the cooperative accepted them."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint

from common.api import Schema, endpoint
from common.voskhod import UnknownCooperative
from idp.access.service import registry_answers
from idp.auth.bearer import current_session
from idp.card.service import find_card
from idp.services import services


class CooperativeOut(Schema):
    coopname: str
    announce: str
    username: str
    public_key: str
    member_since: datetime | None


class CooperativesOut(Schema):
    cooperatives: list[CooperativeOut]


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

    return bp
