"""Typed client of the id.card.coop account API (docs/api.md), with the zero-knowledge flows.

`IdpClient` has one method per endpoint, taking and returning typed values (`cardcoop.models`),
and raising `cardcoop.errors.ApiError` subclasses for error answers. `register()` and `login()`
run the whole flows and derive the keys in this process (PROTOCOL.md §2): only `hashKey` is sent,
the password and `enc_key` never leave the process.

    with IdpClient("https://id.card.coop") as idp:
        session = idp.login("member@example.com", password)
        for info in session.sessions():
            ...
        session.refresh()
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from .card_models import (
    CardMeta,
    RecoveryStatus,
    RecoveryUnlocked,
    StoredAccount,
    StoredCard,
    card_id_from_json,
    meta_json,
    revision_from_json,
)
from .crypto import KdfParams, ProtocolError, derive_keys, kdf_salt_email, normalize_email
from .errors import ApiError, ResponseError, authorization_error, error_for_status
from .models import MAX_KDF_ITERATIONS, Attempt, PrivacyPolicy, ResendResult, SessionInfo, Tokens

__all__ = ["USER_AGENT", "HttpApi", "IdpClient", "Session"]

USER_AGENT = "cardcoop-python/0.1"
_MAX_ERROR_CODE = 100
_MAX_ERROR_MESSAGE = 500
_REDACTED = "[redacted]"

T = TypeVar("T")


_ERROR_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def read_authorization_response(params: Mapping[str, str], *, state: str,
                                issuer: str | None = None) -> str:
    """The ticket of an authorization response, or the reason there is none, as an exception.

    `params`: the query of the redirect to your redirect_uri (e.g. Flask's ``request.args``), or,
    in the iframe method, what your page posts from the widget (``ticket``, or ``error`` and
    ``cardcoop_reason`` = the ``reason`` given to ``onError``). `state`: the one this browser's
    flow started with. `issuer`: idp's issuer; when given, ``iss`` must name it (RFC 9207).

    Raises `cardcoop.errors.AccessRefused` (the member refused), `cardcoop.errors.NotAMember`
    (not a member of the cooperative yet), another `cardcoop.errors.AuthorizationError` for any
    other ``error`` (`AccessDenied` without a known reason), and `ResponseError`
    (``state_mismatch``, ``issuer_mismatch``, ``invalid_response``) for an answer that is not
    idp's to this flow: then nothing in it may be trusted.
    """
    got_state = params.get("state") or ""
    if not state or not hmac.compare_digest(got_state.encode(), state.encode()):
        raise ResponseError("The response's state is not this flow's.", error="state_mismatch")
    if issuer is not None and (params.get("iss") or "").rstrip("/") != issuer.rstrip("/"):
        raise ResponseError("The response's iss is not this idp.", error="issuer_mismatch")
    error = params.get("error")
    if error is not None:
        code = error if _ERROR_CODE.fullmatch(error) else "invalid_response"
        message = (params.get("error_description") or "")[:_MAX_ERROR_MESSAGE]
        reason = params.get("cardcoop_reason") or params.get("reason")
        raise authorization_error(code, message, reason=reason, state=got_state)
    ticket = params.get("code") or params.get("ticket")
    if not ticket:
        raise ResponseError("The response has neither a ticket nor an error.")
    return ticket


class HttpApi:
    """The HTTP side shared by the SDK's clients: one base URL, an ``httpx.Client`` (ours unless
    one is passed in, and then closed by us only), no redirects followed."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an absolute http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        # No cookie jar: the API is token-based, and idp's session cookie belongs to browsers
        # (one session per browser: a client keeping it would end its own earlier logins).
        self._http = http if http is not None else httpx.Client(
            timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @staticmethod
    def _parse(response: httpx.Response, parse: Callable[[object], T]) -> T:
        try:
            data = response.json()
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ResponseError("malformed response: the body is not JSON",
                                status=response.status_code) from None
        try:
            return parse(data)
        except ResponseError as exc:
            exc.status = response.status_code
            raise


class IdpClient(HttpApi):
    """Client of one id.card.coop server.

    `http`: an `httpx.Client` to use (its own timeout and settings apply, and it is not closed
    by `close()`); by default the client makes one with `timeout` seconds and closes it.
    `max_kdf_iterations`: the ceiling on the PBKDF2 iterations a server may ask for (the floor is
    the protocol's `MIN_ITERATIONS`). Network failures raise `httpx.TransportError`.
    """

    def __init__(self, base_url: str, *, http: httpx.Client | None = None,
                 timeout: float = 10.0, max_kdf_iterations: int = MAX_KDF_ITERATIONS) -> None:
        super().__init__(base_url, http=http, timeout=timeout)
        self.max_kdf_iterations = max_kdf_iterations

    def __repr__(self) -> str:
        return f"IdpClient({self.base_url!r})"

    # -- endpoints ---------------------------------------------------------------------------

    def privacy_policy(self) -> PrivacyPolicy:
        """`GET /privacy-policy`."""
        return self._parse(self._call("GET", "/privacy-policy"), PrivacyPolicy.from_json)

    def initiate_registration(self, email: str, *, privacy_accepted: bool) -> Attempt:
        """`POST /auth/initiate-registration`: emails a 6-digit code to `email`."""
        response = self._call("POST", "/auth/initiate-registration",
                              body={"email": normalize_email(email),
                                    "privacy_accepted": privacy_accepted})
        return self._parse(response, self._attempt)

    def verify_email(self, email: str, code: str, uuid: UUID | str) -> bool:
        """`POST /auth/verify-email` with the emailed code; True once verified."""
        response = self._call("POST", "/auth/verify-email",
                              body={"email": normalize_email(email), "code": code,
                                    "uuid": str(uuid)})
        return self._parse(response, _verified)

    def resend_code(self, email: str, uuid: UUID | str) -> ResendResult:
        """`POST /auth/resend-code`. Too soon → `RateLimited` with `retry_after`."""
        response = self._call("POST", "/auth/resend-code",
                              body={"email": normalize_email(email), "uuid": str(uuid)})
        return self._parse(response, ResendResult.from_json)

    def complete_registration(self, email: str, hash_key_b64u: str, uuid: UUID | str) -> Tokens:
        """`POST /auth/complete-registration` with `hashKey` (PROTOCOL.md §2)."""
        response = self._call("POST", "/auth/complete-registration",
                              body={"email": normalize_email(email), "hashKey": hash_key_b64u,
                                    "uuid": str(uuid)},
                              secrets=(hash_key_b64u,))
        return self._parse(response, Tokens.from_json)

    def initiate_login(self, email: str) -> Attempt:
        """`POST /auth/initiate-login`: the account's `serverSalt` and KDF parameters."""
        response = self._call("POST", "/auth/initiate-login",
                              body={"email": normalize_email(email)})
        return self._parse(response, self._attempt)

    def complete_login(self, email: str, hash_key_b64u: str, uuid: UUID | str) -> Tokens:
        """`POST /auth/complete-login`. Wrong password or unknown email → `InvalidCredentials`."""
        response = self._call("POST", "/auth/complete-login",
                              body={"email": normalize_email(email), "hashKey": hash_key_b64u,
                                    "uuid": str(uuid)},
                              secrets=(hash_key_b64u,))
        return self._parse(response, Tokens.from_json)

    def refresh(self, refresh_token: str) -> Tokens:
        """`POST /auth/refresh-token`: a new pair; the old refresh token is spent."""
        response = self._call("POST", "/auth/refresh-token",
                              body={"refreshToken": refresh_token}, secrets=(refresh_token,))
        return self._parse(response, Tokens.from_json)

    def logout(self, access_token: str, refresh_token: str) -> None:
        """`POST /auth/logout`: ends the session both tokens belong to."""
        self._call("POST", "/auth/logout", body={"refreshToken": refresh_token},
                   token=access_token, secrets=(refresh_token,))

    def sessions(self, access_token: str) -> list[SessionInfo]:
        """`GET /auth/sessions`: the member's open sessions."""
        response = self._call("GET", "/auth/sessions", token=access_token)
        return self._parse(response, SessionInfo.list_from_json)

    def revoke_session(self, access_token: str, session_id: UUID | str) -> None:
        """`DELETE /auth/sessions/{id}`. Not one of the member's open sessions → `NotFound`."""
        # Parsed, so that nothing but a UUID ever lands in the path.
        sid = session_id if isinstance(session_id, UUID) else UUID(session_id)
        self._call("DELETE", f"/auth/sessions/{sid}", token=access_token)

    def jwks(self) -> dict[str, Any]:
        """`GET /.well-known/jwks.json`: the public keys that verify access tokens (RFC 7517)."""
        return self._parse(self._call("GET", "/.well-known/jwks.json"), _jwks)

    # -- the card (Bearer): ciphertext in, ciphertext out (see cardcoop.card for the rest) --------

    def card_schema(self) -> dict[str, Any]:
        """`GET /card/schema`: the JSON Schema (2020-12) of the card's personal data."""
        return self._parse(self._call("GET", "/card/schema"), _json_object)

    def issue_card(self, access_token: str, encrypted_personal_data: str, wrapped_card_key: str,
                   meta: CardMeta | Mapping[str, Any]) -> str:
        """`POST /card/issue`; the new card's id. A second card → `Conflict` (``card_exists``)."""
        response = self._call("POST", "/card/issue", token=access_token,
                              body={"encrypted_personal_data": encrypted_personal_data,
                                    "wrapped_card_key": wrapped_card_key,
                                    "meta": meta_json(meta)})
        return self._parse(response, _card_id)

    def get_card(self, access_token: str) -> StoredCard:
        """`GET /card`: the card as stored. No card yet → `NotFound` (``card_not_found``)."""
        return self._parse(self._call("GET", "/card", token=access_token), StoredCard.from_json)

    def put_card(self, access_token: str, encrypted_personal_data: str,
                 meta: CardMeta | Mapping[str, Any], revision: int) -> int:
        """`PUT /card` naming the `revision` read; the new revision. Stale → `Conflict`
        (``stale_revision``)."""
        response = self._call("PUT", "/card", token=access_token,
                              body={"encrypted_personal_data": encrypted_personal_data,
                                    "meta": meta_json(meta), "revision": revision})
        return self._parse(response, revision_from_json)

    def add_account(self, access_token: str, coopname: str, username: str, public_key: str,
                    encrypted_account: str) -> StoredAccount:
        """`POST /card/add-account`. One per cooperative → `Conflict` (``account_exists``)."""
        response = self._call("POST", "/card/add-account", token=access_token,
                              body={"coopname": coopname, "username": username,
                                    "public_key": public_key,
                                    "encrypted_account": encrypted_account})
        return self._parse(response, StoredAccount.from_json)

    def accounts(self, access_token: str) -> list[StoredAccount]:
        """`GET /card/accounts` (an empty list before the card is issued)."""
        response = self._call("GET", "/card/accounts", token=access_token)
        return self._parse(response, StoredAccount.list_from_json)

    # -- password change and recovery --------------------------------------------------------

    def change_password(self, access_token: str, hash_key_b64u: str, new_hash_key_b64u: str,
                        wrapped_card_key: str | None, kdf: KdfParams | None = None) -> None:
        """`POST /auth/change-password`: `hashKey` proves the current password (wrong →
        `Forbidden`); `wrapped_card_key` is the card key under the new `enc_key` (None when
        there is no card yet); `kdf` only to change the iterations."""
        body: dict[str, object] = {"hashKey": hash_key_b64u, "newHashKey": new_hash_key_b64u}
        if wrapped_card_key is not None:
            body["wrapped_card_key"] = wrapped_card_key
        if kdf is not None:
            body["kdf"] = kdf.to_dict()
        response = self._call("POST", "/auth/change-password", body=body, token=access_token,
                              secrets=(hash_key_b64u, new_hash_key_b64u))
        self._parse(response, _changed)

    def recovery_status(self, access_token: str) -> RecoveryStatus:
        """`GET /auth/recovery`: whether a recovery key is set up."""
        response = self._call("GET", "/auth/recovery", token=access_token)
        return self._parse(response, RecoveryStatus.from_json)

    def setup_recovery(self, access_token: str, hash_key_b64u: str, recovery_auth_b64u: str,
                       recovery_wrapped_card_key: str) -> RecoveryStatus:
        """`POST /auth/recovery`: set up (or replace) the recovery key. No card → `Conflict`."""
        response = self._call("POST", "/auth/recovery", token=access_token,
                              body={"hashKey": hash_key_b64u,
                                    "recovery_auth": recovery_auth_b64u,
                                    "recovery_wrapped_card_key": recovery_wrapped_card_key},
                              secrets=(hash_key_b64u, recovery_auth_b64u))
        return self._parse(response, RecoveryStatus.from_json)

    def recovery_initiate(self, email: str) -> UUID:
        """`POST /auth/recovery/initiate`: emails a code (only to a member's address; the answer
        is the same for every address). The attempt id."""
        response = self._call("POST", "/auth/recovery/initiate",
                              body={"email": normalize_email(email)})
        return self._parse(response, _attempt_id)

    def recovery_verify(self, email: str, uuid: UUID | str, code: str,
                        recovery_auth_b64u: str) -> RecoveryUnlocked:
        """`POST /auth/recovery/verify`: (recovery_wrapped_card_key, serverSalt, kdf), the KDF
        parameters checked like at login. Wrong code or key → `BadRequest`
        (``invalid_recovery``)."""
        response = self._call("POST", "/auth/recovery/verify",
                              body={"email": normalize_email(email), "uuid": str(uuid),
                                    "code": code, "recovery_auth": recovery_auth_b64u},
                              secrets=(recovery_auth_b64u, code))
        return self._parse(response, lambda data: RecoveryUnlocked.from_json(
            data, max_iterations=self.max_kdf_iterations))

    def recovery_complete(self, email: str, uuid: UUID | str, new_hash_key_b64u: str,
                          wrapped_card_key: str, kdf: KdfParams | None = None) -> Tokens:
        """`POST /auth/recovery/complete`: the new password's `newHashKey` and the card key
        re-wrapped under its `enc_key`; a new token pair (every other session ends)."""
        body: dict[str, object] = {"email": normalize_email(email), "uuid": str(uuid),
                                   "newHashKey": new_hash_key_b64u,
                                   "wrapped_card_key": wrapped_card_key}
        if kdf is not None:
            body["kdf"] = kdf.to_dict()
        response = self._call("POST", "/auth/recovery/complete", body=body,
                              secrets=(new_hash_key_b64u,))
        return self._parse(response, Tokens.from_json)

    # -- zero-knowledge flows ----------------------------------------------------------------

    def register(self, email: str, password: str, code_provider: Callable[[str], str], *,
                 privacy_accepted: bool = True) -> Session:
        """Register and log in: initiate, ask `code_provider(email_norm)` for the emailed code,
        verify it, derive the keys from `password` with the server's salt and KDF parameters
        (checked before use), complete. The password never leaves the process."""
        email_norm = normalize_email(email)
        attempt = self.initiate_registration(email_norm, privacy_accepted=privacy_accepted)
        self.verify_email(email_norm, code_provider(email_norm).strip(), attempt.uuid)
        keys = derive_keys(password, email_norm, attempt.server_salt, attempt.kdf)
        tokens = self.complete_registration(email_norm, keys.hash_key_b64u, attempt.uuid)
        return Session(self, email_norm, tokens, keys.enc_key, attempt.kdf,
                       server_salt=attempt.server_salt)

    def login(self, email: str, password: str) -> Session:
        """Log in with the password: initiate (salt, KDF parameters and `kdfEmail`, checked
        before use), derive the keys here, complete with `hashKey`. Wrong password →
        `InvalidCredentials`; a `kdfEmail` that is not a form of `email` → `ResponseError`
        (``kdf_email_mismatch``), before any derivation."""
        email_norm = normalize_email(email)
        attempt = self.initiate_login(email_norm)
        try:
            kdf_salt_email(email_norm, attempt.kdf_email)
        except ProtocolError:
            raise ResponseError("refused response: 'kdfEmail' is not a form of this email "
                                "address", status=200, error="kdf_email_mismatch") from None
        keys = derive_keys(password, email_norm, attempt.server_salt, attempt.kdf,
                           kdf_email=attempt.kdf_email)
        tokens = self.complete_login(email_norm, keys.hash_key_b64u, attempt.uuid)
        return Session(self, email_norm, tokens, keys.enc_key, attempt.kdf,
                       server_salt=attempt.server_salt, kdf_email=attempt.kdf_email)

    # -- plumbing ----------------------------------------------------------------------------

    def _attempt(self, data: object) -> Attempt:
        return Attempt.from_json(data, max_iterations=self.max_kdf_iterations)

    def _call(self, method: str, path: str, *, body: Mapping[str, object] | None = None,
              token: str | None = None, secrets: Iterable[str] = ()) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        # Never follow redirects: a POST carrying a hashKey or a token is not re-sent elsewhere.
        response = self._http.request(method, self.base_url + path, json=body, headers=headers,
                                      follow_redirects=False)
        if not response.is_success:
            hidden = [*secrets, token] if token is not None else list(secrets)
            raise _error(response, hidden)
        return response


class Session:
    """A logged-in member: the current token pair and `enc_key` (PROTOCOL.md §2), which unwraps
    the card key. `repr` shows neither. `refresh()` rotates the pair in place.

    `kdf` and `server_salt` are the account's parameters from the login (or registration, or
    recovery): a password change derives the new keys with them. `kdf_email` is the login's
    `kdfEmail` (PROTOCOL.md §2), with which the current password is derived again (None: the
    canonical `email`). The card operations are in `cardcoop.card.CardSession(session)`."""

    __slots__ = ("_client", "_enc_key", "_tokens", "email", "kdf", "kdf_email", "server_salt")

    def __init__(self, client: IdpClient, email: str, tokens: Tokens, enc_key: bytes,
                 kdf: KdfParams, *, server_salt: str | None = None,
                 kdf_email: str | None = None) -> None:
        self._client = client
        self._tokens = tokens
        self._enc_key = enc_key
        self.email = email
        self.kdf = kdf
        self.server_salt = server_salt
        self.kdf_email = kdf_email

    @property
    def client(self) -> IdpClient:
        return self._client

    @property
    def tokens(self) -> Tokens:
        return self._tokens

    @property
    def access_token(self) -> str:
        return self._tokens.access_token

    @property
    def refresh_token(self) -> str:
        return self._tokens.refresh_token

    @property
    def enc_key(self) -> bytes:
        return self._enc_key

    def _rekey(self, enc_key: bytes, kdf: KdfParams) -> None:
        """After a password change (`cardcoop.card`): the new password's `enc_key` and KDF; its
        keys were derived from the canonical email, as the server now expects."""
        self._enc_key = enc_key
        self.kdf = kdf
        self.kdf_email = None

    def refresh(self) -> Tokens:
        """Rotate the token pair; the session keeps the new one (and returns it)."""
        self._tokens = self._client.refresh(self._tokens.refresh_token)
        return self._tokens

    def sessions(self) -> list[SessionInfo]:
        return self._client.sessions(self._tokens.access_token)

    def revoke_session(self, session_id: UUID | str) -> None:
        self._client.revoke_session(self._tokens.access_token, session_id)

    def logout(self) -> None:
        self._client.logout(self._tokens.access_token, self._tokens.refresh_token)

    def __repr__(self) -> str:
        return (f"Session(email={self.email!r}, expires_in={self._tokens.expires_in}, "
                "tokens=<hidden>, enc_key=<hidden>)")


# -- helpers ----------------------------------------------------------------------------------


def _verified(data: object) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("verified"), bool):
        raise ResponseError("malformed response: field 'verified' is not a boolean")
    return bool(data["verified"])


