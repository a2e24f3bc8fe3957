"""Merchant staff hand goods over by scanning a code (核销), and reconcile their day.

Tests that make failed scans use staff of a merchant of their own: failures are counted per staff member.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import clock
from chalicelib.services import catalog
from tests.support.api import DynamoDBCalls, call, login
from tests.support.market import (
    balance,
    give_points,
    new_goods,
    new_merchant,
    redeem,
    staff_login,
    verify,
)


def issued(client, user, merchant_id="m-cafe", **goods_fields) -> dict:
    """A fresh code of goods sold by `merchant_id`, redeemed by `user`."""
    give_points(user, 100)
    status, body = redeem(client, user, new_goods(merchant_id, **goods_fields)["id"])
    assert status == 201, body
    return body["redemption"]


def shop(client, staff: int = 1) -> tuple[str, list[dict]]:
    merchant_id, openids = new_merchant(staff)
    return merchant_id, [staff_login(client, openid) for openid in openids]


def test_staff_hand_over_a_code_once(client, user):
    staff = staff_login(client, "o-staff-1")
    redemption = issued(client, user)
    status, body = verify(client, staff, redemption["code"])
    assert status == 200, body
    used = body["redemption"]
    assert (used["id"], used["goods_id"], used["status"], used["points_spent"]) == (
        redemption["id"], redemption["goods_id"], "used", 30)
    mine = call(client, "GET", f"/v1/me/redemptions/{redemption['id']}", token=user["token"])[1]["redemption"]
    assert (mine["status"], mine["used_at"]) == ("used", used["used_at"])
    status, body = verify(client, staff, redemption["code"])
    assert (status, body["error"]["code"]) == (409, "CODE_ALREADY_USED")


def test_a_scan_costs_one_read_and_one_transaction(client, user):
    redemption = issued(client, user)  # loading the goods forgets the catalog cache ...
    staff = staff_login(client, "o-staff-1")  # ... which logging in warms, as a container does once a minute
    catalog.risk_settings()  # ... and the risk rules' thresholds (the policy partition, read once a minute too)
    with DynamoDBCalls() as calls:
        assert verify(client, staff, redemption["code"])[0] == 200
    assert calls.operations == ["GetItem", "TransactWriteItems"]


def test_the_scanned_qr_payload_and_a_code_typed_by_hand_both_work(client, user):
    staff = staff_login(client, "o-staff-1")
    scanned, typed = issued(client, user), issued(client, user)
    assert verify(client, staff, scanned["qr_payload"])[0] == 200
    code = typed["code"].lower()
    assert verify(client, staff, " " + "-".join(code[i:i + 4] for i in range(0, 16, 4)) + " ")[0] == 200


def test_staff_of_another_merchant_cannot_use_the_code(client, user):
    _, (outsider,) = shop(client)
    redemption = issued(client, user)
    status, body = verify(client, outsider, redemption["code"])
    assert (status, body["error"]["code"]) == (403, "NOT_YOUR_MERCHANT")
    assert verify(client, staff_login(client, "o-staff-1"), redemption["code"])[0] == 200


def test_a_plain_user_is_not_merchant_staff(client, user, openid):
    redemption = issued(client, user)
    other = login(client, openid + "-b")
    status, body = verify(client, other, redemption["code"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    status, body = call(client, "GET", "/v1/merchant/redemptions", token=other["token"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")


def test_an_unknown_code_is_not_found(client):
    _, (staff,) = shop(client)
    for code in ("7ZZZZZZZZZZZZZZZ", "GS:R:7ZZZZZZZZZZZZZZZ", "not a code"):
        status, body = verify(client, staff, code)
        assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND"), code
    status, body = verify(client, staff, "")
    assert (status, body["error"]["details"]["field"]) == (400, "code")


def test_an_expired_code_is_gone(client, user, monkeypatch):
    staff = staff_login(client, "o-staff-1")
    redemption = issued(client, user, valid_days=1)
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    status, body = verify(client, staff, redemption["code"])
    assert (status, body["error"]["code"]) == (410, "CODE_EXPIRED")


def test_a_cancelled_code_cannot_be_used(client, user):
    redemption = issued(client, user)
    assert call(client, "POST", f"/v1/me/redemptions/{redemption['id']}/cancel", token=user["token"])[0] == 200
    status, body = verify(client, staff_login(client, "o-staff-1"), redemption["code"])
    assert (status, body["error"]["code"]) == (409, "CODE_CANCELLED")


def test_a_used_code_cannot_be_cancelled_for_a_refund(client, user):
    redemption = issued(client, user)
    assert verify(client, staff_login(client, "o-staff-1"), redemption["code"])[0] == 200
    status, body = call(client, "POST", f"/v1/me/redemptions/{redemption['id']}/cancel", token=user["token"])
    assert (status, body["error"]["code"]) == (409, "NOT_CANCELLABLE")
    assert balance(client, user) == 70


def test_failed_scans_are_limited_per_staff_member_so_codes_cannot_be_guessed(client, user):
    merchant_id, (guesser, colleague) = shop(client, staff=2)
    redemption = issued(client, user, merchant_id)
    for n in range(10):
        status, body = verify(client, guesser, f"{n:0>16}")
        assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND"), n
    status, body = verify(client, guesser, "7ZZZZZZZZZZZZZZZ")
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    status, body = verify(client, guesser, redemption["code"])  # even a right code: nothing more to learn
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert verify(client, colleague, redemption["code"])[0] == 200


def test_the_merchants_day_lists_verified_redemptions_with_totals(client, user):
    merchant_id, (staff,) = shop(client)
    give_points(user, 200)
    codes = []
    for price in (30, 30, 50):
        goods = new_goods(merchant_id, points_price=price)
        codes.append(redeem(client, user, goods["id"])[1]["redemption"])
    redeem(client, user, new_goods(merchant_id)["id"])  # issued, never scanned: not in the day's list
    for redemption in codes:
        assert verify(client, staff, redemption["code"])[0] == 200
    status, first = call(client, "GET", "/v1/merchant/redemptions?limit=2", token=staff["token"])
    assert status == 200 and first["totals"] == {"count": 3, "points": 110}
    assert [r["id"] for r in first["items"]] == [codes[2]["id"], codes[1]["id"]]
    assert first["date"] == clock.business_day(clock.now()).isoformat()
    rest = call(client, "GET", f"/v1/merchant/redemptions?limit=2&cursor={first['next_cursor']}",
                token=staff["token"])[1]
    assert [r["id"] for r in rest["items"]] == [codes[0]["id"]] and rest["totals"] == first["totals"]
    yesterday = (clock.business_day(clock.now()) - timedelta(days=1)).isoformat()
    earlier = call(client, "GET", f"/v1/merchant/redemptions?date={yesterday}", token=staff["token"])[1]
    assert (earlier["items"], earlier["totals"]) == ([], {"count": 0, "points": 0})
    status, body = call(client, "GET", "/v1/merchant/redemptions?date=yesterday", token=staff["token"])
    assert (status, body["error"]["details"]["field"]) == (400, "date")


def test_merchants_see_only_their_own_day(client, user):
    merchant_id, (staff,) = shop(client)
    _, (other_staff,) = shop(client)
    assert verify(client, staff, issued(client, user, merchant_id)["code"])[0] == 200
    other = call(client, "GET", "/v1/merchant/redemptions", token=other_staff["token"])[1]
    assert (other["items"], other["totals"]) == ([], {"count": 0, "points": 0})


def test_the_first_page_of_the_day_is_one_query(client, user):
    merchant_id, (staff,) = shop(client)
    assert verify(client, staff, issued(client, user, merchant_id)["code"])[0] == 200
    with DynamoDBCalls() as calls:
        status, body = call(client, "GET", "/v1/merchant/redemptions", token=staff["token"])
    assert status == 200 and body["totals"]["count"] == 1
    assert calls.operations == ["Query"]


def test_a_busy_days_totals_are_spread_over_shards_and_still_read_whole_by_one_query(client, user):
    """Issue 19 item 8: one totals item per merchant and day took every scan's write (about 250 scans a
    second at most); each scan now adds to one of TOTALS_SHARDS parts, which the day's Query sums."""
    from chalicelib.store.market import TOTALS_SK, Verification, merchant_day

    merchant_id, (staff,) = shop(client)
    give_points(user, 12 * 30)
    codes = [redeem(client, user, new_goods(merchant_id)["id"])[1]["redemption"] for _ in range(12)]
    for redemption in codes:
        assert verify(client, staff, redemption["code"])[0] == 200
    day = merchant_day(merchant_id, clock.business_day(clock.now()))
    parts = [r for r in Verification.query(day) if r.sk.startswith(TOTALS_SK)]
    assert len(parts) > 1 and sum(int(p.count) for p in parts) == 12  # 12 scans on one part: 8 ** -11
    with DynamoDBCalls() as calls:
        status, first = call(client, "GET", "/v1/merchant/redemptions?limit=5", token=staff["token"])
    assert calls.operations == ["Query"]
    assert status == 200 and first["totals"] == {"count": 12, "points": 360}
    assert [r["id"] for r in first["items"]] == [c["id"] for c in reversed(codes)][:5]
    seen, cursor = [r["id"] for r in first["items"]], first["next_cursor"]
    while cursor:
        status, page = call(client, "GET", f"/v1/merchant/redemptions?limit=5&cursor={cursor}", token=staff["token"])
        assert status == 200 and page["totals"] == first["totals"]
        seen, cursor = seen + [r["id"] for r in page["items"]], page["next_cursor"]
    assert seen == [c["id"] for c in reversed(codes)]  # every row once, newest first, across the pages


def test_a_day_written_before_the_shards_still_counts_its_single_totals_item(client, user):
    from chalicelib.store.market import TOTALS_SK, Verification, merchant_day

    merchant_id, (staff,) = shop(client)
    today = clock.business_day(clock.now())
    Verification(merchant_day(merchant_id, today), TOTALS_SK, count=2, points=70).save()  # as the old scans wrote
    assert verify(client, staff, issued(client, user, merchant_id)["code"])[0] == 200
    status, body = call(client, "GET", "/v1/merchant/redemptions", token=staff["token"])
    assert status == 200 and body["totals"] == {"count": 3, "points": 100}
    assert call(client, "GET", "/v1/merchant/redemptions?limit=1", token=staff["token"])[1]["totals"] == body["totals"]
