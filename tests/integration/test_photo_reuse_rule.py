"""Rule 3, `photo_reuse` (contract risk.md "Rules" 3): the third photo refused as reused within 30 days puts the
person under review, once, in the write that records it; the numbers are the catalog's `risk` section's."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.services import catalog
from chalicelib.store.models import Account, LedgerEntry
from tests.support import photos
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.days import at
from tests.support.market import load_catalog
from tests.support.persons import login_on
from tests.support.reconcile import reconciled


@pytest.fixture(autouse=True)
def photo_behaviours(database):
    with photos.photo_required(*photos.PHOTO_BEHAVIORS):
        yield


@pytest.fixture
def defaults_after():
    yield
    load_catalog({"risk": {}})  # the deployment's thresholds are every test's: put the defaults back
    catalog.forget()


def me(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body


def listed(capsys) -> dict:
    capsys.readouterr()
    assert admin(["risk", "list", "--rule", "photo_reuse", "--json"]) == 0
    return {row["user_id"]: row for row in json.loads(capsys.readouterr().out)}


def used_photo(client, openid: str) -> int:
    """A photo someone checked in with: its seed, for the farmers' near copies."""
    seed = photos.fresh_seed()
    assert photos.checkin(client, login(client, openid + "-honest"), data=photos.photo(seed))[0] == 201
    return seed


def refused(client, farmer: dict, copy: bytes) -> None:
    status, body = photos.checkin(client, farmer, data=copy)
    assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED"), body


def test_a_farmer_replaying_one_photo_three_times_is_under_review_and_then_held(client, openid, capsys):
    seed = used_photo(client, openid)
    farmer = login(client, openid + "-farmer")
    copies = photos.near_copies(seed, 3)
    for copy in copies[:2]:
        refused(client, farmer, copy)
        assert me(client, farmer)["review"]["status"] == "clear"
    assert farmer["id"] not in listed(capsys)
    refused(client, farmer, copies[2])

    review = me(client, farmer)["review"]
    assert (review["status"], review["rules"]) == ("under_review", ["photo_reuse"])
    row = listed(capsys)[farmer["id"]]
    assert row["rules"] == ["photo_reuse"]
    assert [r["reason"] for r in row["reasons"]] == ["3 reused photos in 30 days"]

    # a fourth refusal while under review for it: counted, but no second reason
    refused(client, farmer, photos.photo(seed))
    assert len(Account.get(farmer["id"], consistent_read=True).photo_refusals) == 4
    assert [r["reason"] for r in listed(capsys)[farmer["id"]]["reasons"]] == ["3 reused photos in 30 days"]

    # what they earn now is held: a photo-free check-in and an honest photo alike
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                        token=farmer["token"])
    assert status == 201, body
    assert photos.checkin(client, farmer)[0] == 201
    kinds = [e.kind for e in LedgerEntry.query(farmer["id"], consistent_read=True)]
    assert kinds == ["held", "held"]
    after = me(client, farmer)
    assert after["points"] == 0 and after["review"]["points_held"] == 2 + 5  # no_cutlery 2, clean_plate 5
    assert reconciled(farmer)["clean"]


def test_the_reaching_refusal_is_one_transaction_with_the_review(client, openid):
    seed = used_photo(client, openid)
    farmer = login(client, openid + "-farmer")
    copies = photos.near_copies(seed, 3)
    for copy in copies[:2]:
        refused(client, farmer, copy)
    upload_id = photos.upload(client, farmer, copies[2])
    with DynamoDBCalls() as calls:
        status, _ = photos.checkin(client, farmer, upload_id=upload_id)
    assert status == 409
    # the check-in's read, its idempotency record, the refusals and the review in one transaction
    assert calls.operations == ["BatchGetItem", "GetItem", "TransactWriteItems"]
    assert me(client, farmer)["review"]["rules"] == ["photo_reuse"]


def test_a_released_person_is_not_flagged_again_for_the_refusals_a_reviewer_saw(client, openid):
    seed = used_photo(client, openid)
    farmer = login(client, openid + "-farmer")
    copies = photos.near_copies(seed, 6)
    for copy in copies[:3]:
        refused(client, farmer, copy)
    assert me(client, farmer)["review"]["status"] == "under_review"
    assert admin(["risk", "release", farmer["id"], "--reason", "test: a family sharing one phone"]) == 0

    refused(client, farmer, copies[3])  # the three the reviewer saw are still within 30 days, but cleared
    refused(client, farmer, copies[4])
    assert me(client, farmer)["review"]["status"] == "clear"
    refused(client, farmer, copies[5])  # three new ones after the review: flagged again
    review = me(client, farmer)["review"]
    assert (review["status"], review["rules"]) == ("under_review", ["photo_reuse"])


