"""How scheduled work is split, run and resumed, the same way for every job.

A job's work is cut into shards, and a shard into slices: `run_slice(slice, out_of_time)` does as much
of one shard as it can, from `slice.cursor`, and returns the cursor to resume at (None: the shard is
done). Every unit of work is idempotent by a condition in its own write (an adoption's
`accrued_through`, a redemption's `status = issued`), so a slice run twice, late, or by two workers at
once changes nothing more; a cursor is only a shortcut.

In AWS an EventBridge schedule fires a small dispatcher (app.py) that invokes the `jobs_worker` Lambda
asynchronously once per shard; a worker stops a minute before its time is up and hands its cursor to a
fresh invocation of itself. Locally (`python -m admin run-jobs`, the console, the tests) the same
slices run in one process until every shard is done (`run_to_completion`).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .domain import clock
from .domain.values import immutable
from .settings import get_settings

SAFETY_MS = 60_000  # a worker hands over when less than this is left of its Lambda time
WORKER = "jobs_worker"  # the Lambda that runs slices (app.py)


@immutable
class Slice:
    """One worker's share of one run: the job, the moment the run is for, a shard, where to resume."""

    job: str
    at: datetime
    shard: int
    cursor: dict | None = None

    def to_event(self) -> dict:
        return {"job": self.job, "at": clock.iso(self.at), "shard": self.shard, "cursor": self.cursor}

    @classmethod
    def from_event(cls, event: Any) -> Slice:
        if not isinstance(event, dict) or not all(isinstance(event.get(name), kind) for name, kind in (
                ("job", str), ("at", str), ("shard", int), ("cursor", (dict, type(None))))):
            raise ValueError(f"not a job slice: {event!r}")
        return cls(event["job"], clock.parse_iso(event["at"]), event["shard"], event.get("cursor"))


@dataclass
class SliceResult:
    counts: dict
    cursor: dict | None = None


RunSlice = Callable[[Slice, Callable[[], bool]], SliceResult]


def run_to_completion(job: str, run_slice: RunSlice, shards: int, at: datetime) -> dict:
    """Every shard of one run, in this process, each to its end."""
    totals: Counter = Counter()
    for shard in range(shards):
        piece = Slice(job, at, shard)
        while True:
            result = run_slice(piece, lambda: False)
            totals.update(result.counts)
            if result.cursor is None:
                break
            piece = replace(piece, cursor=result.cursor)
    return dict(totals)


def run_slice_in_lambda(run_slice: RunSlice, piece: Slice, remaining_ms: Callable[[], int],
                        invoke: Callable[[dict], None]) -> dict:
    """A worker's part: as much as the time allows, then the rest handed to a fresh invocation."""
    result = run_slice(piece, lambda: remaining_ms() < SAFETY_MS)
    if result.cursor is not None:
        invoke(replace(piece, cursor=result.cursor).to_event())
    return {**result.counts, "job": piece.job, "shard": piece.shard, "continued": result.cursor is not None}


def fan_out(job: str, shards: int, at: datetime, invoke: Callable[[dict], None]) -> dict:
    """The dispatcher's part: one asynchronous worker invocation per shard."""
    for shard in range(shards):
        invoke(Slice(job, at, shard).to_event())
    return {"job": job, "at": clock.iso(at), "dispatched": shards}


def scheduled_moment(event_time: str | None) -> datetime:
    """The moment EventBridge meant (its event's `time`, e.g. "2026-11-23T16:00:00Z"), not when the
    Lambda happened to start: a run delayed past midnight still credits the day it was for."""
    try:
        return clock.parse_iso(event_time) if event_time else clock.now()
    except ValueError:
        return clock.now()


def worker_function(dispatcher_name: str, job: str) -> str:
    """A stage's functions are "{app}-{stage}-{name}" (Chalice, infra/aws): the job's dispatcher
    "greensprout-prod-accrue-trees" has the worker "greensprout-prod-jobs_worker"."""
    return dispatcher_name.removesuffix(f"-{job}") + f"-{WORKER}"


_lambda_client = None


def lambda_invoker(function_name: str) -> Callable[[dict], None]:
    """Asynchronous invocations of a Lambda (at-least-once: fine, every slice is idempotent)."""
    def invoke(payload: dict) -> None:
        global _lambda_client
        if _lambda_client is None:
            import botocore.session  # only the scheduled functions need it

            session = botocore.session.get_session()
            _lambda_client = session.create_client("lambda", region_name=get_settings().aws_region)
        _lambda_client.invoke(FunctionName=function_name, InvocationType="Event",
                              Payload=json.dumps(payload, separators=(",", ":")).encode())

    return invoke
