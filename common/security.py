"""Security headers on every response and the client's address (DESIGN.md §7)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Strict by default; a page that must be framed (the consent page of the iframe method) sets its
# own CSP with the one origin allowed to frame it, and then gets no X-Frame-Options.
# idp's browser session cookie (idp/auth/cookie.py): the plain name on http, the __Host- one
# (Secure, host-only) on https.
SESSION_COOKIES = ("cardcoop_session", "__Host-cardcoop_session")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def init_security_headers(app: Flask, *, https: bool, trusted_proxies: int) -> None:
    if trusted_proxies:
        # Only behind a proxy we run: otherwise X-Forwarded-For is the client's to forge.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies,  # type: ignore[method-assign]
                                x_proto=trusted_proxies, x_host=trusted_proxies)

    always = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
              ("Cross-Origin-Opener-Policy", "same-origin"),
              ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
    if https:
        always.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))

    @app.after_request
    def _headers(response: Response) -> Response:
        # One pass over what the view set, then one extend: werkzeug's setdefault scans the
        # list (and raises and catches a KeyError) per header, a tenth of a small request.
        headers = response.headers
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers, not dict)
        added = [(name, value) for name, value in always if name.lower() not in present]
        csp = headers.get("Content-Security-Policy")
        if csp is None:
            csp = CSP
            added.append(("Content-Security-Policy", CSP))
        if "frame-ancestors 'none'" in csp and "x-frame-options" not in present:
            # Older browsers know only this header; a page framed by its CSP must not send it.
            added.append(("X-Frame-Options", "DENY"))
        if "cache-control" not in present and (
                request.path.startswith(("/auth/", "/card", "/.well-known/"))
                or response.mimetype == "application/json"):
            # Tokens and ciphertext must not sit in shared or browser caches.
            added.append(("Cache-Control", "no-store"))
        headers.extend(added)
        return response


@dataclass(frozen=True)
class ClientInfo:
    """Who is on the other end of a request, as far as the network tells: for sessions,
    audit events and security notifications. Services take this instead of ``request``."""

    ip: str
    user_agent: str


def client_info() -> ClientInfo:
    return ClientInfo(ip=request.remote_addr or "unknown",
                      user_agent=(request.user_agent.string or "")[:300])