def test_two_refusals_in_30_days_are_an_honest_near_miss(client, openid, capsys):
    seed = used_photo(client, openid)
    person = login(client, openid + "-twice")
    for copy in photos.near_copies(seed, 2):
        refused(client, person, copy)
    assert me(client, person)["review"]["status"] == "clear"
    assert person["id"] not in listed(capsys)
    assert photos.checkin(client, person)[0] == 201  # credited, not held
    assert me(client, person)["points"] == 5


def test_three_refusals_spread_over_more_than_30_days_are_not_flagged_a_fourth_within_is(client, openid, capsys):
    """Refused today, 15 days on and 30 days on: the first has left the window (two within 30 days); one more
    the day after is the third within 30 days."""
    seed = used_photo(client, openid)
    person = login(client, openid + "-spread")
    copies = photos.near_copies(seed, 4)
    refused(client, person, copies[0])
    today = clock.business_day(clock.now())
    for days, copy in ((15, copies[1]), (30, copies[2])):
        with at(today + timedelta(days=days)):
            refused(client, person, copy)
            assert me(client, person)["review"]["status"] == "clear"
    assert person["id"] not in listed(capsys)
    with at(today + timedelta(days=31)):
        refused(client, person, copies[3])
        assert me(client, person)["review"]["rules"] == ["photo_reuse"]


def test_a_catalog_saying_two_refusals_flags_at_the_second(client, openid, defaults_after):
    load_catalog({"risk": {"photo_refusals": 2}})
    catalog.forget()
    seed = used_photo(client, openid)
    farmer = login(client, openid + "-two")
    copies = photos.near_copies(seed, 2)
    refused(client, farmer, copies[0])
    assert me(client, farmer)["review"]["status"] == "clear"
    refused(client, farmer, copies[1])
    assert me(client, farmer)["review"]["rules"] == ["photo_reuse"]
    reasons = Account.get(farmer["id"], consistent_read=True).review_rules
    assert [r["reason"] for r in reasons] == ["2 reused photos in 30 days"]


def test_a_catalog_distance_decides_what_is_a_copy(client, openid, defaults_after):
    """A near copy within the default distance passes once the catalog says 0 (only an exact copy)."""
    seed = used_photo(client, openid)
    copy = photos.near_copies(seed, 1)[0]
    load_catalog({"risk": {"photo_distance": 0}})
    catalog.forget()
    assert photos.checkin(client, login(client, openid + "-near"), data=copy)[0] == 201


def test_a_farmer_of_another_platform_is_under_review_on_that_platform(client, openid, capsys):
    seed = used_photo(client, openid)
    farmer = login_on(client, openid + "-p")
    for copy in photos.near_copies(seed, 3):
        refused(client, farmer, copy)
    assert me(client, farmer)["review"]["rules"] == ["photo_reuse"]
    assert listed(capsys)[farmer["id"]]["platform"] != "default"


def test_a_refusal_recorded_while_the_flagging_one_decides_is_kept(client, openid, monkeypatch):
    """The refusal that flags writes the refusals in a posting, conditioned on the account's version; a plain
    refusal recorded meanwhile (one UpdateItem) moves the version, so the posting reads again and keeps it."""
    from chalicelib.services import evidence as evidence_service
    from chalicelib.store.photo_hashes import PhotoHashes

    seed = used_photo(client, openid)
    farmer = login(client, openid + "-race")
    copies = photos.near_copies(seed, 3)
    for copy in copies[:2]:
        refused(client, farmer, copy)
    flagging = evidence_service._record_flagging

    def a_concurrent_refusal_lands_first(uow, user_id, account, request_id, limit):
        before = Account.get(user_id, consistent_read=True).photo_refusals
        PhotoHashes().record_refusal(user_id, before, [*before, [clock.iso(clock.now()), "concurrent"]])
        return flagging(uow, user_id, account, request_id, limit)

    monkeypatch.setattr(evidence_service, "_record_flagging", a_concurrent_refusal_lands_first)
    refused(client, farmer, copies[2])
    stored = Account.get(farmer["id"], consistent_read=True)
    assert len(stored.photo_refusals) == 4 and "concurrent" in [item[1] for item in stored.photo_refusals]
    assert [r["rule"] for r in stored.review_rules] == ["photo_reuse"]
