"""What each notification says in the centre, in the page's language (Flask-Babel)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from portal.models import Notification

TEXTS: dict[str, Callable[[dict[str, str]], str]] = {
    "meeting_reminder": lambda d: _("A general meeting is coming: %(coop)s, voting opens "
                                    "%(opens)s", coop=d.get("coop", ""), opens=d.get("opens", "")),
    "contribution_due": lambda d: _("Share contribution still due in %(coop)s: %(amount)s",
                                    coop=d.get("coop", ""), amount=d.get("amount", "")),
    "deposit_arrived": lambda d: _("Your share contribution to %(coop)s arrived: %(amount)s",
                                   coop=d.get("coop", ""), amount=d.get("amount", "")),
    "card_issued": lambda d: _("Your member card was issued"),
    "card_updated": lambda d: _("The data on your card was changed"),
    "account_added": lambda d: _("An account in a cooperative was added to your card"),
    "new_device_login": lambda d: _("Signed in from a new device"),
    "suspicious_activity": lambda d: _("A suspicious sign-in was stopped; the session was "
                                       "closed"),
    "account_locked": lambda d: _("Sign-in was locked for a while after wrong passwords"),
    "password_changed": lambda d: _("Your password was changed"),
    "recovery_key_created": lambda d: _("A recovery key was created"),
    "recovery_key_used": lambda d: _("The recovery key was used to set a new password"),
    "access_granted": lambda d: _("A cooperative was given access to your data"),
    "access_revoked": lambda d: _("A cooperative's access to your data was revoked"),
    "disclosure_requested": lambda d: _("A cooperative asks for your member profile"),
}


def describe(notification: Notification) -> str:
    text = TEXTS.get(notification.kind)
    return str(text(dict(notification.document or {}))) if text else str(_("Account event"))
