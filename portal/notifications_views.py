"""/notifications (the centre, with filters and "mark read") and /settings (per kind: the
channels and the frequency; browser push on and off): thin views over
portal/notify_center.py and portal/push.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask.typing import ResponseReturnValue

from common.db import db
from portal import notify_center, push
from portal.notice_texts import describe
from portal.pages import problem, signed_in
from portal.services import services
from portal.signin import current_session

STATIC_JS = "static/js"


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value[:10]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _moment(value: str | None) -> datetime | None:
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sync_idp_notices(token: str, sub: str) -> None:
    """Copy what idp told the member into the centre (once each)."""
    for notice in services().idp.get(token, "/auth/notifications").get("notices", []):
        kind = str(notice.get("kind", ""))
        if kind not in notify_center.IDP_KINDS:
            continue
        # A message's id and an event's id are counted apart at idp.
        origin = "idp-event" if notice.get("origin") == "event" else "idp"
        coopname = notice.get("coopname")
        notify_center.record(sub, kind, f"{origin}:{notice.get('id')}",
                             coopname=coopname if isinstance(coopname, str) else None,
                             at=datetime.fromisoformat(str(notice["at"])))
    db.session.commit()


def make_blueprint() -> Blueprint:
    bp = Blueprint("notifications", __name__)

    @bp.get("/notifications")
    @signed_in
    def centre(token: str) -> ResponseReturnValue:
        sub = current_session().sub or ""
        sync_idp_notices(token, sub)
        until = _day(request.args.get("until"))
        filters = notify_center.Filters(
            kind=request.args.get("kind") or None,
            coopname=request.args.get("coop") or None,
            unread=request.args.get("unread") == "1",
            since=_day(request.args.get("since")),
            until=until + timedelta(days=1) if until else None,
            before=_moment(request.args.get("before")))
        rows, next_before = notify_center.listing(sub, filters)
        return render_template("portal/notifications.html", rows=rows, filters=filters,
                               next_before=next_before, kinds=notify_center.KINDS,
                               idp_kinds=notify_center.IDP_KINDS,
                               coops=notify_center.coopnames(sub), describe=describe,
                               unread=notify_center.unread_count(sub),
                               older_url="/notifications?" + urlencode(
                                   {k: v for k, v in request.args.items() if k != "before"}
                                   | {"before": next_before.isoformat() if next_before else ""}))

    @bp.post("/notifications/read")
    @signed_in
    def read(token: str) -> ResponseReturnValue:
        raw = request.form.getlist("id")
        ids = [int(i) for i in raw if i.isdigit() and len(i) < 18] if raw else None
        notify_center.mark_read(current_session().sub or "", ids)
        back = request.form.get("back") or ""
        return redirect(back if _local(back) else "/notifications", code=303)

    @bp.get("/settings")
    @signed_in
    def settings_page(token: str) -> ResponseReturnValue:
        sub = current_session().sub or ""
        return render_template("portal/settings.html", prefs=notify_center.preferences(sub),
                               kinds=notify_center.KINDS, email_kinds=notify_center.EMAIL_KINDS,
                               vapid_key=push.load_vapid(services().settings).public_key,
                               browsers=push.subscriptions(sub),
                               saved=request.args.get("saved") == "1")

    @bp.post("/settings")
    @signed_in
    def save_settings(token: str) -> ResponseReturnValue:
        sub = current_session().sub or ""
        try:
            chosen = notify_center.parse_preferences(request.form)
        except ValueError:
            return problem("form_expired", 400)
        notify_center.save_preferences(sub, chosen)
        if services().settings.novu_api_url:
            from portal.novu_preferences import queue_mirror

            queue_mirror(sub, chosen)
            db.session.commit()
        return redirect("/settings?saved=1", code=303)

    @bp.post("/settings/push")
    @signed_in
    def subscribe(token: str) -> ResponseReturnValue:
        try:
            push.subscribe(current_session().sub or "", request.get_json(silent=True))
        except push.InvalidSubscription as error:
            return jsonify({"error": "invalid_subscription", "message": str(error)}), 400
        return jsonify({"subscribed": True}), 201

    @bp.post("/settings/push/remove")
    @signed_in
    def unsubscribe(token: str) -> ResponseReturnValue:
        body = request.get_json(silent=True)
        endpoint = body.get("endpoint") if isinstance(body, dict) else None
        return jsonify({"removed": push.unsubscribe(current_session().sub or "", endpoint)})

    @bp.get("/sw.js")
    def service_worker() -> Response:
        """At the root, so that its scope is the whole portal."""
        response = send_from_directory(bp.root_path + "/" + STATIC_JS, "sw.js", max_age=0)
        response.mimetype = "text/javascript"
        return response

    return bp


def _local(target: str | None) -> bool:
    return bool(target) and str(target).startswith("/") and not str(target).startswith("//")
