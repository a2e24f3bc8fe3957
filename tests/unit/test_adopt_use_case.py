"""adopt_tree over the in-memory unit of work (tests/unit/fakes_trees.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_trees.py, tests/races/test_tree_races.py.
"""
from __future__ import annotations

import pytest

from chalicelib.api.shapes_trees import adoption_result_json
from chalicelib.domain.commands_trees import AdoptTree
from chalicelib.domain.results_trees import AdoptionResult
from chalicelib.errors import AccountFrozenError, InsufficientPointsError, SoldOutError
from chalicelib.services import trees
from chalicelib.store import results
from chalicelib.store.idempotency import IdempotencyKey
from tests.unit.fakes_trees import InMemoryTreesUnitOfWork, TreeAccount

REDWOOD = "t-dawn-redwood-2026"  # admin/demo_catalog.json


@pytest.fixture
def uow() -> InMemoryTreesUnitOfWork:
    uow = InMemoryTreesUnitOfWork()
    uow.accounts.add(TreeAccount("u_1", points=5000, nickname="小绿"))
    return uow


def adopt(uow, request_id="req_0001", tree_id=REDWOOD) -> AdoptionResult:
    return trees.adopt_tree(AdoptTree("u_1", request_id, tree_id), uow)


def test_adopting_spends_the_price_takes_one_tree_and_records_the_adoption_under_its_certificate(uow):
    tree = uow.catalog.tree(REDWOOD)
    stock = uow.stock[tree.stock_key]
    result = adopt(uow)
    number = result.adoption.adoption_id
    assert (result.entry.kind, result.entry.points, result.points) == ("spend", -tree.points_price,
                                                                       5000 - tree.points_price)
    assert result.entry.ref == number and uow.ledger[0].inputs == {"tree_id": REDWOOD, "certificate_no": number}
    assert uow.adoptions.items[number] == result.adoption and result.adoption.adopter_name == "小绿"
    assert result.adoption.accrued_through == result.adoption.adopted_day and result.adoption.accrued_mg == 0
    assert uow.stock[tree.stock_key] == stock - 1 and uow.commits == 1


def test_a_retried_adoption_returns_the_first_certificate_and_spends_once(uow):
    first = adopt(uow)
    assert adopt(uow) == first
    assert len(uow.adoptions.items) == 1 and uow.commits == 1


def test_the_last_tree_goes_to_one_adoption_and_the_next_is_sold_out(uow):
    uow.stock["tree#" + REDWOOD] = 1
    first = adopt(uow)
    with pytest.raises(SoldOutError):
        adopt(uow, request_id="req_0002")
    assert uow.accounts.items["u_1"].points == first.points and len(uow.ledger) == 1


def test_a_certificate_number_already_taken_draws_another(uow, monkeypatch):
    taken = adopt(uow).adoption.adoption_id
    draws = iter([taken, taken, "GS-2026-FRESH000"])
    monkeypatch.setattr(trees, "certificate_number", lambda year: next(draws))
    result = adopt(uow, request_id="req_0002")
    assert result.adoption.adoption_id == "GS-2026-FRESH000"
    assert uow.adoptions.items[taken].request_id == "req_0001" and len(uow.adoptions.items) == 2


def test_a_frozen_account_or_too_few_points_write_nothing(uow):
    uow.accounts.items["u_1"].frozen = True
    with pytest.raises(AccountFrozenError):
        adopt(uow)
    uow.accounts.items["u_1"].frozen = False
    uow.accounts.items["u_1"].points = 1
    with pytest.raises(InsufficientPointsError):
        adopt(uow)
    assert uow.ledger == [] and uow.adoptions.items == {} and uow.commits == 0


def test_an_adoption_remembered_by_the_code_before_the_use_case_replays_the_same_answer(uow):
    """Records live 48 hours: one written before the deploy holds the 201 body, and must still replay it."""
    body = adoption_result_json(adopt(_other(), "req_0001"))
    key = IdempotencyKey("u_1", "req_0001", trees.ROUTE, {"tree_id": REDWOOD})
    uow.idempotency.records[key.key] = key.values(201, body) | {"format": None}
    assert adoption_result_json(adopt(uow)) == body
    assert uow.ledger == [] and uow.adoptions.items == {} and uow.accounts.items["u_1"].points == 5000


def test_a_remembered_adoption_replays_from_its_record_and_stays_under_one_kilobyte(uow):
    """A transaction's write costs 2 WRU per KB: the record keeping the result must not cross 1 KB."""
    user_id, request_id = "u_" + "X" * 24, "r" * 64  # ids as long as real ones can be
    uow.accounts.add(TreeAccount(user_id, points=5000, nickname="很长的昵称" * 4))
    result = trees.adopt_tree(AdoptTree(user_id, request_id, REDWOOD), uow)
    key = IdempotencyKey(user_id, request_id, trees.ROUTE, {"tree_id": REDWOOD})
    record = key.record_values(**results.encode(result))
    assert record["format"] == "adoption/1"
    assert results.decode(record["format"], None, record["body"], record["route"], user_id, request_id) == result
    assert sum(len(name) + len(str(value).encode()) for name, value in record.items()) < 1000


def _other() -> InMemoryTreesUnitOfWork:
    other = InMemoryTreesUnitOfWork()
    other.accounts.add(TreeAccount("u_1", points=5000, nickname="小绿"))
    return other
