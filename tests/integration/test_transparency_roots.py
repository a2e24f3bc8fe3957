"""The transparency record (docs/transparency.md): a closed day's root is computed once and never changes; the
ledger recomputed to it proves any change, removal or addition of an entry; a person proves their own entry with
the path the API gives and the public root; deleting a person leaves the root true and their pseudonym linked to
nothing in our tables.

The module owns the days FIRST..D3 (250 to 254 days back): each test roots the chain through its own day, in order.
"""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock, merkle
from chalicelib.domain import transparency as rules
from chalicelib.services import transparency
from chalicelib.store import transparency as roots_store
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.tx import connection
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import call, login, request_id
from tests.support.days import at
from tests.support.persons import login_on
from tests.support.photos import evidence_for
from tests.support.privacy import raw_item, raw_items_containing
from tests.support.reconcile import reconciled

TODAY = clock.business_day(clock.now())
FIRST = TODAY - timedelta(days=254)  # the module's first rooted day: nothing on it (an empty day)
D1, D2, D3 = (TODAY - timedelta(days=n) for n in (253, 252, 251))


def root_through(day) -> dict:
    result = transparency.run("default", TODAY, FIRST.isoformat(), day)
    assert result["head"] == day.isoformat(), result
    return roots_store.day_root("default", day.isoformat())


def checkin(client, user, behavior: str = "no_cutlery") -> str:
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior,
                                                         **evidence_for(client, user, behavior)}, token=user["token"])
    assert status == 201, body
    return body["entry"]["id"]


def entries_on(client, user, day, n: int = 2) -> list[str]:
    with at(day):
        return [checkin(client, user) for _ in range(n)]


def published_leaf(day, entry_id: str) -> dict:
    record = roots_store.day_root("default", day.isoformat())
    shard = rules.shard_of(entry_id)
    leaves = transparency._published("default", day.isoformat(), shard, record["shard_roots"][shard])
    return next(leaf for leaf in leaves if leaf["entry_id"] == entry_id)


def test_a_closed_day_is_rooted_once_and_computing_it_again_changes_nothing(client, user):
    mine = entries_on(client, user, D1)
    first = root_through(D1)
    assert first["prev"] == roots_store.day_root("default", FIRST.isoformat())["chain"]
    assert roots_store.day_root("default", FIRST.isoformat())["prev"] == merkle.ZERO
    assert first["entries"] >= 2 and first["shards"] == rules.SHARDS
    stored = raw_item(roots_store.RootRecord, scope="default", key=D1.isoformat())

    again = transparency.run("default", TODAY, FIRST.isoformat(), D1)  # the job again: nothing new
    assert again["head"] == D1.isoformat() and again["days"] == []
    forged = {**first, "root": "00" * 32, "entries": 0}
    assert roots_store.put_day(forged) == first  # a different computation finds the first, never overwrites it
    assert raw_item(roots_store.RootRecord, scope="default", key=D1.isoformat()) == stored
    shard = rules.shard_of(mine[0])
    assert transparency.compute_shard("default", D1.isoformat(), shard).root == first["shard_roots"][shard]
    assert transparency.check_day("default", D1.isoformat()).ok
    leaf = published_leaf(D1, mine[0])
    assert leaf["pseudonym"] == Account.get(user["id"]).pseudonym and user["id"] not in str(leaf)
    assert reconciled(user)["clean"]


