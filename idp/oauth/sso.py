"""Single sign-on at the authorization endpoint (issue #9; OpenID Connect Core §3.1.2.1).

A browser that holds an open idp session and has already consented to a client is signed in
to it again at once, without a page: for the sign-in scopes only. Sharing card data or joining
needs the member's keys, which exist only in the page after the password, so those requests
always show the page.

``prompt``: ``none`` answers without any page (a ticket, or ``login_required`` /
``consent_required`` / ``interaction_required``); ``login`` and ``select_account`` ask for the
password again; ``consent`` shows the consent screen again. ``max_age``: a session whose last
password proof is older asks for the password again. ``auth_time`` in the ID token is that
proof's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from common.db import db, utcnow
from idp.card.service import find_card
from idp.models import AuthSession
from idp.oauth.models import Grant
from idp.oauth.server import APP_SCOPES, OIDC_SCOPES, TicketGrant

SIGN_IN_SCOPES = frozenset(OIDC_SCOPES)
APP_SIGN_IN_SCOPES = SIGN_IN_SCOPES | frozenset(APP_SCOPES)
# prompt=login: the password proof at consent must be this fresh (the page asks for it).
FRESH_LOGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Decision:
    """What the authorization endpoint does with a valid request."""

    show_page: bool = False
    sign_in: Grant | None = None  # the consent that lets the member in at once
    first_party: bool = False  # card.coop's own app: in at once, no consent asked
    error: str | None = None  # an OAuth error for the client (prompt=none)
    description: str | None = None


def prompts(params: Any) -> set[str]:
    return set(str(params.get("prompt") or "").split())


def max_age(params: Any) -> int | None:
    value = params.get("max_age")
    return int(value) if value not in (None, "") else None


def password_too_old(session: AuthSession, params: Any) -> bool:
    """The request wants a password proof newer than this session's last one."""
    age = utcnow() - session.auth_time
    limit = max_age(params)
    if limit is not None and age > timedelta(seconds=limit):
        return True
    return bool(prompts(params) & {"login", "select_account"}) and age > FRESH_LOGIN


def decide(grant: TicketGrant, params: Any, session: AuthSession | None) -> Decision:
    wanted = prompts(params)
    silent = "none" in wanted
    if silent and len(wanted) > 1:
        return Decision(error="invalid_request",
                        description="prompt=none cannot be combined with other values.")
    if session is None or password_too_old(session, params) or \
            (wanted & {"login", "select_account"}):
        # prompt=login always shows the page, even right after a login (it asks again).
        return (Decision(error="login_required", description="The member is not signed in.")
                if silent else Decision(show_page=True))
    scopes = grant.request.scope.split()
    if grant.request.client.first_party and APP_SIGN_IN_SCOPES.issuperset(scopes):
        # No consent screen for card.coop's own apps (idp/oauth/first_party.py), but a card:
        # its id is the subject they know. Without one the page issues it first.
        if find_card(session.member_id) is not None:
            return Decision(first_party=True)
        return (Decision(error="interaction_required",
                         description="The member has no card yet.")
                if silent else Decision(show_page=True))
    if not SIGN_IN_SCOPES.issuperset(scopes):
        return (Decision(error="interaction_required",
                         description="Sharing card data needs the member in the page.")
                if silent else Decision(show_page=True))
    consent = None if "consent" in wanted else earlier_consent(session, grant, scopes)
    if consent is None:
        return (Decision(error="consent_required",
                         description="The member has not consented to this client.")
                if silent else Decision(show_page=True))
    return Decision(sign_in=consent)


def earlier_consent(session: AuthSession, grant: TicketGrant, scopes: list[str]) -> Grant | None:
    """The member's live consent to this client covering every scope asked, if the member
    still has a card (its id is the ``sub`` the client knows)."""
    consent = db.session.scalar(select(Grant).where(
        Grant.member_id == session.member_id, Grant.client_id == grant.request.client.client_id,
        Grant.revoked_at.is_(None)))
    if consent is None or not set(consent.scope.split()).issuperset(scopes):
        return None
    return consent if find_card(session.member_id) is not None else None
