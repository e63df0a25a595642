"""A sign-in's writes in one round trip (issue #10).

After the right password, complete-login clears the email's failure count, records the sign-in
in the audit log, opens the session and stores its first refresh token. On PostgreSQL that is
one statement, three data-modifying CTEs and an INSERT, atomic on an autocommit connection (the
refresh token's foreign key is checked at the end of the statement, when its session exists).

Where the sign-in writes more in the same transaction (the new-device email, a verifier
rehashed under raised Argon2 costs), and on SQLite, which has no data-modifying CTEs, the same
rows go through the request's session and one commit.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, delete, insert

from common.db import HotStatement, db
from common.security import ClientInfo
from idp import audit
from idp.auth import lockout
from idp.auth.devices import device_name
from idp.auth.sessions import Opening, Tokens, open_session, token_hash
from idp.models import AuditEvent, AuthSession, RefreshToken, Timestamp
from idp.models import CredentialFailures as Failures
from idp.services import IdpServices

_now = bindparam("now", type_=Timestamp)
_session_id = bindparam("session_id_", type_=AuthSession.id.type)
_member_id = bindparam("member_id_", type_=AuthSession.member_id.type)
_cleared = delete(Failures).where(Failures.email == bindparam("failed_email")).cte("cleared")
_audited = insert(AuditEvent).values(
    at=_now, event="login_ok", member_id=_member_id, actor=bindparam("actor_"),
    ip=bindparam("audit_ip"), details=bindparam("details_")).cte("audited")
_opened = insert(AuthSession).values(
    id=_session_id, member_id=_member_id, user_agent=bindparam("user_agent_"),
    ip=bindparam("ip_"), created_at=_now, last_used_at=_now, auth_time=_now,
    expires_at=bindparam("expires_at_"), revoked_at=None, revoke_reason=None,
    cookie_hash=bindparam("cookie_hash_")).cte("opened")
_SIGNED_IN = HotStatement(
    insert(RefreshToken).values(session_id=_session_id, token_hash=bindparam("refresh_hash"),
                                created_at=_now, rotated_at=None, client_id=None)
    .add_cte(_cleared, _audited, _opened))


def signed_in(ctx: IdpServices, member_id: uuid.UUID, email: str, client: ClientInfo, *,
              session_has_writes: bool) -> Tokens:
    """Clear the failures of ``email``, record the sign-in and open the session; committed.
    ``session_has_writes``: the request's session holds writes that must commit with these."""
    device = device_name(client.user_agent)
    if session_has_writes or db.engine.dialect.name != "postgresql":
        lockout.clear(email)
        audit.record("login_ok", client=client, member_id=member_id, actor=str(member_id),
                     device=device)
        tokens = open_session(ctx, member_id, client)
        db.session.commit()
        return tokens
    opening = Opening.new(ctx)
    _SIGNED_IN.run({
        "now": opening.at, "session_id_": opening.id, "member_id_": member_id,
        "failed_email": email, "actor_": str(member_id), "audit_ip": client.ip,
        "details_": {"device": device}, "user_agent_": client.user_agent, "ip_": client.ip,
        "expires_at_": opening.expires_at, "cookie_hash_": token_hash(opening.cookie),
        "refresh_hash": token_hash(opening.refresh_token)})
    return opening.tokens(ctx, member_id)
