"""The dashboard's pages: thin views over portal/member.py and idp's member API (issue #12)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, g, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from common.db import db, utcnow
from portal import analytics, contributions, member, push, recommendations
from portal.idp_api import IdpUnavailable, NotFound, SignedOut
from portal.meetings import has_feed, member_meetings, remember_member
from portal.services import services
from portal.signin import current_session

# The wallets' names a member reads (ledger2 wallets.hpp); others are "other".
WALLET_LABELS = {
    "w.wal.share": lambda: _("Share contribution"),
    "w.reg.minshr": lambda: _("Paid towards the minimum share"),
    "w.wal.member": lambda: _("Membership contribution"),
    "w.cap.blago": lambda: _("Blagorost programme share"),
}


def wallet_label(name: str) -> str:
    label = WALLET_LABELS.get(name)
    return str(label() if label else _("Other contribution"))


View = Callable[..., ResponseReturnValue]


def signed_in(view: View) -> View:
    """The member's token for the view (``token=``), or the way to get one: sign in again when
    idp no longer honours the session, a "try later" page when idp does not answer."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        ours = current_session()
        if ours.sub is None or ours.row is None:
            return redirect("/auth/login" if request.method == "GET" else "/", code=303)
        try:
            token = services().idp.access_token(ours.row.id_hash)
            return view(*args, token=token, **kwargs)
        except SignedOut:
            ours.sign_out()
            return redirect("/auth/login", code=303)
        except IdpUnavailable:
            return problem("idp_down", 503)

    return wrapper


def problem(kind: str, status: int) -> tuple[str, int]:
    return render_template("portal/problem.html", problem=kind), status


def make_blueprint() -> Blueprint:
    bp = Blueprint("pages", __name__)

    @bp.get("/")
    def home() -> ResponseReturnValue:
        if current_session().sub is None:
            return render_template("portal/landing.html")
        return dashboard()

    @signed_in
    def dashboard(token: str) -> ResponseReturnValue:
        ctx = services()
        card = member.overview(ctx.idp, token)
        analytics.note(current_session().sub or "", "visit")
        remember_member(current_session().sub or "", card.accounts)
        standings = member.standings(ctx.registry, ctx.ledger, card.accounts)
        joinable = member.joinable(ctx.idp, ctx.registry, card.accounts,
                                   return_to=f"{ctx.settings.portal_url}/")
        sub = current_session().sub or ""
        advice = recommendations.for_member(
            dues=contributions.member_dues(ctx.registry, ctx.ledger, None, card.accounts, sub),
            meetings=member_meetings(ctx.registry, ctx.ledger, card.accounts),
            joinable=joinable, has_feed=has_feed(sub), push_on=push.subscriptions(sub) > 0,
            now=utcnow())
        return render_template(
            "portal/dashboard.html", card=card, standings=standings, joinable=joinable,
            advice=advice,
            number=member.card_number_groups(card.card_number), wallet_label=wallet_label,
            frame_src=f"{ctx.settings.idp_url}/frame/card?"
                      f"{urlencode({'parent': ctx.settings.portal_url, 'lang': _lang()})}",
            idp_origin=ctx.settings.idp_url)

    @bp.get("/security")
    @signed_in
    def security(token: str) -> ResponseReturnValue:
        idp = services().idp
        grants = idp.get(token, "/access/list").get("grants", [])
        sessions = idp.get(token, "/auth/sessions").get("sessions", [])
        before = request.args.get("before", type=int)
        history = idp.get(token, "/auth/activity", **({"before": before} if before else {}))
        return render_template("portal/security.html", grants=grants, sessions=sessions,
                               events=history.get("events", []),
                               next_before=history.get("next_before"))

    @bp.post("/security/grants/<grant_id>/revoke")
    @signed_in
    def revoke_grant(grant_id: str, token: str) -> ResponseReturnValue:
        return _revoke(token, f"/access/grants/{_uuid(grant_id)}", "grant_revoked")

    @bp.post("/security/sessions/<session_id>/revoke")
    @signed_in
    def revoke_session(session_id: str, token: str) -> ResponseReturnValue:
        return _revoke(token, f"/auth/sessions/{_uuid(session_id)}", "session_revoked")

    @bp.get("/go/<coopname>")
    @signed_in
    def go_to_cooperative(coopname: str, token: str) -> ResponseReturnValue:
        """"Go to the cooperative": its site's third-party-initiated login (OpenID Connect
        Core §4), where idp's single sign-on signs the member in. Only for a cooperative the
        member belongs to, and only to an address the cooperative registered at idp."""
        ctx = services()
        if member.member_account(ctx.idp, ctx.registry, token, coopname) is None:
            return problem("not_found", 404)
        site = member.site_of(ctx.idp, coopname)
        if site is None:
            return problem("no_site", 404)
        return redirect(site, code=303)

    @bp.app_errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> ResponseReturnValue:
        return problem("form_expired", 400)

    @bp.app_errorhandler(404)
    def not_found(_error: Exception) -> ResponseReturnValue:
        return problem("not_found", 404)

    @bp.app_errorhandler(405)
    def not_allowed(_error: Exception) -> ResponseReturnValue:
        return problem("not_found", 405)

    return bp


def _revoke(token: str, path: str, done: str) -> ResponseReturnValue:
    try:
        services().idp.delete(token, path)
    except NotFound:
        return redirect("/security?done=gone", code=303)
    analytics.note(current_session().sub or "", done.replace("session", "device"))
    db.session.commit()
    return redirect(f"/security?done={done}", code=303)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def _lang() -> str:
    return str(g.get("lang", "ru"))
