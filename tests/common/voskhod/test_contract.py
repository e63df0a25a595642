"""The contract every Registry adapter keeps (DESIGN.md §3: one suite per port, every adapter).

Each adapter is given the same world (cooperatives, participants) its own way: the sandbox
through ``Sandbox``, the chain adapter through a fake chain API behind pytest-httpserver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import pytest

from cardcoop.protocol.k1 import K1PrivateKey, K1PublicKey
from common.voskhod import (
    ChainRegistry,
    Cooperative,
    Endorsement,
    Registry,
    Sandbox,
    SandboxRegistry,
    UnknownCooperative,
)
from tests.common.voskhod.chainstub import FakeChain


class World(Protocol):
    registry: Registry

    def add_cooperative(self, coopname: str, announce: str) -> str:
        """Register a cooperative; returns its public key ("PUB_K1_...")."""

    def add_member(self, coopname: str, username: str, status: str,
                   since: datetime) -> None: ...

    def endorse(self, endorsement: Endorsement) -> None:
        """Write ano::endorsements' row for the subject."""


class SandboxWorld:
    def __init__(self) -> None:
        self.sandbox = Sandbox()
        self.registry = SandboxRegistry(self.sandbox)

    def add_cooperative(self, coopname: str, announce: str) -> str:
        return self.sandbox.add_cooperative(coopname, announce).public_key

    def add_member(self, coopname: str, username: str, status: str,
                   since: datetime) -> None:
        self.sandbox.add_member(coopname, username, status=status, member_since=since)

    def endorse(self, endorsement: Endorsement) -> None:
        self.sandbox.endorse(endorsement)


class ChainWorld:
    def __init__(self, chain: FakeChain, api_url: str) -> None:
        self.chain = chain
        self.registry = ChainRegistry(api_url, timeout=2)

    def add_cooperative(self, coopname: str, announce: str) -> str:
        return self.chain.add_cooperative(coopname, announce).public_key.to_string()

    def add_member(self, coopname: str, username: str, status: str,
                   since: datetime) -> None:
        self.chain.add_participant(coopname, username, status,
                                   since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))

    def endorse(self, e: Endorsement) -> None:
        # As MONO's ano::endorse writes it (ABI-decoded by the node: the key as PUB_K1_...).
        self.chain.put_row("ano", "ano", "endorsements", e.subject, {
            "issuer": e.issuer, "subject": e.subject, "chain_id": e.chain_id,
            "cert_key": e.cert_key.to_string(),
            "expires_at": e.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "credential": e.credential})


SINCE = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sandbox", "chain"])
def world(request: pytest.FixtureRequest) -> World:
    if request.param == "sandbox":
        return SandboxWorld()
    return ChainWorld(request.getfixturevalue("fake_chain"), request.getfixturevalue("api_url"))


@pytest.fixture
def registry(world: World) -> Registry:
    world.add_cooperative("voskhod", "ПК ВОСХОД")
    world.add_cooperative("zelenyisad", "ПК Зелёный сад")
    world.add_member("voskhod", "ivanpetrov", "accepted", SINCE)
    world.add_member("voskhod", "mariasidor", "pending", SINCE)
    world.add_member("voskhod", "blockeduser", "blocked", SINCE)
    return world.registry


def test_is_a_registry(registry: Registry) -> None:
    assert isinstance(registry, Registry)


def test_cooperative_has_its_public_name_and_k1_key(world: World) -> None:
    public_key = world.add_cooperative("narodnyhleb", "ПК Народный хлеб")

    cooperative = world.registry.cooperative("narodnyhleb")

    assert cooperative == Cooperative("narodnyhleb", "ПК Народный хлеб", public_key)
    assert cooperative.public_key.startswith("PUB_K1_")
    assert cooperative.key == K1PublicKey.from_string(public_key)


@pytest.mark.parametrize("coopname", ["nosuchcoop", "", "Voskhod", "toolongname12345", "a b"])
def test_unknown_cooperative(registry: Registry, coopname: str) -> None:
    with pytest.raises(UnknownCooperative):
        registry.cooperative(coopname)


def test_accepted_participant_is_a_member(registry: Registry) -> None:
    membership = registry.membership("voskhod", "ivanpetrov")

    assert membership.is_member
    assert (membership.coopname, membership.username) == ("voskhod", "ivanpetrov")
    assert membership.status == "accepted"
    assert membership.member_since == SINCE


@pytest.mark.parametrize(("username", "status"), [("mariasidor", "pending"),
                                                  ("blockeduser", "blocked")])
def test_participant_not_accepted_is_not_a_member(registry: Registry, username: str,
                                                  status: str) -> None:
    membership = registry.membership("voskhod", username)

    assert not membership.is_member
    assert membership.status == status


@pytest.mark.parametrize(("coopname", "username"), [
    ("voskhod", "stranger"),          # no row
    ("zelenyisad", "ivanpetrov"),     # a member of another cooperative
    ("nosuchcoop", "ivanpetrov"),     # unknown cooperative: not an error here
    ("voskhod", "Ivan.Petrov"),       # not an account name
    ("voskhod", ""),
])
def test_missing_membership_is_not_an_error(registry: Registry, coopname: str,
                                            username: str) -> None:
    membership = registry.membership(coopname, username)

    assert not membership.is_member
    assert membership.status == "none"
    assert membership.member_since is None


def test_lists_the_cooperatives(registry: Registry) -> None:
    listed = {cooperative.coopname: cooperative.announce
              for cooperative in registry.cooperatives()}

    assert listed == {"voskhod": "ПК ВОСХОД", "zelenyisad": "ПК Зелёный сад"}


def test_an_endorsement_row_is_read_whole_and_never_cached(world: World) -> None:
    key = K1PrivateKey.generate().public_key
    first = Endorsement("zelenyisad", "voskhod", "ab" * 32, key,
                        datetime(2027, 1, 1, 3, 4, 5, tzinfo=UTC), "eyJ.a.b")
    world.endorse(first)
    assert world.registry.endorsement("zelenyisad") == first
    renewed = Endorsement("zelenyisad", "voskhod", "ab" * 32, key,
                          datetime(2027, 2, 1, tzinfo=UTC), "eyJ.c.d")
    world.endorse(renewed)
    assert world.registry.endorsement("zelenyisad") == renewed
    assert world.registry.endorsement("narodnyhleb") is None
    assert world.registry.endorsement("Not A Name") is None
