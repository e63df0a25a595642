"""`email_norm` (PROTOCOL.md §1): one canonical form of an email address.

The canonical form is the PBKDF2 salt of the member's keys and the account's identity on the
server, so the browser (widget/src/crypto/email.js) computes exactly the same string; the
vectors' "email_norm" section pins both. Unicode twins of one address (NFD/NFC, fullwidth
letters, a domain in punycode or in capitals) fold into one form; an address whose local part
mixes scripts (a Cyrillic "а" among Latin letters) is refused rather than folded, because no
folding makes a homograph the address its owner meant. Plain ASCII addresses come out exactly as
the v1.0 rule (``strip().lower()``) made them, so no existing key changes.
"""

from __future__ import annotations

import functools
import unicodedata

import idna

from .errors import InvalidEmail, ProtocolError

__all__ = ["email_script", "kdf_salt_email", "normalize_email"]

# The script of a letter, from an explicit table identical to the one in the browser's
# email.js. No library is used on purpose: Python's unicodedata has no Script property, and the
# packages that have one (regex on PyPI, \p{Script=} in JavaScript) each carry their own Unicode
# version, so the two sides could disagree about a letter; a table both sides spell out cannot.
# Every code point inside these ranges counts for its script (letters, and the few marks and
# signs of those blocks); the rest of the blocks' neighbours (IPA, Latin Extended-C..E, ...) are
# "other", which only makes a mixed address refused sooner.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "latin"),  # A-Z (a lowered local part has none, kept for completeness)
    (0x0061, 0x007A, "latin"),  # a-z
    (0x00C0, 0x00D6, "latin"),  # Latin-1 Supplement letters (not × U+00D7, ÷ U+00F7)
    (0x00D8, 0x00F6, "latin"),
    (0x00F8, 0x024F, "latin"),  # ...and Latin Extended-A, Latin Extended-B
    (0x1E00, 0x1EFF, "latin"),  # Latin Extended Additional
    (0x0370, 0x03FF, "greek"),  # Greek and Coptic
    (0x1F00, 0x1FFF, "greek"),  # Greek Extended
    (0x0400, 0x052F, "cyrillic"),  # Cyrillic, Cyrillic Supplement
    (0x1C80, 0x1C8F, "cyrillic"),  # Cyrillic Extended-C
    (0x2DE0, 0x2DFF, "cyrillic"),  # Cyrillic Extended-A
    (0xA640, 0xA69F, "cyrillic"),  # Cyrillic Extended-B
)


def email_script(char: str) -> str | None:
    """"latin", "greek", "cyrillic", "other" (any other letter: General_Category L*), or None
    for a script-neutral character (digits, punctuation, symbols, combining marks)."""
    point = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= point <= high:
            return script
    return "other" if unicodedata.category(char).startswith("L") else None


def _local_part(local: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", local).lower())
    # Python and the browser may ship different Unicode versions; a form that lowering would
    # still change is refused instead of trusted to come out the same on both sides.
    if not folded or folded.lower() != folded:
        raise InvalidEmail("the email's local part has no stable lowercase form")
    scripts = {script for char in folded if (script := email_script(char)) is not None}
    if len(scripts) > 1:
        raise InvalidEmail("the email's local part mixes letters of different scripts")
    return folded


# Members' addresses share a few domains, and IDNA is the costliest step of the rule (issue
# #10: remembering it took a sign-in's CPU besides Argon2id from 6.2 to 5.3 ms in-process). A
# domain's form is a pure function of it and says nothing of a person, so the last ones are
# remembered; a refused domain raises, so it is never remembered.
@functools.lru_cache(maxsize=1024)
def _domain(domain: str) -> str:
    # IDNA 2008 with the UTS #46 mapping, non-transitional (ß stays ß); A-labels back to
    # U-labels, so that a member who typed "почта.рф" keeps exactly the salt they had.
    try:
        unicode_form = idna.decode(idna.encode(domain, uts46=True, transitional=False))
    except (UnicodeError, ValueError):
        raise InvalidEmail("the email's domain is not a valid IDNA domain name") from None
    if "" in unicode_form.split("."):  # idna keeps a trailing dot; an address has none
        raise InvalidEmail("the email's domain has an empty label")
    return unicodedata.normalize("NFC", unicode_form.lower())


def normalize_email(email: str) -> str:
    """`email_norm` of PROTOCOL.md §1; raises `InvalidEmail` (a `ProtocolError`) for an address
    the rule refuses. The result is a fixed point: ``normalize_email(result) == result``."""
    if not isinstance(email, str):
        raise InvalidEmail("the email must be a string")
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("the email needs a local part, an @ and a domain")
    return f"{_local_part(local)}@{_domain(domain)}"


def kdf_salt_email(email: str, kdf_email: str | None) -> str:
    """The string to salt PBKDF2 with (PROTOCOL.md §2): the `kdfEmail` initiate-login returned,
    but only when it is a form of `email` (a server must not steer the derivation to another
    address), else the canonical form of `email`. Raises `InvalidEmail` for an invalid `email`,
    `ProtocolError` for a `kdf_email` of another address."""
    canonical = normalize_email(email)
    if kdf_email is None:
        return canonical
    try:
        same = isinstance(kdf_email, str) and normalize_email(kdf_email) == canonical
    except InvalidEmail:
        same = False
    if not same:
        raise ProtocolError("kdfEmail is not a form of this email address")
    return kdf_email
