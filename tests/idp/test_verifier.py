"""The hashKey verifier (idp/passwords.py): Argon2id hashes run at most `concurrency` at once
in a process, whatever the number of request threads, and a bound never changes a verdict."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from idp.passwords import Verifier

PARAMS = {"memory_kib": 19_456, "time_cost": 2, "parallelism": 1}


class CountingHasher:
    """Wraps the real hasher and records how many of its calls overlap."""

    def __init__(self, real: object) -> None:
        self.real, self.now, self.most = real, 0, 0
        self.lock = threading.Lock()

    def _counted(self, call: str, *args: object) -> object:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.01)  # long enough for the other threads to arrive
            return getattr(self.real, call)(*args)
        finally:
            with self.lock:
                self.now -= 1

    def hash(self, *args: object) -> object:
        return self._counted("hash", *args)

    def verify(self, *args: object) -> object:
        return self._counted("verify", *args)


@pytest.mark.parametrize("concurrency", [1, 2])
def test_no_more_hashes_at_once_than_the_bound(concurrency: int) -> None:
    verifier = Verifier(**PARAMS, concurrency=concurrency)
    good = verifier.make(b"\1" * 32)
    counting = CountingHasher(verifier._hasher)
    verifier._hasher = counting  # type: ignore[assignment]
    keys = [b"\1" * 32, b"\2" * 32] * 4 + [None] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(
            lambda key: verifier.check(good, key) if key else verifier.check(None, b"\1" * 32),
            keys))
        made = list(pool.map(verifier.make, [b"\3" * 32] * 4))
    assert counting.most == concurrency
    # The verdicts are the hasher's: right key yes, wrong key no, unknown email no.
    assert verdicts == [True, False] * 4 + [False, False]
    assert all(verifier.check(m, b"\3" * 32) for m in made)
