"""A session's device as a member recognises it ("Chrome 131 · Windows 10 · iPhone"), read
from the user agent by ua-parser (the uap-core rules every major analytics tool shares) rather
than shown as a raw string."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

from cardcoop.client import USER_AGENT

SDK_AGENT = USER_AGENT.split("/", 1)[0] + "/"  # any version of our own SDK


@lru_cache(maxsize=1024)
def device_name(user_agent: str) -> str | None:
    """None when the agent names no known browser or system (a script, an empty header)."""
    if not user_agent:
        return None
    if user_agent.startswith(SDK_AGENT):  # our own SDK (cardcoop/client.py), unknown to uap-core
        return "card.coop SDK"
    parsed = parse(user_agent)
    parts = []
    if parsed.user_agent is not None:
        browser = parsed.user_agent
        parts.append(f"{browser.family} {browser.major}" if browser.major else browser.family)
    if parsed.os is not None:
        system = parsed.os
        parts.append(f"{system.family} {system.major}" if system.major else system.family)
    if parsed.device is not None and parsed.device.family not in ("Other", "Spider"):
        parts.append(parsed.device.family)
    return " · ".join(parts) or None
