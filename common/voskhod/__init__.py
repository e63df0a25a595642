"""The ВОСХОД registry: the port (``Registry``), its errors and the adapters (DESIGN.md §3).

The composition root calls ``build_registry`` with the chain API URL from settings: the chain
adapter when one is configured, otherwise a sandbox with freshly generated demo cooperatives in
which every valid account name is a member (see ``common.voskhod.sandbox``).
"""

from __future__ import annotations

from pathlib import Path

from common.voskhod.chain import COOPERATIVES_TABLE, LEGACY_COOPERATIVES_TABLE, ChainRegistry
from common.voskhod.port import (
    STATUS_ACCEPTED,
    STATUS_BLOCKED,
    STATUS_NONE,
    Cooperative,
    Endorsement,
    Membership,
    Registry,
    RegistryError,
    RegistryUnavailable,
    UnknownCooperative,
    is_account_name,
)
from common.voskhod.sandbox import DEMO_COOPERATIVES, Sandbox, SandboxRegistry


def build_registry(chain_url: str | None, *, cache_ttl: float = 300.0,
                   cooperatives_table: str = COOPERATIVES_TABLE,
                   sandbox_file: Path | None = None) -> Registry:
    """``ChainRegistry(chain_url)`` when a URL is given, else an open-membership
    ``SandboxRegistry``: kept in ``sandbox_file`` when one is given (the same keys for every
    process and restart), else with new key pairs on every call."""
    if chain_url and chain_url.strip():
        return ChainRegistry(chain_url, cache_ttl=cache_ttl,
                             cooperatives_table=cooperatives_table)
    if sandbox_file is not None:
        return SandboxRegistry(Sandbox.load_or_create(sandbox_file, open_membership=True))
    return SandboxRegistry.generate(open_membership=True)


__all__ = [
    "COOPERATIVES_TABLE",
    "DEMO_COOPERATIVES",
    "LEGACY_COOPERATIVES_TABLE",
    "STATUS_ACCEPTED",
    "STATUS_BLOCKED",
    "STATUS_NONE",
    "ChainRegistry",
    "Cooperative",
    "Endorsement",
    "Membership",
    "Registry",
    "RegistryError",
    "RegistryUnavailable",
    "Sandbox",
    "SandboxRegistry",
    "UnknownCooperative",
    "build_registry",
    "is_account_name",
]
