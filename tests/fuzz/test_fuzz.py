"""schemathesis against a live idp, started with the production server command (several worker
processes) on the test database (issue #8, "Keep it fixed").

Every operation of /openapi.json is exercised with credentials for its security scheme (a
member's bearer token, a cooperative's client credentials and its access token) by every
schemathesis check but one (see schemathesis.toml). The test fails on any 5xx, on any response
the document does not describe (status, content type, body), on any other failed check, and on
any error record in the server's log.

In ``make test`` (CI) it runs two seeds: a fixed one, so that a run can be compared with the
last, and a random one, printed, so that every run also looks somewhere new. ``make fuzz`` runs
much longer: ``FUZZ_SECONDS`` of rounds with fresh random seeds. Knobs (environment):

- ``FUZZ_SEED``: the second seed (to replay a run: the log prints the seed of every round);
- ``FUZZ_MAX_EXAMPLES``: examples per operation and phase (CI default below);
- ``FUZZ_SECONDS``: the long mode's time budget in seconds (unset: the CI slice).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from cardcoop.protocol.k1 import K1PrivateKey
from tests.fuzz import runner
from tests.fuzz.credentials import Credentials, obtain
from tests.idp.conftest import run_worker
from tests.idp.oauth_flow import make_client
from tests.live import Server, production_server

FIXED_SEED = 80808
CI_MAX_EXAMPLES = 75  # two seeds in ~3 min on 2 cores, under coverage, while failing too
LONG_MAX_EXAMPLES = 1000
# A round must end well within the access tokens' 15 minutes: each gets fresh credentials.
ROUND_SECONDS = 600
# The network is configured as in production (an unconfigured one answers its documents 503).
SETTINGS = {"ratelimit_enabled": False, "dev_mailbox": True, "network_chain_id": "ab" * 32,
            "network_trust_anchor": K1PrivateKey.generate().public_key.to_string()}


@dataclass
class Target:
    app: Flask  # the test's own handle on the server's database (mail delivery, the client)
    server: Server
    client: tuple[str, str] | None = None  # registered once: client credentials do not expire

    def credentials(self) -> Credentials:
        """Fresh for every round: a member's and a cooperative's tokens live 15 minutes."""

        def register_client(coopname: str, redirect_uri: str) -> tuple[str, str]:
            if self.client is None:
                coop = make_client(self.app, coopname, redirect_uris=[redirect_uri])
                self.client = coop.client_id, coop.secret
            return self.client

        return obtain(self.server.url, lambda: run_worker(self.app), register_client)


@pytest.fixture
def target(make_app: Callable[..., Flask], base_settings: dict[str, Any],
           tmp_path: Path) -> Iterator[Target]:
    app = make_app(**SETTINGS)
    with production_server(base_settings | SETTINGS, tmp_path, workers=2) as server:
        yield Target(app, server)


def test_the_api_keeps_its_document(target: Target, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    long_budget = int(os.environ.get("FUZZ_SECONDS") or 0)
    max_examples = int(os.environ.get("FUZZ_MAX_EXAMPLES")
                       or (LONG_MAX_EXAMPLES if long_budget else CI_MAX_EXAMPLES))
    random_seed = int(os.environ.get("FUZZ_SEED") or secrets.randbelow(2**31))
    operations = _operations(target.server.url)

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"\n[fuzz] {line}", flush=True)

    results: list[runner.Result] = []

    def one_round(seed: int, budget: runner.Budget) -> None:
        say(f"seed {seed}, {budget.max_examples} examples per operation"
            + (f", {budget.max_seconds} s" if budget.max_seconds else "")
            + f" (replay: FUZZ_SEED={seed})")
        result = runner.run(target.server.url, target.credentials(), seed, budget,
                            tmp_path / f"seed-{seed}", target.server.log_path)
        say(result.summary())
        results.append(result)

    if long_budget:
        deadline = time.monotonic() + long_budget
        seed = random_seed
        while (left := int(deadline - time.monotonic())) >= 60:
            one_round(seed, runner.Budget(max_examples, min(ROUND_SECONDS, left)))
            seed = secrets.randbelow(2**31)
    else:
        one_round(FIXED_SEED, runner.Budget(max_examples))
        one_round(random_seed, runner.Budget(max_examples))

    problems = []
    for result in results:
        untested = operations - result.operations_tested
        if untested:
            problems.append(f"seed {result.seed}: operations never exercised: {sorted(untested)}")
        if result.failures or result.server_errors or result.log_records or result.errors:
            problems.append(result.summary())
        elif result.exit_code != 0:
            problems.append(f"seed {result.seed}: schemathesis exited {result.exit_code}:\n"
                            + result.output[-5000:])
    assert not problems, "\n".join(problems)


def _operations(base_url: str) -> set[str]:
    document = requests.get(base_url + "/openapi.json", timeout=30).json()
    return {f"{method.upper()} {path}" for path, methods in document["paths"].items()
            for method in methods}
