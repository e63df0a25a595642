"""The member card schema `card.coop/schema/v1` (PROTOCOL.md §3-4) and its validation.

The schema is one file, `idp/card/schema_v1.json`: the idp serves it at `GET /card/schema`, the
browser validates with it (`widget/src/card/schema.js`), and this module validates with the
`jsonschema` library. `widget/test/fixtures/cards.json` holds samples that both implementations
must judge identically, down to the messages.

What the JSON Schema keywords cannot say is implemented here (and, identically, in the widget):

- the formats `date` (YYYY-MM-DD, a real calendar date), `email`, and the custom `ru-phone`
  (a valid number by libphonenumber's metadata, through `phonenumbers`; Russia is the default
  region, other countries need their + code), `ru-inn`, `ru-ogrn`, `ru-ogrnip`, `ru-kpp` with the
  FNS check digits;
- a date of birth is not in the future and not before 1900-01-01. "Today" is the latest calendar
  date anywhere on Earth (UTC+14), so nobody born today in their time zone is refused;
- problems are reported in the member's terms: `oneOf` is resolved by `person_type`, and each
  problem is a JSON Pointer to the field plus a Russian and an English message that start with
  the field's label (`title` / `x-title-en`). Messages never contain the value: problems end up
  in logs and error reports, and the value is personal data.

`normalize_card` gives a card its stored form, as the member's page does before saving: the phone
in E.164 (`normalize_phone`: "8 (912) 345-67-89" -> "+79123456789"), the passport series, number
and division code as the schema wants them ("45 06" -> "4506", "770001" -> "770-001"). Values it
cannot read are left as they are, for `validate_card` to report. `tests/data/phones.json` pins
this module and widget/src/card/normalize.js to the same answers.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "CardProblem",
    "format_checker",
    "is_valid_date",
    "is_valid_email",
    "is_valid_inn",
    "is_valid_kpp",
    "is_valid_ogrn",
    "is_valid_ogrnip",
    "is_valid_ru_phone",
    "load_schema",
    "normalize_card",
    "normalize_phone",
    "validate_card",
]

SCHEMA_ID = "card.coop/schema/v1"
# One source of truth, no copies in the repository: the file belongs to the idp (which serves
# it). In a checkout (and the full project's install) `idp/` sits beside `cardcoop/`; the SDK's
# own wheel (sdk/pyproject.toml) carries the same file inside the package, built from that one.
_HERE = Path(__file__).resolve().parent
SCHEMA_PATH = (_HERE / "schema_v1.json" if (_HERE / "schema_v1.json").is_file()
               else _HERE.parent / "idp" / "card" / "schema_v1.json")

BIRTHDATE_MIN = "1900-01-01"
# The latest UTC offset in use (Kiribati, UTC+14): "today" there is the last date already begun.
_LATEST_UTC_OFFSET = timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class CardProblem:
    """One problem of a card: where (`path`, a JSON Pointer, RFC 6901; "" is the card itself)
    and what, in Russian and in English. Never the value itself."""

    path: str
    message_ru: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message_ru": self.message_ru, "message_en": self.message_en}


# --- formats ------------------------------------------------------------------------------------
# Each check returns None for a good value or (ru, en) saying what is wrong with it. Regexes use
# [0-9] and explicit classes, never \d or \s: Python's are Unicode-aware, JavaScript's are not, and
# both implementations must accept exactly the same strings.

_Text = tuple[str, str]

_CHECK_DIGIT: _Text = ("неверная контрольная цифра", "wrong check digit")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_EMAIL_BAD = r"\x00-\x20\x7f@\"(),:;<>\[\\\]"
_EMAIL_RE = re.compile(
    rf"[^{_EMAIL_BAD}]{{1,64}}@(?:[^{_EMAIL_BAD}._]+\.)+[^{_EMAIL_BAD}._]{{2,}}")
# A phone as typed: an optional leading +, then digits and the separators people use (spaces,
# no-break spaces, parentheses, hyphens, en and em dashes, dots). Then libphonenumber decides.
_SPACES = " \t\u00a0"
_PHONE_RE = re.compile(r"\+?[0-9 \u00a0()\-\u2013\u2014.]*[0-9][0-9 \u00a0()\-\u2013\u2014.]*")
PHONE_REGION = "RU"
PHONE_MAX_LENGTH = 32
_KPP_RE = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_DIGITS_RE = re.compile(r"[0-9]+")

# ФНС: the INN check digits are weighted sums mod 11 mod 10.
_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _weighted_check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def _date_problem(value: str) -> _Text | None:
    match = _DATE_RE.fullmatch(value)
    if match is not None:
        year, month, day = (int(part) for part in match.groups())
        if year >= 1 and 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month):
            return None
    return ("неверная дата, нужен формат ГГГГ-ММ-ДД", "invalid date, expected YYYY-MM-DD")


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _email_problem(value: str) -> _Text | None:
    if len(value) <= 254 and _EMAIL_RE.fullmatch(value):
        return None
    return ("неверный адрес", "invalid address")


def normalize_phone(value: object) -> str | None:
    """The E.164 form of a phone number as a person types it ("8 (912) 345-67-89" ->
    "+79123456789"), or None when it is not a valid number. Russia is the default region; digits,
    one leading +, spaces, parentheses, hyphens, dashes and dots are allowed, nothing else (no
    letters, no extension: E.164 has no room for one and dropping it would lose data)."""
    if not isinstance(value, str) or len(value) > PHONE_MAX_LENGTH:
        return None
    text = value.strip(_SPACES)
    if not _PHONE_RE.fullmatch(text):
        return None
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_problem(value: str) -> _Text | None:
    if normalize_phone(value) is not None:
        return None
    return ("неверный номер", "invalid number")


def _inn_problem(value: str) -> _Text | None:
    if not _DIGITS_RE.fullmatch(value) or len(value) not in (10, 12):
        return ("ожидается 10 или 12 цифр", "expected 10 or 12 digits")
    if len(value) == 10:
        ok = _weighted_check(value, _INN10_WEIGHTS) == int(value[9])
    else:
        ok = (_weighted_check(value, _INN11_WEIGHTS) == int(value[10])
              and _weighted_check(value, _INN12_WEIGHTS) == int(value[11]))
    return None if ok else _CHECK_DIGIT


def _ogrn_like_problem(value: str, length: int, modulus: int) -> _Text | None:
    if not _DIGITS_RE.fullmatch(value) or len(value) != length:
        return (f"ожидается {length} цифр", f"expected {length} digits")
    if int(value[:-1]) % modulus % 10 != int(value[-1]):
        return _CHECK_DIGIT
    return None


def _ogrn_problem(value: str) -> _Text | None:
    """ОГРН: 13 digits, the last = (the first 12 as a number) mod 11 mod 10."""
    return _ogrn_like_problem(value, 13, 11)


def _ogrnip_problem(value: str) -> _Text | None:
    """ОГРНИП: 15 digits, the last = (the first 14 as a number) mod 13 mod 10."""
    return _ogrn_like_problem(value, 15, 13)


def _kpp_problem(value: str) -> _Text | None:
    """КПП: 4 digits (tax office), 2 digits or capital Latin letters (reason), 3 digits."""
    if _KPP_RE.fullmatch(value):
        return None
    return ("ожидается 9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры",
            "expected 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits")


_FORMATS: dict[str, Callable[[str], _Text | None]] = {
    "date": _date_problem,
    "email": _email_problem,
    "ru-phone": _phone_problem,
    "ru-inn": _inn_problem,
    "ru-ogrn": _ogrn_problem,
    "ru-ogrnip": _ogrnip_problem,
    "ru-kpp": _kpp_problem,
}


def _is_valid(name: str, value: object) -> bool:
    return isinstance(value, str) and _FORMATS[name](value) is None


def is_valid_date(value: object) -> bool:
    """A real calendar date written YYYY-MM-DD."""
    return _is_valid("date", value)


def is_valid_email(value: object) -> bool:
    return _is_valid("email", value)


def is_valid_ru_phone(value: object) -> bool:
    return _is_valid("ru-phone", value)


def is_valid_inn(value: object) -> bool:
    """ИНН of an organization (10 digits) or a person (12 digits) with the FNS check digits."""
    return _is_valid("ru-inn", value)


def is_valid_ogrn(value: object) -> bool:
    return _is_valid("ru-ogrn", value)


def is_valid_ogrnip(value: object) -> bool:
    return _is_valid("ru-ogrnip", value)


def is_valid_kpp(value: object) -> bool:
    return _is_valid("ru-kpp", value)


# --- normalisation ------------------------------------------------------------------------------
# The passport as printed: "45 06" for the series, "770 001" for the division code. Separators go;
# what remains is kept only if it then has the schema's shape (else the value stays as typed and
# validation says what is wrong).
_SEPARATORS_RE = re.compile(r"[ \t\u00a0\-\u2013\u2014]")
_PASSPORT_DIGITS = {"series": 4, "number": 6, "code": 6}


def _normalize_passport_part(name: str, value: str) -> str:
    digits = _SEPARATORS_RE.sub("", value)
    if not _DIGITS_RE.fullmatch(digits) or len(digits) != _PASSPORT_DIGITS[name]:
        return value.strip(_SPACES)
    return f"{digits[:3]}-{digits[3:]}" if name == "code" else digits


def normalize_card(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the card in its stored form: `phone` in E.164, the passport's series, number and
    code as the schema wants them. Values that cannot be read stay as they are."""
    out: dict[str, Any] = copy.deepcopy(dict(data))
    phone = out.get("phone")
    if isinstance(phone, str):
        out["phone"] = normalize_phone(phone) or phone
    passport = out.get("passport")
    if isinstance(passport, Mapping):
        fixed = dict(passport)
        for name in _PASSPORT_DIGITS:
            if isinstance(fixed.get(name), str):
                fixed[name] = _normalize_passport_part(name, fixed[name])
        out["passport"] = fixed
    return out


