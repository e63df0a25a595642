"""«ПК ВОСХОД» (coopname ``voskhod``): a demo cooperative website that uses id.card.coop.

It shows both ways a cooperative asks a member for data (DESIGN.md §2):

- redirect: ``/start`` -> id.card.coop consent page -> ``/callback?code=<ticket>&state=...``;
- iframe: ``/iframe`` embeds the consent page with ``{idp_url}/widget.js``; the ticket comes
  back by ``postMessage`` and ``static/iframe.js`` posts it to ``/iframe/complete``.

Either way the server exchanges the ticket (with the PKCE verifier kept in the signed session
cookie), fetches the member's JWE, decrypts it with the cooperative's key using jwcrypto, and
shows the result. Run: ``python -m examples.coop_site`` (config: ``COOP_SITE_CONFIG``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from flask import (
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from cardcoop.client import read_authorization_response
from cardcoop.coop import CoopClient, SharePlaintext, TicketTokens, new_pkce, new_state
from cardcoop.errors import AccessRefused, ApiError, AuthorizationError, NotAMember
from cardcoop.protocol.errors import ProtocolError
from cardcoop.protocol.jwk import ec_private_key_from_jwk, jwk_thumbprint
from cardcoop.protocol.k1 import K1PrivateKey

from . import deposit
from .jose import decrypt_share_jwcrypto
from .links import return_to

__all__ = ["DEFAULT_CONFIG", "JOIN_SCOPE", "SHARE_SCOPE", "SIGN_IN_SCOPE", "create_app",
           "load_config"]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "instance" / "coop_site.json"
REQUIRED = ("idp_url", "client_id", "client_secret", "redirect_uri", "private_key")

JOIN_SCOPE = "openid share account"
SHARE_SCOPE = "openid email cardcoop:card cardcoop:memberships share"
# Sign-in only: after the first consent id.card.coop answers at once (single sign-on).
SIGN_IN_SCOPE = "openid email cardcoop:card cardcoop:memberships"
KNOWN_SCOPES = ("openid", "profile", "email", "cardcoop:card", "cardcoop:memberships", "share",
                "account")
FLOW_TTL = 600  # seconds a started flow stays valid (the ticket itself lives 5 minutes)
MAX_FLOWS = 5  # flows kept per browser (several tabs)
_CODE = re.compile(r"[a-z0-9_.:-]{1,64}")
_FIELD = re.compile(r"[a-z_]{1,40}")

FIELD_LABELS = {
    "person_type": "Тип лица", "last_name": "Фамилия", "first_name": "Имя",
    "middle_name": "Отчество", "birthdate": "Дата рождения", "phone": "Телефон",
    "email": "Электронная почта", "full_address": "Адрес", "fact_address": "Фактический адрес",
    "passport": "Паспорт", "country": "Страна", "city": "Город", "details": "Реквизиты",
    "type": "Организационно-правовая форма", "short_name": "Краткое наименование",
    "full_name": "Полное наименование", "represented_by": "Представитель",
}

ERRORS = {
    "access_denied": "Вы отказались передавать данные — ничего не передано. "
                     "You declined; nothing was shared.",
    "state_mismatch": "Запрос устарел или начат в другом окне. Начните заново. "
                      "The request expired or came from another window.",
    "invalid_grant": "Билет недействителен: истёк или уже использован. "
                     "The ticket expired or was already used.",
    "invalid_client": "Сайт кооператива неверно настроен (client_id / client_secret). "
                      "The site's client credentials are wrong.",
    "invalid_scope": "Запрошены неизвестные права. Unknown scope.",
    "invalid_request": "Неверный запрос. Invalid request.",
    "not_a_member": "Вы пока не пайщик ПК ВОСХОД. Вступите в кооператив — это займёт "
                    "минуту. You are not a member yet: join first.",
    "frame_refused": "Окно id.card.coop не открылось на этой странице (адрес сайта не "
                     "зарегистрирован для кооператива или id.card.coop недоступен). "
                     "The id.card.coop frame did not open here.",
    "card_required": "Сначала оформите карту пайщика. Issue your card first.",
    "idp_unavailable": "id.card.coop сейчас недоступен. Попробуйте позже. "
                       "id.card.coop is unreachable.",
    "decryption_failed": "Не удалось расшифровать данные ключом кооператива. "
                         "Cannot decrypt with the cooperative's key.",
    "share_mismatch": "Данные предназначены другому аккаунту или кооперативу. "
                      "The data is bound to another account.",
    "invalid_id_token": "ID-токен не прошёл проверку. The ID token failed verification.",
    "issuer_mismatch": "Ответ пришёл не от того сервера авторизации. "
                       "The answer came from another authorization server.",
    "invalid_token": "Доступ отозван пайщиком или истёк: данные больше не читаются. "
                     "The member revoked the access, or it expired.",
    "no_access": "Этот браузер ещё не получал данные. Nothing to re-read yet.",
}
MAX_KEPT_TOKENS = 1000  # the demo's in-memory token store; the oldest are dropped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Site:
    """What the views need; `repr` shows no secret."""

    coop: CoopClient
    private_jwk: dict[str, str]
    coop_key: str  # the cooperative's public key as shown: PUB_K1_... or a JWK thumbprint
    redirect_uri: str
    site_url: str
    idp_url: str
    idp_source: str  # the CSP source expression of idp

    def __repr__(self) -> str:
        return f"Site(client_id={self.coop.client_id!r}, idp_url={self.idp_url!r})"


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The JSON config: `path`, else env ``COOP_SITE_CONFIG``, else ``instance/coop_site.json``
    in the repository (idp writes it in development)."""
    where = Path(path or os.environ.get("COOP_SITE_CONFIG") or DEFAULT_CONFIG)
    try:
        data = json.loads(where.read_text("utf-8"))
    except FileNotFoundError:
        raise RuntimeError(f"coop site config {where} not found: start idp in development (it "
                           "writes it) or set COOP_SITE_CONFIG") from None
    except (OSError, ValueError):
        raise RuntimeError(f"coop site config {where} is not readable JSON") from None
    if not isinstance(data, dict):
        raise RuntimeError(f"coop site config {where} is not a JSON object")
    return data


