"""The redemption expiry keeps every key it shares cool (issue 19: no key written more than 300 times a second):
each refund gives its unit back to the stock shard it was sold from, so a goods with N stock shards spreads its
refunds over N items; a worker gives one stock item at most its share of the pace
(services/expiry.REFUNDS_PER_STOCK_ITEM / EXPIRY_SHARDS a second), expires at most DUE_WRITES_PER_WORKER a
second, and stops before the next run starts, so two runs' workers of a shard never add up. Overlapping runs
still refund each redemption once."""
from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.scheduling import Slice
from chalicelib.services import expiry
from chalicelib.store.market import EXPIRY_SHARDS, Redemption
from chalicelib.store.models import Account, LedgerEntry
from tests.support.api import login
from tests.support.market import give_points, issued_directly, new_goods, redeem, stock_left, stock_shards
from tests.support.pacing import virtual_pace
from tests.support.reconcile import reconciled

PRICE = 30
JOB = "expire-redemptions"


def _people(client, count: int, points: int) -> list[dict]:
    people = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(count)]
    for person in people:
        give_points(person, points)
    return people


def _due_a_minute_ago(redemption_ids: list[str]) -> None:
    """The codes' validity moved into the past, as if their days had passed."""
    past = clock.now() - timedelta(minutes=1)
    for redemption_id in redemption_ids:
        Redemption(redemption_id).update(actions=[Redemption.expires_epoch.set(int(past.timestamp())),
                                                  Redemption.expires_at.set(clock.iso(past))])


def _issued_in_shard(user_ids: list[str], goods: dict, count: int, shard: int, refund: bool,
                     expired_for: timedelta) -> list[str]:
    """`count` issued redemptions of `goods` in `due` shard `shard`: their ids."""
    made = issued_directly(user_ids, goods, count, PRICE, refund, expired_for, bucket=f"due#{shard}")
    return [redemption.redemption_id for redemption in made]


def _refunds(user_ids: list[str]) -> Counter:
    return Counter(entry.ref for user_id in user_ids for entry in LedgerEntry.query(user_id) if entry.kind == "refund")


def _worker(shard: int, at) -> dict:
    """One worker of the scheduled run at `at` on `shard`, as AWS runs it (plenty of time): what it counted."""
    return jobs.job_named(JOB).run_slice(Slice(JOB, at, shard), lambda: False).counts


def test_expiry_gives_each_unit_back_to_the_stock_shard_it_was_sold_from_once_under_overlapping_runs(client):
    goods = new_goods(stock=24, stock_shards=8, per_user_limit=None, refund_on_expiry=True)
    people = _people(client, 12, 2 * PRICE)
    sold = [body["redemption"]["id"] for person in people for status, body in
            (redeem(client, person, goods["id"]) for _ in range(2)) if status == 201]
    assert len(sold) == 24 and [left for left, _ in stock_shards(goods["id"], 8).values()] == [0] * 8
    from_shard = Counter(int(Redemption.get(rid, consistent_read=True).stock_shard) for rid in sold)
    assert len(from_shard) == 8  # the sale spread the units over every shard
    _due_a_minute_ago(sold)
    at, job = clock.now(), jobs.job_named(JOB)

    with ThreadPoolExecutor(max_workers=3) as pool:  # two scheduled runs at once, and an operator's console run
        results = list(pool.map(lambda run: run(at), [job.run, job.run, expiry.expire_due]))

    assert sum(r["refunded"] for r in results) >= 24
    user_ids = [person["id"] for person in people]
    assert _refunds(user_ids) == {rid: 1 for rid in sold}
    shards = stock_shards(goods["id"], 8)
    assert {shard: left for shard, (left, _) in shards.items()} == {shard: total for shard, (_, total) in
                                                                      shards.items()}  # every unit back home
    assert {shard: total for shard, (_, total) in shards.items()} == dict(from_shard)
    assert {a.user_id: int(a.points) for a in Account.batch_get(user_ids, consistent_read=True)} == {
        u: 2 * PRICE for u in user_ids}
    assert reconciled(*people)["clean"]


def test_a_worker_gives_one_stock_item_no_more_than_its_share_of_the_pace(client, monkeypatch):
    paced = virtual_pace(monkeypatch)  # the seconds the pace made the worker wait, not the machine's
    people = _people(client, 8, 5)
    goods = new_goods(stock=10, refund_on_expiry=True)  # one stock shard: every refund goes to one item
    made = _issued_in_shard([p["id"] for p in people], goods, 64, shard=5, refund=True,
                            expired_for=timedelta(minutes=5))

    counts = _worker(5, clock.now())

    share = expiry.REFUNDS_PER_STOCK_ITEM / EXPIRY_SHARDS  # a second, for each of the shards' workers
    assert counts["refunded"] >= 64 and counts["failed"] == 0
    assert paced.moment >= 63 / share  # 64 refunds on one item: at least 63 intervals of 1/share
    assert _refunds([p["id"] for p in people]) == {rid: 1 for rid in made}
    assert stock_left(goods["id"]) == 10 + 64
    assert reconciled(*people)["clean"]


def test_a_worker_expires_no_more_than_its_pace_a_second_on_its_due_key(client, monkeypatch):
    paced = virtual_pace(monkeypatch)
    people = _people(client, 10, 5)
    goods = new_goods(stock=10)  # refunds nothing: each expiry is one update, and one write of the `due` key
    made = _issued_in_shard([p["id"] for p in people], goods, 300, shard=2, refund=False,
                            expired_for=timedelta(minutes=5))

    counts = _worker(2, clock.now())

    assert counts["expired"] >= 300 and paced.moment >= 299 / expiry.DUE_WRITES_PER_WORKER
    expired = Counter(r.status for r in Redemption.batch_get(made, consistent_read=True))
    assert expired == {"expired": 300}


def test_a_run_that_reaches_the_next_runs_start_leaves_the_rest_to_it(client):
    people = _people(client, 10, 5)
    goods = new_goods(stock=10)
    made = _issued_in_shard([p["id"] for p in people], goods, expiry.PAGE_SIZE + 50, shard=6, refund=False,
                            expired_for=timedelta(hours=2))
    late = clock.now() - timedelta(seconds=jobs.EXPIRE_REDEMPTIONS_EVERY - expiry.NEXT_RUN_MARGIN)

    result = jobs.job_named(JOB).run_slice(Slice(JOB, late, 6), lambda: False)  # the next run is starting

    assert result.cursor is None and result.counts["expired"] == expiry.PAGE_SIZE  # one page, nothing handed over
    still = Counter(r.status for r in Redemption.batch_get(made, consistent_read=True))
    assert still["issued"] >= 50
    assert _worker(6, clock.now())["expired"] >= still["issued"]  # the next run's worker of the shard goes on
    assert Counter(r.status for r in Redemption.batch_get(made, consistent_read=True)) == {"expired": 150}