def test_changing_removing_or_adding_one_entry_of_a_closed_day_changes_its_recomputed_root(client, user):
    target, _other = entries_on(client, user, D2)
    root_through(D2)
    assert transparency.check_day("default", D2.isoformat()).ok
    db = connection().client
    table = LedgerEntry.Meta.table_name
    key = {"user_id": {"S": user["id"]}, "entry_id": {"S": target}}
    original = db.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]

    db.update_item(TableName=table, Key=key, UpdateExpression="SET carbon_mg = :c",
                   ExpressionAttributeValues={":c": {"N": str(int(original["carbon_mg"]["N"]) + 1)}})
    assert not transparency.check_day("default", D2.isoformat()).ok  # changed
    db.put_item(TableName=table, Item=original)
    assert transparency.check_day("default", D2.isoformat()).ok

    db.delete_item(TableName=table, Key=key)
    assert not transparency.check_day("default", D2.isoformat()).ok  # removed
    db.put_item(TableName=table, Item=original)
    assert transparency.check_day("default", D2.isoformat()).ok

    added = copy.deepcopy(original)
    added["entry_id"] = {"S": target[:-1] + ("A" if target[-1] != "A" else "B")}
    added["root_key"] = {"S": f"default#{D2.isoformat()}#{rules.shard_of(added['entry_id']['S']):03d}"}
    added["kind"], added["user_kind"] = {"S": "void"}, {"S": f"{user['id']}#void"}  # the stream's aggregation
    added["points"], added["carbon_mg"] = {"N": "0"}, {"N": "0"}  # ignores it (no board or stat counts it)
    db.put_item(TableName=table, Item=added)
    check = transparency.check_day("default", D2.isoformat())
    assert not check.ok and check.computed["entries"] == check.stored["entries"] + 1  # added
    db.delete_item(TableName=table, Key={"user_id": added["user_id"], "entry_id": added["entry_id"]})
    assert transparency.check_day("default", D2.isoformat()).ok
    assert admin(["roots", "--check", D2.isoformat()]) == 0
    assert reconciled(user)["clean"]


def fold_proof(proof: dict) -> tuple[bytes, bytes]:
    leaf_hash = merkle.leaf_hash(proof["leaf"].encode("utf-8"))
    shard_root = merkle.fold(leaf_hash, proof["shard_path"])
    return shard_root, merkle.fold(shard_root, proof["day_path"])


def test_a_person_proves_their_own_entry_against_the_public_root(client, user, openid):
    (entry_id,) = entries_on(client, user, D3, 1)
    today_entry = checkin(client, user)  # today: not rooted for 9 days
    status, body = call(client, "GET", f"/v1/me/ledger/{today_entry}/proof", token=user["token"])
    assert (status, body["error"]["code"]) == (409, "ROOT_NOT_READY")
    root_through(D3)
    status, proof = call(client, "GET", f"/v1/me/ledger/{entry_id}/proof", token=user["token"])
    assert status == 200, proof
    shard_root, root = fold_proof(proof)
    assert (shard_root.hex(), root.hex()) == (proof["shard_root"], proof["root"])
    status, listed = call(client, "GET", f"/v1/transparency/roots?from={FIRST}&to={D3}")
    assert status == 200, listed
    public = {item["day"]: item for item in listed["items"]}
    assert list(public) == [(FIRST + timedelta(days=n)).isoformat() for n in range(4)]
    assert public[D3.isoformat()]["root"] == root.hex() and public[D3.isoformat()]["chain"] == proof["chain"]
    assert public[D3.isoformat()]["prev"] == public[D2.isoformat()]["chain"]

    changed = {**proof, "leaf": proof["leaf"].replace('"points":', '"points":1')}
    assert fold_proof(changed)[1].hex() != public[D3.isoformat()]["root"]  # a changed entry does not verify
    assert root.hex() != public[D2.isoformat()]["root"]  # nor against another day's root

    other = login(client, openid + "-x")
    status, body = call(client, "GET", f"/v1/me/ledger/{entry_id}/proof", token=other["token"])
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")  # another user's entry: as a missing one
    status, body = call(client, "GET", "/v1/me/ledger/NOPE/proof", token=other["token"])
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert reconciled(user)["clean"]


