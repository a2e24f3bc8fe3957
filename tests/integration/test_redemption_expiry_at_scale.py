"""Redemption expiry as a sharded job (issue 19 item 5): one scheduled run, fanned out to a worker per shard of
the `due` index and continued by fresh invocations when a worker's time runs out, expires everything due
(10,000 redemptions), refunds through the real posting path, and repeated or overlapping runs refund each
redemption once. The redemptions themselves are written straight into the store (a redemption through the
API costs a posting each); what the job does with them is the code under test."""
from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from admin.accounts import _check_account
from chalicelib import jobs, scheduling
from chalicelib.domain import clock
from chalicelib.scheduling import Slice
from chalicelib.services import expiry
from chalicelib.store.market import EXPIRY_SHARDS, Redemption
from chalicelib.store.models import Account, LedgerEntry
from tests.support.api import login
from tests.support.market import give_points, issued_directly, new_goods, stock_left
from tests.support.pacing import virtual_pace

PRICE = 30


def _users(client, count: int) -> list[str]:
    user_ids = [login(client, "o-" + uuid.uuid4().hex[:16])["id"] for _ in range(count)]
    for user_id in user_ids:
        give_points({"id": user_id}, 5)  # a ledger of its own before the refunds, to reconcile against
    return user_ids


def _issued(user_ids: list[str], goods: dict, count: int, refund: bool, expired_for: timedelta) -> list[Redemption]:
    return issued_directly(user_ids, goods, count, PRICE, refund, expired_for)


def _one_scheduled_run(at, pages_per_invocation: int) -> list[dict]:
    """What AWS does with one firing of the schedule: the dispatcher's fan-out, then every worker invocation,
    each handing over (a fresh invocation) after `pages_per_invocation` pages, until none is left."""
    job = jobs.job_named("expire-redemptions")
    queue: list[dict] = []
    assert scheduling.fan_out(job.name, job.shards, at, queue.append)["dispatched"] == EXPIRY_SHARDS
    results = []
    while queue:
        results.append(scheduling.run_slice_in_lambda(job.run_slice, Slice.from_event(queue.pop(0)),
                                                      _time_for(pages_per_invocation), queue.append))
    return results


def _time_for(pages: int):
    """A worker's `remaining_ms`: plenty for `pages` pages, then less than the safety margin."""
    checks = iter(range(10**6))
    return lambda: 10**6 if next(checks) < pages - 1 else 0


def _refunds(user_ids: list[str]) -> Counter:
    return Counter(entry.ref for user_id in user_ids for entry in LedgerEntry.query(user_id)
                   if entry.kind == "refund")


def _reconciled(user_ids: list[str]) -> list:
    return [problem for user_id in user_ids
            if (problem := _check_account(Account.get(user_id, consistent_read=True)))]


def test_one_run_of_the_sharded_job_expires_10000_redemptions_and_refunds_each_once(client, monkeypatch):
    virtual_pace(monkeypatch)  # paced as deployed, without sleeping through the pace (test_redemption_expiry_pace)
    user_ids = _users(client, 40)
    refunded_goods, kept_goods = new_goods(stock=10, refund_on_expiry=True), new_goods(stock=10)
    refunding = _issued(user_ids, refunded_goods, 1000, refund=True, expired_for=timedelta(hours=1))
    plain = _issued(user_ids, kept_goods, 9000, refund=False, expired_for=timedelta(days=3))
    not_yet = _issued(user_ids, kept_goods, 5, refund=False, expired_for=-timedelta(days=1))
    at = clock.now()

    runs = _one_scheduled_run(at, pages_per_invocation=3)

    assert sum(r["expired"] for r in runs) >= 10_000
    assert sum(r["refunded"] for r in runs) >= 1000 and sum(r["failed"] for r in runs) == 0
    assert any(r["continued"] for r in runs) and {r["shard"] for r in runs} == set(range(EXPIRY_SHARDS))
    statuses = Counter((r.status, r.refunded) for r in Redemption.batch_get(
        [r.redemption_id for r in refunding + plain + not_yet], consistent_read=True))
    assert statuses == {("expired", True): 1000, ("expired", False): 9000, ("issued", False): 5}
    assert _refunds(user_ids) == {r.redemption_id: 1 for r in refunding}
    balances = {a.user_id: int(a.points) for a in Account.batch_get(user_ids, consistent_read=True)}
    assert balances == {u: 5 + PRICE * 1000 // len(user_ids) for u in user_ids}
    assert stock_left(refunded_goods["id"]) == 10 + 1000 and stock_left(kept_goods["id"]) == 10
    assert _reconciled(user_ids) == []

    again = _one_scheduled_run(at, pages_per_invocation=3)  # a repeated run: nothing is due any more
    assert sum(r["expired"] for r in again) == 0 and sum(r["refunded"] for r in again) == 0
    assert _refunds(user_ids) == {r.redemption_id: 1 for r in refunding}
    assert {a.user_id: int(a.points) for a in Account.batch_get(user_ids, consistent_read=True)} == balances


def test_overlapping_runs_and_the_console_refund_each_redemption_once(client, monkeypatch):
    virtual_pace(monkeypatch)
    user_ids = _users(client, 12)
    goods = new_goods(stock=10, refund_on_expiry=True)
    refunding = _issued(user_ids, goods, 360, refund=True, expired_for=timedelta(minutes=5))
    at = clock.now()
    job = jobs.job_named("expire-redemptions")

    with ThreadPoolExecutor(max_workers=3) as pool:  # two scheduled runs at once, and an operator's console run
        results = list(pool.map(lambda run: run(at), [job.run, job.run, expiry.expire_due]))

    assert sum(r["refunded"] for r in results) >= 360 and sum(r["expired"] for r in results) >= 360
    assert _refunds(user_ids) == {r.redemption_id: 1 for r in refunding}
    assert {a.user_id: int(a.points) for a in Account.batch_get(user_ids, consistent_read=True)} == {
        u: 5 + PRICE * 30 for u in user_ids}
    assert stock_left(goods["id"]) == 10 + 360
    assert _reconciled(user_ids) == []
