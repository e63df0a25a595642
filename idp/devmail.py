"""/dev/mailbox: what idp would have emailed, for development only.

Registered only when the development mailbox is the notification channel (the embedded default
of ``make run``), so that a newcomer can read the registration code without a mail server.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from common.db import db
from idp.models import DevMail

SHOWN = 50


def _messages() -> list[DevMail]:
    query = select(DevMail).order_by(DevMail.id.desc()).limit(SHOWN)
    to = request.args.get("to", "").strip().lower()
    if to:
        query = query.where(DevMail.to_email == to)
    return list(db.session.scalars(query))


def make_blueprint() -> Blueprint:
    bp = Blueprint("devmail", __name__)

    @bp.get("/dev/mailbox")
    def mailbox() -> ResponseReturnValue:
        return render_template("idp/dev/mailbox.html", messages=_messages())

    @bp.get("/dev/mailbox.json")
    def mailbox_json() -> ResponseReturnValue:
        return jsonify({"messages": [
            {"id": m.id, "to": m.to_email, "subject": m.subject, "body": m.body,
             "created_at": m.created_at.isoformat()} for m in _messages()]})

    return bp
