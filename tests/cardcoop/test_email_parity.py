"""email_norm (PROTOCOL.md §1) is the PBKDF2 salt: the browser (widget/src/crypto/email.js) and
the SDK (cardcoop/protocol/email.py) must give the same answer, byte for byte, for every input,
not only for the vectors. Both run here over a few thousand generated addresses built from the
characters where the two could part (twins, scripts, IDNA edge cases), and plain ASCII
addresses come out exactly as the v1.0 rule (``strip().lower()``) made them."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from cardcoop.crypto import InvalidEmail, normalize_email

REPO = Path(__file__).resolve().parents[2]
WIDGET = REPO / "widget"

# Characters where the implementations could disagree: case, NFD/NFC, fullwidth and other
# compatibility forms, the named scripts and others, RTL, IDNA context rules, dots that map.
POOL = [
    *"abcxyz019.-_+'", *"АЕОаеоёй", *"αΣσς", *"éüßẞçñ", "e\u0301", "\u0301", "\u0327",
    *"ＡＥｅ．。＠", *"例テすー・", *"مثال١٢۱۲", *"שלום׳״", "क", "\u094d", "\u200d", "\u200c",
    "\u00b7", "l\u00b7l", "\u0375", "İ", "ǅ", "xn--", "Ⅻ", "\u0640", "ไทย", "ﬁ", "µ", "½", "😀",
    "%", " ", "\u3000",
]


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)

    def part(low: int, high: int) -> str:
        return "".join(rng.choice(POOL) for _ in range(rng.randint(low, high)))

    return [part(1, 5) + "@" + ".".join(part(1, 5) for _ in range(rng.randint(1, 3)))
            for _ in range(count)]


def _ascii_addresses(count: int, seed: int) -> list[str]:
    """Addresses the v1.0 server accepted: atext local parts, LDH domains, any case."""
    rng = random.Random(seed)
    atext = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
    out = []
    for _ in range(count):
        local = ".".join("".join(rng.choice(atext) for _ in range(rng.randint(1, 8)))
                         for _ in range(rng.randint(1, 3)))
        labels = []
        for _ in range(rng.randint(1, 3)):
            inner = "".join(rng.choice(string.ascii_letters + string.digits + "-")
                            for _ in range(rng.randint(0, 8)))
            labels.append(rng.choice(string.ascii_letters) + re.sub("-+", "-", inner.strip("-")))
        tld = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(2, 6)))
        out.append(rng.choice(["", " ", "\t"]) + local + "@" + ".".join([*labels, tld])
                   + rng.choice(["", " ", "\n"]))
    return out


def _python(cases: list[str]) -> list[str]:
    out = []
    for case in cases:
        try:
            out.append(normalize_email(case))
        except InvalidEmail:
            out.append("<invalid_email>")
    return out


def _browser(cases: list[str], tmp_path: Path) -> list[str]:
    node = shutil.which("node")
    if node is None or not (WIDGET / "dist" / "noble.js").exists():
        if os.environ.get("CI"):
            pytest.fail("node and widget/dist (make widget) are needed for the parity check")
        pytest.skip("node or widget/dist/noble.js missing (make widget)")
    source = tmp_path / "cases.json"
    source.write_text(json.dumps(cases), encoding="utf-8")
    module = (WIDGET / "src" / "crypto" / "email.js").as_uri()
    script = (
        f"import {{ readFileSync }} from 'node:fs';"
        f"import {{ normalizeEmail }} from {json.dumps(module)};"
        f"const cases = JSON.parse(readFileSync({json.dumps(str(source))}, 'utf8'));"
        "const out = cases.map((c) => { try { return normalizeEmail(c); } catch (e) {"
        " if (e.code !== 'invalid_email') throw e; return '<invalid_email>'; } });"
        "process.stdout.write(JSON.stringify(out));"
    )
    run = subprocess.run([node, "--input-type=module", "-e", script],  # noqa: S603
                         capture_output=True, text=True, check=True, timeout=120)
    result: list[str] = json.loads(run.stdout)
    return result


def test_browser_and_sdk_agree_on_generated_addresses(tmp_path: Path) -> None:
    cases = _generated(6000, seed=7) + _ascii_addresses(1000, seed=8)
    python, browser = _python(cases), _browser(cases, tmp_path)
    differ = [(case, b, p) for case, b, p in zip(cases, browser, python, strict=True) if b != p]
    assert differ == []
    accepted = [p for p in python if p != "<invalid_email>"]
    assert len(accepted) > 1000  # the generator does reach the accepting paths
    assert all(normalize_email(p) == p for p in accepted)  # canonical forms are fixed points


def test_ascii_addresses_are_unchanged_from_v1_0() -> None:
    cases = _ascii_addresses(3000, seed=9)
    assert [normalize_email(case) for case in cases] == [case.strip().lower() for case in cases]
