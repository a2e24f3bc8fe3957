"""The transparency roots job's workers racing from two processes (docs/transparency.md): as in AWS, each worker
roots its shards then closes what it can; the two split the shards between them, so either may write the day's
root, only once every shard is written, once. A whole second run at the same moment changes nothing."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import clock
from chalicelib.domain import transparency as rules
from chalicelib.store.models import Account
from chalicelib.store.transparency import RootRecord
from tests.support.api import call, login, request_id
from tests.support.days import at
from tests.support.racer import race

TODAY = clock.business_day(clock.now())
DAY = TODAY - timedelta(days=246)  # this module's own day (after test_transparency_roots' days: the chain has no gap)


def root(first: str, through: str, shards: list[int]) -> int:
    """A worker of each shard of `shards` in turn, each closing what it can after its shard; the days it closed."""
    from datetime import date

    from chalicelib.services import transparency

    closed = 0
    for shard in shards:
        closed = max(closed, transparency.root_slice("default", shard, TODAY, first, date.fromisoformat(through))[
            "closed"])
    return closed


def run(first: str, through: str) -> dict:
    from datetime import date

    from chalicelib.services import transparency

    return transparency.run("default", TODAY, first, date.fromisoformat(through))


def test_two_runs_at_once_write_one_root_and_agree_on_it(client, openid):
    from chalicelib.services import transparency
    from chalicelib.store import transparency as store
    from chalicelib.store import transparency_objects

    person = login(client, openid)
    with at(DAY):
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                            token=person["token"])
    assert status == 201, body
    entry_id = body["entry"]["id"]

    days = (DAY.isoformat(), DAY.isoformat())
    halves = [list(range(0, rules.SHARDS, 2)), list(range(1, rules.SHARDS, 2))]
    outcomes = race(root, [(*days, halves[0]), (*days, halves[1])])
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert max(closed for _, closed in outcomes) >= 1  # the day was closed by one of them, after its last shard
    record = store.day_root("default", DAY.isoformat())
    assert record["shards"] == rules.SHARDS and record["root"] == rules.day_record(
        "default", DAY.isoformat(), [store.shard_root("default", DAY.isoformat(), i)["root"]
                                     for i in range(rules.SHARDS)], 0, 0, [], record["prev"])["root"]
    again = race(run, [days, days])  # two whole runs at once, after: nothing to do, the same chain
    assert [(kind, result["head"], result["chain"], result["days"]) for kind, result in again] == [
        ("ok", DAY.isoformat(), record["chain"], [])] * 2
    assert len(list(RootRecord.query("default", RootRecord.key == DAY.isoformat(), consistent_read=True))) == 1
    shard = rules.shard_of(entry_id)
    leaves = rules.parse_leaves(transparency_objects.get(rules.leaves_key(
        "default", DAY.isoformat(), shard, record["shard_roots"][shard])))
    leaf = next(item for item in leaves if item["entry_id"] == entry_id)
    assert leaf["pseudonym"] == Account.get(person["id"]).pseudonym
    assert transparency.check_day("default", DAY.isoformat()).ok
