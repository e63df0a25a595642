"""Exception hierarchy of the protocol layer.

Messages are fixed, generic strings: they never include key material, plaintext or the offending
input, because exception texts end up in logs and error reports.
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """Base class: input that does not follow protocol v1 (malformed, wrong type, bad value)."""


class InvalidKey(ProtocolError):
    """A key (raw bytes, JWK, Antelope string, recovery key) is malformed or fails its checksum."""


class InvalidEmail(ProtocolError):
    """An email address the `email_norm` rule (PROTOCOL.md §1) refuses: no local part or domain,
    a local part mixing scripts, or a domain that is not a valid IDNA name. The server answers
    the same address with 400 ``invalid_email``."""

    code = "invalid_email"


class DecryptionFailed(ProtocolError):
    """A JWE could not be opened: wrong key, tampered data or header, or a blob from another slot.

    One exception for every cause on purpose, so that callers (and attackers) cannot tell the
    causes apart.
    """
