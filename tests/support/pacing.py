"""A virtual clock for a paced job (services/expiry.PACE_TIME): waiting for a moment moves the clock there
instead of sleeping, so a test of thousands of paced writes takes no time, and the clock's reading is how long
the pace made the job take, whatever the machine's load."""
from __future__ import annotations

import threading


class VirtualTime:
    def __init__(self) -> None:
        self.moment = 0.0  # seconds the pace has made the job wait, all keys and threads together
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.moment

    def wait_until(self, moment: float) -> None:
        with self._lock:
            self.moment = max(self.moment, moment)


def virtual_pace(monkeypatch) -> VirtualTime:
    """The expiry job paced by a virtual clock for the rest of the test."""
    from chalicelib.services import expiry

    clock = VirtualTime()
    monkeypatch.setattr(expiry, "PACE_TIME", clock)
    return clock
