"""The cooperative-payments port (issue #12): where "make a contribution" sends the member.

A contribution is paid in the cooperative's own payment flow on its site (MONO's deposit
page), never in the portal: the portal holds no money and no card details. The adapter sends
the member there through the site's third-party-initiated login (OpenID Connect Core §4), so
the member arrives signed in through idp's single sign-on, with the amount filled in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol
from urllib.parse import urlencode

from portal.idp_api import IdpClient

DEPOSIT_PATH = "deposit"  # the page of the cooperative's site that takes a share deposit


class CooperativePayments(Protocol):
    def deposit_url(self, coopname: str, username: str, amount: Decimal,
                    return_to: str) -> str | None:
        """Where the member pays; None when the cooperative offers no payment page."""


class SitePayments:
    """The cooperative's site, as it registered at idp (``GET /cooperatives/sites``)."""

    def __init__(self, idp: IdpClient) -> None:
        self._idp = idp

    def deposit_url(self, coopname: str, username: str, amount: Decimal,
                    return_to: str) -> str | None:
        for site in self._idp.public("/cooperatives/sites").get("sites", []):
            if site.get("coopname") != coopname or not site.get("client_uri"):
                continue
            home = str(site["client_uri"]).rstrip("/") + "/"
            page = home + DEPOSIT_PATH + "?" + urlencode(
                {"username": username, "amount": f"{amount:.2f}", "return_to": return_to})
            start = site.get("initiate_login_uri")
            if not start:
                return page
            glue = "&" if "?" in str(start) else "?"
            return f"{start}{glue}{urlencode({'iss': self._idp.base_url, 'target_link_uri': page})}"
        return None
