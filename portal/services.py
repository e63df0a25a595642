"""The portal's composition root: what its views need, built once per app from settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, current_app

from common.settings import Settings
from common.voskhod import Registry, build_registry
from common.voskhod.chain_ledger import ChainLedger
from common.voskhod.hyperion import HyperionHistory
from common.voskhod.ledger import DepositHistory, Ledger
from common.voskhod.sandbox_ledger import SandboxLedger
from portal.idp_api import IdpClient, TokenBox

# The sandbox registry's file, shared with idp under the same instance folder (make run), and
# the sandbox ledger's, shared with the demo cooperative site (its deposits settle there).
SANDBOX_FILE = "voskhod-sandbox.json"
LEDGER_FILE = "voskhod-ledger.json"


@dataclass(frozen=True)
class PortalServices:
    settings: Settings
    idp: IdpClient
    registry: Registry
    ledger: Ledger
    history: DepositHistory | None  # None: no history node for this chain


def derived_key(secret: str, purpose: str) -> bytes:
    """A Fernet key of its own for each purpose, from the app secret."""
    digest = hmac.new(secret.encode(), f"card.coop/v1/portal/{purpose}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


def build_services(settings: Settings) -> PortalServices:
    box = TokenBox(derived_key(settings.resolved_secret_key(), "session-tokens"))
    registry = build_registry(settings.voskhod_chain_url, cache_ttl=settings.voskhod_cache_ttl,
                              cooperatives_table=settings.voskhod_cooperatives_table,
                              sandbox_file=settings.instance_path / SANDBOX_FILE)
    return PortalServices(
        settings=settings,
        idp=IdpClient(settings.idp_url, settings.portal_client_id,
                      settings.portal_client_secret, box),
        registry=registry, ledger=(ledger := build_ledger(settings, registry)),
        history=build_history(settings, ledger))


def build_ledger(settings: Settings, registry: Registry) -> Ledger:
    if settings.voskhod_chain_url:
        return ChainLedger(settings.voskhod_chain_url, cache_ttl=settings.voskhod_cache_ttl,
                           cooperatives_table=settings.voskhod_cooperatives_table)
    return SandboxLedger(settings.instance_path / LEDGER_FILE,
                         [c.coopname for c in registry.cooperatives()])


def build_history(settings: Settings, ledger: Ledger) -> DepositHistory | None:
    if settings.voskhod_history_url:
        return HyperionHistory(settings.voskhod_history_url,
                               cache_ttl=min(settings.voskhod_cache_ttl, 60.0))
    return ledger if isinstance(ledger, SandboxLedger) else None


def init_services(app: Flask, settings: Settings) -> None:
    app.extensions["portal"] = build_services(settings)


def services() -> PortalServices:
    found: PortalServices = current_app.extensions["portal"]
    return found