class _FormatProblem(Exception):
    """Carries the (ru, en) reason of a failed format out of the FormatChecker (error.cause)."""

    def __init__(self, text: _Text) -> None:
        super().__init__(text[1])
        self.text = text


def _format_check(name: str) -> Callable[[object], bool]:
    problem_of = _FORMATS[name]

    def check(value: object) -> bool:
        if not isinstance(value, str):
            return True  # not a string: the `type` keyword reports it
        problem = problem_of(value)
        if problem is not None:
            raise _FormatProblem(problem)
        return True

    return check


def format_checker() -> FormatChecker:
    """A FormatChecker with exactly the card formats (and none of jsonschema's own, so that a
    value means the same here and in the browser)."""
    checker = FormatChecker(formats=())
    for name in _FORMATS:
        checker.checks(name, raises=_FormatProblem)(_format_check(name))
    return checker


# --- the schema ---------------------------------------------------------------------------------


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def load_schema() -> dict[str, Any]:
    """The card schema (a fresh copy: callers may change it without affecting validation)."""
    return copy.deepcopy(_schema())


@cache
def _validator() -> Draft202012Validator:
    schema = _schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=format_checker())


# --- problems -----------------------------------------------------------------------------------

# When one field has several problems (an 11-digit INN breaks maxLength, pattern and format), the
# member sees one: the most basic. Both implementations use this order.
_PRIORITY = {
    "type": 0, "required": 1, "additionalProperties": 2, "const": 3, "enum": 3, "oneOf": 4,
    "minLength": 5, "maxLength": 5, "pattern": 6, "format": 7, "birthdate": 8,
}
_TYPE_NAMES = {
    "string": ("должно быть строкой", "must be a string"),
    "object": ("должно быть объектом", "must be an object"),
}
_REQUIRED: _Text = ("обязательное поле", "required field")
_UNKNOWN_FIELD: _Text = ("Неизвестное поле", "Unknown field")
_NOT_ALLOWED: _Text = ("выберите одно из допустимых значений", "must be one of the allowed values")
_INVALID: _Text = ("недопустимое значение", "invalid value")
_BAD_FORMAT: _Text = ("неверный формат", "invalid format")


