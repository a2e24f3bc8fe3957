"""A pace: at most `rate` actions a second on each key, however many threads share the pace.

A job that writes an item many of its items share (the expiry's refunds give units back to a goods' stock
item; each expiry removes an entry of its shard's `due` index key) reserves a moment for each action on
that key before it acts: reserved moments of one key are at least 1/rate seconds apart, so any t seconds
hold at most rate x t + 1 of them. A key waits only for its own earlier actions: a goods refunded slowly
never holds up another goods. Pure arithmetic over the moments it is given (the caller's monotonic clock,
and the caller sleeps).
"""
from __future__ import annotations

import threading


class Pace:
    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, rate: float, now: float) -> float:
        """The moment, at `now` or later, at which one more action on `key` may start at `rate` a second."""
        if rate <= 0:
            raise ValueError("a pace needs a positive rate")
        with self._lock:
            start = max(now, self._next.get(key, now))
            self._next[key] = start + 1 / rate
            return start
