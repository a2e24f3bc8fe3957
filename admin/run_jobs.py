"""run-jobs: what AWS runs on schedules and from streams, run locally (chalicelib/jobs.py's JOBS).

Every job is attempted: one that raises is reported on one line (its name, the error's type and message,
scrubbed of anything shaped like a secret), the rest still run, and the run ends with a summary. With
--once the exit status is 1 when any job failed; without it the loop keeps going and a failed job is tried
again when it is next due. A failed stream drain is reported the same way (as "drain-streams") and not
tried again in the same round; the jobs still run on what was drained before.
"""
from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable

from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.observability import scrub

from .console import Output, UsageError, audit

log = logging.getLogger("greensprout.jobs")
DRAIN = "drain-streams"


def selected(only: list[str] | None) -> list[jobs.Job]:
    """The registered jobs, in registry order; with --job, only those named (an unknown name is refused)."""
    registered = list(jobs.JOBS)
    if not only:
        return registered
    unknown = sorted(set(only) - {job.name for job in registered})
    if unknown:
        raise UsageError(f"no job {', '.join(unknown)}; jobs: {', '.join(job.name for job in registered)}")
    return [job for job in registered if job.name in only]


def failure(name: str, exc: Exception) -> str:
    """What went wrong, on one line ("RuntimeError: ..."), scrubbed of anything shaped like a secret; the
    traceback, scrubbed too, goes to the log at DEBUG."""
    log.debug("job %s failed:\n%s", name, scrub("".join(traceback.format_exception(exc))))
    return f"{type(exc).__name__}: {scrub(str(exc)) or '(no message)'}"


def attempt(name: str, work: Callable[[], object], failed: dict[str, str]) -> object:
    """Runs one piece of work; a failure is printed, noted in `failed` and not raised."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001  one job's failure must not stop the others
        failed[name] = failure(name, exc)
        print(f"error: job {name} failed: {failed[name]}", file=sys.stderr)
        return None


def run_round(due: list[jobs.Job]) -> tuple[dict, dict[str, str]]:
    """Runs each due job once, draining the streams before each; ({name: result}, {name: error})."""
    from . import streams

    ran: dict[str, object] = {}
    failed: dict[str, str] = {}
    for job in due:
        if DRAIN not in failed:  # DynamoDB Local's streams into their handlers, as AWS's event sources would
            attempt(DRAIN, streams.drain, failed)
        outcome = attempt(job.name, lambda job=job: job.run(clock.now()), failed)
        if job.name not in failed:
            ran[job.name] = outcome
    return ran, failed


def run(args, out: Output) -> int:
    chosen = selected(args.job)
    names = [job.name for job in chosen]
    if args.dry_run:
        out.result({"would_run": names, "dry_run": True}, f"jobs that would run: {', '.join(names) or 'none'}")
        return 0
    if names:  # one record per invocation, not one per tick of the loop
        audit("run-jobs", {"once": args.once, **({"job": args.job} if args.job else {})}, outcome={"jobs": names})
    last_run: dict[str, float] = {}
    while True:
        due = [job for job in chosen
               if args.once or time.monotonic() - last_run.get(job.name, -1e9) >= job.every_seconds]
        ran, failed = run_round(due)
        for job in due:  # a failed job waits for its next turn too, rather than failing every second
            last_run[job.name] = time.monotonic()
        if args.once:
            succeeded = ", ".join(ran) or ("none" if due else "none registered")
            failures = f"; failed: {', '.join(failed)}" if failed else ""
            out.result({"ran": ran, "failed": failed}, f"jobs run: {succeeded}{failures}")
            return 1 if failed else 0
        time.sleep(1)