def test_a_person_deleted_after_their_day_was_rooted_leaves_it_true_and_unlinkable(client, openid):
    person = login(client, openid)
    (entry_id,) = entries_on(client, person, D3 + timedelta(days=1), 1)  # D4: after the other tests' days
    day = D3 + timedelta(days=1)
    before = root_through(day)
    pseudonym = Account.get(person["id"]).pseudonym
    assert published_leaf(day, entry_id)["pseudonym"] == pseudonym

    status, body = call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=person["token"])
    assert status == 200, body
    assert roots_store.day_root("default", day.isoformat()) == before
    assert transparency.check_day("default", day.isoformat()).ok  # the recomputation keeps the published name
    assert Account.get(person["id"]).pseudonym is None
    assert raw_items_containing(pseudonym) == []  # no table links the pseudonym to the user id any more

    expire = next(e for e in LedgerEntry.query(person["id"]) if e.kind == "expire")  # written by the deletion
    later = transparency.compute_shard("default", expire.day, rules.shard_of(expire.entry_id))
    leaf = next(item for item in rules.parse_leaves(later.body) if item["entry_id"] == expire.entry_id)
    assert leaf["pseudonym"] != pseudonym and raw_items_containing(leaf["pseudonym"]) == []


@pytest.mark.parametrize("query", ["", "?from=2026-01-01", "?from=2026-01-05&to=2026-01-01",
                                   "?from=2026-01-01&to=2026-02-01", "?from=yesterday&to=2026-01-01",
                                   "?from=2026-W01-1&to=2026-01-05", "?from=20260101&to=2026-01-05"])
def test_a_bad_or_too_wide_range_of_roots_is_refused(client, query):
    status, body = call(client, "GET", f"/v1/transparency/roots{query}")
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")


def test_a_platforms_roots_and_proofs_are_its_own(client, user, openid):
    """Platform isolation (test_platform_isolation MATRIX): a platform's user proves their entry against their
    platform's root; another platform's entry answers as a missing one, and each platform lists its own roots."""
    day = TODAY - timedelta(days=249)
    demo = login_on(client, openid + "-demo")
    (entry_id,) = entries_on(client, demo, day, 1)
    (default_entry,) = entries_on(client, user, D1, 1)  # D1 may be rooted already: its proof is only A's anyway
    result = transparency.run(DEMO_PLATFORM, TODAY, day.isoformat(), day)
    assert result["head"] == day.isoformat()
    status, proof = call(client, "GET", f"/v1/me/ledger/{entry_id}/proof", token=demo["token"])
    assert status == 200 and proof["platform"] == DEMO_PLATFORM, proof
    status, listed = call(client, "GET", f"/v1/transparency/roots?from={day}&to={day}",
                          headers={"X-Platform": DEMO_PLATFORM})
    assert status == 200 and [(i["platform"], i["root"]) for i in listed["items"]] == [(DEMO_PLATFORM, proof["root"])]
    assert fold_proof(proof)[1].hex() == proof["root"]
    status, listed = call(client, "GET", f"/v1/transparency/roots?from={day}&to={day}")
    assert status == 200 and all(item["platform"] == "default" for item in listed["items"])
    status, body = call(client, "GET", f"/v1/me/ledger/{default_entry}/proof", token=demo["token"])
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert reconciled(user, demo)["clean"]


def test_the_scheduled_job_roots_the_days_closed_on_its_run_and_nothing_later(client, user, monkeypatch):
    """`transparency-roots` as AWS runs it (chalicelib/jobs.py, every shard's worker closing what it can), at
    02:00 nine days after the day: the day is rooted, the day after it is not (it is still open)."""
    from datetime import datetime, time

    from chalicelib import jobs
    from chalicelib.settings import get_settings

    day = TODAY - timedelta(days=247)
    (entry_id,) = entries_on(client, user, day, 1)
    monkeypatch.setenv("TRANSPARENCY_FIRST_DAY", day.isoformat())  # the first day, if no test rooted one before
    get_settings.cache_clear()
    monkeypatch.setattr(transparency, "platforms", lambda: ["default"])
    try:
        at_run = datetime.combine(day + timedelta(days=rules.ROOT_AFTER_DAYS), time(2), clock.SHANGHAI)
        jobs.job_named("transparency-roots").run(at_run)
    finally:
        monkeypatch.delenv("TRANSPARENCY_FIRST_DAY")
        get_settings.cache_clear()
    assert roots_store.last_rooted("default")["day"] == day.isoformat()
    assert published_leaf(day, entry_id)["pseudonym"] == Account.get(user["id"]).pseudonym
    assert transparency.check_day("default", day.isoformat()).ok
