"""One schemathesis run (its CLI, ``st run``) against a live idp, and what it found.

The run is judged from its NDJSON event stream: every request made and every check's verdict.
A failure "kind" is (operation, check, failure title): the same bug met with a hundred inputs is
one kind. Server errors are counted twice over: as responses (status >= 500) and as log records
(``unhandled`` from idp's error handler, and whatever the server itself logs at ERROR).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.fuzz.credentials import Credentials
from tests.fuzz.document import fuzz_document

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
ST = Path(sys.executable).parent / "st"
# Records of server-side failures in the server's log (one line per record).
LOG_FAILURE = re.compile(r" (?:ERROR|CRITICAL) |unhandled")
# The checks that a response says what the document says (status, content type, body, headers).
CONFORMANCE = frozenset({"status_code_conformance", "content_type_conformance",
                         "response_schema_conformance", "response_headers_conformance"})


@dataclass
class Failure:
    operation: str
    check: str
    title: str
    status: int | None
    example: str  # one request that shows it, as curl would send it

    @property
    def kind(self) -> tuple[str, str, str]:
        return self.operation, self.check, self.title


@dataclass
class Result:
    seed: int
    exit_code: int
    seconds: float
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], Failure] = field(default_factory=dict)
    failing_cases: int = 0
    check_failures: Counter[str] = field(default_factory=Counter)  # failing test cases per check
    operations_tested: set[str] = field(default_factory=set)
    log_records: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # schemathesis' own (not the API's)
    output: str = ""

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def conformance_failures(self) -> int:
        return sum(n for check, n in self.check_failures.items() if check in CONFORMANCE)

    def summary(self) -> str:
        lines = [f"seed {self.seed}: {self.requests} requests in {self.seconds:.0f} s, "
                 f"{len(self.operations_tested)} operations, {self.server_errors} responses "
                 f"5xx, {self.conformance_failures} conformance failures, "
                 f"{self.failing_cases} failing test cases, {len(self.failures)} failure "
                 f"kinds, {len(self.log_records)} server log error records",
                 "  statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())),
                 "  failing test cases per check: " + ", ".join(
                     f"{c}: {n}" for c, n in sorted(self.check_failures.items()))]
        for failure in sorted(self.failures.values(), key=lambda f: f.kind):
            lines.append(f"  {failure.operation}: {failure.check} ({failure.title}), "
                         f"status {failure.status}\n      {failure.example}")
        lines += [f"  log ({n}x): {kind}" for kind, n in log_kinds(self.log_records).items()]
        lines += [f"  schemathesis error: {error[:300]}" for error in self.errors]
        return "\n".join(lines)


def log_kinds(records: list[str]) -> Counter[str]:
    """Error records by what they say: the message and the exception's last line, without the
    time and the request id (a record is one line, its traceback's newlines escaped)."""
    kinds: Counter[str] = Counter()
    for record in records:
        text = re.sub(r"^\S+ \S+ ", "", record)  # the timestamp
        parts = text.split("\\n")
        kind = parts[0] if len(parts) == 1 else f"{parts[0]} ... {parts[-1].strip()}"
        kinds[re.sub(r"rid=\w+", "rid=…", kind)[:400]] += 1
    return kinds


@dataclass(frozen=True)
class Budget:
    max_examples: int  # per operation and phase
    max_seconds: int | None = None  # fuzzing and stateful phases repeat until it is spent


# A pass that takes this much longer than its budget (or this long, without one) is stopped and
# fails the run: the CI slice must stay bounded whatever the server does.
PASS_GRACE = 300
# The operations that end the fuzzer's own credentials when they succeed (revoking the member's
# session ends its bearer token, revoking the grant ends the cooperative's token) run in a second
# pass, after everything else, together with the listings they take their ids from, so that the
# fuzzer does reach their success path without blinding the rest of the run.
REVOKING = ("delete_auth_sessions_session_id", "delete_access_grants_grant_id")
ID_SOURCES = ("get_auth_sessions", "get_access_list")
LAST_PASS = "^(" + "|".join(REVOKING + ID_SOURCES) + ")$"
PASSES = (("main", ["--exclude-operation-id-regex", "^(" + "|".join(REVOKING) + ")$"]),
          ("revoking", ["--include-operation-id-regex", LAST_PASS]))


def run(base_url: str, credentials: Credentials, seed: int, budget: Budget, work_dir: Path,
        log_path: Path) -> Result:
    """Both passes with one seed; the time budget is shared in proportion to their sizes."""
    assert base_url.startswith("http://127.0.0.1:"), base_url  # loopback only
    work_dir.mkdir(parents=True, exist_ok=True)
    served = requests.get(base_url + "/openapi.json", timeout=30).json()
    schema_file = work_dir / "openapi.json"
    schema_file.write_text(json.dumps(fuzz_document(served), ensure_ascii=False))
    log_start = log_path.stat().st_size
    result = Result(seed, 0, 0.0)
    started = time.monotonic()
    for name, selection in PASSES:
        argv = [str(ST), "--config-file", str(CONFIG), "run", str(schema_file),
                "--url", base_url, "--seed", str(seed), "--max-examples",
                str(budget.max_examples), "--no-color", *selection,
                "--report", "ndjson,junit",
                "--report-ndjson-path", str(work_dir / f"{name}.ndjson"),
                "--report-junit-path", str(work_dir / f"{name}.junit.xml")]
        if budget.max_seconds:
            share = 0.9 if name == "main" else 0.1
            argv += ["--max-time", str(max(1, int(budget.max_seconds * share)))]
        env = {k: v for k, v in os.environ.items() if not k.startswith("FUZZ_")}
        limit = (budget.max_seconds or 0) + PASS_GRACE
        try:
            # cwd: schemathesis keeps a cache folder in the working directory.
            done = subprocess.run(argv, cwd=work_dir, env=env | credentials.as_env(),  # noqa: S603
                                  capture_output=True, text=True, timeout=limit)
            result.exit_code = result.exit_code or done.returncode
            result.output += f"===== pass {name}: {' '.join(argv)}\n{done.stdout}{done.stderr}"
        except subprocess.TimeoutExpired:  # what it recorded so far is still read below
            result.exit_code = result.exit_code or 1
            result.errors.append(f"pass {name} did not finish within {limit} s")
        _read_events(work_dir / f"{name}.ndjson", result)
    result.seconds = time.monotonic() - started
    with log_path.open(errors="replace") as log:
        log.seek(log_start)
        result.log_records = [line.rstrip() for line in log if LOG_FAILURE.search(line)]
    return result


def _read_events(path: Path, result: Result) -> None:
    if not path.exists():
        result.errors.append("no event stream: " + result.output[-2000:])
        return
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:  # the last line of a stopped pass
            result.errors.append(f"unreadable event: {line[:200]}")
            continue
        if "NonFatalError" in event or "FatalError" in event:
            body = event.get("NonFatalError") or event.get("FatalError")
            result.errors.append(json.dumps(body)[:2000])
        if "ScenarioFinished" in event:
            _read_scenario(event["ScenarioFinished"]["recorder"], result)


def _read_scenario(recorder: dict[str, Any], result: Result) -> None:
    label = recorder["label"]
    interactions = recorder.get("interactions", {})
    if interactions:
        result.operations_tested.add(label)
    for interaction in interactions.values():
        response = interaction.get("response")
        result.requests += 1
        if response is not None:
            result.statuses[response["status_code"]] += 1
    for case_id, checks in recorder.get("checks", {}).items():
        failed = [c for c in checks if c["status"] == "failure"]
        if failed:
            result.failing_cases += 1
        for check in failed:
            result.check_failures[check["name"]] += 1
            info = check["failure_info"]["failure"]
            interaction = interactions.get(case_id, {})
            response = interaction.get("response") or {}
            failure = Failure(info.get("operation") or label, check["name"], info["title"],
                              response.get("status_code"), _curl(interaction.get("request")))
            result.failures.setdefault(failure.kind, failure)


def _curl(request: dict[str, Any] | None) -> str:
    if not request:
        return "(no request recorded)"
    parts = ["curl", "-X", request["method"]]
    for name, values in request.get("headers", {}).items():
        if name.lower() in ("authorization", "user-agent", "accept-encoding", "accept",
                            "connection", "content-length", "x-schemathesis-testcaseid"):
            if name.lower() == "authorization":
                parts += ["-H", f"'Authorization: {values[0].split(' ')[0]} …'"]
            continue
        parts += ["-H", repr(f"{name}: {values[0]}")]
    body = request.get("body")
    if body and "$base64" in body:
        raw = base64.b64decode(body["$base64"])
        parts += ["--data-binary", repr(raw.decode("utf-8", errors="backslashreplace")[:500])]
    parts.append(repr(request["uri"]))
    return " ".join(parts)