def _json_object(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ResponseError("malformed response: the body is not a JSON object")
    return data


def _card_id(data: object) -> str:
    if not isinstance(data, dict):
        raise ResponseError("malformed response: the body is not a JSON object")
    return card_id_from_json(data)


def _changed(data: object) -> bool:
    if not isinstance(data, dict) or data.get("changed") is not True:
        raise ResponseError("malformed response: field 'changed' is not true")
    return True


def _attempt_id(data: object) -> UUID:
    if not isinstance(data, dict) or not isinstance(data.get("uuid"), str):
        raise ResponseError("malformed response: field 'uuid' is not a string")
    try:
        return UUID(data["uuid"])
    except ValueError:
        raise ResponseError("malformed response: field 'uuid' is not a UUID") from None


def _jwks(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ResponseError("malformed response: the body is not a JSON object")
    keys = data.get("keys")
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise ResponseError("malformed response: field 'keys' is not a list of objects")
    return data


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def _retry_after(value: str | None) -> int | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _scrub(value: Any, secrets: list[str]) -> Any:
    """`details` with every string redacted (a hostile server could echo a secret there)."""
    if isinstance(value, str):
        return _redact(value, secrets)
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {_redact(str(k), secrets): _scrub(v, secrets) for k, v in value.items()}
    return value


def _error(response: httpx.Response, secrets: list[str]) -> ApiError:
    """idp's {"error", "message", "details"} or RFC 6749 §5.2's {"error", "error_description"}
    (the token endpoints), as the `ApiError` of its status."""
    status = response.status_code
    code = "http_error"
    message = f"HTTP {status} {response.reason_phrase}".rstrip()
    details: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str) and body["error"]:
            code = body["error"]
        for key in ("error_description", "message"):
            if isinstance(body.get(key), str) and body[key]:
                message = body[key]
                break
        details = _scrub(body.get("details"), secrets)
    # A server (or a proxy) must not make a secret of this request end up in an error text;
    # redacted before truncation, so that no prefix of a secret survives either.
    return error_for_status(status, _redact(code, secrets)[:_MAX_ERROR_CODE],
                            _redact(message, secrets)[:_MAX_ERROR_MESSAGE],
                            retry_after=_retry_after(response.headers.get("Retry-After")),
                            details=details)
