"""SandboxRegistry: generated demo cooperatives, their key pairs, and the membership rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cardcoop.protocol.k1 import K1PrivateKey, K1PublicKey
from common.voskhod import (
    DEMO_COOPERATIVES,
    ChainRegistry,
    Membership,
    Registry,
    Sandbox,
    SandboxRegistry,
    UnknownCooperative,
    build_registry,
    is_account_name,
)


def test_demo_cooperatives() -> None:
    registry = SandboxRegistry.generate()

    listed = {c.coopname: c.announce for c in registry.cooperatives()}

    assert listed == {"voskhod": "ПК ВОСХОД", "zelenyisad": "ПК Зелёный сад",
                      "narodnyhleb": "ПК Народный хлеб"}
    assert all(is_account_name(coopname) for coopname, _ in DEMO_COOPERATIVES)


def test_keys_are_valid_k1_and_match_their_private_halves() -> None:
    registry = SandboxRegistry.generate()

    for cooperative in registry.cooperatives():
        assert cooperative.public_key.startswith("PUB_K1_")
        public = K1PublicKey.from_string(cooperative.public_key)
        private = registry.private_key(cooperative.coopname)
        assert isinstance(private, K1PrivateKey)
        assert private.public_key == public
        assert registry.sandbox.private_key(cooperative.coopname) is private


def test_keys_are_fresh_per_instance() -> None:
    first, second = SandboxRegistry.generate(), SandboxRegistry.generate()

    keys = {c.public_key for c in first.cooperatives()} | {
        c.public_key for c in second.cooperatives()}

    assert len(keys) == 2 * len(DEMO_COOPERATIVES)


def test_private_key_of_an_unknown_cooperative() -> None:
    with pytest.raises(UnknownCooperative):
        SandboxRegistry.generate().private_key("nosuchcoop")


def test_repr_shows_no_private_key() -> None:
    registry = SandboxRegistry.generate()
    secret = registry.private_key("voskhod").to_string()

    assert secret not in repr(registry)
    assert secret not in repr(registry.sandbox)
    assert "voskhod" in repr(registry)


def test_closed_membership_needs_add_member() -> None:
    registry = SandboxRegistry.generate()
    assert not registry.membership("voskhod", "ivanpetrov").is_member

    since = datetime(2025, 3, 1, tzinfo=UTC)
    added = registry.add_member("voskhod", "ivanpetrov", member_since=since)

    assert added == Membership("voskhod", "ivanpetrov", "accepted", since, True)
    assert registry.membership("voskhod", "ivanpetrov") == added
    assert not registry.membership("zelenyisad", "ivanpetrov").is_member


def test_open_membership_accepts_every_valid_name() -> None:
    registry = SandboxRegistry.generate(open_membership=True)

    membership = registry.membership("narodnyhleb", "newcomer1")

    assert membership == Membership("narodnyhleb", "newcomer1", "accepted", None, True)
    assert not registry.membership("nosuchcoop", "newcomer1").is_member
    assert not registry.membership("voskhod", "Newcomer").is_member


def test_recorded_membership_wins_over_open_membership() -> None:
    registry = SandboxRegistry.generate(open_membership=True)

    registry.add_member("voskhod", "troublemkr", status="blocked")

    membership = registry.membership("voskhod", "troublemkr")
    assert not membership.is_member
    assert membership.status == "blocked"


def test_remove_member() -> None:
    sandbox = Sandbox.generate()
    sandbox.add_member("voskhod", "ivanpetrov")

    sandbox.remove_member("voskhod", "ivanpetrov")
    sandbox.remove_member("voskhod", "neveradded")

    assert sandbox.membership("voskhod", "ivanpetrov") == Membership.absent("voskhod",
                                                                            "ivanpetrov")


def test_add_member_checks_its_input() -> None:
    sandbox = Sandbox.generate()
    with pytest.raises(UnknownCooperative):
        sandbox.add_member("nosuchcoop", "ivanpetrov")
    with pytest.raises(ValueError, match="username"):
        sandbox.add_member("voskhod", "Ivan Petrov")
    with pytest.raises(ValueError, match="status"):
        sandbox.add_member("voskhod", "ivanpetrov", status="")


def test_registry_is_a_live_view_of_the_sandbox() -> None:
    sandbox = Sandbox()
    registry = SandboxRegistry(sandbox)
    key = K1PrivateKey.generate()

    cooperative = sandbox.add_cooperative("testcoop", "ПК Тест", key)

    assert registry.cooperative("testcoop") == cooperative
    assert cooperative.public_key == key.public_key.to_string()
    assert registry.private_key("testcoop") is key


def test_invalid_cooperative_name_is_refused() -> None:
    with pytest.raises(ValueError, match="coopname"):
        Sandbox().add_cooperative("Not Valid", "ПК")


def test_build_registry_without_a_chain_is_an_open_sandbox() -> None:
    for url in (None, "", "  "):
        registry = build_registry(url)
        assert isinstance(registry, SandboxRegistry)
        assert isinstance(registry, Registry)
        assert registry.sandbox.open_membership
        assert registry.membership("voskhod", "anyone").is_member


def test_build_registry_with_a_chain() -> None:
    registry = build_registry("https://api.chain.example")

    assert isinstance(registry, ChainRegistry)
    assert isinstance(registry, Registry)
