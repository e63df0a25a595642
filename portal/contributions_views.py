"""/contributions: what is due per cooperative, and "make a contribution" through the
cooperative's own payment flow (portal/payments.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue

from portal import contributions, member, page_policy
from portal.pages import problem, signed_in, wallet_label
from portal.payments import SitePayments
from portal.services import services
from portal.signin import current_session


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def make_blueprint() -> Blueprint:
    bp = Blueprint("contributions", __name__)

    @bp.get("/contributions")
    @signed_in
    def contributions_page(token: str) -> ResponseReturnValue:
        ctx = services()
        card = member.overview(ctx.idp, token)
        dues = contributions.member_dues(ctx.registry, ctx.ledger, ctx.history, card.accounts,
                                         current_session().sub or "")
        response = make_response(render_template(
            "portal/contributions.html", dues=dues, wallet_label=wallet_label,
            error=request.args.get("error")))
        sites = member.sites(ctx.idp)
        response.headers["Content-Security-Policy"] = page_policy(
            ctx.settings.idp_url, sorted({origin(sites[d.coopname]) for d in dues
                                          if d.coopname in sites}))
        return response

    @bp.post("/contributions/<coopname>")
    @signed_in
    def contribute(coopname: str, token: str) -> ResponseReturnValue:
        amount = contributions.parse_amount(request.form.get("amount"))
        if amount is None:
            return redirect(f"/contributions?error=amount#coop-{coopname}", code=303)
        ctx = services()
        account = member.member_account(ctx.idp, ctx.registry, token, coopname)
        if account is None:
            return problem("not_found", 404)
        target = SitePayments(ctx.idp).deposit_url(
            coopname, account.username, amount, f"{ctx.settings.portal_url}/contributions")
        if target is None:
            return problem("no_site", 404)
        contributions.record(current_session().sub or "", account, amount)
        return redirect(target, code=303)

    return bp
