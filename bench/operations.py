"""Everything the capacity plan is computed from, measured on one stack: `measure(client, app, stack)`.

- A new person's day (bench/journey.py), twice: the cost of each request, and which partitions two people
  both write.
- Steady-state people (bench/steady.py; 30 days, 4 behaviours a day, 2 organizations, and one with 1): a
  check-in, WeChat steps, a bus ride and a bank event, each with the aggregation it causes (the stream
  handler's inbox put, and the fold job over its shard holding only that operation's items).
- A spread sample: SPREAD_USERS new people (a first login, an org join, a check-in each) over every fold
  shard, then the fold job on every shard and the boards' rebuild: how much of a fold run is shared by
  the items of a page, how many shards write each shared item, what a run takes. Then the rebuild in its
  parts (`rebuild_parts`): a rebuild shard's run with nothing marked, with one org member board, with the
  users' and with the orgs' board.
- The nightly jobs on these people: tree accrual, points expiry, redemption expiry, each over the shard
  its items are in.

The result is plain JSON (`python -m bench.capacity --measured FILE` re-plans from it).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from . import journey, steady
from .capacity_model import TWO_PLATFORM_CHECKIN, TWO_PLATFORM_JOIN, TWO_PLATFORM_RIDE
from .measure import Call, Recorder, table_keys
from .units import Cost

ROOT = Path(__file__).resolve().parents[1]


def _catalog() -> dict:
    return json.loads((ROOT / "admin" / "demo_catalog.json").read_text(encoding="utf-8"))


def campaign_goods() -> dict:
    """The demo catalog's first refundable coupon: redeemed by the steady-state person, refunded by the expiry
    run, and the plan's campaign goods (its `stock_shards` spread the campaign's refunds)."""
    return next(g for g in _catalog()["goods"] if g.get("kind") == "coupon" and g.get("refund_on_expiry"))


def row(name: str, calls: list[Call], **extra) -> dict:
    """An operation's measured figures, JSON-able."""
    total = steady.cost_of(calls)
    return {"step": name, "calls": total.calls, "operations": total.operations, "read_units": total.read_units,
            "write_units": total.write_units, "items_written": total.items_written, "new_bytes": total.new_bytes,
            "expiring_bytes": total.expiring_bytes, "key_writes": _keys(total), **extra}


def _keys(total: Cost) -> dict[str, float]:
    from chalicelib.store.models import TABLE_PREFIX

    return {f"{table.removeprefix(TABLE_PREFIX)}:{key}": n for (table, key), n in total.key_writes.items()}


def posting_row(name: str, parts: steady.Parts, user_id: str, users: list[str] | None = None, **extra) -> dict:
    """An operation with its aggregation: the calls of all three, and the units of the person's own items (those
    of the person's `users` on every platform, when given)."""
    own = steady.own_units(parts.filed + parts.folded, set(users or [user_id]))
    extra.setdefault("kind", "posting")
    return row(name, parts.request + parts.filed + parts.folded, request=row("request", parts.request),
               filed=row("inbox", parts.filed), folded=row("fold run", parts.folded), own_aggregation_units=own,
               items_filed=sum(c.operation == "PutItem" and not c.failed for c in parts.filed), **extra)


def _answered(name: str, parts: steady.Parts) -> steady.Parts:
    if parts.status not in (200, 201) or parts.answer.get("accepted") == 0:
        raise RuntimeError(f"{name} answered {parts.status}: {parts.answer}")
    return parts


def steady_operations(driver: steady.Driver, days: int = steady.HISTORY_DAYS) -> list[dict]:
    """The operations of a steady-state person, each with its aggregation (alone in its fold run), and the
    nightly jobs over their items."""
    orgs, catalog = _catalog()["orgs"], _catalog()
    tree = catalog["trees"][0]["id"]
    refundable = campaign_goods()["id"]
    found = []
    for count in (2, 1):
        person = steady.build_person(driver, orgs[:count], days)
        suffix = f"steady state, {count} org{'s' if count > 1 else ''}"
        work: dict[str, Callable[[], tuple[int, dict]]] = {f"check-in ({suffix})": lambda p=person: driver.check_in(
            p, steady.MEASURED_CHECKIN)}
        if count == 2:
            journey.granter()(person.user_id)  # points enough to adopt and redeem (an operator's, not measured)
            transit, bank = driver.bind(person, "transit"), driver.bind(person, "bank")
            work.update({
                "login (returning)": lambda p=person: (driver.login(p), (200, {}))[1],
                "partner event: WeChat steps": lambda p=person: driver.steps(p, steady.STEPS_A_DAY + 4000),
                "partner event: bus ride (webhook)": lambda r=transit: driver.ride(r),
                "partner event: bank event (webhook)": lambda r=bank: driver.bank_event(r),
                "tree adoption": lambda p=person: driver.call("POST", f"/v1/trees/{tree}/adopt", _rid(), token=p.token),
                "redemption": lambda p=person: driver.call("POST", f"/v1/market/goods/{refundable}/redeem", _rid(),
                                                           token=p.token)})
        for name, operation in work.items():
            found.append(posting_row(name, _answered(name, steady.with_aggregation(operation, person.user_id)),
                                     person.user_id))
        if count == 2:
            found.extend(accrual_runs(person))
            found.extend(two_platform_operations(driver, person, transit))
    return found


