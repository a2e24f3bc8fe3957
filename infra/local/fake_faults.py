"""Fault switches and rate limits the fake partners share (the bus company, the bank).

A fault hits the partner API requests whose path starts with `path` (all when ""): after letting `after`
matching requests through, the next `count` ones (all, when count is -1) sleep `delay` seconds and then
answer `status` (with `Retry-After` on a 429, sent as given: a number of seconds, or any text such as
"nan" or "-5" to play a partner that sends nonsense; `Location` on a 3xx when `location` is set), or answer
normally after the delay when `status` is 0 (a slow response). Thread-safe: fakes answer on many threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from infra.local.fake_http import BadJsonError, Request, Response


@dataclass
class Fault:
    path: str = ""
    status: int = 500
    count: int = 1
    after: int = 0
    delay: float = 0.0
    retry_after: int | str = 1
    location: str = ""


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, path: str = "", status: int = 500, count: int = 1, after: int = 0, delay: float = 0.0,
            retry_after: int | str = 1, location: str = "") -> None:
        with self._lock:
            self._faults.append(Fault(path, status, count, after, delay, retry_after, location))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def check(self, request: Request) -> Response | None:
        """Sleeps and/or answers as the first matching fault says; None lets the request through."""
        with self._lock:
            fault = self._hit(request.path)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if not fault.status:
            return None
        headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
        if fault.location and 300 <= fault.status < 400:
            headers["Location"] = fault.location
        body = {"code": "RATE_LIMITED", "error": "rate_limited"} if fault.status == 429 else "upstream trouble"
        return Response(body, status=fault.status, headers=headers)

    def _hit(self, path: str) -> Fault | None:
        for fault in self._faults:
            if not path.startswith(fault.path) or fault.count == 0:
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            if fault.count > 0:
                fault.count -= 1
            return fault
        return None

    def add_from(self, body: dict[str, Any]) -> None:
        """The control API's `POST /__fake__/faults` body."""
        try:
            self.add(path=str(body.get("path", "")), status=int(body.get("status", 500)),
                     count=int(body.get("count", 1)), after=int(body.get("after", 0)),
                     delay=float(body.get("delay", 0)), retry_after=_retry_after(body.get("retry_after", 1)),
                     location=str(body.get("location", "")))
        except (TypeError, ValueError) as exc:
            raise BadJsonError(f"bad fault: {exc}") from exc


def _retry_after(value: Any) -> int | str:
    """A whole number of seconds, or a string sent as it is (what a partner sending nonsense sends)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("retry_after must be a whole number or a string")
    return value


class RateLimit:
    """At most `limit` requests in any `per` seconds; beyond that `allow()` is False."""

    def __init__(self, limit: int, per: float) -> None:
        self.limit, self.per = limit, per
        self._lock = threading.Lock()
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._times and now - self._times[0] >= self.per:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return False
            self._times.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._times.clear()
