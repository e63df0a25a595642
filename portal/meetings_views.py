"""/meetings (list and month calendar) and the personal iCalendar feed: thin views over
portal/meetings.py."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request, session
from flask.typing import ResponseReturnValue

from common.db import utcnow
from portal import meetings, member
from portal.pages import problem, signed_in
from portal.services import services
from portal.signin import current_session

FEED_CACHE_SECONDS = 900


def make_blueprint() -> Blueprint:
    bp = Blueprint("meetings", __name__)

    @bp.get("/meetings")
    @signed_in
    def meetings_page(token: str) -> ResponseReturnValue:
        ctx = services()
        card = member.overview(ctx.idp, token)
        meetings.remember_member(current_session().sub or "", card.accounts)
        found = meetings.member_meetings(ctx.registry, ctx.ledger, card.accounts)
        now = utcnow()
        year, month = meetings.parse_month(request.args.get("month"), now.date())
        new_feed = session.pop("new_feed", None)
        return render_template(
            "portal/meetings.html", meetings=found, now=now, sites=member.sites(ctx.idp),
            grid=meetings.month_grid(found, year, month),
            view="month" if request.args.get("view") == "month" else "list",
            has_feed=meetings.has_feed(current_session().sub or ""),
            feed_url=f"{ctx.settings.portal_url}/calendar/{new_feed}.ics" if new_feed else None)

    @bp.post("/meetings/feed")
    @signed_in
    def make_feed(token: str) -> ResponseReturnValue:
        # Shown once, on the next page only: the address is the secret.
        session["new_feed"] = meetings.new_feed(current_session().sub or "")
        return Response(status=303, headers={"Location": "/meetings#feed"})

    @bp.post("/meetings/feed/revoke")
    @signed_in
    def revoke_feed(token: str) -> ResponseReturnValue:
        meetings.revoke_feeds(current_session().sub or "")
        return Response(status=303, headers={"Location": "/meetings?feed=revoked#feed"})

    @bp.get("/calendar/<token>.ics")
    def feed(token: str) -> ResponseReturnValue:
        """What Google, Apple and Thunderbird calendars fetch: no session, the address is the
        key. A revoked or unknown address is a 404."""
        owner = meetings.feed_owner(token)
        if owner is None:
            return problem("not_found", 404)
        ctx = services()
        found = meetings.member_meetings(ctx.registry, ctx.ledger,
                                         meetings.stored_accounts(owner))
        body = meetings.ics(found, member.sites(ctx.idp), lang=str(g.get("lang", "ru")))
        return Response(body, mimetype="text/calendar", headers={
            "Cache-Control": f"private, max-age={FEED_CACHE_SECONDS}",
            "Content-Disposition": 'inline; filename="card-coop-meetings.ics"',
            "Referrer-Policy": "no-referrer"})

    return bp
