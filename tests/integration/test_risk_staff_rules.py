"""Rules 4 and 5 (contract/risk.md): a collection point's clerk who credits the same person day after day, or keeps
running into the staff ceiling, and a ring of fresh accounts redeeming the same goods at the same counter, go under
review; honest near misses do not.

Past days of collection credits: August 2025 (no other test uses them). Rings redeem today and tomorrow.
"""
from __future__ import annotations

import itertools
import json
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.domain.guards_risk import ring_key
from chalicelib.store import risk_memory
from chalicelib.store.models import Account
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.days import at
from tests.support.market import give_points, load_catalog, new_goods, new_merchant, redeem, staff_login, verify
from tests.support.persons import login_on
from tests.support.reconcile import reconciled

AUGUST = date(2025, 8, 4)


def review_of(client, person: dict) -> dict:
    status, body = call(client, "GET", "/v1/me", token=person["token"])
    assert status == 200, body
    return body["review"]


def listed(capsys, rule: str) -> dict:
    capsys.readouterr()
    assert admin(["risk", "list", "--rule", rule, "--json"]) == 0
    return {row["user_id"]: row for row in json.loads(capsys.readouterr().out)}


def reasons(person: dict) -> list[dict]:
    return Account.get(person["id"], consistent_read=True).review_rules or []


# Rule 4: collection-point patterns ------------------------------------------------------------------------------

def collection_point(client, **ceilings) -> dict:
    _, (openid,) = new_merchant(1, collection_point=True, **ceilings)
    return staff_login(client, openid)


def credit_on(client, staff: dict, member: dict, day: date, quantity: float = 2.5):
    with at(day):
        status, body = call(client, "GET", "/v1/me/member-code", token=member["token"])
        assert status == 200, body
        return call(client, "POST", "/v1/operator/credit",
                    {"request_id": request_id(), "member_code": body["member_code"], "behavior": "old_clothes",
                     "quantity": quantity}, token=staff["token"])


def test_a_clerk_crediting_the_same_person_on_three_days_in_seven_goes_under_review(client, user, capsys):
    clerk = collection_point(client)
    for offset in (0, 2):
        assert credit_on(client, clerk, user, AUGUST + timedelta(days=offset))[0] == 201
    assert review_of(client, clerk)["status"] == "clear"  # two days: a regular, not a pattern
    assert credit_on(client, clerk, user, AUGUST + timedelta(days=4))[0] == 201
    review = review_of(client, clerk)
    assert (review["status"], review["rules"]) == ("under_review", ["staff_same_person"])
    assert clerk["id"] in listed(capsys, "staff_same_person")
    assert user["id"] in reasons(clerk)[0]["reason"]
    assert review_of(client, user)["status"] == "clear"  # the member did nothing wrong
    status, body = credit_on(client, clerk, user, AUGUST + timedelta(days=5))  # once more: held, no second reason
    assert status == 201 and body["entry"]["kind"] == "held"
    assert [r["rule"] for r in reasons(clerk)] == ["staff_same_person"]
    assert reconciled(user, clerk)["clean"]


def test_a_released_clerk_is_judged_on_the_days_after_the_review_only(client, user):
    clerk = collection_point(client)
    for offset in (0, 2, 4):
        assert credit_on(client, clerk, user, AUGUST + timedelta(days=offset))[0] == 201
    assert review_of(client, clerk)["status"] == "under_review"
    with at(AUGUST + timedelta(days=4)):
        assert admin(["risk", "release", clerk["id"], "--reason", "test: the member's weekly clothes drive"]) == 0

    for offset in (5, 6):  # four and five days in seven, but the reviewer saw three of them
        status, body = credit_on(client, clerk, user, AUGUST + timedelta(days=offset))
        assert status == 201 and body["entry"]["kind"] == "earn"
        assert review_of(client, clerk)["status"] == "clear"
    assert credit_on(client, clerk, user, AUGUST + timedelta(days=7))[0] == 201  # three new days: flagged again
    review = review_of(client, clerk)
    assert (review["status"], review["rules"]) == ("under_review", ["staff_same_person"])
    assert reconciled(user, clerk)["clean"]


@pytest.mark.parametrize("offsets", [(10, 13), (20, 24, 28)], ids=["two-days-in-seven", "three-days-over-nine"])
def test_a_clerk_crediting_a_regular_is_not_a_pattern(client, user, capsys, offsets):
    clerk = collection_point(client)
    for offset in offsets:
        assert credit_on(client, clerk, user, AUGUST + timedelta(days=offset))[0] == 201
    assert review_of(client, clerk)["status"] == "clear"
    assert clerk["id"] not in listed(capsys, "staff_same_person")
    assert reconciled(user, clerk)["clean"]


