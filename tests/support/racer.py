"""Racing processes: each imports the service layer on its own (chalice.test.Client is not
thread-safe), warms its clients, waits at a barrier, then fires one call at the same moment."""
from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable


def _worker(target: Callable, args: tuple, barrier, results) -> None:
    try:
        from chalicelib.services import catalog

        catalog.behaviors()  # warm the lazily built clients and the catalog cache before the race
        barrier.wait(timeout=60)
        results.put(("ok", target(*args)))
    except Exception as exc:  # noqa: BLE001 - report any failure to the test
        results.put(("error", f"{type(exc).__name__}: {getattr(exc, 'code', '')} {traceback.format_exc()}"))


def race(target: Callable, calls: list[tuple]) -> list[tuple[str, object]]:
    """Runs target(*args) for each args in its own process, all released together."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(calls)), ctx.Queue()
    processes = [ctx.Process(target=_worker, args=(target, args, barrier, results)) for args in calls]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return outcomes


def checkin(user_id: str, body: dict, platform: str = "default") -> tuple[int, str]:
    """One check-in through the use case, as the route calls it (for a user of `platform`); (status, error code
    or "")."""
    from chalicelib import bootstrap
    from chalicelib.api.checkins import checkin_command
    from chalicelib.errors import AppError
    from chalicelib.services import checkins

    try:
        checkins.award_checkin(checkin_command(user_id, body, platform), bootstrap.posting_uow())
        return 201, ""
    except AppError as error:
        return error.status, error.code


def login(code: str, platform: str = "default") -> str:
    """One login through the use case, as the route calls it: the user id."""
    from chalicelib.services import auth

    return auth.login(code, platform).user_id


def send_nudges(at_iso: str, topic: str | None = None) -> dict:
    """One run of the nudges' work (`python -m admin nudges send --now`), as the jobs do it."""
    from datetime import datetime

    from chalicelib.services import nudge_topics

    return nudge_topics.run(datetime.fromisoformat(at_iso), topic)
