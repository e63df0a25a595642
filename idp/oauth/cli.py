"""``flask --app wsgi:idp clients create|list|rotate-secret|delete``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from common.voskhod import SandboxRegistry
from idp.oauth import clients

DEMO_COOP = "voskhod"  # «ПК ВОСХОД» of the sandbox registry


@click.group("clients")
def clients_cli() -> None:
    """Cooperatives as OAuth clients (client_id = coopname), and card.coop's own apps."""


def _fail(error: clients.ClientError) -> None:
    raise click.ClickException(str(error))


@clients_cli.command("create")
@click.argument("coopname")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="Exact redirect URI; repeat for several.")
@click.option("--iframe-origin", "iframe_origins", multiple=True,
              help="Origin allowed to frame the consent page; repeat for several.")
@click.option("--post-logout-uri", "post_logout_uris", multiple=True,
              help="Where RP-initiated logout may return to; repeat for several.")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default="RS256",
              show_default=True, help="How the client's ID tokens are signed.")
@click.option("--backchannel-logout-uri",
              help="OpenID Connect Back-Channel Logout: where to post a logout token when a "
                   "session the client signed in with ends.")
@click.option("--client-uri", help="The cooperative's site (its home page).")
@click.option("--initiate-login-uri",
              help="Where the portal starts a sign-in at the cooperative's site (OpenID "
                   "Connect Core §4: it receives iss and target_link_uri).")
@click.option("--join-uri",
              help="Where the cooperative's own join with the member card starts (its "
                   "authorization request with scope account); the portal links it.")
@click.option("--jwk", "jwk_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A public JWK (P-256 or secp256k1) to encrypt to, instead of the ВОСХОД key.")
@with_appcontext
def create_command(coopname: str, redirect_uris: tuple[str, ...],
                   iframe_origins: tuple[str, ...], post_logout_uris: tuple[str, ...],
                   id_token_alg: str, jwk_file: Path | None,
                   backchannel_logout_uri: str | None, client_uri: str | None,
                   initiate_login_uri: str | None, join_uri: str | None) -> None:
    """Register a cooperative ВОСХОД knows; prints its client secret once."""
    from idp.services import services

    try:
        jwk = json.loads(jwk_file.read_text()) if jwk_file else None
        issued = clients.create(coopname, list(redirect_uris), list(iframe_origins), jwk,
                                list(post_logout_uris), id_token_alg,
                                registry=services().registry,
                                backchannel_logout_uri=backchannel_logout_uri,
                                client_uri=client_uri, initiate_login_uri=initiate_login_uri,
                                join_uri=join_uri)
    except json.JSONDecodeError:
        raise click.ClickException("the --jwk file is not JSON") from None
    except clients.ClientError as error:
        _fail(error)
        return
    click.echo(f"client_id:     {issued.client_id}")
    click.echo(f"client_secret: {issued.secret}")
    click.echo("Store the secret now: it is not kept and cannot be shown again.")


@clients_cli.command("list")
@with_appcontext
def list_command() -> None:
    """The registered clients (never their secrets)."""
    for client in clients.all_clients():
        key = f"JWK {client.encryption_jwk['crv']}" if client.encryption_jwk else "ВОСХОД K1 key"
        click.echo(f"{client.client_id}\tredirect: {' '.join(client.redirect_uris)}\t"
                   f"iframe: {' '.join(client.iframe_origins) or '-'}\tencrypt to: {key}")


@clients_cli.command("rotate-secret")
@click.argument("client_id")
@with_appcontext
def rotate_command(client_id: str) -> None:
    """Issue a new client secret; the old one stops working at once."""
    try:
        issued = clients.rotate_secret(client_id)
    except clients.ClientError as error:
        _fail(error)
        return
    click.echo(f"client_secret: {issued.secret}")


@clients_cli.command("delete")
@click.argument("client_id")
@click.confirmation_option(prompt="Delete this client? Its cooperative can no longer log in.")
@with_appcontext
def delete_command(client_id: str) -> None:
    """Remove a client."""
    try:
        clients.delete(client_id)
    except clients.ClientError as error:
        _fail(error)
        return
    click.echo(f"deleted {client_id}")


@clients_cli.command("demo")
@click.option("--site-url", default="http://127.0.0.1:8003", show_default=True,
              help="Where the demo cooperative site runs.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The demo site's configuration file to write (0600).")
@with_appcontext
def demo_command(site_url: str, out_file: Path) -> None:
    """Development only: (re)register the sandbox cooperative «ПК ВОСХОД» for
    examples/coop_site and write its configuration, with the client secret and the sandbox
    cooperative's private key. Refused when a real ВОСХОД chain is configured."""
    from idp.services import services

    registry = services().registry
    if not isinstance(registry, SandboxRegistry):
        raise click.ClickException("the demo needs the sandbox registry (no chain URL)")
    site = site_url.rstrip("/")
    # Rotated, not recreated, so that the members' grants to the demo survive a restart.
    issued = clients.rotate_secret(DEMO_COOP) if clients.find(DEMO_COOP) else \
        clients.create(DEMO_COOP, [f"{site}/callback"], [site],
                       post_logout_redirect_uris=[f"{site}/"])
    clients.set_site(DEMO_COOP, f"{site}/", f"{site}/login", f"{site}/join")
    config = {"idp_url": services().tokens.issuer, "client_id": issued.client_id,
              "client_secret": issued.secret, "redirect_uri": f"{site}/callback",
              "site_url": site, "private_key": registry.private_key(DEMO_COOP).to_string(),
              # The sandbox ledger the portal reads: the demo's deposits settle there.
              "ledger_file": str(services().settings.instance_path / "voskhod-ledger.json")}
    _write_secret_file(out_file, config)
    click.echo(f"demo cooperative {DEMO_COOP} registered for {site}; config in {out_file}")


@clients_cli.command("first-party")
@click.argument("client_id")
@click.option("--url", "app_url", required=True,
              help="The app's public URL (portal: https://card.coop).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write client_id and client_secret to this file (0600) instead of printing.")
@with_appcontext
def first_party_command(client_id: str, app_url: str, out_file: Path | None) -> None:
    """(Re)register card.coop's own app (portal, business) with a fresh secret: its sign-in
    callback, logout return and back-channel logout at the app's conventional paths, and its
    origin allowed to frame idp's card view."""
    app = app_url.rstrip("/")
    try:
        issued = clients.create_first_party(
            client_id, [f"{app}/auth/callback"], [app], [f"{app}/"],
            f"{app}/auth/backchannel-logout")
    except clients.ClientError as error:
        _fail(error)
        return
    if out_file is not None:
        _write_secret_file(out_file, {"client_id": issued.client_id,
                                      "client_secret": issued.secret})
        click.echo(f"{client_id} registered for {app}; secret in {out_file}")
        return
    click.echo(f"client_id:     {issued.client_id}")
    click.echo(f"client_secret: {issued.secret}")


def _write_secret_file(path: Path, content: dict[str, str]) -> None:
    """Created 0600 in one step: never readable by others, not even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(content, out, indent=2)
