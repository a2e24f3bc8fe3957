"""Pulls and pushes of the same rides racing from several processes: each ride counts once, the day's caps
hold, and the ledger reconciles."""
from __future__ import annotations

from chalicelib.store.models import Account, LedgerEntry
from tests.support.partners import bind, reconcile_clean
from tests.support.racer import race


def pull(user_id: str) -> tuple[str, int]:
    from chalicelib.bootstrap import partner_uow
    from chalicelib.errors import AppError
    from chalicelib.services import partner_sync

    try:
        return "ok", partner_sync.pull(user_id, "transit", partner_uow()).imported
    except AppError as error:
        return error.code, 0


def deliver(path: str, headers: dict, body: bytes) -> tuple[str, int]:
    from chalicelib.bootstrap import partner_uow
    from chalicelib.errors import AppError
    from chalicelib.services import webhooks

    try:
        return "ok", webhooks.push(path.rsplit("/", 1)[1], headers, {}, body, partner_uow).imported
    except AppError as error:
        return error.code, 0


def test_rides_pulled_and_pushed_at_the_same_moment_count_once(client, stack, user):
    ref = bind(client, stack, user, "transit")
    rides = [stack.transit.add_ride(ref) for _ in range(10)]
    pushes = [(deliver, stack.transit.webhook_request(rides)) for _ in range(3)]
    outcomes = race(_run, [(pull, (user["id"],)), (pull, (user["id"],)), *pushes])
    assert [(kind, result[0]) for kind, result in outcomes] == [("ok", "ok")] * 5, outcomes
    imported = sum(result[1] for _, result in outcomes)
    assert imported == 10, outcomes
    account = Account.get(user["id"], consistent_read=True)
    assert (account.points, account.carbon_mg) == (60, 10 * 80_000)
    assert len(list(LedgerEntry.query(user["id"]))) == 10
    assert reconcile_clean(user)[0]


def _run(target, args):
    return target(*args)
