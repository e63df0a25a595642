"""Sign-ins against the Argon2id ceiling (issue #10: report sign-ins/s as a fraction of it).

complete-login verifies the hashKey with Argon2id (idp/passwords.py), on purpose the most
expensive thing idp does. The ceiling is what this machine's cores can hash with idp's exact
parameters (common/settings.py), measured in a process pool of os.cpu_count() workers while the
server is idle; the sign-in rate is initiate-login + complete-login for members whose hashKey is
known, at moderate concurrency, counting the sign-ins completed inside the measured window.
Every complete-login also yields a fresh refresh token, which the refresh runs spend.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import aiohttp
from argon2 import PasswordHasher

from common.settings import Settings

SECRET = b"\0" * 32  # the verifier hashes the 32 raw bytes of hashKey (PROTOCOL.md §2)


def argon2_parameters() -> dict[str, int]:
    """The server's defaults: the bench server gets no CARDCOOP_ARGON2_* (server_env drops
    inherited CARDCOOP_* variables)."""
    fields = Settings.model_fields
    return {"memory_kib": int(fields["argon2_memory_kib"].default),
            "time_cost": int(fields["argon2_time_cost"].default),
            "parallelism": int(fields["argon2_parallelism"].default)}


def _hash_for(seconds: float, params: dict[str, int]) -> int:
    hasher = PasswordHasher(memory_cost=params["memory_kib"], time_cost=params["time_cost"],
                            parallelism=params["parallelism"], hash_len=32, salt_len=16)
    count, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        hasher.hash(SECRET)
        count += 1
    return count


def argon2_ceiling(seconds: float = 4.0) -> float:
    """Hashes per second on all cores."""
    params, workers = argon2_parameters(), os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        pool.submit(_hash_for, 0.2, params).result()  # workers up, libargon2 loaded
        counts = list(pool.map(_hash_for, [seconds] * workers, [params] * workers))
    return sum(counts) / seconds


async def sign_in(http: aiohttp.ClientSession, base: str, email: str, hash_key: str
                   ) -> dict[str, Any]:
    async with http.post(f"{base}/auth/initiate-login", json={"email": email}) as resp:
        if resp.status != 200:
            raise RuntimeError(f"initiate-login {resp.status}")
        started = await resp.json()
    body = {"email": email, "hashKey": hash_key, "uuid": started["uuid"]}
    async with http.post(f"{base}/auth/complete-login", json=body) as resp:
        if resp.status != 200:
            raise RuntimeError(f"complete-login {resp.status}")
        done: dict[str, Any] = await resp.json()
        return done


async def sign_ins(base: str, members: list[tuple[str, str]], *, concurrency: int,
                   warmup: float, seconds: float, want_tokens: int = 0
                   ) -> tuple[dict[str, Any], list[str]]:
    """(email, hashKey) pairs signed in round-robin by `concurrency` clients; the result row
    and the refresh tokens of every sign-in (more sign-ins, untimed, until `want_tokens`)."""
    tokens: list[str] = []
    latencies: list[float] = []
    errors: dict[str, int] = {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=timeout) as http:
        measure_from = time.perf_counter() + warmup
        stop_at = measure_from + seconds
        turn = 0

        async def client() -> None:
            nonlocal turn
            while time.perf_counter() < stop_at or len(tokens) < want_tokens:
                email, key = members[turn % len(members)]
                turn += 1
                began = time.perf_counter()
                try:
                    done = await sign_in(http, base, email, key)
                except (RuntimeError, aiohttp.ClientError, TimeoutError) as exc:
                    label = str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__
                    errors[label] = errors.get(label, 0) + 1
                    if sum(errors.values()) > 100:
                        return
                    continue
                tokens.append(str(done["refreshToken"]))
                ended = time.perf_counter()
                if measure_from <= ended <= stop_at:  # completions in the window: the rate
                    latencies.append((ended - began) * 1000)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)] if latencies else float("nan")
    return ({"rps": len(latencies) / seconds if seconds else 0.0, "ok": len(latencies),
             "p95_ms": p95,
             "concurrency": concurrency, "errors": errors}, tokens)
