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

Each adoption accrues by the rule it copied from its platform's tree when it was adopted (`annual_uptake_mg`,
methodology), into its adopter's account on that platform. The scheduled job credits every platform's; the
console's `accrue-trees --platform P` only P's adoptions (`Adoption.platform`, absent for `default`'s), kept from
the page it read: the accruing index is one for the deployment, so such a run reads every platform's page.

    job (jobs.py) / console (admin/commands.py) -> accrue_slice(AccrueShard, new_uow) -> accrue_user
    -> domain/adoptions.py + domain/accrual.py -> one posting per user (store/uow_trees.py), each adoption
    advanced under `AdoptionAdvanced` (conditioned on the `accrued_through` read)

`new_uow` makes a unit of work (bootstrap.trees_uow; tests/unit/fakes_trees.py in unit tests): one per
user, since users are credited in parallel threads and a unit of work holds one posting.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from ..domain import adoptions as rules
from ..domain import clock
from ..domain.accrual import YEAR_DAYS, AccrualDay
from ..domain.adoptions import BEHAVIOR, Adoption
from ..domain.commands_trees import AccrueShard
from ..domain.guards import GuardFailed
from ..domain.guards_trees import AdoptionAdvanced
from ..domain.platforms import DEFAULT
from ..domain.posting import Posting
from ..domain.results_trees import AccrualCounts
from ..domain.shards import ADOPTIONS as SHARDS
from ..errors import AccountDeletedError, AccountFrozenError, AppError, NotFoundError

log = logging.getLogger("greensprout.accrual")
PAGE_SIZE = 100
ACTIONS_BUDGET = 80  # entries + adoption updates per transaction; with the account and month summaries < 100
STALE_LIMIT = 3
WORKERS = 8

Work = list[tuple[Adoption, list[AccrualDay]]]
NewUnitOfWork = Callable[[], Any]  # () -> a trees unit of work: bootstrap.trees_uow


class StaleAdoptionError(AppError):
    """An adoption kept moving on since it was read (other runs credited it): the next run catches up."""


def accrue(through: date, new_uow: NewUnitOfWork, dry_run: bool = False,
           shards: range = range(SHARDS), platform: str | None = None) -> AccrualCounts:
    """Credits every adoption through `through`, every shard to the end (the console); with `platform`, only
    that platform's adopters' adoptions (the others are read and left for their platform's run)."""
    totals = AccrualCounts()
    for shard in shards:
        cursor: dict | None = None
        while True:
            result = accrue_slice(AccrueShard(shard, through, cursor, dry_run, platform), new_uow,
                                  out_of_time=lambda: False)
            totals.counts.update(result.counts)
            if (cursor := result.cursor) is None:
                break
    return totals


def accrue_slice(command: AccrueShard, new_uow: NewUnitOfWork, out_of_time: Callable[[], bool]) -> AccrualCounts:
    """Pages through one shard until it ends (cursor None) or `out_of_time()` (the cursor to resume at)."""
    adoptions = new_uow().adoptions
    totals: Counter = Counter()
    cursor = command.cursor
    while True:
        adoption_ids, cursor = adoptions.accruing(command.shard, command.through.isoformat(), PAGE_SIZE, cursor)
        if adoption_ids:
            totals.update(_accrue_page(adoption_ids, command.through, command.dry_run, new_uow, command.platform))
        if not cursor:
            return AccrualCounts(totals, None)
        if out_of_time():
            return AccrualCounts(totals, cursor)


def _accrue_page(adoption_ids: list[str], through: date, dry_run: bool, new_uow: NewUnitOfWork,
                 platform: str | None = None) -> Counter:
    adoptions = new_uow().adoptions
    by_user: dict[str, list[Adoption]] = defaultdict(list)
    for adoption in adoptions.get_many(adoption_ids):
        if platform is None or (adoption.platform or DEFAULT) == platform:
            by_user[adoption.user_id].append(adoption)
    groups = sorted(by_user.items())
    totals: Counter = Counter()
    if len(groups) == 1 or WORKERS == 1:
        results = [_accrue_user_safely(user_id, mine, through, new_uow(), dry_run) for user_id, mine in groups]
    else:
        adoptions.warm()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(lambda group: _accrue_user_safely(*group, through, new_uow(), dry_run), groups))
    for counts in results:
        totals.update(counts)
    return totals


