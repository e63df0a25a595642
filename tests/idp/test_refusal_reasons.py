"""What a cooperative receives when no ticket comes (issue #9): the member refused, the member is
not a member of the cooperative yet, or an error — told apart by the API (/access/deny's
`reason` → `error=access_denied` + `cardcoop_reason`) and by the SDK (distinct exceptions)."""

from __future__ import annotations

import pytest

from cardcoop import (
    AccessDenied,
    AccessRefused,
    AuthorizationError,
    NotAMember,
    ResponseError,
    read_authorization_response,
)
from tests.idp.oauth_flow import COOP, ORIGIN, auth_request, make_client, pkce, query_of

ISSUER = "http://idp.test"


@pytest.fixture
def coop(app):
    return make_client(app)


def deny(client, params, **extra):
    return client.post("/access/deny", json={"coopname": COOP, **params, **extra})


@pytest.mark.parametrize(("reason", "exception"), [
    ("refused", AccessRefused), ("not_a_member", NotAMember)])
def test_redirect_carries_the_reason_and_the_sdk_raises_its_exception(client, coop, reason,
                                                                      exception):
    params = auth_request(challenge=pkce()[1])
    r = deny(client, params, reason=reason)
    assert r.status_code == 200
    assert r.json["error"] == "access_denied" and r.json["reason"] == reason
    query = query_of(r.json["redirect_to"])
    assert query["error"] == "access_denied" and query["cardcoop_reason"] == reason
    assert query["state"] == params["state"] and query["iss"] == ISSUER
    with pytest.raises(exception) as caught:
        read_authorization_response(query, state=params["state"], issuer=ISSUER)
    assert isinstance(caught.value, AccessDenied) and caught.value.reason == reason
    assert caught.value.state == params["state"] and caught.value.error == "access_denied"
    others = {AccessRefused, NotAMember} - {exception}
    assert not isinstance(caught.value, tuple(others))


def test_no_reason_means_refused(client, coop):
    params = auth_request(challenge=pkce()[1])
    r = deny(client, params)
    assert r.status_code == 200 and r.json["reason"] == "refused"
    assert query_of(r.json["redirect_to"])["cardcoop_reason"] == "refused"


def test_iframe_refusal_says_the_reason_to_the_page(client, coop):
    params = auth_request(challenge=pkce()[1], redirect_uri=None, origin=ORIGIN)
    r = deny(client, params, reason="not_a_member")
    assert r.status_code == 200
    assert r.json == {"error": "access_denied", "reason": "not_a_member",
                      "state": params["state"], "mode": "iframe", "redirect_to": None,
                      "origin": ORIGIN}


@pytest.mark.parametrize("reason", ["member_refused", "", 1, None, ["refused"], "x" * 5000])
def test_a_reason_that_is_not_one_of_the_two_is_a_400(client, coop, reason):
    params = auth_request(challenge=pkce()[1])
    r = deny(client, params, reason=reason)
    assert r.status_code == 400, r.json


def test_unknown_fields_and_other_peoples_redirects_are_refused(client, coop):
    params = auth_request(challenge=pkce()[1])
    assert deny(client, params, reason="refused", why="because").status_code == 400
    evil = auth_request(challenge=pkce()[1], redirect_uri="https://evil.example/cb")
    assert deny(client, evil, reason="not_a_member").status_code == 400


def test_an_error_is_neither_a_refusal_nor_not_a_member():
    query = {"error": "temporarily_unavailable", "error_description": "try later",
             "state": "s1", "iss": ISSUER}
    with pytest.raises(AuthorizationError) as caught:
        read_authorization_response(query, state="s1", issuer=ISSUER)
    assert type(caught.value) is AuthorizationError
    assert caught.value.error == "temporarily_unavailable" and caught.value.message == "try later"
    # access_denied from a server that gives no (or an unknown) reason: denied, reason unknown.
    for extra in ({}, {"cardcoop_reason": "bored"}):
        with pytest.raises(AccessDenied) as denied:
            read_authorization_response({"error": "access_denied", "state": "s1", **extra},
                                        state="s1")
        assert type(denied.value) is AccessDenied and denied.value.reason is None


def test_the_widgets_answer_reads_the_same():
    with pytest.raises(NotAMember):
        read_authorization_response({"error": "access_denied", "reason": "not_a_member",
                                     "state": "s1"}, state="s1")
    assert read_authorization_response({"ticket": "T1", "state": "s1"}, state="s1") == "T1"
    assert read_authorization_response({"code": "C1", "state": "s1", "iss": ISSUER + "/"},
                                       state="s1", issuer=ISSUER) == "C1"


@pytest.mark.parametrize(("query", "code"), [
    ({"code": "C", "state": "other"}, "state_mismatch"),
    ({"code": "C"}, "state_mismatch"),
    ({"error": "access_denied", "state": "other"}, "state_mismatch"),
    ({"code": "C", "state": "s1", "iss": "https://evil.example"}, "issuer_mismatch"),
    ({"code": "C", "state": "s1"}, "issuer_mismatch"),
    ({"state": "s1", "iss": ISSUER}, "invalid_response"),
])
def test_an_answer_not_for_this_flow_is_not_trusted(query, code):
    with pytest.raises(ResponseError) as caught:
        read_authorization_response(query, state="s1", issuer=ISSUER)
    assert caught.value.error == code


def test_a_hostile_error_code_is_not_echoed():
    with pytest.raises(AuthorizationError) as caught:
        read_authorization_response({"error": "<script>alert(1)</script>",
                                     "error_description": "x" * 10_000, "state": "s1"},
                                    state="s1")
    assert caught.value.error == "invalid_response" and len(caught.value.message) <= 500


def test_an_error_redirect_from_idp_is_an_authorization_error_not_a_refusal(client, coop):
    params = auth_request(challenge=pkce()[1], scope="openid nosuchscope")
    r = client.get("/oauth/authorize", query_string=params)
    assert r.status_code == 302
    query = query_of(r.headers["Location"])
    assert query["error"] == "invalid_scope" and "cardcoop_reason" not in query
    with pytest.raises(AuthorizationError) as caught:
        read_authorization_response(query, state=params["state"], issuer=ISSUER)
    assert not isinstance(caught.value, AccessDenied)
    assert caught.value.error == "invalid_scope"