def test_a_clerk_crediting_many_people_once_is_not_a_pattern_and_each_credit_costs_what_it_did(client):
    clerk = collection_point(client)
    members = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(4)]
    for day in (0, 1, 2):  # three days, a different person each credit
        assert credit_on(client, clerk, members[day], AUGUST + timedelta(days=30 + day))[0] == 201
    assert review_of(client, clerk)["status"] == "clear"
    member = members[3]  # credited by this clerk for the first time: nothing of the pair to read
    with at(AUGUST + timedelta(days=33)):
        code = call(client, "GET", "/v1/me/member-code", token=member["token"])[1]["member_code"]
        with DynamoDBCalls() as calls:
            status, _ = call(client, "POST", "/v1/operator/credit",
                             {"request_id": request_id(), "member_code": code, "behavior": "old_clothes",
                              "quantity": 1}, token=clerk["token"])
    assert status == 201
    assert calls.operations == ["GetItem", "GetItem", "TransactWriteItems"]  # member code, account, the credit
    assert reconciled(*members, clerk)["clean"]


def test_credits_refused_at_the_staff_ceiling_on_two_days_in_seven_put_the_clerk_under_review(client, user,
                                                                                               capsys):
    clerk = collection_point(client, daily_staff_quantity_max=3)
    first, second = AUGUST + timedelta(days=40), AUGUST + timedelta(days=44)
    assert credit_on(client, clerk, user, first, quantity=2.5)[0] == 201
    status, body = credit_on(client, clerk, user, first, quantity=1)  # past the ceiling with the first
    assert (status, body["error"]["code"], body["error"]["details"]["cap"]) == (429, "DAILY_LIMIT_REACHED", "staff")
    assert credit_on(client, clerk, user, first, quantity=4)[0] == 429  # the same day again: still one day
    assert review_of(client, clerk)["status"] == "clear"
    status, body = credit_on(client, clerk, user, second, quantity=4)  # alone over the ceiling, another day
    assert (status, body["error"]["details"]["cap"]) == (429, "staff")
    review = review_of(client, clerk)
    assert (review["status"], review["rules"]) == ("under_review", ["staff_ceiling"])
    assert clerk["id"] in listed(capsys, "staff_ceiling")
    assert credit_on(client, clerk, user, second, quantity=4)[0] == 429
    assert len(reasons(clerk)) == 1  # one reason, however many refusals follow
    assert reconciled(user, clerk)["clean"]


def test_refusals_at_the_ceiling_on_one_day_or_eight_days_apart_are_not_a_pattern(client, user, capsys):
    clerk = collection_point(client, daily_staff_quantity_max=3)
    for offset in (50, 50, 58):
        assert credit_on(client, clerk, user, AUGUST + timedelta(days=offset), quantity=4)[0] == 429
    assert review_of(client, clerk)["status"] == "clear"
    assert clerk["id"] not in listed(capsys, "staff_ceiling")


# Rule 5: redemption rings ---------------------------------------------------------------------------------------

@contextmanager
def moment(when: datetime):
    ticks = itertools.count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: when + timedelta(seconds=next(ticks)))
        yield


def counter(client, staff: int = 1) -> tuple[dict, list[dict]]:
    """Goods of a merchant of its own, and its staff."""
    merchant_id, openids = new_merchant(staff)
    return new_goods(merchant_id, stock=20, per_user_limit=5), [staff_login(client, o) for o in openids]


def fresh(client, n: int) -> list[dict]:
    people = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(n)]
    for person in people:
        give_points(person, 30)
    return people


def redeemed(client, person: dict, goods: dict, when: datetime | None = None) -> dict:
    if when is None:
        status, body = redeem(client, person, goods["id"])
    else:
        with moment(when):
            status, body = redeem(client, person, goods["id"])
    assert status == 201, body
    return body["redemption"]


def test_five_fresh_accounts_redeeming_the_same_goods_at_one_clerk_are_a_ring(client, capsys):
    goods, (clerk,) = counter(client)
    ring = fresh(client, 6)
    codes = [redeemed(client, person, goods)["code"] for person in ring]
    for code in codes[:4]:
        assert verify(client, clerk, code)[0] == 200
    assert all(review_of(client, p)["status"] == "clear" for p in [*ring[:4], clerk])
    assert verify(client, clerk, codes[4])[0] == 200
    for person in [*ring[:5], clerk]:
        review = review_of(client, person)
        assert (review["status"], review["rules"]) == ("under_review", ["redemption_ring"]), person
    shown = listed(capsys, "redemption_ring")
    assert {p["id"] for p in [*ring[:5], clerk]} <= set(shown)
    assert goods["id"] in reasons(clerk)[0]["reason"] and clerk["id"] in reasons(clerk)[0]["reason"]
    assert verify(client, clerk, codes[5])[0] == 200  # the sixth joins the ring; the others keep one reason
    assert review_of(client, ring[5])["status"] == "under_review"
    assert all(len(reasons(p)) == 1 for p in [*ring, clerk])
    give_points(ring[0], 30)
    status, body = redeem(client, ring[0], goods["id"])
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_UNDER_REVIEW")
    assert reconciled(*ring, clerk)["clean"]


