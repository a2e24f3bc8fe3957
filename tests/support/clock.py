"""Moving one module's clock, not the process's: a test that patches `time.monotonic` itself moves it for
every thread and library of the process (botocore's retries, the fake servers, pytest's timings)."""
from __future__ import annotations

import time


class _Time:
    """Stands for the `time` module inside one module: `monotonic()` answers a fixed moment, the rest is time's."""

    def __init__(self, moment: float) -> None:
        self._moment = moment

    def monotonic(self) -> float:
        return self._moment

    def __getattr__(self, name: str):
        return getattr(time, name)


def monotonic_at(monkeypatch, module, moment: float) -> None:
    """`module.time.monotonic()` answers `moment` until the test ends; every other module keeps the real clock."""
    assert module.time is time or isinstance(module.time, _Time), f"{module.__name__} does not read time.monotonic"
    monkeypatch.setattr(module, "time", _Time(moment))
