"""Password change (issue #3, PROTOCOL §3): the member proves the current password, sends the
new proof and the same card key re-wrapped under the new enc_key. Nothing is re-encrypted; the
swap is one transaction; every other session ends; the member is told."""

from __future__ import annotations

from sqlalchemy import select

from common.db import db, utcnow
from common.errors import Conflict, Forbidden, InvalidRequest
from common.notify import NotificationKind
from common.security import ClientInfo
from idp import audit
from idp.auth import lockout
from idp.auth.sessions import revoke_all
from idp.card.envelopes import CARD_KEY, check_envelope
from idp.card.models import Card
from idp.models import AuthSession, Member
from idp.passwords import parse_hash_key
from idp.services import IdpServices


def require_password(ctx: IdpServices, member: Member, hash_key_b64u: str,
                     client: ClientInfo) -> None:
    """Re-authentication for sensitive changes: a stolen access token alone is not enough.
    Wrong passwords here count toward the same lockout as at login, or a stolen token would
    buy unlimited guesses."""
    hash_key = parse_hash_key(hash_key_b64u)
    lockout.reserve_try(ctx, member.email)  # commits
    if not ctx.verifier.check(member.verifier, hash_key):
        audit.record("reauth_failed", client=client, member_id=member.id, actor=str(member.id))
        lockout.after_wrong_password(ctx, member.email, member.id, client)
        db.session.commit()
        raise Forbidden("The current password is not right.", code="wrong_password")
    lockout.clear(member.email)


def set_password(ctx: IdpServices, member: Member, new_hash_key_b64u: str,
                 wrapped_card_key: str | None, kdf_iterations: int | None) -> None:
    """Swap verifier and wrapped card key together (caller commits): a card key wrapped under
    one password beside the verifier of another would lock the member out of their card. Used
    by the password change and by recovery."""
    card = db.session.scalar(select(Card).where(Card.member_id == member.id))
    if card is not None:
        if wrapped_card_key is None:
            raise InvalidRequest("wrapped_card_key is required: the card key must be re-wrapped.",
                                 code="wrapped_card_key_required")
        check_envelope("wrapped_card_key", wrapped_card_key, CARD_KEY)
        card.wrapped_card_key = wrapped_card_key
    elif wrapped_card_key is not None:
        raise Conflict("There is no card whose key could be re-wrapped.", code="card_not_found")
    member.verifier = ctx.verifier.make(parse_hash_key(new_hash_key_b64u, "newHashKey"))
    if kdf_iterations is not None:
        member.kdf_iterations = kdf_iterations
    # The new keys are derived from the canonical email (PROTOCOL §2): a v1.0 salt kept as
    # kdf_email (migration 0006) is no longer the one to hand out.
    member.kdf_email = None
    member.password_changed_at = utcnow()


def change_password(ctx: IdpServices, session: AuthSession, hash_key: str, new_hash_key: str,
                    wrapped_card_key: str | None, kdf_iterations: int | None,
                    client: ClientInfo) -> None:
    member = session.member
    require_password(ctx, member, hash_key, client)
    set_password(ctx, member, new_hash_key, wrapped_card_key, kdf_iterations)
    revoke_all(member.id, keep=session.id, reason="password_changed")
    audit.record("password_changed", client=client, member_id=member.id, actor=str(member.id))
    notify_password_changed(ctx, member, client)
    db.session.commit()


def notify_password_changed(ctx: IdpServices, member: Member, client: ClientInfo) -> None:
    ctx.notify(NotificationKind.PASSWORD_CHANGED, to_email=member.email,
               subscriber_id=str(member.id), ip=client.ip, user_agent=client.user_agent,
               at=utcnow().isoformat(timespec="seconds"))
