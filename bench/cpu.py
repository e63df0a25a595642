"""CPU time spent by a set of processes over a measured window (psutil).

A window's cost is the sum of user + system time of: the given root processes and all their
descendants (the front: nginx master + workers, granian main + workers; or the node peer), and
every process of the named programs (all `postgres` processes: the backends serve the app; with
`database`, client backends of other databases are left out: another job on the machine, a
bulk seeding say, is not the app's cost). Processes born inside the window count whole; one that
exits inside it loses its last part (rare: the app's database pool and nginx's upstream
connections stay open). ``by_program`` splits a window's cost by program name (granian, nginx,
postgres, ...): where a request's CPU goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import psutil

Snapshot = dict[tuple[int, float], tuple[str, float]]  # (pid, create_time) -> (name, CPU s)
# A client backend's title: "postgres: 15/main: <user> <database> <host>(<port>) <state>"
BACKEND = re.compile(r"postgres: \S+: \S+ (\S+) \S+\(\d+\)")


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _other_database(proc: psutil.Process, database: str | None) -> bool:
    if database is None:
        return False
    found = BACKEND.match(" ".join(proc.info["cmdline"] or ()))
    return found is not None and found[1] != database


def snapshot(roots: Iterable[int], names: Iterable[str] = (), database: str | None = None
             ) -> Snapshot:
    wanted = set(names)
    procs: list[psutil.Process] = []
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    if wanted:
        procs += [p for p in psutil.process_iter(["name", "cmdline"])
                  if p.info["name"] in wanted and not _other_database(p, database)]
    taken: Snapshot = {}
    for proc in procs:
        try:
            taken[(proc.pid, proc.create_time())] = (proc.name(), _cpu(proc))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return taken


def by_program(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds between the two snapshots, by program name."""
    used: dict[str, float] = {}
    for key, (name, cpu) in after.items():
        used[name] = used.get(name, 0.0) + cpu - before.get(key, (name, 0.0))[1]
    return used


def ms_per(used: dict[str, float], count: int) -> dict[str, float]:
    """CPU seconds by program as milliseconds per request (or sign-in), the busiest first."""
    if not count:
        return {}
    return {name: 1000 * seconds / count
            for name, seconds in sorted(used.items(), key=lambda kv: -kv[1])}


def describe(split: dict[str, float]) -> str:
    """``granian 0.61, postgres 0.09``: what a report prints (programs under 5 µs left out)."""
    return ", ".join(f"{name} {ms:.2f}" for name, ms in split.items() if ms >= 0.005)
