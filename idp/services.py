"""idp's composition root: the objects services need, built once per app from settings."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, current_app

from common.settings import Settings
from common.voskhod import Registry, build_registry
from idp.network.keys import NetworkKeys
from idp.notifications import Notify
from idp.passwords import Verifier
from idp.tokens import TokenService

# The development registry's demo cooperatives and their keys (never used with a chain URL).
SANDBOX_FILE = "voskhod-sandbox.json"


@dataclass(frozen=True)
class IdpServices:
    settings: Settings
    secret_key: str
    verifier: Verifier
    tokens: TokenService
    notify: Notify
    registry: Registry
    network_keys: NetworkKeys

    def derived_secret(self, purpose: str) -> bytes:
        """A separate key per purpose, so that no two uses share one secret."""
        return _derive(self.secret_key, purpose)


def _derive(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"card.coop/v1/{purpose}".encode(),
                    hashlib.sha256).digest()


def build_services(settings: Settings) -> IdpServices:
    secret = settings.resolved_secret_key()
    return IdpServices(
        settings=settings, secret_key=secret,
        verifier=Verifier(memory_kib=settings.argon2_memory_kib,
                          time_cost=settings.argon2_time_cost,
                          parallelism=settings.argon2_parallelism,
                          concurrency=settings.argon2_concurrency),
        tokens=TokenService(secret_key=secret, issuer=settings.idp_url,
                            ttl=settings.access_token_ttl),
        notify=Notify(settings),
        registry=build_registry(settings.voskhod_chain_url, cache_ttl=settings.voskhod_cache_ttl,
                                cooperatives_table=settings.voskhod_cooperatives_table,
                                sandbox_file=settings.instance_path / SANDBOX_FILE),
        network_keys=NetworkKeys(_derive(secret, "network-key-wrap")),
    )


def init_services(app: Flask, settings: Settings) -> None:
    app.extensions["idp"] = build_services(settings)


def services() -> IdpServices:
    svc: IdpServices = current_app.extensions["idp"]
    return svc
