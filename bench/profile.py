"""Where the app's time goes under load: py-spy on every granian worker (issue #10's "profile
before and after each change").

``record(pids, seconds, out)`` samples the given processes (the Python ones among their
descendants: granian's workers) with ``py-spy record --format raw`` while a load runs, and
writes the collapsed stacks; ``summary(out)`` turns them into the figures the note carries: the
share of busy samples in each area (the database driver waiting, SQLAlchemy, Flask/Werkzeug,
Authlib, our own packages, ...) and the functions with the most self time. A sample counts once
per area it passes through, so the areas overlap (SQLAlchemy calls psycopg).

py-spy is a dev tool (``pip install py-spy``), not a dependency: without it the run says so and
goes on unprofiled. Sampling costs the workers a little CPU, so the side-by-side runs profile in
an extra, unmeasured run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psutil

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
RATE = 200  # samples per second per process
# Areas by the file a frame runs in: the first match wins, so the narrow ones come first.
AREAS = (
    ("waiting on PostgreSQL (psycopg)", ("psycopg/", "psycopg_binary")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("Authlib", ("authlib/",)),
    ("jwcrypto / cryptography (signing)", ("jwcrypto/", "cryptography/")),
    ("pydantic", ("pydantic",)),
    ("Redis client", ("redis/",)),
    ("Flask / Werkzeug", ("flask/", "werkzeug/", "flask_sqlalchemy/")),
    ("logging", ("logging/", "structlog/")),
    ("json", ("json/", "orjson")),
    ("idp/", ("/idp/",)),
    ("common/", ("/common/",)),
)


def python_workers(roots: list[int]) -> list[int]:
    """The Python processes among the roots and their descendants (nginx is not Python)."""
    found = []
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        found += [p.pid for p in procs if "python" in p.name() or "granian" in p.name()]
    return sorted(set(found))


def start(roots: list[int], seconds: float, out_dir: Path) -> list[subprocess.Popen[bytes]]:
    """One py-spy per worker, for `seconds`; [] when py-spy is not installed."""
    if not Path(PY_SPY).exists():
        print("    (py-spy is not installed: pip install py-spy; no profile)", flush=True)
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen(  # noqa: S603 (fixed argv)
        [PY_SPY, "record", "--format", "raw", "--rate", str(RATE), "--nonblocking", "--idle",
         "--duration", str(max(1, round(seconds))), "--pid", str(pid),
         "--output", str(out_dir / f"worker-{pid}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in python_workers(roots)]


def finish(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        spy.wait(timeout=120)


def _stacks(out_dir: Path) -> Counter[str]:
    stacks: Counter[str] = Counter()
    for f in out_dir.glob("worker-*.txt"):
        for line in f.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks[stack] += int(count)
    return stacks


def _serving(stack: str) -> bool:
    """A sample of a request being served: granian's WSGI runner is on the stack (the
    processes' main threads and idle WSGI threads, which wait in Rust, are not)."""
    return "granian/wsgi.py" in stack


def summary(out_dir: Path, top: int = 12) -> str:
    """Areas (share of busy samples) and the functions with the most self time, as Markdown."""
    stacks = {s: n for s, n in _stacks(out_dir).items() if _serving(s)}
    total = sum(stacks.values())
    if not total:
        return "(no samples)"
    areas: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    for stack, n in stacks.items():
        frames = stack.split(";")
        seen = set()
        for frame in frames:
            for area, needles in AREAS:
                if any(needle in frame for needle in needles):
                    seen.add(area)
                    break
        for area in seen:
            areas[area] += n
        self_time[frames[-1].strip()] += n
    lines = [f"{total:,} samples of requests being served ({RATE}/s per worker thread)", "",
             "| area | share |", "|---|---:|"]
    lines += [f"| {area} | {100 * n / total:.0f}% |" for area, n in areas.most_common()]
    lines += ["", "| function (self) | share |", "|---|---:|"]
    lines += [f"| `{fn[:110]}` | {100 * n / total:.1f}% |"
              for fn, n in self_time.most_common(top)]
    return "\n".join(lines)
