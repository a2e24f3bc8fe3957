"""cancel_redemption, refund (expiry, account deletion) and verify_code over in-memory repositories
(tests/unit/fakes_market.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_market.py, test_merchant.py,
test_redemption_expiry_at_scale.py, test_account_deletion.py and tests/races/test_market_races.py.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.commands import RedeemGoods
from chalicelib.domain.commands_market import CancelRedemption, VerifyCode
from chalicelib.domain.results_market import CancelResult
from chalicelib.errors import (
    CodeAlreadyUsedError,
    CodeCancelledError,
    CodeExpiredError,
    CodeNotFoundError,
    NotCancellableError,
    NotFoundError,
    NotYourMerchantError,
    RateLimitedError,
)
from chalicelib.services import redemptions, verification
from chalicelib.services.redeem import redeem_goods
from chalicelib.store import results
from chalicelib.store.idempotency import IdempotencyKey
from tests.unit.fakes import FakeAccount
from tests.unit.fakes_market import InMemoryMarketUnitOfWork, InMemoryScans, InMemorySold

COFFEE = "g-cafe-americano"  # 120 points, at most 2 per user, cancellable, m-cafe (admin/demo_catalog.json)
BAG = "g-canvas-bag"  # physical, not cancellable, m-recycle
STAFF = "u_staff"


@pytest.fixture
def uow() -> InMemoryMarketUnitOfWork:
    uow = InMemoryMarketUnitOfWork()
    uow.accounts.add(FakeAccount("u_1", points=1000))
    uow.accounts.add(FakeAccount("u_2", points=1000))
    return uow


def redeem(uow, goods_id=COFFEE, request_id="req_0001", address=None):
    return redeem_goods(RedeemGoods("u_1", request_id, goods_id, address), uow).redemption


def cancel(uow, redemption_id, user_id="u_1") -> CancelResult:
    return redemptions.cancel_redemption(CancelRedemption(user_id, redemption_id), uow, InMemorySold(uow))


def scan(uow, scans, code, merchant="m-cafe"):
    return verification.verify_code(VerifyCode(STAFF, merchant, code), scans)


# --- cancelling ---------------------------------------------------------------------------------------

def test_cancelling_refunds_returns_the_unit_and_frees_the_claim(uow):
    redemption = redeem(uow)
    stock, claim = uow.stock["goods#" + COFFEE], uow.claims["u_1#" + COFFEE]
    result = cancel(uow, redemption.redemption_id)
    assert (result.redemption.status, result.redemption.refunded, result.points) == ("cancelled", True, 1000)
    assert (result.entry.kind, result.entry.points, result.entry.ref) == ("refund", 120, redemption.redemption_id)
    assert uow.stock["goods#" + COFFEE] == stock + 1 and uow.claims["u_1#" + COFFEE] == claim - 1
    assert uow.redemptions[redemption.redemption_id].status == "cancelled"


def test_a_retried_cancel_gets_the_first_result_and_refunds_once(uow):
    redemption = redeem(uow)
    first = cancel(uow, redemption.redemption_id)
    assert cancel(uow, redemption.redemption_id) == first
    assert uow.accounts.items["u_1"].points == 1000 and [line.kind for line in uow.ledger] == ["spend", "refund"]


def test_goods_sold_as_not_cancellable_cannot_be_cancelled(uow):
    address = {"name": "张三", "phone": "13800138000", "region": "上海市浦东新区", "detail": "世纪大道 1 号"}
    redemption = redeem(uow, BAG, address=address)
    with pytest.raises(NotCancellableError):
        cancel(uow, redemption.redemption_id)
    assert [line.kind for line in uow.ledger] == ["spend"]


def test_another_users_redemption_is_not_found_and_untouched(uow):
    redemption = redeem(uow)
    with pytest.raises(NotFoundError):
        cancel(uow, redemption.redemption_id, user_id="u_2")
    with pytest.raises(NotFoundError):
        redemptions.one("u_2", redemption.redemption_id, InMemorySold(uow))
    assert uow.redemptions[redemption.redemption_id].status == "issued"


def test_a_cancel_that_loses_to_a_scan_is_refused_and_writes_nothing(uow):
    redemption = redeem(uow)

    def scanned_meanwhile():
        uow.redemptions[redemption.redemption_id] = replace(redemption, status="used")

    uow.before_write = scanned_meanwhile
    with pytest.raises(NotCancellableError):
        cancel(uow, redemption.redemption_id)
    assert uow.accounts.items["u_1"].points == 880 and len(uow.ledger) == 1


def test_a_cancel_remembered_by_the_old_code_replays_its_answer(uow):
    """A record written before results existed holds the (status, body) answered: a retry reads it back."""
    redemption = redeem(uow)
    first = cancel(uow, redemption.redemption_id)
    key = IdempotencyKey("u_1", f"cancel:{redemption.redemption_id}", redemptions.CANCEL_ROUTE,
                         {"redemption_id": redemption.redemption_id})
    shown = {"id": redemption.redemption_id, "goods_id": COFFEE, "goods_name": redemption.goods_name,
             "kind": "coupon", "merchant": {"id": "m-cafe"}, "code": redemption.code, "status": "cancelled",
             "points_spent": 120, "created_at": redemption.created_at, "expires_at": redemption.expires_at,
             "used_at": None, "cancelled_at": first.redemption.cancelled_at, "expired_at": None, "refunded": True,
             "cancellable": False, "address": None}
    entry = {"id": first.entry.entry_id, "at": first.entry.at, "kind": "refund", "points": 120, "carbon_g": 0.0,
             "behavior": None, "source": "market", "ref": redemption.redemption_id, "methodology": None,
             "balance_after": 1000, "counted_via": None}
    uow.idempotency.records[key.key] = key.values(200, {"redemption": shown, "points": 1000, "entry": entry}) | {
        "format": None}
    replayed = cancel(uow, redemption.redemption_id)
    assert (replayed.redemption.status, replayed.redemption.cancelled_at, replayed.points) == (
        "cancelled", first.redemption.cancelled_at, 1000)
    assert replayed.entry == first.entry and len(uow.ledger) == 2


def test_a_cancel_result_survives_its_record_unchanged(uow):
    result = cancel(uow, redeem(uow).redemption_id)
    record = results.encode(result)
    assert record["format"] == "cancel/1"
    assert results.decode(record["format"], None, record["body"], redemptions.CANCEL_ROUTE, "u_1") == result


# --- the refund of expiry and account deletion ---------------------------------------------------------

def test_expiry_refunds_a_due_redemption_once(uow):
    redemption = redeem(uow)
    later = clock.now() + timedelta(days=40)
    assert redemptions.refund(redemption, "expired", "expired", later, uow) is True
    assert redemptions.refund(redemption, "expired", "expired", later, uow) is False
    assert uow.redemptions[redemption.redemption_id].status == "expired"
    assert [(line.kind, line.reason) for line in uow.ledger] == [("spend", None), ("refund", "expired")]


def test_expiry_does_not_refund_a_redemption_still_valid(uow):
    redemption = redeem(uow)
    assert redemptions.refund(redemption, "expired", "expired", clock.now(), uow) is False
    assert uow.accounts.items["u_1"].points == 880


def test_a_deleted_account_s_refund_loses_to_a_scan(uow):
    redemption = redeem(uow)
    scan(uow, InMemoryScans(uow), redemption.code)
    assert redemptions.refund(redemption, "cancelled", "account deletion", clock.now(), uow) is False
    assert uow.accounts.items["u_1"].points == 880


# --- a merchant's scan ----------------------------------------------------------------------------------

def test_a_scan_hands_the_goods_over_once(uow):
    redemption, scans = redeem(uow), InMemoryScans(uow)
    result = scan(uow, scans, "gs:r:" + redemption.code.lower())
    assert (result.redemption_id, result.points_spent) == (redemption.redemption_id, 120)
    with pytest.raises(CodeAlreadyUsedError):
        scan(uow, scans, redemption.code)
    day = verification.merchant_day("m-cafe", None, 20, None, scans)
    assert (day.count, day.points, [row.staff_user_id for row in day.rows]) == (1, 120, [STAFF])


def test_a_cancelled_code_is_refused_at_the_till(uow):
    redemption, scans = redeem(uow), InMemoryScans(uow)
    cancel(uow, redemption.redemption_id)
    with pytest.raises(CodeCancelledError):
        scan(uow, scans, redemption.code)


def test_another_merchants_code_is_refused_and_counts_as_a_failure(uow):
    redemption, scans = redeem(uow), InMemoryScans(uow)
    with pytest.raises(NotYourMerchantError):
        scan(uow, scans, redemption.code, merchant="m-bookshop")
    assert sum(scans.failures.values()) == 1 and uow.redemptions[redemption.redemption_id].status == "issued"


def test_ten_unknown_codes_close_the_window_even_for_a_right_code(uow):
    redemption, scans = redeem(uow), InMemoryScans(uow)
    for _ in range(10):
        with pytest.raises(CodeNotFoundError):
            scan(uow, scans, "0000-0000-0000-0000")
    with pytest.raises(RateLimitedError):
        scan(uow, scans, "0000-0000-0000-0000")
    with pytest.raises(RateLimitedError):
        scan(uow, scans, redemption.code)
    assert uow.redemptions[redemption.redemption_id].status == "issued" and scans.commits == 0


def test_a_code_past_its_last_valid_day_is_refused_at_the_till(uow):
    redemption, scans = redeem(uow), InMemoryScans(uow)
    uow.redemptions[redemption.redemption_id] = replace(redemption, expires_epoch=int(clock.now().timestamp()) - 1)
    with pytest.raises(CodeExpiredError):
        scan(uow, scans, redemption.code)
    assert uow.redemptions[redemption.redemption_id].status == "issued" and scans.commits == 0


def test_of_two_staff_scanning_one_code_at_once_the_second_learns_it_was_used(uow):
    redemption, scans = redeem(uow), InMemoryScans(uow)

    def the_other_till():
        scans.before_commit = None
        scan(uow, scans, redemption.code)

    scans.before_commit = the_other_till
    with pytest.raises(CodeAlreadyUsedError):
        scan(uow, scans, redemption.code)
    day = verification.merchant_day("m-cafe", None, 20, None, scans)
    assert scans.commits == 1 and (day.count, day.points) == (1, 120)
