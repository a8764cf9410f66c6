"""What keeps a flood of staff log-ins cheap: a back-off per user and address, and a bounded hashing pool.

Both are in memory, which suits the one web process `make run` starts (README "Scaling out").
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _Failures:
    count: int
    last: float
    locked_until: float


class LoginBackoff:
    """Exponential back-off per (user name, client address): a few free tries, then 30 s, 60 s, ... up to a cap.

    The key is the pair, never one of them alone: a wrong password typed by one worker, or a stranger guessing
    one name, locks out neither the other workers at the same office address nor that worker elsewhere.
    An attempt counts as a failure when it starts and is forgiven on success, so a burst of concurrent guesses
    is refused before any of them reaches the (slow) password hash.
    """

    def __init__(self, free_failures: int = 5, base_seconds: float = 30.0, max_seconds: float = 15 * 60.0,
                 forget_after: float = 3600.0, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.forget_after = forget_after
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def _get(self, key: tuple[str, str], now: float) -> _Failures | None:
        entry = self._failures.get(key)
        if entry is not None and now >= entry.locked_until and now - entry.last > self.forget_after:
            del self._failures[key]
            return None
        return entry

    def retry_after(self, user: str, client: str) -> float:
        """Seconds until this pair may try again; 0 when it may now."""
        now = self.clock()
        entry = self._get((user, client), now)
        return max(0.0, entry.locked_until - now) if entry is not None else 0.0

    def attempt(self, user: str, client: str) -> float:
        """Count an attempt as a failure unless `succeeded` follows; returns `retry_after` (0: go ahead)."""
        key = (user, client)
        now = self.clock()
        entry = self._get(key, now)
        if entry is not None and now < entry.locked_until:
            return entry.locked_until - now
        entry = entry or _Failures(0, now, now)
        entry.count += 1
        entry.last = now
        if entry.count >= self.free_failures:
            delay = self.base_seconds * 2 ** (entry.count - self.free_failures)
            entry.locked_until = now + min(self.max_seconds, delay)
        self._failures[key] = entry
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)
        return 0.0

    def succeeded(self, user: str, client: str) -> None:
        self._failures.pop((user, client), None)


class HashingBusy(Exception):
    """More password checks are waiting than the pool accepts; the caller refuses the log-in at once."""


class HashingPool:
    """argon2 runs here, in its own few threads, so log-ins never take the threads the chat's database calls use.

    At most `max_waiting` checks may run or wait; beyond that a log-in is refused at once rather than queued,
    so a flood costs memory and CPU in proportion to the bound, not to the flood.
    """

    def __init__(self, workers: int = 2, max_waiting: int = 16) -> None:
        self.max_waiting = max_waiting
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._in_use = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._in_use >= self.max_waiting:
            raise HashingBusy()
        self._in_use += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._in_use -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
