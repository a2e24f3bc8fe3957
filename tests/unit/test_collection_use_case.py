"""credit_collection and issue_member_code over the in-memory collection desk (tests/unit/fakes_collection.py):
no Java, no DynamoDB endpoint. The same promises against DynamoDB Local: tests/integration/
test_collection_points.py, tests/races/test_market_races.py (the six-staff ceiling race)."""
from __future__ import annotations

import pytest

from chalicelib.api import shapes_collection
from chalicelib.domain import clock
from chalicelib.domain.commands_collection import CreditCollection
from chalicelib.domain.results_collection import CollectionCredit
from chalicelib.errors import (
    AccountFrozenError,
    CodeExpiredError,
    CodeNotFoundError,
    DailyLimitReachedError,
    ForbiddenError,
    RateLimitedError,
)
from chalicelib.services.collection import CREDIT_ROUTE, credit_collection, issue_member_code
from chalicelib.store.idempotency import IdempotencyKey
from tests.unit.fakes_collection import FakeMember, InMemoryCollectionUnitOfWork

STAFF, MERCHANT = "u_staff", "m-recycle"  # admin/demo_catalog.json: a collection point, staff ceiling 200 kg


@pytest.fixture
def uow() -> InMemoryCollectionUnitOfWork:
    uow = InMemoryCollectionUnitOfWork()
    uow.accounts.add(FakeMember("u_1", points=10, nickname="小绿"))
    uow.accounts.add(FakeMember(STAFF))
    return uow


def today() -> str:
    return clock.business_day(clock.now()).isoformat()


def code_of(uow, user_id="u_1") -> str:
    return issue_member_code(user_id, uow).code


def credit(uow, code, request_id="req_0001", quantity="2.5", staff=STAFF) -> CollectionCredit:
    return credit_collection(CreditCollection(staff, request_id, MERCHANT, code, "old_clothes", quantity), uow)


def test_a_credit_posts_on_the_member_names_the_staff_and_uses_the_code(uow):
    code = code_of(uow)
    result = credit(uow, "GS:M:" + code)
    assert (result.entry.kind, result.entry.source, result.entry.ref, result.nickname) == (
        "earn", "operator", MERCHANT, "小绿")
    assert result.entry.points > 0 and uow.accounts.items["u_1"].points == 10 + result.entry.points
    assert uow.ledger[0].inputs["staff_user_id"] == STAFF and uow.member_codes.items[code].used_by == STAFF
    assert uow.counters == {f"credited#staff#{STAFF}#old_clothes#{today()}": 2500,
                            f"credited#merchant#{MERCHANT}#old_clothes#{today()}": 2500}
    assert shapes_collection.credit_json(result)["member"] == {"nickname": "小绿"}


def test_a_retried_credit_returns_the_first_result_though_its_code_is_now_used(uow):
    code = code_of(uow)
    first = credit(uow, code)
    assert credit(uow, code) == first
    assert len(uow.ledger) == 1 and uow.commits == 1


def test_a_used_code_credits_once(uow):
    code = code_of(uow)
    credit(uow, code)
    with pytest.raises(CodeExpiredError):
        credit(uow, code, request_id="req_0002")
    assert len(uow.ledger) == 1


def test_a_code_used_between_the_read_and_the_write_is_refused_whole(uow):
    code = code_of(uow)
    uow.before_write = lambda: setattr(uow.member_codes.items[code], "used_at", "2026-01-05T09:00:00.000+08:00")
    with pytest.raises(CodeExpiredError):
        credit(uow, code)
    assert uow.ledger == [] and uow.counters == {} and uow.accounts.items["u_1"].points == 10


def test_ten_unknown_codes_make_even_a_right_one_429(uow):
    code = code_of(uow)
    for n in range(10):
        with pytest.raises(CodeNotFoundError):
            credit(uow, f"ABCDEFGHJK{n:02d}", request_id=f"req_bad_{n:04d}")
    with pytest.raises(RateLimitedError):
        credit(uow, code)
    assert uow.ledger == [] and uow.member_codes.items[code].used_at is None