def _private_key(value: object) -> tuple[dict[str, str], str]:
    """(private JWK, public key as shown) from "PVT_K1_..."/WIF or a private JWK."""
    try:
        if isinstance(value, str):
            key = K1PrivateKey.from_string(value)
            return key.to_jwk(), key.public_key.to_string()
        if isinstance(value, dict):
            ec_private_key_from_jwk(value)
            jwk = {k: str(v) for k, v in value.items()}
            return jwk, f"JWK {jwk_thumbprint(jwk)}"
    except ProtocolError:
        pass
    # Never the value itself in the message: it is the cooperative's private key.
    raise RuntimeError("private_key in the coop site config is not a K1 private key "
                       "(PVT_K1_... or WIF) or a private EC JWK")


def _idp_source(idp_url: str) -> str:
    parts = urlsplit(idp_url)
    if parts.path.strip("/"):
        return idp_url.rstrip("/") + "/"  # a CSP path source without "/" matches one file
    return f"{parts.scheme}://{parts.netloc}"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    cfg = dict(load_config() if config is None else config)
    missing = [name for name in REQUIRED if not cfg.get(name)]
    if missing:
        raise RuntimeError(f"coop site config lacks {', '.join(missing)}")
    private_jwk, coop_key = _private_key(cfg["private_key"])
    idp_url = str(cfg["idp_url"]).rstrip("/")
    redirect_uri = str(cfg["redirect_uri"])
    parts = urlsplit(redirect_uri)
    site_url = str(cfg.get("site_url") or f"{parts.scheme}://{parts.netloc}").rstrip("/")

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=cfg.get("secret_key") or secrets.token_hex(32),
        # Cookies are per host, not per port: a name of its own next to idp on 127.0.0.1.
        SESSION_COOKIE_NAME="coop_site_session",
        SESSION_COOKIE_SAMESITE="Lax",  # sent on the top-level redirect back from idp
        SESSION_COOKIE_SECURE=site_url.startswith("https://"),
    )
    app.extensions["coop_site"] = Site(
        coop=CoopClient(idp_url, str(cfg["client_id"]), str(cfg["client_secret"]),
                        timeout=float(cfg.get("timeout", 10.0))),
        private_jwk=private_jwk, coop_key=coop_key, redirect_uri=redirect_uri,
        site_url=site_url, idp_url=idp_url, idp_source=_idp_source(idp_url))
    app.extensions["coop_site_tokens"] = {}
    _routes(app)
    deposit.install(app, cfg.get("ledger_file"), str(cfg["client_id"]))
    app.after_request(_security_headers)
    return app


def site() -> Site:
    value: Site = current_app.extensions["coop_site"]
    return value


# -- flows kept in the signed session cookie --------------------------------------------------


def _scope_arg(default: str) -> str | None:
    words = list(dict.fromkeys(request.args.get("scope", default).split()))
    if not words or any(word not in KNOWN_SCOPES for word in words):
        return None
    return " ".join(words)


def _fields_arg() -> str | None:
    words = request.args.get("fields", "").split()
    if not all(_FIELD.fullmatch(word) for word in words):
        return None
    return " ".join(words) or None


