"""The client registry: create, list, rotate the secret, delete — and check a presented secret.

Secrets are 32 random bytes shown once at creation or rotation; only their SHA-256 is kept.
Redirect URIs are matched exactly (RFC 9700 §4.1.3), so they are checked strictly here.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from cardcoop.protocol.accounts import is_valid_antelope_name
from common.db import db, utcnow
from common.voskhod import Registry, RegistryUnavailable, SandboxRegistry, UnknownCooperative
from idp.auth.sessions import token_hash
from idp.oauth.models import OAuthClient
from idp.tokens import ID_TOKEN_ALGS, ID_TOKEN_DEFAULT_ALG

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
JWK_CURVES = {"P-256", "secp256k1"}


class ClientError(ValueError):
    """A client definition that cannot be accepted; the message says what to fix."""


@dataclass(frozen=True)
class IssuedSecret:
    client_id: str
    secret: str  # shown once, never stored


def check_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ClientError(f"redirect URI must be an absolute http(s) URL: {uri}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ClientError(f"redirect URI must use https (http only on loopback): {uri}")
    if parts.fragment or "#" in uri:
        raise ClientError(f"redirect URI must not have a fragment (RFC 6749 §3.1.2): {uri}")
    return uri


def check_origin(origin: str) -> str:
    parts = urlsplit(origin)
    if parts.scheme not in {"https", "http"} or not parts.hostname or \
            parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ClientError(f"iframe origin must be scheme://host[:port]: {origin}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ClientError(f"iframe origin must use https (http only on loopback): {origin}")
    return f"{parts.scheme}://{parts.netloc}"


def check_registered(registry: Registry, coopname: str) -> None:
    """The cooperative is one ВОСХОД knows (and can be asked about now)."""
    try:
        registry.cooperative(coopname)
    except UnknownCooperative:
        known = ""
        if isinstance(registry, SandboxRegistry):
            names = ", ".join(sorted(c.coopname for c in registry.cooperatives()))
            known = f" The sandbox registry knows: {names}."
        raise ClientError(f"the ВОСХОД registry does not know the cooperative {coopname!r}: "
                          f"check the name (it is the cooperative's account, coopname), or "
                          f"register the cooperative in ВОСХОД first.{known}") from None
    except RegistryUnavailable:
        raise ClientError("the ВОСХОД registry does not answer, so the cooperative cannot be "
                          "checked; nothing was written. Try again later.") from None


def check_jwk(jwk: Any) -> dict[str, Any]:
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") not in JWK_CURVES:
        raise ClientError("the encryption key must be an EC JWK on P-256 or secp256k1")
    if "d" in jwk:
        raise ClientError("that JWK holds a private key: register the public half only")
    if not isinstance(jwk.get("x"), str) or not isinstance(jwk.get("y"), str):
        raise ClientError("the JWK needs x and y")
    return {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}


def create(coopname: str, redirect_uris: list[str], iframe_origins: list[str],
           encryption_jwk: dict[str, Any] | None = None,
           post_logout_redirect_uris: list[str] | None = None,
           id_token_alg: str = ID_TOKEN_DEFAULT_ALG,
           registry: Registry | None = None,
           backchannel_logout_uri: str | None = None, client_uri: str | None = None,
           initiate_login_uri: str | None = None, join_uri: str | None = None) -> IssuedSecret:
    """A new client. With `registry` (the CLI passes the configured one) the cooperative must
    be known to ВОСХОД: idp asks the registry for its name and key on every consent, so a
    client of an unknown cooperative could only fail in front of its members."""
    if not is_valid_antelope_name(coopname):
        raise ClientError(f"client_id must be the cooperative's Antelope name: {coopname!r}")
    if not redirect_uris:
        raise ClientError("at least one redirect URI is required")
    if id_token_alg not in ID_TOKEN_ALGS:
        raise ClientError(f"the ID token algorithm must be one of {', '.join(ID_TOKEN_ALGS)}")
    if db.session.get(OAuthClient, coopname) is not None:
        raise ClientError(f"a client {coopname!r} exists already")
    client = OAuthClient(
        client_id=coopname,
        redirect_uris=[check_redirect_uri(u) for u in dict.fromkeys(redirect_uris)],
        iframe_origins=[check_origin(o) for o in dict.fromkeys(iframe_origins)],
        post_logout_redirect_uris=[check_redirect_uri(u) for u in
                                   dict.fromkeys(post_logout_redirect_uris or [])],
        id_token_signed_response_alg=id_token_alg,
        encryption_jwk=check_jwk(encryption_jwk) if encryption_jwk is not None else None,
        backchannel_logout_uri=(check_redirect_uri(backchannel_logout_uri)
                                if backchannel_logout_uri else None),
        client_uri=_optional_uri(client_uri),
        initiate_login_uri=_optional_uri(initiate_login_uri),
        join_uri=_optional_uri(join_uri))
    if registry is not None:
        check_registered(registry, coopname)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = token_hash(secret)
    db.session.add(client)
    db.session.commit()
    return IssuedSecret(coopname, secret)


def create_first_party(client_id: str, redirect_uris: list[str], frame_origins: list[str],
                       post_logout_redirect_uris: list[str],
                       backchannel_logout_uri: str | None) -> IssuedSecret:
    """card.coop's own app (portal, business; idp/oauth/first_party.py). ``frame_origins`` may
    frame idp's card view (/frame/card). Made anew when it exists: the operator's start-up
    script registers it on every start, with a fresh secret."""
    if not is_valid_antelope_name(client_id):
        raise ClientError(f"client_id must be a short name (a-z, 1-5, dots): {client_id!r}")
    existing = db.session.get(OAuthClient, client_id)
    if existing is not None and not existing.first_party:
        raise ClientError(f"{client_id!r} is a cooperative's client")
    if not redirect_uris:
        raise ClientError("at least one redirect URI is required")
    client = existing or OAuthClient(client_id=client_id, first_party=True)
    client.redirect_uris = [check_redirect_uri(u) for u in dict.fromkeys(redirect_uris)]
    client.iframe_origins = [check_origin(o) for o in dict.fromkeys(frame_origins)]
    client.post_logout_redirect_uris = [check_redirect_uri(u) for u in
                                        dict.fromkeys(post_logout_redirect_uris)]
    client.backchannel_logout_uri = (check_redirect_uri(backchannel_logout_uri)
                                     if backchannel_logout_uri else None)
    client.id_token_signed_response_alg = ID_TOKEN_DEFAULT_ALG
    secret = secrets.token_urlsafe(32)
    client.secret_hash, client.secret_rotated_at = token_hash(secret), utcnow()
    db.session.add(client)
    db.session.commit()
    return IssuedSecret(client_id, secret)


def directory() -> list[OAuthClient]:
    """The cooperatives whose sites can be reached from the portal: a site or join address
    given."""
    return list(db.session.scalars(select(OAuthClient).where(
        OAuthClient.first_party.is_(False),
        or_(OAuthClient.client_uri.is_not(None), OAuthClient.join_uri.is_not(None)))
        .order_by(OAuthClient.client_id)))


def frame_origins() -> list[str]:
    """Where idp's card view may be framed: the first-party apps' registered origins."""
    rows = db.session.scalars(select(OAuthClient.iframe_origins).where(
        OAuthClient.first_party.is_(True)))
    return sorted({origin for origins in rows for origin in origins})


def find(client_id: str) -> OAuthClient | None:
    return db.session.get(OAuthClient, client_id)


def get(client_id: str) -> OAuthClient:
    client = db.session.get(OAuthClient, client_id)
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    return client


def all_clients() -> list[OAuthClient]:
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.client_id)))


def rotate_secret(client_id: str) -> IssuedSecret:
    client = get(client_id)
    secret = secrets.token_urlsafe(32)
    client.secret_hash, client.secret_rotated_at = token_hash(secret), utcnow()
    db.session.commit()
    return IssuedSecret(client_id, secret)


def set_site(client_id: str, client_uri: str | None, initiate_login_uri: str | None,
             join_uri: str | None = None) -> None:
    client = get(client_id)
    client.client_uri = _optional_uri(client_uri)
    client.initiate_login_uri = _optional_uri(initiate_login_uri)
    client.join_uri = _optional_uri(join_uri)
    db.session.commit()


def _optional_uri(uri: str | None) -> str | None:
    """A page of the cooperative's site, checked as a redirect URI is (absolute, https or
    loopback http, no fragment), or None when not given."""
    return check_redirect_uri(uri) if uri else None


def delete(client_id: str) -> None:
    db.session.delete(get(client_id))
    db.session.commit()


def secret_matches(client: OAuthClient, presented: str) -> bool:
    return hmac.compare_digest(client.secret_hash, token_hash(presented))
