"""/auth/* and /privacy-policy: thin views over the registration, login and session services."""

from __future__ import annotations

import uuid

from flask import Blueprint

from common.api import endpoint
from common.security import client_info
from idp import privacy
from idp.auth import activity, browser, cookie, login, registration, sessions
from idp.auth.bearer import current_session, member_api_session
from idp.auth.devices import device_name
from idp.auth.emails import normalize_email
from idp.auth.schemas import (
    ActivityEventOut,
    ActivityOut,
    AttemptOut,
    BrowserSessionOut,
    CompleteIn,
    InitiateLoginIn,
    InitiateRegistrationIn,
    Kdf,
    LoginAttemptOut,
    LogoutIn,
    MemberOut,
    NoticeOut,
    NoticesOut,
    PolicyText,
    PrivacyPolicyOut,
    RefreshIn,
    ResendCodeIn,
    ResendCodeOut,
    RevokedOut,
    SessionOut,
    SessionsOut,
    TokensOut,
    VerifyEmailIn,
    VerifyEmailOut,
)
from idp.auth.security_views import add_routes as add_security_routes
from idp.auth.security_views import tokens_out
from idp.card.service import find_card
from idp.services import services

TAG = ("auth",)


def make_blueprint() -> Blueprint:
    bp = Blueprint("auth", __name__)

    @bp.post("/auth/initiate-registration")
    @endpoint(summary="Start a registration", tags=TAG, body=InitiateRegistrationIn,
              responses={200: AttemptOut},
              description="Emails a 6-digit code. An already registered email gets the same "
                          "answer and its owner a warning email.")
    def initiate_registration(body: InitiateRegistrationIn) -> AttemptOut:
        attempt = registration.initiate(services(), normalize_email(body.email),
                                        body.privacy_accepted, client_info())
        return AttemptOut(uuid=attempt.uuid, server_salt=attempt.server_salt,
                          kdf=Kdf(iterations=attempt.kdf_iterations))

    @bp.post("/auth/verify-email")
    @endpoint(summary="Verify the emailed code", tags=TAG, body=VerifyEmailIn,
              responses={200: VerifyEmailOut}, errors=(400, 409, 410, 413, 429))
    def verify_email(body: VerifyEmailIn) -> VerifyEmailOut:
        registration.verify_email(services(), normalize_email(body.email), body.code, body.uuid,
                                  client_info())
        return VerifyEmailOut(verified=True)

    @bp.post("/auth/resend-code")
    @endpoint(summary="Send a new code", tags=TAG, body=ResendCodeIn,
              responses={200: ResendCodeOut}, errors=(400, 409, 413, 429))
    def resend_code(body: ResendCodeIn) -> ResendCodeOut:
        wait = registration.resend_code(services(), normalize_email(body.email), body.uuid)
        return ResendCodeOut(sent=True, retry_after=wait)

    @bp.post("/auth/complete-registration")
    @endpoint(summary="Set the password proof and log in", tags=TAG, body=CompleteIn,
              responses={201: TokensOut}, errors=(400, 403, 409, 410, 413, 429))
    def complete_registration(body: CompleteIn) -> tuple[TokensOut, int]:
        tokens = registration.complete(services(), normalize_email(body.email), body.hash_key,
                                       body.uuid, client_info())
        return tokens_out(tokens), 201

    @bp.post("/auth/initiate-login")
    @endpoint(summary="Start a login: get the salts and KDF parameters", tags=TAG,
              body=InitiateLoginIn, responses={200: LoginAttemptOut})
    def initiate_login(body: InitiateLoginIn) -> LoginAttemptOut:
        challenge = login.initiate(services(), normalize_email(body.email))
        return LoginAttemptOut(uuid=challenge.uuid, server_salt=challenge.server_salt,
                               kdf=Kdf(iterations=challenge.kdf_iterations),
                               kdf_email=challenge.kdf_email)

    @bp.post("/auth/complete-login")
    @endpoint(summary="Prove the password (hashKey) and get tokens", tags=TAG, body=CompleteIn,
              responses={200: TokensOut}, errors=(400, 401, 413, 429))
    def complete_login(body: CompleteIn) -> TokensOut:
        return tokens_out(login.complete(services(), normalize_email(body.email), body.hash_key,
                                      body.uuid, client_info()))

    @bp.post("/auth/refresh-token")
    @endpoint(summary="Rotate the refresh token and get a new pair", tags=TAG, body=RefreshIn,
              responses={200: TokensOut}, errors=(400, 401, 413, 429))
    def refresh_token(body: RefreshIn) -> TokensOut:
        return tokens_out(sessions.refresh(services(), body.refresh_token, client_info()))

    @bp.post("/auth/logout")
    @endpoint(summary="End this session", tags=TAG, body=LogoutIn, auth="bearer",
              responses={204: None},
              description="Ends the token's session (and clears this browser's session "
                          "cookie); the clients it signed in to get a back-channel logout.")
    def logout(body: LogoutIn) -> None:
        _, session = current_session()
        sessions.logout(services(), session, body.refresh_token, client_info())
        cookie.clear_on_response()

    @bp.post("/auth/session")
    @endpoint(summary="This browser's session: a fresh access token, keys still locked",
              tags=TAG, auth="sessionCookie", responses={200: BrowserSessionOut},
              errors=(429,),
              description="Read from the HttpOnly session cookie set at login. After a reload "
                          "the page is signed in but has no keys: it asks for the password "
                          "only and derives them again (then `POST /auth/reauth`).")
    def browser_session() -> BrowserSessionOut:
        resumed = browser.resume(services(), cookie.presented(), client_info())
        member = resumed.member
        return BrowserSessionOut(
            access_token=resumed.access_token, expires_in=resumed.expires_in,
            email=member.email, kdf_email=member.salt_email, server_salt=member.server_salt,
            kdf=Kdf(iterations=member.kdf_iterations), auth_time=resumed.session.auth_time)

    @bp.get("/auth/account")
    @endpoint(summary="The member's account: email, salt and KDF parameters", tags=TAG,
              auth="bearer", responses={200: MemberOut}, errors=(429,), reads_only=True)
    def account() -> MemberOut:
        _, session = current_session()
        member = session.member
        return MemberOut(sub=member.id, email=member.email,
                         kdf_email=member.salt_email,
                         server_salt=member.server_salt,
                         kdf=Kdf(iterations=member.kdf_iterations), created_at=member.created_at,
                         privacy_version=member.privacy_version,
                         has_card=find_card(member.id) is not None)

    @bp.get("/auth/sessions")
    @endpoint(summary="The member's open sessions", tags=TAG, auth="memberApi",
              responses={200: SessionsOut}, errors=(403, 429), reads_only=True)
    def list_sessions() -> SessionsOut:
        claims, current = member_api_session()
        return SessionsOut(sessions=[
            SessionOut(id=s.id, device=device_name(s.user_agent), user_agent=s.user_agent,
                       ip=s.ip, created_at=s.created_at, last_used_at=s.last_used_at,
                       current=s.id == current.id)
            for s in sessions.list_sessions(services(), claims.member_id)])

    @bp.delete("/auth/sessions/<uuid:session_id>")
    @endpoint(summary="Revoke one of the member's sessions", tags=TAG, auth="memberApi",
              responses={204: None}, errors=(403, 404, 429))
    def revoke_session(session_id: uuid.UUID) -> None:
        claims, _ = member_api_session()
        sessions.revoke_session(services(), claims.member_id, session_id, client_info())

    @bp.post("/auth/sessions/revoke-others")
    @endpoint(summary="Sign out everywhere else", tags=TAG, auth="bearer",
              responses={200: RevokedOut}, errors=(429,))
    def revoke_other_sessions() -> RevokedOut:
        claims, current = current_session()
        return RevokedOut(revoked=sessions.revoke_others(claims.member_id, current.id,
                                                         client_info()))

    @bp.get("/auth/activity")
    @endpoint(summary="The member's account history: sign-ins, devices, accesses", tags=TAG,
              auth="memberApi", responses={200: ActivityOut}, errors=(400, 403, 429),
              reads_only=True,
              description="Newest first, `limit` (1-200, default 50) at a time; pass the "
                          "answer's `next_before` as `before` for the next page. Each event "
                          "says when, from which IP and device, and which cooperative; "
                          "never more.")
    def account_activity() -> ActivityOut:
        claims, _ = member_api_session()
        page = activity.page(claims.member_id, before=activity.query_int("before"),
                             limit=activity.query_int("limit"))
        return ActivityOut(events=[ActivityEventOut(**event) for event in page.events],
                           next_before=page.next_before)

    @bp.get("/auth/notifications")
    @endpoint(summary="What idp told the member about their account (kind and time)",
              tags=TAG, auth="memberApi", responses={200: NoticesOut}, errors=(403, 429),
              reads_only=True,
              description="The newest 100: new devices, lockouts, password changes, "
                          "accesses given and revoked, and the card's own events (issued, "
                          "data changed, a cooperative account added). For the portal's "
                          "notification centre.")
    def account_notices() -> NoticesOut:
        claims, _ = member_api_session()
        return NoticesOut(notices=[NoticeOut(**n) for n in activity.notices(claims.member_id)])

    add_security_routes(bp)

    @bp.get("/privacy-policy")
    @endpoint(summary="The current privacy policy", tags=("policy",),
              responses={200: PrivacyPolicyOut}, errors=())
    def privacy_policy() -> PrivacyPolicyOut:
        return PrivacyPolicyOut(version=privacy.VERSION, effective_date=privacy.EFFECTIVE,
                                text=PolicyText(ru=privacy.TEXT_RU, en=privacy.TEXT_EN))

    return bp
