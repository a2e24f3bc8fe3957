"""Daily tree accrual (operations.md): each adoption is credited its day's uptake, as an `accrual` entry
with carbon and 0 points, on each of the 365 days after the day it was adopted.

Idempotent per adoption and day, for ever (not through the 48-hour request records): the adoption
keeps `accrued_through`, and the transaction that credits days d+1..e sets it to e on the condition that
it is still d. A day run twice, or by two workers at once, fails that condition and credits nothing; a
run after missed days credits every missed day, one entry each, oldest first.

Work is split by shard (store/trees.py): a slice reads one page of one shard's accruing adoptions from
the sparse `accruing` index, reads them consistently in one BatchGetItem, and credits each user's due
days in one posting (one account read, one transaction), users in parallel. A user's adoptions all
live in one shard, so no two workers ever race on one account.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException

from ..domain import clock
from ..domain.accrual import YEAR_DAYS, AccrualDay, due_days, total_after
from ..domain.methodology import Rule
from ..errors import AccountDeletedError, AccountFrozenError, AppError, NotFoundError
from ..store.models import Account
from ..store.trees import SHARDS, Adoption
from ..store.tx import connection
from .posting import Plan, Posting, post

log = logging.getLogger("greensprout.accrual")
BEHAVIOR = "tree_uptake"  # the summaries' behaviour code of tree accrual ("认养树木固碳")
PAGE_SIZE = 100
ACTIONS_BUDGET = 80  # entries + adoption updates per transaction; with the account and month summaries < 100
STALE_LIMIT = 3
WORKERS = 8

Work = list[tuple[Adoption, list[AccrualDay]]]


class StaleAdoptionError(AppError):
    """An adoption moved on since it was read (another run credited it): read it again."""


def accrue(through: date, dry_run: bool = False, shards: range = range(SHARDS)) -> dict:
    """Credits every adoption through `through`, every shard to the end (the console and run-jobs)."""
    totals: Counter = Counter()
    for shard in shards:
        cursor: dict | None = None
        while True:
            counts, cursor = accrue_slice(shard, through, cursor, out_of_time=lambda: False, dry_run=dry_run)
            totals.update(counts)
            if cursor is None:
                break
    return {"through": through.isoformat(), "dry_run": dry_run, **_as_counts(totals)}


def accrue_slice(shard: int, through: date, cursor: dict | None, out_of_time: Callable[[], bool],
                 dry_run: bool = False) -> tuple[dict, dict | None]:
    """Pages through one shard until it ends (cursor None) or `out_of_time()` (the cursor to resume at)."""
    totals: Counter = Counter()
    while True:
        page = Adoption.accruing.query(shard, Adoption.adopted_day < through.isoformat(), limit=PAGE_SIZE,
                                       last_evaluated_key=cursor)
        adoption_ids = [item.adoption_id for item in page]
        cursor = page.last_evaluated_key
        if adoption_ids:
            totals.update(_accrue_page(adoption_ids, through, dry_run))
        if not cursor:
            return _as_counts(totals), None
        if out_of_time():
            return _as_counts(totals), cursor


def _accrue_page(adoption_ids: list[str], through: date, dry_run: bool) -> Counter:
    by_user: dict[str, list[Adoption]] = defaultdict(list)
    for adoption in Adoption.batch_get(adoption_ids, consistent_read=True):
        by_user[adoption.user_id].append(adoption)
    groups = sorted(by_user.items())
    totals: Counter = Counter()
    if len(groups) == 1 or WORKERS == 1:
        results = [_accrue_user_safely(user_id, adoptions, through, dry_run) for user_id, adoptions in groups]
    else:
        _warm_clients()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(lambda group: _accrue_user_safely(*group, through, dry_run), groups))
    for counts in results:
        totals.update(counts)
    return totals


def _warm_clients() -> None:
    """PynamoDB builds its botocore clients lazily without a lock: build them before threads use them."""
    _ = Account._get_connection().connection.client, connection().client


def _accrue_user_safely(user_id: str, adoptions: list[Adoption], through: date, dry_run: bool) -> Counter:
    try:
        return accrue_user(user_id, adoptions, through, dry_run)
    except (AppError, PynamoDBException, BotoCoreError) as exc:
        log.warning("accrual of %s through %s failed (%s); the next run catches up", user_id, through, exc)
        return Counter(adoptions=len(adoptions), failed=len(adoptions))


def accrue_user(user_id: str, adoptions: list[Adoption], through: date, dry_run: bool = False) -> Counter:
    """Credits one user's adoptions through `through`: one posting per ACTIONS_BUDGET of work."""
    counts: Counter = Counter(adoptions=len(adoptions))
    if dry_run:
        for adoption in adoptions:
            days = _due(adoption, through, limit=None)
            counts.update(credited_days=len(days), credited_mg=sum(d.carbon_mg for d in days),
                          completed=int(bool(days) and days[-1].n == YEAR_DAYS))
        return counts
    stale = 0
    while work := _next_work(adoptions, through):
        try:
            post(user_id, _accrual_plan(work))
        except StaleAdoptionError:
            stale += 1
            if stale > STALE_LIMIT:
                raise
            adoptions = list(Adoption.batch_get([a.adoption_id for a in adoptions], consistent_read=True))
            continue
        except AccountFrozenError:
            return counts + Counter(frozen=len(adoptions))  # credited once unfrozen: nothing is lost
        except (NotFoundError, AccountDeletedError):
            _retire(adoptions)
            return counts + Counter(no_account=len(adoptions))
        for adoption, days in work:
            adoption.accrued_through = days[-1].day.isoformat()
            adoption.accrued_mg = total_after(int(adoption.annual_uptake_mg), days[-1].n)
            counts.update(credited_days=len(days), credited_mg=sum(d.carbon_mg for d in days),
                          completed=int(days[-1].n == YEAR_DAYS))
    return counts


