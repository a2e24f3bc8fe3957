"""Shared by the local runners: treat SIGTERM like Ctrl-C, and block until either arrives."""

from __future__ import annotations

import signal
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def sigterm_as_keyboard_interrupt() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread, so `finally` blocks clean up either way."""
    signal.signal(signal.SIGTERM, _interrupt)


def block_until_interrupted() -> None:
    """Sleep until Ctrl-C or SIGTERM (returns instead of raising)."""
    sigterm_as_keyboard_interrupt()
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
