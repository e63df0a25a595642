"""The port's value types and errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cardcoop.protocol.k1 import K1PrivateKey
from common.voskhod import (
    Cooperative,
    Membership,
    RegistryError,
    RegistryUnavailable,
    UnknownCooperative,
    is_account_name,
)


@pytest.mark.parametrize("name", ["voskhod", "a", "narodnyhleb", "ivan.petrov", "abcde12345zz"])
def test_account_names(name: str) -> None:
    assert is_account_name(name)


@pytest.mark.parametrize("name", ["", "Voskhod", "ivan.", "abcdefghijklm", "ivan petrov", "678",
                                  "ivan_petrov", "воcход", None, 12])
def test_not_account_names(name: object) -> None:
    assert not is_account_name(name)


def test_cooperative_normalizes_the_legacy_key() -> None:
    key = K1PrivateKey.generate().public_key

    cooperative = Cooperative("voskhod", "ПК ВОСХОД", key.to_legacy_string())

    assert cooperative.public_key == key.to_string()
    assert cooperative.key == key
    assert cooperative == Cooperative("voskhod", "ПК ВОСХОД", key.to_string())


@pytest.mark.parametrize(("coopname", "announce", "public_key", "message"), [
    ("Voskhod", "ПК", None, "coopname"),
    ("voskhod", " ", None, "announce"),
    ("voskhod", "ПК", "EOS1111111111111111111111111111", "public_key"),
    ("voskhod", "ПК", "PUB_R1_6FPFZqw5ahYrR9jD96yDbbDNTdKtNqRbze6oTDLntrsANgQKZu", "public_key"),
])
def test_cooperative_checks_its_fields(coopname: str, announce: str, public_key: str | None,
                                       message: str) -> None:
    key = public_key or K1PrivateKey.generate().public_key.to_string()
    with pytest.raises(ValueError, match=message):
        Cooperative(coopname, announce, key)


def test_membership_constructors() -> None:
    since = datetime(2024, 10, 1, 12, tzinfo=UTC)

    assert Membership.of("voskhod", "ivanpetrov", "accepted", since) == Membership(
        "voskhod", "ivanpetrov", "accepted", since, True)
    assert not Membership.of("voskhod", "ivanpetrov", "blocked").is_member
    assert Membership.absent("voskhod", "ivanpetrov") == Membership(
        "voskhod", "ivanpetrov", "none", None, False)


def test_membership_is_consistent() -> None:
    with pytest.raises(ValueError, match="is_member"):
        Membership("voskhod", "ivanpetrov", "blocked", None, True)
    with pytest.raises(ValueError, match="is_member"):
        Membership("voskhod", "ivanpetrov", "accepted", None, False)
    with pytest.raises(ValueError, match="timezone"):
        Membership.of("voskhod", "ivanpetrov", "accepted", datetime(2024, 10, 1))


def test_errors() -> None:
    assert issubclass(RegistryUnavailable, RegistryError)
    assert issubclass(UnknownCooperative, RegistryError)
    error = UnknownCooperative("voskhod")
    assert error.coopname == "voskhod"
    assert "voskhod" in str(error)
    # arbitrary input is not echoed into messages (and from there into logs)
    assert "<script>" not in str(UnknownCooperative("<script>"))
