"""The SDK is its own distribution (issue #9): `cardcoop` imports only the standard library and
the dependencies sdk/pyproject.toml declares — never Flask, idp or common — and those are
declared in the root project too. `make sdk-check` builds and installs the real wheel."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cardcoop"
# distribution name → the top-level module it provides
MODULES = {"httpx": "httpx", "cryptography": "cryptography", "joserfc": "joserfc",
           "jsonschema": "jsonschema", "idna": "idna", "phonenumbers": "phonenumbers"}


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=~!\[;]", r, maxsplit=1)[0].lower() for r in requirements}


def imported_top_levels() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def sdk_project() -> dict:
    return tomllib.loads((ROOT / "sdk" / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_sdk_imports_only_the_stdlib_and_its_declared_dependencies():
    declared = requirement_names(sdk_project()["project"]["dependencies"])
    assert declared == set(MODULES), declared
    allowed = set(sys.stdlib_module_names) | {"cardcoop"} | set(MODULES.values())
    imports = imported_top_levels()
    stray = {name: sorted(paths) for name, paths in imports.items() if name not in allowed}
    assert stray == {}, f"the SDK imports what its distribution does not declare: {stray}"
    for server in ("flask", "werkzeug", "sqlalchemy", "authlib", "idp", "common", "pydantic"):
        assert server not in imports


def test_the_root_project_installs_what_the_sdk_needs_without_capping_cryptography():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dependencies = root["project"]["dependencies"]
    assert requirement_names(sdk_project()["project"]["dependencies"]) <= \
        requirement_names(dependencies)
    for spec in dependencies + sdk_project()["project"]["dependencies"]:
        if spec.lower().startswith("cryptography"):
            # jwcrypto >= 1.6 needs cryptography >= 49: a cap makes the SDK uninstallable beside it
            assert "<" not in spec.split("#")[0], spec


def test_the_wheel_carries_the_card_schema_idp_serves():
    force = sdk_project()["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["../cardcoop"] == "cardcoop"
    assert force["../idp/card/schema_v1.json"] == "cardcoop/schema_v1.json"
    assert (ROOT / "idp" / "card" / "schema_v1.json").is_file()