def _start_flow(method: str, scope: str, *, after: str = "", back: str = "") -> dict[str, str]:
    """A flow kept in the session: ``after`` is a page of this site to go to once signed in,
    ``back`` an address the result page links to (where the member came from)."""
    verifier, challenge = new_pkce()
    flow = {"m": method, "v": verifier, "s": scope, "t": str(int(time.time()))}
    if after:
        flow["a"] = after
    if back:
        flow["b"] = back
    if "openid" in scope.split():
        flow["n"] = new_state()
    state = new_state()
    now = time.time()
    flows = {k: v for k, v in session.get("flows", {}).items()
             if now - float(v.get("t", 0)) < FLOW_TTL}
    flows[state] = flow
    session["flows"] = dict(list(flows.items())[-MAX_FLOWS:])
    return {"state": state, "code_challenge": challenge, "nonce": flow.get("n", "")}


def _take_flow(state: str, method: str) -> dict[str, str] | None:
    """The flow started with `state` by this browser, removed (one use), or None."""
    flows = dict(session.get("flows", {}))
    flow = flows.pop(state, None) if state else None
    if flow is None:
        return None
    session["flows"] = flows
    if flow.get("m") != method or time.time() - float(flow.get("t", 0)) >= FLOW_TTL:
        return None
    return dict(flow)


# -- pages ------------------------------------------------------------------------------------


def error_page(code: str, status: int, *, join_url: str | None = None) -> tuple[str, int]:
    code = code if _CODE.fullmatch(code) else "unknown_error"
    text = ERRORS.get(code, "Что-то пошло не так. Something went wrong.")
    return render_template("error.html", code=code, text=text, join_url=join_url), status


def _answer(state: str, params: Any, method: str) -> str | tuple[str, int]:
    """The ticket, or the page for why there is none: the SDK tells the member's refusal from
    "not a member yet" (then the way on is joining) from an error."""
    try:
        return read_authorization_response(params, state=state)
    except NotAMember:
        join = (url_for("start", method="redirect", scope=JOIN_SCOPE) if method == "redirect"
                else url_for("iframe", scope=JOIN_SCOPE))
        return error_page("not_a_member", 400, join_url=join)
    except AccessRefused:
        return error_page("access_denied", 400)
    except AuthorizationError as exc:
        return error_page(exc.error, 400)
    except ApiError:
        return error_page("invalid_request", 400)


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _complete(flow: dict[str, str], ticket: str, redirect_uri: str | None) -> Any:
    """Exchange the ticket, verify the ID token, fetch and decrypt the share, show it."""
    s = site()
    try:
        tokens: TicketTokens = s.coop.exchange_ticket(ticket, flow["v"], redirect_uri)
        claims = (s.coop.verify_id_token(tokens.id_token, nonce=flow.get("n"))
                  if tokens.id_token else None)
        share: SharePlaintext | None = None
        public_key: str | None = None
        if tokens.has_data and tokens.username:
            shared = s.coop.get_encrypted_data(tokens)
            public_key = shared.public_key
            share = decrypt_share_jwcrypto(shared, s.private_jwk)
    except ApiError as exc:
        # status and code only: a message may quote a field, never a value, but keep it short.
        log.warning("id.card.coop answered %s %s", exc.status, exc.error)
        return error_page(exc.error, 502)
    except httpx.TransportError:
        log.warning("id.card.coop is unreachable")
        return error_page("idp_unavailable", 502)
    except ProtocolError:
        log.warning("a share could not be decrypted")
        return error_page("decryption_failed", 502)
    if share is not None:
        _keep_token(tokens)
    if claims is not None:
        session["signed_in_sub"] = str(claims.get("sub", ""))  # signed in at this site
    if flow.get("a"):
        return redirect(flow["a"])  # a third-party-initiated login's target_link_uri
    return _result(tokens, share, public_key, claims, back=flow.get("b"))


def _result(tokens: TicketTokens, share: SharePlaintext | None, public_key: str | None,
            claims: dict[str, Any] | None, *, back: str | None = None) -> tuple[str, int]:
    rows = [(name, FIELD_LABELS.get(name, name), _value(value))
            for name, value in (share.data.items() if share else [])]
    return render_template("result.html", tokens=tokens, share=share, public_key=public_key,
                           rows=rows, claims=claims, back=back), 200


def _keep_token(tokens: TicketTokens) -> None:
    """A cooperative reads the data again later with its token (until the member revokes it).
    The token stays on the server; the browser's session holds only a random handle."""
    kept: dict[str, TicketTokens] = current_app.extensions["coop_site_tokens"]
    handle = secrets.token_urlsafe(16)
    kept[handle] = tokens
    while len(kept) > MAX_KEPT_TOKENS:
        kept.pop(next(iter(kept)))
    session["token_handle"] = handle


