"""``make run``: idp, portal and business, each its own process and origin, the workers that
deliver notifications (idp's and the portal's), the portal's reminder job, and the demo
cooperative site (examples/coop_site) registered as an
OAuth client of idp. Ctrl-C stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # deploy/ beside scripts/
from deploy.front import Front, FrontConfig  # noqa: E402

BIN = Path(sys.executable).parent
LOG = None  # the terminal
APPS = [("idp", 8000), ("portal", 8001), ("business", 8002)]
COOP_SITE = "http://127.0.0.1:8003"
PORTAL = "http://127.0.0.1:8001"


def main() -> int:
    env = os.environ.copy()
    coop_config = ROOT / "instance" / "coop_site.json"
    # A fresh client secret for the demo cooperative on every start (sandbox registry only).
    subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [str(BIN / "flask"), "--app", "wsgi:idp", "clients", "demo", "--site-url", COOP_SITE,
         "--out", str(coop_config)], cwd=ROOT, env=env, check=True)
    # The portal: card.coop's own app at idp, with a fresh secret on every start too.
    portal_config = ROOT / "instance" / "portal_client.json"
    subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [str(BIN / "flask"), "--app", "wsgi:idp", "clients", "first-party", "portal", "--url",
         env.get("CARDCOOP_PORTAL_URL", PORTAL), "--out", str(portal_config)],
        cwd=ROOT, env=env, check=True)
    portal_env = env | {"CARDCOOP_PORTAL_CLIENT_SECRET":
                        json.loads(portal_config.read_text())["client_secret"]}
    # The production front (deploy/front.py: nginx in front of granian), one worker each on the
    # embedded defaults; the logs go to the terminal.
    fronts = [Front(FrontConfig(app=name, port=port, workers=1),
                    portal_env if name == "portal" else env, LOG) for name, port in APPS]
    # The demo cooperative on granian alone (no access log: its tickets stay out of the output).
    fronts.append(Front(FrontConfig(app="coop_site", port=8003, workers=1, use_nginx=False,
                                    target="examples.coop_site.wsgi:app"),
                        env | {"COOP_SITE_CONFIG": str(coop_config)}, LOG))
    worker = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        [str(BIN / "flask"), "--app", "wsgi:idp", "worker"], cwd=ROOT, env=env)
    # The portal's outbox (email through idp, Web Push) and its reminder job, every 5 minutes.
    portal_jobs = [subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        [str(BIN / "flask"), "--app", "wsgi:portal", *command], cwd=ROOT, env=portal_env)
        for command in (["worker"], ["reminders", "--every", "300"])]
    for front in fronts:
        front.start(wait=False)
    for front in fronts:
        front.wait_healthy(path="/health" if front.cfg.target is None else "/")
    print("\ncard.coop is running (Ctrl-C to stop):")
    print("  id.card.coop   http://127.0.0.1:8000   (API docs: /docs, dev mailbox: /dev/mailbox)")
    print("  portal         http://127.0.0.1:8001   (the members' dashboard)")
    print("  business       http://127.0.0.1:8002")
    print(f"  demo coop site {COOP_SITE}   (ПК ВОСХОД: sign in / share / join with the card)\n",
          flush=True)

    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and worker.poll() is None and all(f.running() for f in fronts) and \
            all(job.poll() is None for job in portal_jobs):
        time.sleep(0.5)
    crashed = not stopping  # one died: take the rest down, and say so with the exit code
    for front in fronts:
        front.stop()
    for process in [worker, *portal_jobs]:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main())
