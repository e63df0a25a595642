"""What the dashboard shows of a member, from what the servers may know (issue #12): idp's
member API (the card's number, accounts, memberships, grants, sessions, history) and the ВОСХОД
chain (membership, names, balances). No Flask request in here: the views pass the token.

The chain decides what is shown of a cooperative: its name and the member's balances only
where the member's account is an accepted member (``soviet::participants``). An account in a
cooperative that has not (or no longer) accepted it is listed by its own username only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from common.voskhod import Registry, RegistryUnavailable, UnknownCooperative
from common.voskhod.ledger import Wallet
from portal.idp_api import IdpClient

# The wallets a member recognises, in this order; others follow by name.
WALLET_ORDER = ("w.wal.share", "w.reg.minshr", "w.wal.member", "w.cap.blago")


@dataclass(frozen=True)
class Account:
    coopname: str
    username: str
    public_key: str
    created_at: str


@dataclass(frozen=True)
class CoopStanding:
    """One of the member's accounts as the chain sees it."""

    account: Account
    is_member: bool
    name: str | None = None  # only for a member
    member_since: datetime | None = None
    wallets: list[Wallet] = field(default_factory=list)
    chain_down: bool = False


@dataclass(frozen=True)
class Joinable:
    """A cooperative of the network the member can join from the portal."""

    coopname: str
    name: str
    join_url: str


@dataclass(frozen=True)
class Overview:
    card_number: str
    created_at: str
    accounts: list[Account]
    memberships: list[dict[str, Any]]


def overview(idp: IdpClient, token: str) -> Overview:
    body = idp.get(token, "/card/overview")
    return Overview(
        card_number=str(body.get("card_number", "")), created_at=str(body.get("created_at", "")),
        accounts=[Account(str(a["coopname"]), str(a["username"]), str(a["public_key"]),
                          str(a.get("created_at", ""))) for a in body.get("accounts", [])],
        memberships=list(body.get("memberships", [])))


def card_number_groups(number: str) -> str:
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


def standings(registry: Registry, ledger: Any, accounts: list[Account]) -> list[CoopStanding]:
    return [standing(registry, ledger, account) for account in accounts]


def standing(registry: Registry, ledger: Any, account: Account) -> CoopStanding:
    try:
        membership = registry.membership(account.coopname, account.username)
        if not membership.is_member:
            return CoopStanding(account, is_member=False)
        name = registry.cooperative(account.coopname).announce
        wallets = sorted(ledger.wallets(account.coopname, account.username), key=_wallet_rank)
    except UnknownCooperative:
        return CoopStanding(account, is_member=False)
    except RegistryUnavailable:
        return CoopStanding(account, is_member=False, chain_down=True)
    return CoopStanding(account, is_member=True, name=name,
                        member_since=membership.member_since, wallets=wallets)


def accepted(registry: Registry, accounts: list[Account]) -> Iterator[tuple[Account, str]]:
    """The accounts the chain accepts as members now, with their cooperative's public name; a
    cooperative the registry no longer knows, or cannot be asked about now, is left out."""
    for account in accounts:
        try:
            if not registry.membership(account.coopname, account.username).is_member:
                continue
            yield account, registry.cooperative(account.coopname).announce
        except (UnknownCooperative, RegistryUnavailable):
            continue


def member_account(idp: IdpClient, registry: Registry, token: str,
                   coopname: str) -> Account | None:
    """The member's account in that cooperative, if the chain accepts it now."""
    mine = [a for a in overview(idp, token).accounts if a.coopname == coopname]
    return next((account for account, _ in accepted(registry, mine)), None)


def _wallet_rank(wallet: Wallet) -> tuple[int, str]:
    rank = WALLET_ORDER.index(wallet.name) if wallet.name in WALLET_ORDER else len(WALLET_ORDER)
    return rank, wallet.name


def sites(idp: IdpClient) -> dict[str, str]:
    """coopname → the cooperative's site, as the cooperatives registered them at idp."""
    return {str(s["coopname"]): str(s["client_uri"])
            for s in idp.public("/cooperatives/sites").get("sites", []) if s.get("client_uri")}


def site_of(idp: IdpClient, coopname: str) -> str | None:
    """Where "go to the cooperative" sends the member: the cooperative's third-party-initiated
    login with ``iss`` (idp) and ``target_link_uri`` (its site), else its site."""
    for site in idp.public("/cooperatives/sites").get("sites", []):
        if site.get("coopname") != coopname:
            continue
        start, home = site.get("initiate_login_uri"), site.get("client_uri")
        if isinstance(start, str) and start:
            return _with_query(start, iss=idp.base_url, target_link_uri=home or "")
        return home if isinstance(home, str) and home else None
    return None


def joinable(idp: IdpClient, registry: Registry, accounts: list[Account],
             return_to: str) -> list[Joinable]:
    """Cooperatives the member can join ("add an account in a new cooperative"): those that
    registered where their join with the member card starts, and where the member has no
    account yet. The join itself runs at the cooperative's site through idp's join flow, where
    the member's browser makes the new account's keys. The names are the registry's public
    ones (``registrator::coops``): a directory of the network, not a claim of membership."""
    mine = {account.coopname for account in accounts}
    found = []
    for site in idp.public("/cooperatives/sites").get("sites", []):
        coopname, start = site.get("coopname"), site.get("join_uri")
        if not isinstance(coopname, str) or coopname in mine or not isinstance(start, str) \
                or not start:
            continue
        try:
            name = registry.cooperative(coopname).announce
        except (UnknownCooperative, RegistryUnavailable):
            continue  # not (or not now) a cooperative of the network
        found.append(Joinable(coopname, name, _with_query(start, return_to=return_to)))
    return found


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
