"""``POST /notifications``: card.coop's own apps have idp mail a member (issue #12).

The portal knows a member only by card id: the address stays with idp. A first-party app
authenticates with its client credentials and names the card, one of the kinds apps may send
(a meeting reminder, a contribution due, a digest) and the values of its text; idp puts the
message in its own transactional outbox, which delivers it by SMTP, Novu or the dev mailbox.
``idempotency_key`` makes a retried request (its answer lost) send nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from authlib.oauth2 import OAuth2Error
from flask import Blueprint
from pydantic import Field
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from common.api import Schema, endpoint
from common.db import Base, UtcDateTime, db, inserted_if_absent, utcnow
from common.errors import Forbidden, InvalidRequest, NotFound, Unauthorized
from common.notify import NotificationKind
from common.notify.messages import REQUIRED
from idp.card.models import Card
from idp.models import Member
from idp.services import services

APP_KINDS = (NotificationKind.MEETING_REMINDER, NotificationKind.CONTRIBUTION_DUE,
             NotificationKind.DEPOSIT_ARRIVED, NotificationKind.DIGEST)


class RelayedNotification(Base):
    """The idempotency keys of relayed notifications, so that a retry sends nothing twice."""

    __tablename__ = "idp_relayed_notifications"

    key: Mapped[str] = mapped_column(String(140), primary_key=True)  # client_id:key
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class RelayIn(Schema):
    sub: str = Field(description="The card id (the ID token's sub)",
                     pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    kind: str = Field(description="meeting_reminder | contribution_due | deposit_arrived | "
                                  "digest")
    params: dict[str, str] = Field(max_length=12, description="The values the text needs "
                                   "(docs/notifications.md), plain strings of ≤ 200 characters")
    idempotency_key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")


class RelayOut(Schema):
    accepted: bool
    duplicate: bool = Field(description="The key was seen before: nothing was sent again")


def first_party_client() -> str:
    """The app's HTTP Basic credentials, checked as the token endpoint checks a client's
    (Authlib, through idp's authorization server); its client_id."""
    from idp.access.views import oauth_server

    server = oauth_server()
    try:
        client = server.authenticate_client(server.create_oauth2_request(None),
                                            ["client_secret_basic"], "notifications")
    except OAuth2Error:
        raise Unauthorized("Authenticate with the app's client credentials (HTTP Basic).",
                           code="invalid_client") from None
    if not client.first_party:
        raise Forbidden("Only card.coop's own applications relay notifications.",
                        code="not_first_party")
    return client.client_id


def make_blueprint() -> Blueprint:
    bp = Blueprint("relay", __name__)

    @bp.post("/notifications")
    @endpoint(summary="Mail a member for card.coop's own app (the address stays here)",
              tags=("notifications",), body=RelayIn, auth="clientAuth",
              responses={202: RelayOut}, errors=(400, 401, 403, 404, 413, 429))
    def relay(body: RelayIn) -> tuple[RelayOut, int]:
        client_id = first_party_client()
        if body.kind not in {str(k) for k in APP_KINDS}:
            raise InvalidRequest("No such notification kind for applications.",
                                 code="unknown_kind")
        kind = NotificationKind(body.kind)
        missing = [key for key in REQUIRED[kind] if not body.params.get(key, "").strip()]
        if missing or any(len(v) > 200 or len(k) > 40 for k, v in body.params.items()):
            raise InvalidRequest(f"The text needs: {', '.join(REQUIRED[kind])} (short strings).",
                                 code="invalid_params")
        card = db.session.get(Card, uuid.UUID(body.sub))
        member = db.session.get(Member, card.member_id) if card is not None else None
        if card is None or member is None:
            raise NotFound("No such card.", code="card_not_found")
        fresh = inserted_if_absent(RelayedNotification, key=f"{client_id}:{body.idempotency_key}",
                                   created_at=utcnow())
        if fresh:
            # The card id is the subscriber (Novu): the one the app knows, and mirrors the
            # member's preferences for.
            services().notify(kind, to_email=member.email, subscriber_id=str(card.id),
                              **body.params)
        db.session.commit()
        return RelayOut(accepted=True, duplicate=not fresh), 202

    return bp
