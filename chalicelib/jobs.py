"""Scheduled and stream-driven work, registered once, run by AWS in the cloud and by
`python -m admin run-jobs` locally (neither `chalice local` nor the test client runs schedules).

Each job is idempotent per its natural key (an adoption and a day, a redemption), so running one
twice, or late, changes nothing more. Features register their jobs here as they land.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[datetime], dict]


JOBS: list[Job] = []
