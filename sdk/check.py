"""`make sdk-check`: the SDK is its own distribution.

Builds the `cardcoop-sdk` wheel from sdk/pyproject.toml, installs it into a fresh virtualenv
together with the newest jwcrypto on the package index (ordinary pip resolution, so this needs
the index), then checks inside that virtualenv that

- `import cardcoop` and its modules work, and the card schema ships inside the package;
- no server package came along: flask, sqlalchemy, authlib, ... are not installed, and neither
  are the project's own server packages (idp, common, portal, business);
- `pip check` finds no conflict, and the jwcrypto installed is the newest release.

Exit status 0 when all hold; the reason on stderr otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_ONLY = ["flask", "werkzeug", "sqlalchemy", "flask_sqlalchemy", "alembic", "authlib",
               "psycopg", "redis", "granian", "pydantic", "argon2", "ua_parser",
               "idp", "common", "portal", "business"]
PROBE = """
import importlib, importlib.util, json, sys
import cardcoop, cardcoop.client, cardcoop.coop, cardcoop.card, cardcoop.schema, cardcoop.crypto
import jwcrypto, jwcrypto.jwk
from importlib.metadata import version
schema = cardcoop.schema.SCHEMA_PATH
print(json.dumps({
    "package": str(cardcoop.__file__),
    "schema_inside": schema.is_file() and schema.parent.name == "cardcoop",
    "server_packages": [m for m in sys.argv[1:] if importlib.util.find_spec(m) is not None],
    "jwcrypto": version("jwcrypto"), "cryptography": version("cryptography"),
}))
"""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,  # noqa: S603 (our own commands)
                          timeout=600, check=False)
    if done.returncode != 0:
        sys.exit(f"sdk-check: {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def newest(pip: Path, name: str) -> str:
    out = run(pip, "index", "versions", name, "--disable-pip-version-check")
    return out.split("(", 1)[1].split(")", 1)[0]  # "jwcrypto (1.6.1)"


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sdk-check-") as tmp:
        work = Path(tmp)
        venv.create(work / "venv", with_pip=True)
        py, pip = work / "venv" / "bin" / "python", work / "venv" / "bin" / "pip"
        run(pip, "wheel", "--no-deps", "-q", "-w", work / "dist", ROOT / "sdk")
        wheels = list((work / "dist").glob("cardcoop_sdk-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"sdk-check: expected one cardcoop_sdk wheel, got {wheels}")
        # A directory that is not the checkout: the import must find the installed package.
        run(pip, "install", "-q", "--disable-pip-version-check", wheels[0], "jwcrypto")
        run(pip, "check")
        found = json.loads(run(py, "-I", "-c", PROBE, *SERVER_ONLY, cwd=work))
        latest = newest(pip, "jwcrypto")
        problems = []
        if not found["package"].startswith(str(work / "venv")):
            problems.append(f"cardcoop imported from {found['package']}, not the wheel")
        if not found["schema_inside"]:
            problems.append("the card schema is not inside the installed package")
        if found["server_packages"]:
            problems.append(f"server packages installed: {found['server_packages']}")
        if found["jwcrypto"] != latest:
            problems.append(f"jwcrypto {found['jwcrypto']} installed, the newest is {latest}")
        if problems:
            sys.exit("sdk-check: " + "; ".join(problems))
    print(f"sdk-check: cardcoop-sdk installs alone with jwcrypto {found['jwcrypto']} "
          f"(cryptography {found['cryptography']}), no server package "
          f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