def _retire(adoptions: list[Adoption]) -> None:
    """An erased account accrues nothing more: its adoptions leave the accruing index for good."""
    for adoption in adoptions:
        Adoption(adoption.adoption_id).update(actions=[Adoption.accrual_shard.remove()],
                                              condition=Adoption.adoption_id.exists())


def _due(adoption: Adoption, through: date, limit: int | None) -> list[AccrualDay]:
    return due_days(date.fromisoformat(adoption.adopted_day), date.fromisoformat(adoption.accrued_through),
                    through, int(adoption.annual_uptake_mg), limit=limit)


def _next_work(adoptions: list[Adoption], through: date) -> Work:
    """The next transaction's worth: due days of as many adoptions as fit, oldest days first."""
    work: Work = []
    room = ACTIONS_BUDGET
    for adoption in adoptions:
        if room < 2:
            break
        days = _due(adoption, through, limit=room - 1)
        if days:
            work.append((adoption, days))
            room -= len(days) + 1
    return work


def _accrual_plan(work: Work) -> Callable[[Account], Plan]:
    def plan(account: Account) -> Plan:
        if account.frozen:
            raise AccountFrozenError()
        postings = [
            Posting("accrual", 0, day.carbon_mg, "tree", behavior=BEHAVIOR, rule=_rule(adoption),
                    ref=adoption.adoption_id, day=day.day,
                    inputs={"annual_uptake_mg": int(adoption.annual_uptake_mg), "day_n": day.n,
                            "tree_id": adoption.tree_id})
            for adoption, days in work for day in days if day.carbon_mg > 0]
        return Plan(postings, respond=lambda entries, after: (200, {"entries": len(entries)}), extra=_advance(work),
                    refusals={f"adoption:{a.adoption_id}": StaleAdoptionError() for a, _ in work})

    return plan


def _advance(work: Work) -> Callable:
    """The adoptions' new state, each conditioned on the state the days were planned from."""
    def extra(tx) -> None:
        at = clock.iso(clock.now())
        for adoption, days in work:
            last = days[-1]
            actions = [Adoption.accrued_through.set(last.day.isoformat()), Adoption.updated_at.set(at),
                       Adoption.accrued_mg.set(total_after(int(adoption.annual_uptake_mg), last.n))]
            if last.n == YEAR_DAYS:
                actions.append(Adoption.accrual_shard.remove())  # leaves the sparse `accruing` index
            tx.update(f"adoption:{adoption.adoption_id}", Adoption(adoption.adoption_id), actions,
                      condition=Adoption.accrued_through == adoption.accrued_through)

    return extra


def _rule(adoption: Adoption) -> Rule:
    """The adoption's methodology as a rule: A mg per 365 days, no points (entries name its id and version)."""
    return Rule(code=BEHAVIOR, name="认养树木固碳", category="tree", unit="day",
                carbon_mg=int(adoption.annual_uptake_mg), carbon_per=Decimal(YEAR_DAYS), points=0,
                points_per=Decimal(1), channels=(), methodology_id=adoption.methodology_id,
                version=adoption.methodology_version, source="")


def _as_counts(totals: Counter) -> dict:
    keys = ("adoptions", "credited_days", "credited_mg", "completed", "frozen", "no_account", "failed")
    return {key: int(totals.get(key, 0)) for key in keys}
