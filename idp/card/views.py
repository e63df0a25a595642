"""/card/*: thin views over the card service; every route but the schema needs the member's
Bearer token."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify

from common.api import endpoint
from common.security import client_info
from idp.access.service import memberships
from idp.auth.bearer import MEMBER_API_SCOPE, current_session
from idp.card import service
from idp.card.models import CoopAccount
from idp.card.schemas import (
    AccountIn,
    AccountOut,
    AccountsOut,
    CardMeta,
    CardOut,
    CardOverviewOut,
    IssueCardIn,
    IssueCardOut,
    MembershipOut,
    PublicAccountOut,
    UpdateCardIn,
    UpdateCardOut,
)
from idp.services import services

TAG = ("card",)
SCHEMA_FILE = Path(__file__).with_name("schema_v1.json")


@cache
def card_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def account_out(account: CoopAccount) -> AccountOut:
    return AccountOut(coopname=account.coopname, username=account.username,
                      public_key=account.public_key, encrypted_account=account.encrypted_account,
                      created_at=account.created_at)


def card_out(card: dict[str, Any], accounts: list[dict[str, Any]]) -> CardOut:
    """From ``service.read_card``'s rows."""
    return CardOut(card_id=card["id"], card_number=card["number"],
                   encrypted_personal_data=card["encrypted_personal_data"],
                   wrapped_card_key=card["wrapped_card_key"],
                   meta=CardMeta.model_validate(card["meta"], strict=False),
                   revision=card["revision"],
                   accounts=[AccountOut(**{name: a[name] for name in AccountOut.model_fields})
                             for a in accounts])


def make_blueprint() -> Blueprint:
    bp = Blueprint("card", __name__)

    @bp.get("/card/schema")
    @endpoint(summary="The JSON Schema of the card's personal data", tags=TAG,
              responses={200: None}, errors=(429,),
              description="JSON Schema 2020-12, $id card.coop/schema/v1: oneOf individual, "
                          "entrepreneur, organization. Clients build forms from it and validate "
                          "against it before encrypting.")
    def schema() -> Response:
        response = jsonify(card_schema())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.post("/card/issue")
    @endpoint(summary="Issue the member's card (ciphertext only)", tags=TAG, body=IssueCardIn,
              auth="bearer", responses={201: IssueCardOut}, errors=(400, 409, 413, 429))
    def issue(body: IssueCardIn) -> tuple[IssueCardOut, int]:
        claims, _ = current_session()
        card = service.issue(claims.member_id, body, client_info())
        return IssueCardOut(card_id=card.id), 201

    @bp.get("/card")
    @endpoint(summary="The member's card, as stored (ciphertext)", tags=TAG, auth="bearer",
              responses={200: CardOut}, errors=(404, 429), reads_only=True)
    def read() -> CardOut:
        claims, _ = current_session()
        return card_out(*service.read_card(claims.member_id))

    @bp.put("/card")
    @endpoint(summary="Replace the personal data (optimistic concurrency on revision)", tags=TAG,
              body=UpdateCardIn, auth="bearer", responses={200: UpdateCardOut},
              errors=(400, 404, 409, 413, 429))
    def replace(body: UpdateCardIn) -> UpdateCardOut:
        claims, _ = current_session()
        card = service.replace_personal_data(claims.member_id, body, client_info())
        return UpdateCardOut(card_id=card.id, revision=card.revision)

    @bp.post("/card/add-account")
    @endpoint(summary="Add the member's account in a cooperative", tags=TAG, body=AccountIn,
              auth="bearer", responses={201: AccountOut}, errors=(400, 404, 409, 413, 429))
    def add_account(body: AccountIn) -> tuple[AccountOut, int]:
        claims, _ = current_session()
        return account_out(service.add_account(claims.member_id, body, client_info())), 201

    @bp.get("/card/overview")
    @endpoint(summary="The card without ciphertext: number, accounts, memberships", tags=TAG,
              auth="memberApi", responses={200: CardOverviewOut}, errors=(403, 404, 429, 503),
              reads_only=True,
              description="The member's API for card.coop's own apps (scope `cardcoop:member`) "
                          "and the member's pages: the card's public facts. Memberships are "
                          "read from ВОСХОД now (503 when it does not answer).")
    def overview() -> CardOverviewOut:
        claims, _ = current_session(app_scope=MEMBER_API_SCOPE)
        card = service.get_card(claims.member_id)
        return CardOverviewOut(
            card_id=card.id, card_number=card.number, created_at=card.created_at,
            accounts=[PublicAccountOut(coopname=a.coopname, username=a.username,
                                       public_key=a.public_key, created_at=a.created_at)
                      for a in card.accounts],
            memberships=[MembershipOut(**m) for m in memberships(services(), card)])

    @bp.get("/card/accounts")
    @endpoint(summary="The member's cooperative accounts", tags=TAG, auth="bearer",
              responses={200: AccountsOut}, errors=(429,), reads_only=True)
    def accounts() -> AccountsOut:
        claims, _ = current_session()
        card = service.find_card(claims.member_id)
        return AccountsOut(accounts=[account_out(a) for a in (card.accounts if card else [])])

    return bp
