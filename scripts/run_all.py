"""``make run``: idp, portal and business, each its own process and origin, the worker that
delivers notifications, and the demo cooperative site (examples/coop_site) registered as an
OAuth client of idp. Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
APPS = [("idp", 8000), ("portal", 8001), ("business", 8002)]
COOP_SITE = "http://127.0.0.1:8003"


def main() -> int:
    env = os.environ.copy()
    coop_config = ROOT / "instance" / "coop_site.json"
    # A fresh client secret for the demo cooperative on every start (sandbox registry only).
    subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [str(BIN / "flask"), "--app", "wsgi:idp", "clients", "demo", "--site-url", COOP_SITE,
         "--out", str(coop_config)], cwd=ROOT, env=env, check=True)
    # The production command (hypercorn_config.py), one worker each on the embedded defaults.
    procs = [subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        [str(BIN / "hypercorn"), "--config", "file:hypercorn_config.py", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", f"wsgi:create_{name}()"], cwd=ROOT, env=env)
        for name, port in APPS]
    procs.append(subprocess.Popen(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi:idp", "worker"], cwd=ROOT, env=env))
    # The demo cooperative under the same server (no development-server warning; Hypercorn
    # writes no access log, so its tickets and states stay out of the output).
    procs.append(subprocess.Popen(  # noqa: S603
        [str(BIN / "hypercorn"), "--config", "file:hypercorn_config.py", "--workers", "1",
         "--bind", "127.0.0.1:8003", "examples.coop_site.wsgi:app"], cwd=ROOT,
        env=env | {"COOP_SITE_CONFIG": str(coop_config)}))
    time.sleep(1.5)
    print("\ncard.coop is running (Ctrl-C to stop):")
    print("  id.card.coop   http://127.0.0.1:8000   (API docs: /docs, dev mailbox: /dev/mailbox)")
    print("  portal         http://127.0.0.1:8001")
    print("  business       http://127.0.0.1:8002")
    print(f"  demo coop site {COOP_SITE}   (ПК ВОСХОД: sign in / share / join with the card)\n",
          flush=True)

    def stop(_signum: int, _frame: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(proc.poll() is None for proc in procs):
        time.sleep(0.5)
    stop(0, None)  # one died: take the rest down, and say so with the exit code
    for proc in procs:
        proc.wait(timeout=10)
    return 0 if all(proc.returncode in (0, -signal.SIGTERM) for proc in procs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
