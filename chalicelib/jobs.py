"""Scheduled and stream-driven work, registered once, run by AWS in the cloud and by
`python -m admin run-jobs` locally (neither `chalice local` nor the test client runs schedules).

Each job is idempotent per its natural key (an adoption and a day, a redemption), so running one
twice, or late, changes nothing more. Features register their jobs here as they land.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import scheduling
from .domain import clock, ranking, shards
from .domain.values import immutable
from .scheduling import RunSlice, Slice, SliceResult

# Each job imports its service inside its own function, below. app.py registers every job, so the API's
# Lambda imports this module on every cold start: a job's service (accrual, expiry, the fold, the boards,
# points expiry, nicknames, erasure: ~60 modules with their models and partner clients) would be paid by
# every API container that never runs it, and a job's own function would load its neighbours' services.


@immutable
class Job:
    """`run(at)` does the whole job in this process (run-jobs, the console). In AWS a job runs on
    `schedule` (an EventBridge expression, UTC; default: every `every_seconds`); a sharded job
    (`shards`, `run_slice`: scheduling.py) is fanned out there to one worker invocation per shard."""

    name: str
    every_seconds: int
    run: Callable[[datetime], dict]
    schedule: str | None = None
    shards: int = 1
    run_slice: RunSlice | None = None
    # What the job touches in DynamoDB: the store pieces (and the few services that read a table themselves)
    # its use cases run, named "module:attribute" (nothing is imported here). Each declares its tables and
    # actions (store/access.py); infra/aws/policy.py grants the job's function (a sharded job's: the worker's)
    # exactly those, and tests/infra/test_roles_in_use.py fails on a call they do not cover.
    touches: tuple[str, ...] = ()


def sharded_job(name: str, every_seconds: int, schedule: str | None, shards: int, run_slice: RunSlice,
                touches: tuple[str, ...] = ()) -> Job:
    def run(at: datetime) -> dict:
        return scheduling.run_to_completion(name, run_slice, shards, at)

    return Job(name, every_seconds, run, schedule=schedule, shards=shards, run_slice=run_slice, touches=touches)


CATALOG = "chalicelib.store.catalog_items"
POSTING = "chalicelib.store.dynamo_uow:DynamoPostingUnitOfWork"


JOBS: list[Job] = []


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"no job {name!r}")


def on_schedule(job: Job, event_time: str | None, function_name: str | None) -> dict:
    """What AWS runs when a job's schedule fires (app.py): a plain job runs here; a sharded one is fanned
    out to the `jobs_worker` function, one asynchronous invocation per shard."""
    at = scheduling.scheduled_moment(event_time)
    if job.run_slice is None or not function_name:
        return job.run(at)
    worker = scheduling.worker_function(function_name, job.name)
    return scheduling.fan_out(job.name, job.shards, at, scheduling.lambda_invoker(worker))


def on_worker(event: dict, remaining_ms: Callable[[], int], function_name: str) -> dict:
    """The `jobs_worker` function: one slice of a sharded job, continued by a fresh invocation if needed."""
    piece = Slice.from_event(event)
    job = job_named(piece.job)
    if job.run_slice is None:
        raise KeyError(f"job {job.name} is not sharded")
    return scheduling.run_slice_in_lambda(job.run_slice, piece, remaining_ms, scheduling.lambda_invoker(function_name))


# Tree accrual (services/accrual.py): at 00:00 Asia/Shanghai (16:00 UTC) credit the day that begins, and
# any day a missed run left, to every adoption still in its year; idempotent per adoption and day.
def _accrue_trees_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from . import bootstrap
    from .domain.commands_trees import AccrueShard
    from .services import accrual

    command = AccrueShard(piece.shard, clock.business_day(piece.at), piece.cursor)
    result = accrual.accrue_slice(command, bootstrap.trees_uow, out_of_time)
    return SliceResult(result.as_dict(), result.cursor)


JOBS.append(sharded_job("accrue-trees", every_seconds=600, schedule="cron(0 16 * * ? *)", shards=shards.ADOPTIONS,
                        run_slice=_accrue_trees_slice,
                        touches=("chalicelib.store.uow_trees:DynamoTreesUnitOfWork", CATALOG)))

# Redemption expiry (services/expiry.py): codes expire at 00:00 Asia/Shanghai (16:00 UTC); every hour one worker
# per shard of the sparse `due` index expires what fell due, paced, and stops before the next run starts; a missed
# run is caught up by the next. Idempotent per redemption (`status = issued` in every write), so overlapping runs
# change nothing twice.
def _expire_redemptions_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import expiry

    return SliceResult(*expiry.job_slice(piece.shard, piece.at, EXPIRE_REDEMPTIONS_EVERY, piece.cursor, out_of_time))


EXPIRE_REDEMPTIONS_EVERY = 3600
JOBS.append(sharded_job("expire-redemptions", every_seconds=EXPIRE_REDEMPTIONS_EVERY, schedule=None,
                        shards=shards.REDEMPTIONS_DUE, run_slice=_expire_redemptions_slice,
                        touches=("chalicelib.store.repositories_expiry:due_page",
                                 "chalicelib.store.repositories_expiry:expire_unrefunded", POSTING, CATALOG)))


# Leaderboards, org totals and public stats: every minute, fold the aggregation inbox (filled from the
# ledger and identities streams by services/aggregate.py), one worker per shard; then rebuild the boards
# the fold changed, one worker per rebuild shard (services/board_rebuild.py). Both single-flight per shard (a
# lease) and idempotent: an inbox item is applied once, a board rebuilt from the totals as they are.
def _fold_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import fold

    return SliceResult(fold.fold_slice(piece.shard, piece.at, out_of_time))


def _materialize_boards_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import board_rebuild

    return SliceResult(board_rebuild.rebuild_slice(piece.shard, piece.at, out_of_time))


JOBS.append(sharded_job("fold-aggregates", every_seconds=60, schedule=None, shards=ranking.SHARDS,
                        run_slice=_fold_slice, touches=("chalicelib.store.fold_store:DynamoFoldStore",)))
JOBS.append(sharded_job("materialize-boards", every_seconds=60, schedule=None, shards=ranking.REBUILD_SHARDS,
                        run_slice=_materialize_boards_slice,
                        touches=("chalicelib.store.repositories_boards:DynamoBoardBuilds",
                                 "chalicelib.store.repositories_public_names:ShownNames", CATALOG)))


# Partner revocations a partner missed while it was down (services/consent.py): told again every 5 minutes.
def _retry_partner_revocations(at: datetime) -> dict:
    from .services import consent

    return consent.retry_revocations(at)


JOBS.append(Job("retry-partner-revocations", every_seconds=300, run=_retry_partner_revocations,
                touches=("chalicelib.store.repositories_consent:PendingRevocations",
                         "chalicelib.store.shared_token:SharedToken",
                         "chalicelib.store.catalog_items")))  # the open-protocol partners (services/catalog.py)


# Points expiry (services/points_expiry.py): at 00:00 Asia/Shanghai every day, one worker per account shard.
# Only on 1 January is anything due; on the other days each shard reads its "done" marker for the year and
# stops, and a run that failed or was missed is caught up the next day. Idempotent per account and year.
def _expire_points_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import points_expiry

    return SliceResult(*points_expiry.due_slice(piece.shard, piece.at, piece.cursor, out_of_time))


def _expire_points(at: datetime) -> dict:
    from .domain.platforms import ALL
    from .services import points_expiry

    return points_expiry.run(at, platform=ALL)  # every platform's users, each by its own policy


JOBS.append(Job("expire-points", every_seconds=86400, run=_expire_points,
                schedule="cron(0 16 * * ? *)", shards=shards.ACCOUNTS, run_slice=_expire_points_slice,
                touches=tuple(f"chalicelib.store.repositories_expiry:{name}" for name in (
                    "listed_page", "expired_shards", "mark_expired", "accounts")) + (POSTING, CATALOG)))


# Nicknames WeChat could not check when they were set (services/nicknames.py): asked again every 10 minutes.
def _recheck_nicknames(at: datetime) -> dict:
    from .services import nicknames

    return nicknames.recheck(at)


JOBS.append(Job("recheck-nicknames", every_seconds=600, run=_recheck_nicknames,  # the catalog: another platform's
                touches=("chalicelib.store.repositories_profile:NicknameReviews", CATALOG)))  # mini program


# Deleted accounts whose partner revocations were still unconfirmed (services/erasure.py): once the partner
# has confirmed (the retry job above), the consent loses the partner's reference. Every 5 minutes, after it.
def _finish_erasures(at: datetime) -> dict:
    from .services import erasure

    return erasure.finish_waiting(at)


JOBS.append(Job("finish-erasures", every_seconds=300, run=_finish_erasures,
                touches=tuple(f"chalicelib.store.repositories_erasure:{name}" for name in (
                    "waiting_users", "scrub_consents", "finished", "account")) + (
                    "chalicelib.store.repositories_consent:Consents", "chalicelib.store.shared_token:SharedToken")))


# Nudges (services/nudge_topics.py, docs/nudges.md): every hour one worker per shard finds the coupons expiring
# within 3 days (and, in the 09:00 run, last week's reports and, in December, the points expiring on 31 December)
# and sends them, at most once per (user, topic, subject); every minute one worker per shard sends the receipts
# verifications queued and the retries now due.
def _send_nudges_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import nudge_topics

    return SliceResult(*nudge_topics.scheduled_sweep(piece.shard, piece.at, piece.cursor, out_of_time))


def _send_receipts_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import nudge_topics

    return SliceResult(nudge_topics.receipts_shard(piece.shard, piece.at))


def _send_nudges(at: datetime) -> dict:
    from .services import nudge_topics

    return {topic: nudge_topics.run(at, topic) for topic in nudge_topics.scheduled_topics(at)}


def _send_receipts(at: datetime) -> dict:
    from .domain import nudges
    from .services import nudge_topics

    return nudge_topics.run(at, nudges.REDEMPTION_USED)


NUDGES = tuple(f"chalicelib.store.nudge_sends:{name}" for name in (
    "read_state", "claim", "skip", "settle_sent", "settle_unsent", "retries_due", "holders", "receipts", "receipt_done",
    "redemptions", "accounts", "count")) + (CATALOG,)
JOBS.append(Job("send-nudges", every_seconds=3600, run=_send_nudges, shards=shards.NUDGES,
                run_slice=_send_nudges_slice, touches=NUDGES + (
                    "chalicelib.store.nudge_topics:expiring_page", "chalicelib.store.nudge_topics:week_earnings")))
JOBS.append(Job("send-receipts", every_seconds=60, run=_send_receipts, shards=shards.NUDGES,
                run_slice=_send_receipts_slice, touches=NUDGES))


# Transparency roots (services/transparency.py, docs/transparency.md): at 02:00 Asia/Shanghai (18:00 UTC) one
# worker per shard reads its shard of every day that closed since the last run (9 days back) once, through the
# ledger's GSI `by_root`, writes the shard's leaves file and root; the last worker to finish closes the days, in
# order, each chained to the one before. Everything is written once (`attribute_not_exists`): a retry or a second
# run finds the first records. A missed run is caught up by the next (at most 31 days a run).
def _transparency_roots_slice(piece: Slice, out_of_time: Callable[[], bool]) -> SliceResult:
    from .services import transparency

    return SliceResult(transparency.job_slice(piece.shard, piece.at, out_of_time))


JOBS.append(sharded_job("transparency-roots", every_seconds=86400, schedule="cron(0 18 * * ? *)",
                        shards=shards.TRANSPARENCY, run_slice=_transparency_roots_slice,
                        touches=tuple(f"chalicelib.store.transparency:{name}" for name in (
                            "shard_entries", "pseudonyms", "put_shard", "put_day", "shard_roots", "shard_root",
                            "day_root", "last_rooted")) + (CATALOG,)))
