"""Dates and money as a member reads them, in the page's language (Flask-Babel). A moment is
Moscow time, named as such and to the minute, exactly as the emails say it
(common.notify.texts.format_time): a meeting's hour on the page and in its reminder agree."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_currency, format_date, get_locale

from common.notify.texts import format_time


def _moment(value: object) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def datetime_or_blank(value: object) -> str:
    moment = _moment(value)
    if isinstance(moment, datetime):
        return format_time(moment, str(get_locale()))  # an unknown locale reads Russian
    return str(format_date(moment, "long")) if moment is not None else "—"


def date_only(value: object) -> str:
    moment = _moment(value)
    return str(format_date(moment, "long")) if moment is not None else "—"


def month_title(value: date) -> str:
    return str(format_date(value, "LLLL yyyy")).capitalize()


def weekday_short(value: date) -> str:
    return str(format_date(value, "EEE"))


def money(value: Decimal, symbol: str) -> str:
    return str(format_currency(value, symbol))


def init_formatting(app: Flask) -> None:
    app.add_template_filter(datetime_or_blank)
    app.add_template_filter(date_only)
    app.add_template_filter(money)
    app.add_template_filter(month_title)
    app.add_template_filter(weekday_short)
