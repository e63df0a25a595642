"""The SDK and email_norm v1.1 (PROTOCOL.md §1, §2): it sends the canonical address, signs a
member from before the rule in with the `kdfEmail` salt (and refuses one for another address),
and after a password change or a recovery the account's salt is the canonical address."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

import cardcoop.client
from cardcoop import CardSession, IdpClient, InvalidCredentials, ResponseError, recover
from cardcoop.crypto import InvalidEmail
from tests.cardcoop.conftest import PASSWORD, LiveIdp
from tests.cardcoop.test_sdk_card import INDIVIDUAL, valid
from tests.idp.conftest import insert_v1_0_member

NEW_PASSWORD = "another long passphrase, 2026"
SALT = "AAECAwQFBgcICQoLDA0ODw"


def legacy_member(idp: LiveIdp) -> tuple[str, str]:
    """A v1.0 member stored NFD, as migration 0006 leaves one: (typed NFC, stored NFD)."""
    t = secrets.token_hex(3)
    canonical, legacy = f"café-{t}@example.com", f"cafe\u0301-{t}@example.com"
    insert_v1_0_member(idp.app, canonical, legacy, PASSWORD)
    return canonical, legacy


def test_the_sdk_sends_the_canonical_address(idp: LiveIdp, sdk: IdpClient) -> None:
    t = secrets.token_hex(3)
    session = sdk.register(f"  IVAN-{t}@ПОЧТА.РФ ", PASSWORD, idp.code_provider)
    assert session.email == f"ivan-{t}@почта.рф"
    assert {body["email"] for body in idp.sent("/auth/initiate-registration")} == {session.email}
    assert sdk.login(f"ivan-{t}@xn--80a1acny.xn--p1ai", PASSWORD).email == session.email
    with pytest.raises(InvalidEmail):
        sdk.login(f"iv\u0430n-{t}@почта.рф", PASSWORD)  # a Cyrillic а: refused before a request


def test_a_v1_0_member_signs_in_with_the_kdf_email(idp: LiveIdp, sdk: IdpClient) -> None:
    canonical, legacy = legacy_member(idp)
    for typed in (canonical, legacy, canonical.upper()):
        session = sdk.login(typed, PASSWORD)
        assert session.email == canonical and session.kdf_email == legacy
    assert idp.answers("/auth/initiate-login")[-1]["kdfEmail"] == legacy
    with pytest.raises(InvalidCredentials):
        sdk.login(canonical, NEW_PASSWORD)


def test_a_password_change_moves_the_salt_to_the_canonical_address(idp: LiveIdp,
                                                                   sdk: IdpClient) -> None:
    canonical, legacy = legacy_member(idp)
    session = sdk.login(canonical, PASSWORD)
    card = CardSession(session)
    card.change_password(NEW_PASSWORD, PASSWORD)  # the current one derived with kdfEmail
    assert session.kdf_email is None
    again = sdk.login(legacy, NEW_PASSWORD)
    assert again.kdf_email == canonical  # the server now names the canonical form
    assert idp.answers("/auth/initiate-login")[-1]["kdfEmail"] == canonical


def test_recovery_moves_the_salt_to_the_canonical_address(idp: LiveIdp, sdk: IdpClient) -> None:
    canonical, legacy = legacy_member(idp)
    card = CardSession(sdk.login(legacy, PASSWORD))
    data = valid(INDIVIDUAL)
    card.issue_card(data)
    recovery_key = card.setup_recovery(PASSWORD)  # re-authenticates with the kdfEmail salt
    session = recover(sdk, legacy, recovery_key, NEW_PASSWORD, idp.code_provider)
    assert session.email == canonical and session.kdf_email is None
    assert CardSession(sdk.login(canonical, NEW_PASSWORD)).read_card().data == data
    assert idp.answers("/auth/initiate-login")[-1]["kdfEmail"] == canonical


# -- a server that names another address ----------------------------------------------------------


@pytest.fixture
def stub(httpserver: HTTPServer) -> Iterator[IdpClient]:
    with IdpClient(httpserver.url_for("/")) as client:
        yield client


def attempt(kdf_email: Any) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "serverSalt": SALT,
            "kdf": {"type": "pbkdf2-sha256", "iterations": 100_000}, "kdfEmail": kdf_email}


@pytest.mark.parametrize("kdf_email", [
    "mallory@example.com",  # another address
    "ivan@example.org",
    "iv\u0430n@example.com",  # not even an address the rule accepts
])
def test_a_kdf_email_for_another_address_is_refused(httpserver: HTTPServer, stub: IdpClient,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    kdf_email: str) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("derive_keys must not run")

    monkeypatch.setattr(cardcoop.client, "derive_keys", refuse)
    httpserver.expect_request("/auth/initiate-login").respond_with_json(attempt(kdf_email))
    with pytest.raises(ResponseError) as refused:
        stub.login("Ivan@Example.com", PASSWORD)
    assert refused.value.error == "kdf_email_mismatch" and refused.value.status == 200
    assert kdf_email not in str(refused.value)
    assert [r.path for r, _ in httpserver.log] == ["/auth/initiate-login"]  # no hashKey sent


@pytest.mark.parametrize("kdf_email", [42, "", None])
def test_a_malformed_kdf_email_is_a_response_error(httpserver: HTTPServer, stub: IdpClient,
                                                   kdf_email: object) -> None:
    httpserver.expect_request("/auth/initiate-login").respond_with_json(attempt(kdf_email))
    with pytest.raises(ResponseError):
        stub.login("ivan@example.com", PASSWORD)
