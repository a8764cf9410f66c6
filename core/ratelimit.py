"""A small in-memory sliding-window limiter (per process; see README on scaling): the web app and the actions."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most `limit` events per key in any `window` seconds; memory is bounded by `max_keys`."""

    def __init__(self, limit: int, window: float, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._events: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str) -> list[float]:
        now = self.clock()
        events = [t for t in self._events.pop(key, []) if now - t < self.window]
        if events:
            self._events[key] = events
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return events

    def blocked(self, key: str) -> bool:
        """True if the key has used up its allowance, without counting a new event."""
        return len(self._recent(key)) >= self.limit

    def hit(self, key: str) -> None:
        """Count one event for the key."""
        events = self._recent(key)
        events.append(self.clock())
        self._events[key] = events

    def allow(self, key: str) -> bool:
        """Count an event and return True, or return False if the allowance is used up."""
        if self.blocked(key):
            return False
        self.hit(key)
        return True

    def reset(self, key: str) -> None:
        self._events.pop(key, None)