def test_a_ring_whose_flags_were_lost_is_flagged_by_the_next_verification(client, monkeypatch):
    from chalicelib.errors import ServiceUnavailableError
    from chalicelib.services import review

    goods, (clerk,) = counter(client)
    ring = fresh(client, 6)
    codes = [redeemed(client, person, goods)["code"] for person in ring]
    for code in codes[:4]:
        assert verify(client, clerk, code)[0] == 200
    with monkeypatch.context() as patch:  # the fifth's flags fail (DynamoDB unavailable, a timeout ...)
        patch.setattr(review, "flag_once", lambda *args: (_ for _ in ()).throw(ServiceUnavailableError()))
        assert verify(client, clerk, codes[4])[0] == 200  # the hand-over stands
    assert all(review_of(client, p)["status"] == "clear" for p in [*ring[:5], clerk])
    assert verify(client, clerk, codes[5])[0] == 200  # the next judgement finds them unmarked
    assert all(review_of(client, p)["rules"] == ["redemption_ring"] for p in [*ring, clerk])
    assert reconciled(*ring, clerk)["clean"]


def _judged(client, goods: dict, verified: list[tuple[dict, str]], people: list[dict]) -> None:
    for staff, code in verified:
        assert verify(client, staff, code)[0] == 200
    staff_seen = {staff["id"]: staff for staff, _ in verified}.values()
    assert all(review_of(client, p)["status"] == "clear" for p in [*people, *staff_seen])
    assert reconciled(*people, *staff_seen)["clean"]


def test_four_fresh_accounts_are_not_a_ring(client):
    goods, (clerk,) = counter(client)
    people = fresh(client, 4)
    _judged(client, goods, [(clerk, redeemed(client, p, goods)["code"]) for p in people], people)


def test_five_accounts_one_of_them_eight_days_old_are_not_a_ring(client):
    goods, (clerk,) = counter(client)
    people = fresh(client, 5)
    later = clock.now() + timedelta(days=8, hours=1)
    codes = [redeemed(client, p, goods)["code"] for p in people[:4]] + [redeemed(client, people[4], goods,
                                                                                 later)["code"]]
    _judged(client, goods, [(clerk, code) for code in codes], people)


def test_five_fresh_accounts_redeeming_over_more_than_a_day_are_not_a_ring(client):
    goods, (clerk,) = counter(client)
    people = fresh(client, 5)
    start = clock.now() + timedelta(minutes=5)
    codes = [redeemed(client, p, goods, start + timedelta(hours=n * 6.5))["code"] for n, p in enumerate(people)]
    _judged(client, goods, [(clerk, code) for code in codes], people)  # the first and last are 26 h apart


def test_five_fresh_accounts_verified_by_two_clerks_are_not_a_ring(client):
    goods, (one, other) = counter(client, staff=2)
    people = fresh(client, 5)
    codes = [redeemed(client, p, goods)["code"] for p in people]
    _judged(client, goods, [(one if n < 3 else other, code) for n, code in enumerate(codes)], people)


def test_a_young_accounts_verification_still_costs_one_read_and_one_transaction(client):
    from chalicelib.services import catalog

    goods, (clerk,) = counter(client)
    people = fresh(client, 4)
    codes = [redeemed(client, p, goods)["code"] for p in people]
    for code in codes[:3]:
        assert verify(client, clerk, code)[0] == 200
    catalog.risk_settings()  # the catalog's partitions, as a warm container holds them
    staff_login(client, clerk["openid"])
    with DynamoDBCalls() as calls:
        assert verify(client, clerk, codes[3])[0] == 200  # the fourth: kept without reading what is kept
    assert calls.operations == ["GetItem", "TransactWriteItems"]


def test_a_ring_at_a_platforms_counter_is_that_platforms(client, capsys):
    """The demo platform's canteen, with goods of the test's own (its platform entry as the demo catalog has it)."""
    demo = Path(__file__).resolve().parents[2] / "admin" / "demo_catalog.json"
    entry = next(p for p in json.loads(demo.read_text(encoding="utf-8"))["platforms"] if p["id"] == DEMO_PLATFORM)
    goods = {"id": "t-ring-" + uuid.uuid4().hex[:8], "name": "食堂券", "kind": "coupon", "merchant_id": "m-canteen",
             "points_price": 12, "stock": 10, "per_user_limit": 5, "valid_days": 30, "cancellable": True}
    load_catalog({"platforms": [{**{k: v for k, v in entry.items() if k not in ("merchants", "goods", "trees", "orgs")},
                                 "goods": [goods]}]})
    clerk = login_on(client, "o-canteen-staff")
    people = [login_on(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(5)]
    for person in people:
        give_points(person, 12)
        status, body = redeem(client, person, goods["id"])
        assert status == 201, body
        assert verify(client, clerk, body["redemption"]["code"])[0] == 200
    assert all(review_of(client, p)["rules"] == ["redemption_ring"] for p in [*people, clerk])
    shown = listed(capsys, "redemption_ring")
    assert {shown[p["id"]]["platform"] for p in people} == {DEMO_PLATFORM}
    kept, _ = risk_memory.ring_entries(ring_key(DEMO_PLATFORM, goods["id"], clerk["id"]))
    assert len(kept) == 5 and risk_memory.ring_entries(ring_key("default", goods["id"], clerk["id"]))[0] == []
    assert reconciled(*people, clerk)["clean"]