def _pointer(segments: list[str | int]) -> str:
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


class _Schema:
    """Navigation in the schema: local $ref, the oneOf branch of an instance, field labels."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if not ref.startswith("#") or seen > 32:
                raise ValueError("only local $ref is supported")
            target: Any = self.root
            for part in ref[1:].split("/")[1:]:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node, seen = target, seen + 1
        return node

    def discriminator(self, branches: list[Mapping[str, Any]]) -> str | None:
        """The property that every branch pins with `const` (person_type)."""
        resolved = [self.resolve(b) for b in branches]
        if not resolved:
            return None
        for key, prop in resolved[0].get("properties", {}).items():
            if "const" in prop and all(
                    "const" in b.get("properties", {}).get(key, {}) for b in resolved):
                return str(key)
        return None

    def branch_index(self, branches: list[Mapping[str, Any]], instance: object) -> int | None:
        key = self.discriminator(branches)
        if key is None or not isinstance(instance, Mapping) or key not in instance:
            return None
        for index, branch in enumerate(branches):
            const = self.resolve(branch)["properties"][key]["const"]
            if _same(const, instance[key]):
                return index
        return None

    def child(self, node: Mapping[str, Any], instance: object, key: str | int
              ) -> Mapping[str, Any] | None:
        node = self.resolve(node)
        candidates = [node]
        branches = node.get("oneOf")
        if isinstance(branches, list):
            index = self.branch_index(branches, instance)
            if index is not None:
                candidates.insert(0, self.resolve(branches[index]))
        for candidate in candidates:
            props = candidate.get("properties", {})
            if isinstance(key, str) and key in props:
                found: Mapping[str, Any] = props[key]
                return found
        return None

    def title(self, data: object, segments: list[str | int]) -> _Text | None:
        node: Mapping[str, Any] | None = self.root
        instance = data
        for segment in segments:
            assert node is not None
            node = self.child(node, instance, segment)
            if node is None:
                return None
            if isinstance(instance, Mapping) and isinstance(segment, str):
                instance = instance.get(segment)
            else:
                instance = None
        assert node is not None
        for candidate in (node, self.resolve(node)):
            if "title" in candidate:
                ru = str(candidate["title"])
                return (ru, str(candidate.get("x-title-en", ru)))
        return None


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _length_text(keyword: str, limit: int) -> _Text:
    if keyword == "minLength" and limit == 1:
        return ("заполните поле", "must not be empty")
    if keyword == "minLength":
        return (f"слишком короткое значение (не менее {limit} символов)",
                f"too short (at least {limit} characters)")
    return (f"слишком длинное значение (не более {limit} символов)",
            f"too long (at most {limit} characters)")


@dataclass(frozen=True, slots=True)
class _Found:
    priority: int
    problem: CardProblem


def _found(keyword: str, segments: list[str | int], label: _Text | None, text: _Text) -> _Found:
    if label is None:
        ru, en = text
    else:
        ru, en = f"{label[0]}: {text[0]}", f"{label[1]}: {text[1]}"
    return _Found(_PRIORITY.get(keyword, 9), CardProblem(_pointer(segments), ru, en))


def _expected(node: Mapping[str, Any]) -> _Text | None:
    if "x-expected" not in node:
        return None
    ru = str(node["x-expected"])
    return (f"ожидается {ru}", f"expected {node.get('x-expected-en', ru)}")


def _from_error(nav: _Schema, data: object, error: ValidationError) -> Iterator[_Found]:
    keyword = str(error.validator)
    segments: list[str | int] = list(error.absolute_path)
    node: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    value: Any = error.validator_value  # typed `Any | Unset` by the stubs; set on every error
    if keyword == "oneOf":
        branches = list(value)
        index = nav.branch_index(branches, instance)
        if index is None:
            key = nav.discriminator(branches)
            where = list(segments)
            if key is not None and isinstance(instance, Mapping):
                where.append(key)  # else not an object: `type` says so, at this same path
            yield _found(keyword, where, nav.title(data, where), _NOT_ALLOWED)
            return
        for sub in error.context or ():
            if sub.relative_schema_path and sub.relative_schema_path[0] == index:
                yield from _from_error(nav, data, sub)
        return
    if keyword == "required" and isinstance(instance, Mapping):
        for name in value:
            if name not in instance:
                where = [*segments, name]
                yield _found(keyword, where, nav.title(data, where), _REQUIRED)
        return
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = node.get("properties", {})
        for name in instance:
            if name not in known:
                yield _found(keyword, [*segments, name], None, _UNKNOWN_FIELD)
        return
    label = nav.title(data, segments)
    text: _Text
    if keyword == "type":
        text = _TYPE_NAMES.get(str(value), _INVALID)
    elif keyword in ("const", "enum"):
        text = _NOT_ALLOWED
    elif keyword in ("minLength", "maxLength", "pattern"):
        hint = _expected(node)
        if hint is not None:
            text = hint
        elif keyword == "pattern":
            text = _BAD_FORMAT
        else:
            text = _length_text(keyword, int(value))
    elif keyword == "format":
        cause = error.cause
        text = cause.text if isinstance(cause, _FormatProblem) else _BAD_FORMAT
    else:
        text = _INVALID
    yield _found(keyword, segments, label, text)


def _latest_today() -> date:
    return (datetime.now(UTC) + _LATEST_UTC_OFFSET).date()


def _birthdate_rule(nav: _Schema, data: Mapping[str, Any], today: date) -> Iterator[_Found]:
    """A date of birth is not in the future and not before 1900 (dates compare as ISO text)."""
    value = data.get("birthdate")
    if data.get("person_type") not in ("individual", "entrepreneur"):
        return
    if not isinstance(value, str) or _date_problem(value) is not None:
        return
    label = nav.title(data, ["birthdate"])
    if value > today.isoformat():
        yield _found("birthdate", ["birthdate"], label,
                     ("не может быть в будущем", "must not be in the future"))
    elif value < BIRTHDATE_MIN:
        yield _found("birthdate", ["birthdate"], label,
                     ("не может быть раньше 1900 года", "must not be before 1900"))


def _plain(value: Any) -> Any:
    """JSON-like data with any Mapping turned into a dict (jsonschema's "object" is a dict)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def validate_card(data: Mapping[str, Any], *, today: date | None = None) -> list[CardProblem]:
    """Problems of a card's plaintext against `card.coop/schema/v1`; [] means valid.

    At most one problem per field (the most basic one), sorted by path. `today` (for the date of
    birth) defaults to the latest date anywhere on Earth; tests pass a fixed one.
    """
    plain = _plain(data)
    nav = _Schema(_schema())
    found: list[_Found] = []
    for error in _validator().iter_errors(plain):
        found.extend(_from_error(nav, plain, error))
    if isinstance(plain, dict):
        found.extend(_birthdate_rule(nav, plain, today or _latest_today()))
    best: dict[str, _Found] = {}
    for item in found:
        path = item.problem.path
        current = best.get(path)
        key = (item.priority, item.problem.message_en)
        if current is None or key < (current.priority, current.problem.message_en):
            best[path] = item
    return [best[path].problem for path in sorted(best)]
