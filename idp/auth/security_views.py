"""/auth/change-password, /auth/recovery*, /auth/reauth, /auth/delete-account and /auth/export:
the account-security routes of the auth blueprint."""

from __future__ import annotations

from flask import Blueprint

from common.api import endpoint
from common.security import client_info
from idp.auth import account, cookie, password, recovery
from idp.auth.bearer import current_session
from idp.auth.emails import normalize_email
from idp.auth.schemas import (
    ChangedOut,
    ChangePasswordIn,
    DeletedOut,
    ExportOut,
    InitiateLoginIn,
    Kdf,
    PasswordProofIn,
    RecoveryCompleteIn,
    RecoveryInitiateOut,
    RecoverySetupIn,
    RecoveryStatusOut,
    RecoveryVerifyIn,
    RecoveryVerifyOut,
    TokensOut,
)
from idp.auth.sessions import Tokens
from idp.services import services

TAG = ("auth",)


def add_routes(bp: Blueprint) -> None:
    @bp.post("/auth/change-password")
    @endpoint(summary="Change the password; the card key comes re-wrapped", tags=TAG,
              body=ChangePasswordIn, auth="bearer", responses={200: ChangedOut},
              errors=(400, 403, 409, 413, 429))
    def change_password(body: ChangePasswordIn) -> ChangedOut:
        _, session = current_session()
        password.change_password(services(), session, body.hash_key, body.new_hash_key,
                                 body.wrapped_card_key,
                                 body.kdf.iterations if body.kdf else None, client_info())
        return ChangedOut(changed=True)

    @bp.post("/auth/reauth")
    @endpoint(summary="Prove the password again before the page shows a secret", tags=TAG,
              body=PasswordProofIn, auth="bearer", responses={204: None},
              description="Answers 204 for the right password and 403 `wrong_password` for a "
                          "wrong one, which counts toward the login lockout (429).",
              errors=(400, 403, 413, 429))
    def reauth(body: PasswordProofIn) -> None:
        _, session = current_session()
        account.reauth(services(), session, body.hash_key, client_info())

    @bp.post("/auth/delete-account")
    @endpoint(summary="Delete the account and everything in it", tags=TAG, body=PasswordProofIn,
              auth="bearer", responses={200: DeletedOut},
              description="With a fresh password proof (a wrong one counts toward the lockout). "
                          "In one transaction the card, its accounts, the grants with the "
                          "cooperatives' tickets and tokens, the sessions and the member are "
                          "deleted; a confirmation email is sent. What the audit keeps is in "
                          "docs/security.md.",
              errors=(400, 403, 413, 429))
    def delete_account(body: PasswordProofIn) -> DeletedOut:
        _, session = current_session()
        account.delete_account(services(), session, body.hash_key, client_info())
        cookie.clear_on_response()  # the browser's session went with the account
        return DeletedOut(deleted=True)

    @bp.get("/auth/export")
    @endpoint(summary="Everything idp stores about the member, as one JSON document", tags=TAG,
              auth="bearer", responses={200: ExportOut}, errors=(429,),
              description="The card as stored (ciphertext): the member's browser decrypts it.")
    def export() -> ExportOut:
        _, session = current_session()
        return ExportOut.model_validate(account.export(services(), session))

    @bp.get("/auth/recovery")
    @endpoint(summary="Whether a recovery key is set up", tags=TAG, auth="bearer",
              responses={200: RecoveryStatusOut}, errors=(429,))
    def recovery_status() -> RecoveryStatusOut:
        _, session = current_session()
        member = session.member
        return RecoveryStatusOut(enabled=member.recovery_verifier is not None,
                                 created_at=member.recovery_created_at,
                                 used_at=recovery.spent_at(member))

    @bp.post("/auth/recovery")
    @endpoint(summary="Set up (or replace) the recovery key", tags=TAG, body=RecoverySetupIn,
              auth="bearer", responses={200: RecoveryStatusOut},
              errors=(400, 403, 409, 413, 429))
    def recovery_setup(body: RecoverySetupIn) -> RecoveryStatusOut:
        _, session = current_session()
        recovery.setup(services(), session, body.hash_key, body.recovery_auth,
                       body.recovery_wrapped_card_key, client_info())
        return RecoveryStatusOut(enabled=True, created_at=session.member.recovery_created_at)

    @bp.post("/auth/recovery/initiate")
    @endpoint(summary="Forgot the password: email a recovery code", tags=TAG,
              body=InitiateLoginIn, responses={200: RecoveryInitiateOut})
    def recovery_initiate(body: InitiateLoginIn) -> RecoveryInitiateOut:
        return RecoveryInitiateOut(uuid=recovery.initiate(
            services(), normalize_email(body.email), client_info()))

    @bp.post("/auth/recovery/verify")
    @endpoint(summary="Check the code and the recovery key; get the recovery-wrapped card key",
              tags=TAG, body=RecoveryVerifyIn, responses={200: RecoveryVerifyOut},
              errors=(400, 409, 410, 413, 429))
    def recovery_verify(body: RecoveryVerifyIn) -> RecoveryVerifyOut:
        unlocked = recovery.verify(services(), normalize_email(body.email), body.uuid, body.code,
                                   body.recovery_auth, client_info())
        return RecoveryVerifyOut(recovery_wrapped_card_key=unlocked.recovery_wrapped_card_key,
                                 server_salt=unlocked.server_salt,
                                 kdf=Kdf(iterations=unlocked.kdf_iterations))

    @bp.post("/auth/recovery/complete")
    @endpoint(summary="Set the new password and log in", tags=TAG, body=RecoveryCompleteIn,
              responses={200: TokensOut}, errors=(400, 409, 410, 413, 429))
    def recovery_complete(body: RecoveryCompleteIn) -> TokensOut:
        tokens = recovery.complete(
            services(), normalize_email(body.email), body.uuid, body.new_hash_key,
            body.wrapped_card_key, body.kdf.iterations if body.kdf else None, client_info())
        return tokens_out(tokens)


def tokens_out(tokens: Tokens) -> TokensOut:
    cookie.signed_in(tokens)  # a session just opened is this browser's (issue #9)
    return TokensOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                     expires_in=tokens.expires_in)
