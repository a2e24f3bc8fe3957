"""Release and void of an account under review, racing from several processes at once against DynamoDB Local:
every held entry is settled exactly once (one `release` or one `void` naming it), the balance grows by exactly
what was released, and the ledger still sums to the balance."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

from admin.__main__ import main as admin
from chalicelib.services.review import BATCH
from chalicelib.store.models import Account, LedgerEntry
from tests.support.api import call, login, request_id
from tests.support.racer import race
from tests.support.reconcile import reconciled


def settle(user_id: str, outcome: str) -> tuple[str, int]:
    """One console release or void through the use case; (outcome, held entries this run settled)."""
    from chalicelib.errors import NotUnderReviewError
    from chalicelib.services import review
    from chalicelib.store import review_queue
    from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork

    try:
        done = review.settle(user_id, outcome, "race", DynamoPostingUnitOfWork(), review_queue)
    except NotUnderReviewError:
        return outcome, 0  # another run cleared it before this one read it
    return outcome, len(done.entries)


def _held_account(client, tmp_path: Path, count: int) -> tuple[dict, list[LedgerEntry]]:
    """A user under review with `count` held check-ins of a behaviour of its own (1 point, 1 g each)."""
    code = "test_review_" + uuid.uuid4().hex[:8]
    path = tmp_path / f"{code}.json"
    path.write_text(json.dumps({"behaviors": [{
        "code": code, "name": "审核测试", "category": "test", "unit": "event", "carbon": {"mg": 1000, "per": 1},
        "points": {"points": 1, "per": 1}, "daily_limit": 1000, "channels": ["checkin"],
        "methodology": {"id": f"TEST-{code}", "version": "1", "source": "test"}}]}), encoding="utf-8")
    assert admin(["load", str(path)]) == 0
    user = login(client, "o-" + uuid.uuid4().hex[:16])
    assert admin(["points", "adjust", user["id"], "10", "--reason", "test: a balance before review"]) == 0
    assert admin(["risk", "flag", user["id"], "--reason", "test"]) == 0
    for _ in range(count):
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": code},
                            token=user["token"])
        assert status == 201 and body["entry"]["kind"] == "held", body
    held = [e for e in LedgerEntry.query(user["id"], consistent_read=True) if e.kind == "held"]
    assert len(held) == count and reconciled(user)["clean"]
    return user, held


def _settled(user_id: str) -> Counter:
    return Counter((e.ref, e.kind) for e in LedgerEntry.query(user_id, consistent_read=True)
                   if e.kind in ("release", "void"))


def test_eight_processes_releasing_one_account_release_each_held_entry_once(client, tmp_path):
    user, held = _held_account(client, tmp_path, BATCH + 5)  # two transactions' worth
    outcomes = race(settle, [(user["id"], "release")] * 8)
    assert [kind for kind, _ in outcomes] == ["ok"] * 8, outcomes
    assert sum(count for _, (_, count) in outcomes) == len(held)
    settled = _settled(user["id"])
    assert set(settled) == {(e.entry_id, "release") for e in held} and set(settled.values()) == {1}
    account = Account.get(user["id"], consistent_read=True)
    assert (int(account.points), int(account.carbon_mg)) == (10 + len(held), 1000 * len(held))
    assert not account.review_since and int(account.points_held) == 0
    assert reconciled(user)["clean"]


def test_release_racing_void_settles_each_held_entry_exactly_once(client, tmp_path):
    user, held = _held_account(client, tmp_path, 6)
    outcomes = race(settle, [(user["id"], "release"), (user["id"], "void")] * 4)
    assert [kind for kind, _ in outcomes] == ["ok"] * 8, outcomes
    settled = _settled(user["id"])
    assert sorted(ref for ref, _ in settled) == sorted(e.entry_id for e in held)  # one each, release or void
    released = sum(1 for _, kind in settled if kind == "release")
    account = Account.get(user["id"], consistent_read=True)
    assert int(account.points) == 10 + released and not account.review_since
    assert reconciled(user)["clean"]