def two_platform_operations(driver: steady.Driver, person: steady.Person, transit: str) -> list[dict]:
    """The operations of a steady-state person who joins a second platform (the demo catalog's company-demo,
    docs/platforms.md "Persons"): the login that joins it, a check-in on `default` (the person's day counter, the
    carbon added to the peer's person_carbon), and a bus ride both platforms import (carbon once)."""
    from infra.local.ephemeral import DEMO_PLATFORM, DEMO_PLATFORM_APPID

    other = steady.Person(person.openid)
    users = [person.user_id]

    def join() -> tuple[int, dict]:
        driver.login(other, DEMO_PLATFORM)
        users.append(other.user_id)
        return 200, {}

    rows = [posting_row(TWO_PLATFORM_JOIN, _answered(TWO_PLATFORM_JOIN, steady.with_aggregation(
        join, person.user_id, users)), person.user_id, users)]
    driver.bind(other, "transit", phone=driver.phones[transit], appid=DEMO_PLATFORM_APPID)
    for name, work in ((TWO_PLATFORM_CHECKIN, lambda: driver.check_in(person, steady.MEASURED_CHECKIN)),
                       (TWO_PLATFORM_RIDE, lambda: driver.ride(transit))):
        parts = _answered(name, steady.with_aggregation(work, person.user_id, users))
        rows.append(posting_row(name, parts, person.user_id, users))
    return rows


def _rid() -> dict:
    return {"request_id": "cap_" + uuid.uuid4().hex}


def spread(driver: steady.Driver, users: int = steady.SPREAD_USERS) -> dict:
    """New people over every fold shard: their filing, the fold of every shard and the boards' rebuild."""
    from admin import streams
    from chalicelib.domain import clock
    from chalicelib.domain.ranking import SHARDS, shard_of
    from chalicelib.services import boards, fold

    org = _catalog()["orgs"][0]
    schema, people, requests = table_keys(), [], {"login (first time)": [], "join an organization": [],
                                                  "check-in": []}
    for _ in range(users):
        person = steady.Person("o-spread-" + uuid.uuid4().hex[:12])
        for name, work in (("login (first time)", lambda p=person: driver.login(p)),
                           ("join an organization", lambda p=person: driver.join(p, org)),
                           ("check-in", lambda p=person: driver.check_in(p, steady.MEASURED_CHECKIN))):
            with Recorder(schema) as recorder:
                work()
            requests[name].append(_keys(steady.cost_of(recorder.take())))
        people.append(person.user_id)
    with Recorder(schema) as recorder:
        streams.drain()
    filed = row("filing", [c for c in recorder.take() if not steady.stream_bookkeeping(c)])
    runs = []
    for shard in range(SHARDS):
        with Recorder(schema) as recorder:
            result = fold.fold_slice(shard, clock.now())
        calls = recorder.take()
        own = steady.own_units(calls, {u for u in people if shard_of(u) == shard})
        runs.append(row(f"fold shard {shard}", calls, shard=shard, folded=result.get("folded", 0), own_units=own))
    with Recorder(schema) as recorder:
        rebuilt = boards.materialize_dirty(clock.now())
    materialize = row("board rebuild", recorder.take(), rebuilt=rebuilt.get("rebuilt", 0))
    return {"users": users, "requests": requests, "filing": filed, "fold_runs": runs, "materialize": materialize,
            "rebuild_parts": rebuild_parts(schema, org["id"], people[0])}


def rebuild_parts(schema, org_id: str, person: str) -> dict:
    """The boards' rebuild in its parts, each a run of the rebuild shard's worker (services/board_rebuild.py):
    a shard with nothing marked (the lease, the Query of its flags); the same with an org's member board marked by
    one fold shard (what most of a minute's boards are at scale: an org's board gets an entry or two a minute) and
    with the users and the orgs boards of all time, marked by every fold shard that folded (as the spread sample
    left them). A board's own cost is its run's less the empty run's. Each run is one of minute 1, not the hourly
    sweep of minute 0 (which reads every marker partition of its shard)."""
    from chalicelib.domain import clock
    from chalicelib.domain.ranking import REBUILD_SHARDS, SHARDS, rebuild_shard, shard_of
    from chalicelib.services import board_rebuild
    from chalicelib.store import board_marks

    def run(shard: int) -> dict:
        with Recorder(schema) as recorder:
            result = board_rebuild.rebuild_slice(shard, clock.now().replace(minute=1))
        return row(f"rebuild shard {shard}", recorder.take(), rebuilt=result.get("rebuilt", 0))

    found = {}
    for name, board, marked_by in (("member board", f"org-{org_id}", [shard_of(person)]),
                                   ("users board", "users", range(SHARDS)), ("orgs board", "orgs", range(SHARDS))):
        for shard in marked_by:
            board_marks.mark(shard, {(board, "all")})
        found[name] = run(rebuild_shard(board, "all"))
    busy = {rebuild_shard(board, "all") for board in (f"org-{org_id}", "users", "orgs")}
    found["empty shard"] = run(next(s for s in range(REBUILD_SHARDS) if s not in busy))
    return found


