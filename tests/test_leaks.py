"""The leak scan itself must be able to fail: a secret planted in a row or a log line is found."""

from __future__ import annotations

import logging

from common.db import db
from idp.models import AuditEvent, DevMail
from tests.leaks import database_dump, find_leaks, recording_logs


def test_a_planted_secret_is_found_in_the_dump(app):
    with app.app_context():
        db.session.add(DevMail(to_email="x@example.com", subject="s", body="паспорт 345678"))
        db.session.add(AuditEvent(event="e", actor="a", details={"name": "Иванова"}))
        db.session.commit()
    dump = database_dump(app)
    assert find_leaks(dump, ["345678", "Иванова", "никогда-не-было"]) == ["345678", "Иванова"]


def test_a_planted_secret_is_found_in_the_logs():
    with recording_logs() as logs:
        logging.getLogger("cardcoop.test").info("hashKey=%s", "s3cr3t-value")
    assert find_leaks(logs.text, ["s3cr3t-value"]) == ["s3cr3t-value"]


def test_short_numbers_are_not_counted_they_occur_by_chance():
    assert find_leaks("sha256=77f4512ab… card 2816307374089570", ["4512", "2816307374089570"]) == [
        "2816307374089570"]
