"""Masking addresses for log lines and error messages (DESIGN.md §7: no personal datum in logs)."""

from __future__ import annotations

import re

# Loose on purpose: anything that looks like an address in a server's reply gets masked.
_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")


def mask_email(address: str) -> str:
    """``user@example.com`` -> ``u***@example.com``: enough to tell support which mailbox, not
    enough to give the address away. The domain stays because it explains most delivery failures.
    """
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_emails_in(text: str, limit: int = 200) -> str:
    """Mask every address inside a server's free-text reply and cap its length: SMTP servers
    echo the recipient back ("550 <user@x>: unknown"), and the reply ends up in the outbox."""
    masked = _ADDRESS.sub(lambda match: mask_email(match.group(0)), text)
    masked = " ".join(masked.split())
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"
