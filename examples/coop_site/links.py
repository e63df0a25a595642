"""Links back to where the member came from (the portal's dashboard), shown as a link, never
followed by a redirect: this site does not send anyone to an address a query named."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def return_to(values: Any) -> str | None:
    """Where the "back" link goes: an absolute http(s) address, else nowhere."""
    value = values.get("return_to", "")
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None
