"""/analytics (the member's own activity) and /admin/analytics (+ .csv, operators only)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from portal import analytics
from portal.pages import problem, signed_in
from portal.services import services
from portal.signin import current_session


def make_blueprint() -> Blueprint:
    bp = Blueprint("analytics", __name__)

    @bp.get("/analytics")
    @signed_in
    def mine(token: str) -> ResponseReturnValue:
        series = analytics.member_history(services().idp, token)
        return render_template("portal/analytics.html", series=series,
                               is_admin=_is_admin())

    @bp.get("/admin/analytics")
    @signed_in
    def operators(token: str) -> ResponseReturnValue:
        if not _is_admin():
            return problem("not_found", 404)  # not a page for members: it does not exist
        rows = analytics.daily()
        return render_template("portal/admin_analytics.html", rows=rows,
                               weekly=analytics.weekly_active())

    @bp.get("/admin/analytics.csv")
    @signed_in
    def operators_csv(token: str) -> ResponseReturnValue:
        if not _is_admin():
            return problem("not_found", 404)
        return Response(analytics.as_csv(analytics.daily()), mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="portal-activity.csv"',
            "Cache-Control": "no-store"})

    return bp


def _is_admin() -> bool:
    sub = current_session().sub
    return bool(sub) and sub in services().settings.portal_admins
