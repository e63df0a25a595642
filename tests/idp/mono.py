"""MONO's side, played by tests/mono_peer/mono.js with the stock libraries MONO uses."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

PEER = Path(__file__).resolve().parents[1] / "mono_peer"


def mono(*ops: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the operations in one node process; their results, in order."""
    node = shutil.which("node")
    if node is None or not (PEER / "node_modules").is_dir():
        pytest.fail("tests/mono_peer is not installed: make mono-peer")
    done = subprocess.run([node, str(PEER / "mono.js")], input=json.dumps(ops), cwd=PEER,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=True)
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results