def accrual_runs(person: steady.Person) -> list[dict]:
    """Tree accrual over the shard of the steady-state person's adoption, with the aggregation of its entry."""
    from chalicelib import bootstrap
    from chalicelib.domain import clock
    from chalicelib.domain.commands_trees import AccrueShard
    from chalicelib.services import accrual
    from chalicelib.store.trees import shard_of

    tomorrow = clock.business_day(clock.now()) + timedelta(days=1)
    shard = shard_of(person.user_id)  # store/trees.py: a person's adoptions share one shard

    def accrue() -> tuple[int, dict]:
        counts = accrual.accrue_slice(AccrueShard(shard, tomorrow, None), bootstrap.trees_uow, lambda: False)
        return 200, counts.as_dict()

    parts = steady.with_aggregation(accrue, person.user_id)
    if not parts.answer.get("credited_days"):
        raise RuntimeError(f"the accrual of shard {shard} credited nothing: {parts.answer}")
    return [posting_row("tree accrual: a shard run", parts, person.user_id, kind="job", job="accrue-trees",
                        items=parts.answer.get("adoptions", 0))]


def expiry_runs() -> list[dict]:
    """Points expiry and redemption expiry over every shard (after the spread sample: several accounts a shard),
    the runs that expired something."""
    from chalicelib.domain import clock
    from chalicelib.domain.platforms import DEFAULT
    from chalicelib.services import expiry, points_expiry
    from chalicelib.store.market import EXPIRY_SHARDS
    from chalicelib.store.privacy import SHARDS as ACCOUNT_SHARDS

    schema, found = table_keys(), []
    year = clock.business_day(clock.now()).year
    for shard in range(ACCOUNT_SHARDS):
        with Recorder(schema) as recorder:
            counts, _ = points_expiry.expire_slice(shard, {DEFAULT: year}, None, lambda: False, check_marker=False)
        if counts.get("expired_accounts"):
            found.append(row("points expiry: a shard run", recorder.take(), kind="job", job="expire-points",
                             shard=shard, items=counts["accounts"], due=counts["due"]))
    later = clock.now() + timedelta(days=400)
    for shard in range(EXPIRY_SHARDS):
        with Recorder(schema) as recorder:
            counts, _ = expiry.expire_slice(shard, later, None, lambda: False)
        if counts.get("expired"):
            found.append(row("redemption expiry: a shard run", recorder.take(), kind="job",
                             job="expire-redemptions", shard=shard, items=counts["due"]))
    return found


def accrual_shards() -> int:
    from chalicelib import jobs

    return jobs.job_named("accrue-trees").shards


def measure(client, app, stack, days: int = steady.HISTORY_DAYS, spread_users: int = steady.SPREAD_USERS,
            expiries: bool = True) -> dict:
    """Every measurement of the plan (see the module's doc), as JSON-able data. Fewer `days` of history and
    `spread_users` make a quicker, smaller sample; without `expiries`, points and redemptions are left alone
    (the tests: the expiry runs expire everything due in a shard, other tests' points and coupons too)."""
    driver = steady.Driver(client, stack)
    newcomers = [journey.as_rows(journey.run(client, app, "o-capacity-" + uuid.uuid4().hex[:10],
                                             journey.granter())) for _ in range(2)]
    postings = steady_operations(driver, days)
    sample = spread(driver, spread_users)
    if expiries:
        postings += expiry_runs()
    return {"journey": newcomers[0], "journey_written_by_both": _both(newcomers), "postings": postings,
            "spread": sample, "jobs": job_parameters()}


def _both(days: list[list[dict]]) -> list[str]:
    first, second = ({key for r in day for key in r["key_writes"]} for day in days)
    return sorted(first & second)


def job_parameters() -> dict:
    """Each measured job's parallelism, from the code: shards (chalicelib/jobs.py), page, workers a shard."""
    from chalicelib import jobs
    from chalicelib.services import accrual, board_rebuild, expiry, fold, points_expiry

    def shards(name: str) -> int:
        return jobs.job_named(name).shards

    return {
        "accrue-trees": {"shards": shards("accrue-trees"), "page": accrual.PAGE_SIZE, "workers": accrual.WORKERS},
        "expire-points": {"shards": shards("expire-points"), "page": points_expiry.PAGE, "batch": 100,
                          "workers": points_expiry.WORKERS},
        "expire-redemptions": {"shards": shards("expire-redemptions"), "page": expiry.PAGE_SIZE,
                               "workers": expiry.WORKERS, "stock_shards": campaign_goods().get("stock_shards", 1),
                               "paced": {"per_worker": expiry.DUE_WRITES_PER_WORKER,
                                         "per_stock_item": expiry.REFUNDS_PER_STOCK_ITEM}},
        "fold-aggregates": {"shards": shards("fold-aggregates"), "page": fold.PAGE, "workers": 1},
        "materialize-boards": {"shards": shards("materialize-boards"), "workers": board_rebuild.WORKERS},
    }
