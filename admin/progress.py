"""A progress bar for long console work (scans, reconcile, catch-up, exports).

On a terminal it draws, on stderr, `label |██████▌     |  58%  12,345/21,000 entries  2,310/s  ETA 0:04`
(without a known total: the count, the rate and the time so far), redrawn at most ten times a
second. When stderr is not a terminal (piped, cron, CI) it prints nothing at all, so a log or a
`--json` consumer never sees carriage returns. Safe to advance from several threads (parallel scan
segments).
"""
from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")
REDRAW_SECONDS = 0.1


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _bar(fraction: float, width: int) -> str:
    """A bar of `width` cells with eighth-cell resolution."""
    eighths = int(round(max(0.0, min(1.0, fraction)) * width * 8))
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width)


class Progress:
    """Counts work done and shows it; use as a context manager, call `advance(n)` as work completes."""

    def __init__(self, label: str, total: int | None = None, unit: str = "items", stream: TextIO | None = None,
                 clock=time.monotonic) -> None:
        self.label, self.unit = label, unit
        self.total = total if total and total > 0 else None
        self.count = 0
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._started = clock()
        self._drawn_at = -1.0
        self._lock = threading.Lock()
        isatty = getattr(self._stream, "isatty", None)
        self.enabled = bool(isatty and isatty())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.count += n
            if self.enabled and self._clock() - self._drawn_at >= REDRAW_SECONDS:
                self._draw(final=False)

    def close(self) -> None:
        with self._lock:
            if self.enabled:
                self._draw(final=True)
                self.enabled = False

    def line(self, final: bool = False) -> str:
        """The text drawn now (without the carriage return)."""
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.count / elapsed
        numbers = f"{self.count:,}"
        if final:
            tail = f"{numbers} {self.unit} in {_duration(elapsed)} ({rate:,.0f}/s)"
            return f"{self.label}: done, {tail}"
        if self.total and self.count <= self.total:
            fraction = self.count / self.total
            eta = _duration((self.total - self.count) / rate) if rate > 0 else "?"
            bar_width = max(10, min(30, shutil.get_terminal_size((80, 20)).columns - 70))
            return (f"{self.label} |{_bar(fraction, bar_width)}| {fraction:4.0%}  {numbers}/{self.total:,} {self.unit}"
                    f"  {rate:,.0f}/s  ETA {eta}")
        return f"{self.label}  {numbers} {self.unit}  {rate:,.0f}/s  {_duration(elapsed)}"

    def _draw(self, final: bool) -> None:
        self._drawn_at = self._clock()
        width = shutil.get_terminal_size((80, 20)).columns - 1
        text = self.line(final)[:width]
        self._stream.write("\r" + text.ljust(width) + ("\n" if final else ""))
        self._stream.flush()


def progress(items: Iterable[T], label: str, total: int | None = None, unit: str = "items") -> Iterator[T]:
    """Yields `items`, showing a progress bar on a terminal's stderr; silent when piped."""
    with Progress(label, total, unit) as bar:
        for item in items:
            yield item
            bar.advance()