def _reread() -> tuple[str, int]:
    kept: dict[str, TicketTokens] = current_app.extensions["coop_site_tokens"]
    tokens = kept.get(session.get("token_handle", ""))
    if tokens is None:
        return error_page("no_access", 400)
    s = site()
    try:
        shared = s.coop.get_encrypted_data(tokens)
        share = decrypt_share_jwcrypto(shared, s.private_jwk)
    except ApiError as exc:
        log.warning("id.card.coop answered %s %s", exc.status, exc.error)
        return error_page(exc.error, 502 if exc.status >= 500 else 403)
    except httpx.TransportError:
        return error_page("idp_unavailable", 502)
    except ProtocolError:
        return error_page("decryption_failed", 502)
    return _result(tokens, share, shared.public_key, None)


def _routes(app: Flask) -> None:
    @app.get("/")
    def index() -> str:
        return render_template("index.html", join_scope=JOIN_SCOPE, share_scope=SHARE_SCOPE,
                               sign_in_scope=SIGN_IN_SCOPE)

    @app.get("/start")
    def start() -> Any:
        scope = _scope_arg(SHARE_SCOPE)
        fields = _fields_arg()
        if scope is None:
            return error_page("invalid_scope", 400)
        if request.args.get("method", "redirect") == "iframe":
            query = {"scope": scope} | ({"fields": fields} if fields else {})
            return redirect("/iframe?" + urlencode(query))
        s = site()
        flow = _start_flow("redirect", scope)
        return redirect(s.coop.authorization_url(
            s.redirect_uri, scope, state=flow["state"], code_challenge=flow["code_challenge"],
            nonce=flow["nonce"] or None, fields=fields))

    @app.get("/join")
    def join() -> Any:
        """Joining with the member card, where the portal's "join a cooperative" sends a
        member (this client's registered join URI): the authorization request with scope
        ``account``, answered by idp's join flow; the result page links back."""
        s = site()
        flow = _start_flow("redirect", JOIN_SCOPE, back=return_to(request.args) or "")
        return redirect(s.coop.authorization_url(
            s.redirect_uri, JOIN_SCOPE, state=flow["state"],
            code_challenge=flow["code_challenge"], nonce=flow["nonce"] or None))

    @app.get("/login")
    def third_party_login() -> Any:
        """OpenID Connect Core §4, Third-Party Initiated Login: the portal's "go to the
        cooperative" lands here with ``iss``; the sign-in then runs as always, and idp's single
        sign-on answers it without a page for a member signed in there."""
        iss = request.args.get("iss")
        if iss is not None and iss.rstrip("/") != site().idp_url:
            return error_page("issuer_mismatch", 400)
        s = site()
        target = request.args.get("target_link_uri", "")
        # Only a page of this site: anything else would make this an open redirect.
        after = target if target.startswith(s.site_url + "/") else ""
        flow = _start_flow("redirect", SIGN_IN_SCOPE, after=after)
        return redirect(s.coop.authorization_url(
            s.redirect_uri, SIGN_IN_SCOPE, state=flow["state"],
            code_challenge=flow["code_challenge"], nonce=flow["nonce"] or None))

    @app.get("/callback")
    def callback() -> Any:
        iss = request.args.get("iss")
        if iss is not None and iss.rstrip("/") != site().idp_url:  # RFC 9207 mix-up defence
            return error_page("issuer_mismatch", 400)
        flow = _take_flow(request.args.get("state", ""), "redirect")
        if flow is None:
            return error_page("state_mismatch", 400)
        answer = _answer(request.args.get("state", ""), request.args, "redirect")
        if not isinstance(answer, str):
            return answer
        return _complete(flow, answer, site().redirect_uri)

    @app.get("/iframe")
    def iframe() -> tuple[str, int]:
        scope = _scope_arg(SHARE_SCOPE)
        if scope is None:
            return error_page("invalid_scope", 400)
        flow = _start_flow("iframe", scope)
        return render_template("iframe.html", scope=scope, fields=_fields_arg() or "",
                               **flow), 200

    @app.post("/iframe/complete")
    def iframe_complete() -> Any:
        # The state is the CSRF token: it must be one this browser's session started.
        flow = _take_flow(request.form.get("state", ""), "iframe")
        if flow is None:
            return error_page("state_mismatch", 400)
        # The widget's answer as the form carries it: ticket, or error and cardcoop_reason.
        fields = {k: v for k, v in request.form.items() if v}
        answer = _answer(request.form.get("state", ""), fields, "iframe")
        if not isinstance(answer, str):
            return answer
        return _complete(flow, answer, None)

    @app.post("/reread")
    def reread() -> tuple[str, int]:
        return _reread()

    @app.context_processor
    def _globals() -> dict[str, Any]:
        s = site()
        return {"idp_url": s.idp_url, "client_id": s.coop.client_id, "coop_key": s.coop_key}


def _security_headers(response: Response) -> Response:
    src = site().idp_source
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src 'self' {src}; frame-src {src}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # No Referer: the callback URL carries the ticket.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint != "static":
        # Pages show personal data, or carry a fresh state: never cached.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