def _accrue_user_safely(user_id: str, adoptions: list[Adoption], through: date, uow: Any, dry_run: bool) -> Counter:
    try:
        return accrue_user(user_id, adoptions, through, uow, dry_run)
    except AppError as exc:
        log.warning("accrual of %s through %s failed (%s); the next run catches up", user_id, through, exc)
        return Counter(adoptions=len(adoptions), failed=len(adoptions))


def accrue_user(user_id: str, adoptions: list[Adoption], through: date, uow: Any, dry_run: bool = False) -> Counter:
    """Credits one user's adoptions through `through`: one posting per ACTIONS_BUDGET of work."""
    counts: Counter = Counter(adoptions=len(adoptions))
    if dry_run:
        for adoption in adoptions:
            days = rules.due(adoption, through)
            counts.update(credited_days=len(days), credited_mg=sum(d.carbon_mg for d in days),
                          completed=int(bool(days) and days[-1].n == YEAR_DAYS))
        return counts
    stale = 0
    while work := _next_work(adoptions, through):
        try:
            advanced = _credit(user_id, work, uow)
        except GuardFailed:  # an adoption moved on since it was read: read them again
            stale += 1
            if stale > STALE_LIMIT:
                raise StaleAdoptionError() from None
            adoptions = uow.adoptions.get_many([a.adoption_id for a in adoptions])
            continue
        except AccountFrozenError:
            return counts + Counter(frozen=len(adoptions))  # credited once unfrozen: nothing is lost
        except (NotFoundError, AccountDeletedError):
            uow.adoptions.retire([a.adoption_id for a in adoptions])
            return counts + Counter(no_account=len(adoptions))
        adoptions = [advanced.get(adoption.adoption_id, adoption) for adoption in adoptions]
        for _adoption, days in work:
            counts.update(credited_days=len(days), credited_mg=sum(d.carbon_mg for d in days),
                          completed=int(days[-1].n == YEAR_DAYS))
    return counts


def _next_work(adoptions: list[Adoption], through: date) -> Work:
    """The next transaction's worth: due days of as many adoptions as fit, oldest days first."""
    work: Work = []
    room = ACTIONS_BUDGET
    for adoption in adoptions:
        if room < 2:
            break
        days = rules.due(adoption, through, limit=room - 1)
        if days:
            work.append((adoption, days))
            room -= len(days) + 1
    return work


def _credit(user_id: str, work: Work, uow: Any) -> dict[str, Adoption]:
    """One posting: an `accrual` entry per day with carbon, and each adoption advanced past its days."""
    with uow.posting(user_id) as posting:
        for account in posting.attempts():
            if account.frozen:
                raise AccountFrozenError()
            posting.stage([
                Posting("accrual", 0, day.carbon_mg, "tree", behavior=BEHAVIOR, rule=rules.accrual_rule(adoption),
                        ref=adoption.adoption_id, day=day.day,
                        inputs={"annual_uptake_mg": int(adoption.annual_uptake_mg), "day_n": day.n,
                                "tree_id": adoption.tree_id})
                for adoption, days in work for day in days if day.carbon_mg > 0])
            at = clock.iso(clock.now())
            advanced = {adoption.adoption_id: rules.after(adoption, days, at) for adoption, days in work}
            for adoption, _days in work:
                posting.guard(AdoptionAdvanced(adoption, advanced[adoption.adoption_id]))
            posting.commit(advanced)
    return posting.result