@pytest.mark.parametrize(("cap", "owner", "before"), [("staff", STAFF, 198_000), ("merchant", MERCHANT, 1_998_000)])
def test_past_a_collection_points_ceiling_the_credit_is_refused_whole(uow, cap, owner, before):
    code = code_of(uow)
    uow.counters[f"credited#{cap}#{owner}#old_clothes#{today()}"] = before  # 2.5 kg more passes 200 / 2000 kg
    with pytest.raises(DailyLimitReachedError) as refused:
        credit(uow, code)
    assert refused.value.details["cap"] == cap
    assert uow.ledger == [] and uow.member_codes.items[code].used_at is None and len(uow.counters) == 1


def test_a_frozen_member_and_ones_own_code_are_refused(uow):
    code = code_of(uow)
    uow.accounts.items["u_1"].frozen = True
    with pytest.raises(AccountFrozenError):
        credit(uow, code)
    with pytest.raises(ForbiddenError):
        credit(uow, code_of(uow, STAFF), request_id="req_0002")
    with pytest.raises(AccountFrozenError):
        issue_member_code("u_1", uow)
    assert uow.ledger == []


def test_a_credit_remembered_before_the_use_cases_replays_the_same_answer(uow):
    """Records live 48 hours: one written before the deploy holds the HTTP body, and must still replay."""
    code = code_of(uow)
    uow.member_codes.items[code].used_at = "2026-01-05T09:00:00.000+08:00"
    body = {"entry": {"id": "01KAVQ3J2G0000000000000000", "at": "2026-01-05T09:00:00.000+08:00", "kind": "earn",
                      "points": 25, "carbon_g": 9000.5, "behavior": "old_clothes", "source": "operator",
                      "ref": MERCHANT, "methodology": {"id": "LZ-old-clothes", "version": "2024.1"},
                      "balance_after": 35, "counted_via": None},
            "member": {"nickname": "小绿"}}
    key = IdempotencyKey(STAFF, "req_0001", CREDIT_ROUTE, {"member_code": code, "behavior": "old_clothes",
                                                            "quantity": "2.5"})
    uow.idempotency.records[key.key] = key.values(201, body) | {"format": None}
    assert shapes_collection.credit_json(credit(uow, code)) == body
    assert uow.ledger == []


def _on(monkeypatch, day: str) -> None:
    from datetime import date, datetime, time

    monkeypatch.setattr(clock, "now", lambda: datetime.combine(date.fromisoformat(day), time(12), clock.SHANGHAI))


def test_a_clerk_crediting_one_person_on_three_days_of_seven_goes_under_review(uow, monkeypatch):
    for n, day in enumerate(("2025-08-04", "2025-08-06")):
        _on(monkeypatch, day)
        credit(uow, code_of(uow), request_id=f"req_s{n}")
    assert uow.accounts.items[STAFF].review_since is None  # two days: a regular
    _on(monkeypatch, "2025-08-08")
    credit(uow, code_of(uow), request_id="req_s2")
    staff = uow.accounts.items[STAFF]
    assert staff.review_since and [r["rule"] for r in staff.review_rules] == ["staff_same_person"]
    assert "u_1" in staff.review_rules[0]["reason"] and uow.accounts.items["u_1"].review_since is None


def test_a_clerk_crediting_one_person_on_three_days_over_nine_is_not_a_pattern(uow, monkeypatch):
    for n, day in enumerate(("2025-08-04", "2025-08-08", "2025-08-12")):
        _on(monkeypatch, day)
        credit(uow, code_of(uow), request_id=f"req_n{n}")
    assert uow.accounts.items[STAFF].review_since is None
    assert uow.risk_memory.staff_days(f"staff-person#{STAFF}#u_1")[0] == [
        clock.parse_iso("2025-08-08T00:00:00+08:00").date(), clock.parse_iso("2025-08-12T00:00:00+08:00").date()]


def test_refusals_at_the_staff_ceiling_on_two_days_put_the_clerk_under_review(uow, monkeypatch):
    for n, day in enumerate(("2025-08-04", "2025-08-07")):
        _on(monkeypatch, day)
        uow.counters[f"credited#staff#{STAFF}#old_clothes#{day}"] = 199_000  # 2.5 kg more passes 200 kg
        with pytest.raises(DailyLimitReachedError) as refused:
            credit(uow, code_of(uow), request_id=f"req_c{n}")
        assert refused.value.details["cap"] == "staff"
    staff = uow.accounts.items[STAFF]
    assert [r["rule"] for r in staff.review_rules or []] == ["staff_ceiling"]
