"""A flash sale on one goods (issue 19, item 4): the goods' stock split into `stock_shards` sub-items, the
container's memory of sold-out shards, and the shelf's short cache of the stock figure.

The race of many processes on one sharded goods is tests/races/test_market_races.py; these prove what one
container does, and what each costs in DynamoDB calls.
"""
from __future__ import annotations

import json
import uuid

import pytest

from admin import catalog_load
from admin.__main__ import main as admin
from chalicelib.domain.market import goods_from_catalog, shard_order
from chalicelib.services import stock_memory
from chalicelib.store.market import Redemption
from chalicelib.store.models import CatalogItem, IdempotencyRecord
from tests.support.api import DynamoDBCalls, call, hooked, login, request_id
from tests.support.clock import monotonic_at
from tests.support.market import (
    balance,
    give_points,
    load_catalog,
    new_goods,
    race_cancel,
    race_redeem,
    redeem,
    stock_left,
    stock_shards,
)
from tests.support.racer import race
from tests.support.reconcile import reconciled


class TablesCalled:
    """(operation, table) of each DynamoDB call this thread makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def _seen(self, params, model, **kwargs) -> None:
        self.calls.append((model.name, params.get("TableName")))

    def __enter__(self) -> TablesCalled:
        self._hook = hooked("provide-client-params.dynamodb", self._seen)
        self._hook.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hook.__exit__(*exc)


def request_starting_at(goods: dict, user: dict, shard: int) -> str:
    """A request_id whose redemption tries `shard` first (domain/market.shard_order)."""
    parsed = goods_from_catalog(goods)
    while True:
        rid = request_id()
        if shard_order(parsed, user["id"], rid)[0] == shard:
            return rid


def shelf_left(client, category: str) -> list[int]:
    status, body = call(client, "GET", f"/v1/market/goods?category={category}")
    assert status == 200, body
    return [g["stock_left"] for g in body["items"]]


# --- the catalog --------------------------------------------------------------------------------------------

def test_a_goods_loaded_with_stock_shards_spreads_its_stock_and_one_shard_keeps_todays_data():
    sharded = new_goods(stock=10, stock_shards=4)
    assert stock_shards(sharded["id"], 5) == {0: (3, 3), 1: (3, 3), 2: (2, 2), 3: (2, 2)}
    assert CatalogItem.get("goods", sharded["id"]).data["stock_shards"] == 4
    plain = new_goods(stock=10)  # no stock_shards: one stock item "goods#{id}", the catalog data as before
    assert stock_shards(plain["id"], 4) == {0: (10, 10)}
    assert "stock_shards" not in CatalogItem.get("goods", plain["id"]).data


def test_reloading_a_sharded_goods_keeps_what_each_shard_sold_and_spreads_what_is_left(client, user):
    give_points(user, 300)
    goods = new_goods(stock=8, stock_shards=4, per_user_limit=None)
    for shard in (1, 1, 3):
        status, body = redeem(client, user, goods["id"], request_starting_at(goods, user, shard))
        assert status == 201, body
    assert stock_shards(goods["id"], 4) == {0: (2, 2), 1: (0, 2), 2: (2, 2), 3: (1, 2)}
    load_catalog({"goods": [{**goods, "stock": 20}]})  # 3 sold, 17 left over 4 shards: 5, 4, 4, 4
    assert stock_shards(goods["id"], 4) == {0: (5, 5), 1: (4, 6), 2: (4, 4), 3: (4, 5)}
    load_catalog({"goods": [{**goods, "stock": 20, "stock_shards": 6}]})  # more shards: the 17 spread over 6
    shards = stock_shards(goods["id"], 7)
    assert [left for left, _ in shards.values()] == [3, 3, 3, 3, 3, 2] and sum(t for _, t in shards.values()) == 20
    assert stock_left(goods["id"], 6) == 17 and balance(client, user) == 300 - 90


def test_a_total_below_what_the_shards_sold_or_fewer_shards_is_a_clean_error(client, user, tmp_path, capsys):
    give_points(user, 100)
    goods = new_goods(stock=4, stock_shards=4, per_user_limit=None)
    for shard in (0, 2):
        assert redeem(client, user, goods["id"], request_starting_at(goods, user, shard))[0] == 201
    before = stock_shards(goods["id"], 4)
    for changed, message in (({"stock": 1}, "stock 1 is below the 2 already taken (sold); offer at least 2"),
                             ({"stock_shards": 2}, "stock_shards cannot go down from 4 to 2")):
        path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps({"goods": [{**goods, **changed}]}, ensure_ascii=False), encoding="utf-8")
        capsys.readouterr()
        assert admin(["load", str(path)]) == 1
        err = capsys.readouterr().err
        assert f"error: goods {goods['id']}: {message}" in err and "Traceback" not in err
    with pytest.raises(catalog_load.CommandError, match="already taken"):
        load_catalog({"goods": [{**goods, "stock": 1}]})
    assert stock_shards(goods["id"], 4) == before


# --- redeeming from a shard ---------------------------------------------------------------------------------

def test_a_redemption_of_sharded_goods_costs_one_read_and_one_transaction(client, user):
    give_points(user, 100)
    goods = new_goods(stock=40, stock_shards=8, per_user_limit=3)
    redeem(client, user, goods["id"])  # warms this container's catalog cache, as any earlier request would
    with DynamoDBCalls() as calls:
        status, body = redeem(client, user, goods["id"])
    assert status == 201, body
    assert calls.operations == ["GetItem", "TransactWriteItems"]


def test_an_empty_shard_makes_the_same_attempt_take_the_unit_from_another_and_a_cancel_gives_it_back_there(
        client, user):
    give_points(user, 100)
    goods = new_goods(stock=1, stock_shards=4)  # the one unit is in shard 0
    redeem(client, new_user(client, 100), new_goods()["id"])  # warms the catalog cache
    rid = request_starting_at(goods, user, 2)
    with DynamoDBCalls() as calls:
        status, body = redeem(client, user, goods["id"], rid)
    assert status == 201, body
    # the account once; shard 2 refuses; every shard read once; shard 0 sells, on the same read of the account
    assert calls.operations == ["GetItem", "TransactWriteItems", "BatchGetItem", "TransactWriteItems"]
    redemption_id = body["redemption"]["id"]
    assert int(Redemption.get(redemption_id, consistent_read=True).stock_shard) == 0
    assert redeem(client, user, goods["id"], rid) == (status, body)  # the retry replays the first answer
    assert call(client, "POST", f"/v1/me/redemptions/{redemption_id}/cancel", token=user["token"])[0] == 200
    assert stock_shards(goods["id"], 4) == {0: (1, 1), 1: (0, 0), 2: (0, 0), 3: (0, 0)}
    assert balance(client, user) == 100 and reconciled(user)["clean"]


def test_each_transaction_of_an_attempt_carries_its_own_request_token(client, user):
    """DynamoDB refuses a ClientRequestToken reused with other contents within ten minutes
    (IdempotentParameterMismatch; DynamoDB Local does not check it): the second shard's transaction, made on
    the same read of the account, must not reuse the first one's token, nor may a replayed request."""
    give_points(user, 100)
    goods = new_goods(stock=1, stock_shards=4)  # the one unit is in shard 0
    redeem(client, new_user(client, 100), new_goods()["id"])  # warms the catalog cache
    rid = request_starting_at(goods, user, 2)
    tokens: list[str] = []

    def remember(params, **_):
        tokens.append(params.get("ClientRequestToken"))

    with hooked("provide-client-params.dynamodb.TransactWriteItems", remember):
        assert redeem(client, user, goods["id"], rid)[0] == 201
        assert redeem(client, user, goods["id"], rid)[0] == 201  # replayed: its transaction is refused
    assert len(tokens) == 3 and all(tokens) and len(set(tokens)) == 3, tokens


# --- the sold-out memory ----------------------------------------------------------------------------------------

def new_user(client, points: int) -> dict:
    person = login(client, "o-flash-" + uuid.uuid4().hex[:12])
    give_points(person, points)
    return person


def test_a_sold_out_goods_is_refused_from_memory_without_reading_the_account_or_writing(client):
    goods = new_goods(stock=1, stock_shards=2)
    first, second, third = (new_user(client, 100) for _ in range(3))
    won_rid = request_id()
    won = redeem(client, first, goods["id"], won_rid)
    assert won[0] == 201, won
    assert redeem(client, second, goods["id"])[1]["error"]["code"] == "OUT_OF_STOCK"  # finds both shards empty
    with TablesCalled() as seen:
        status, body = redeem(client, third, goods["id"])
    assert (status, body["error"]["code"]) == (409, "OUT_OF_STOCK")
    assert seen.calls == [("GetItem", IdempotencyRecord.Meta.table_name)]  # only the caller's own record
    with TablesCalled() as seen:
        assert redeem(client, first, goods["id"], won_rid) == won  # a retry of the success still gets it
    assert seen.calls == [("GetItem", IdempotencyRecord.Meta.table_name)]
    assert [balance(client, p) for p in (first, second, third)] == [70, 100, 100]
    assert reconciled(first, second, third)["clean"]


def test_a_cancel_makes_the_unit_sellable_again_at_once_in_the_cancelling_container(client):
    goods = new_goods(stock=1, stock_shards=4)
    buyer, waiting = new_user(client, 100), new_user(client, 100)
    status, body = redeem(client, buyer, goods["id"])
    assert status == 201
    assert redeem(client, waiting, goods["id"])[0] == 409  # the container now remembers the goods sold out
    assert stock_memory.CONTAINER.sold_out(goods["id"], 4)
    cancel = call(client, "POST", f"/v1/me/redemptions/{body['redemption']['id']}/cancel", token=buyer["token"])
    assert cancel[0] == 200
    with DynamoDBCalls() as calls:
        status, again = redeem(client, waiting, goods["id"])
    assert status == 201, again
    assert calls.operations == ["GetItem", "TransactWriteItems"]
    assert stock_left(goods["id"], 4) == 0 and [balance(client, p) for p in (buyer, waiting)] == [100, 70]
    assert reconciled(buyer, waiting)["clean"]


def test_a_unit_given_back_in_another_container_sells_here_once_the_memory_lapses(client, monkeypatch):
    moment = 1000.0
    monotonic_at(monkeypatch, stock_memory, moment)
    goods = new_goods(stock=1, stock_shards=2)
    buyer, waiting = new_user(client, 100), new_user(client, 100)
    redemption_id = redeem(client, buyer, goods["id"])[1]["redemption"]["id"]
    assert redeem(client, waiting, goods["id"])[0] == 409
    [(kind, outcome)] = race(race_cancel, [(buyer["id"], redemption_id)])  # another process: its own memory
    assert (kind, outcome) == ("ok", (200, "")) and stock_left(goods["id"], 2) == 1
    monotonic_at(monkeypatch, stock_memory, moment + stock_memory.SOLD_OUT_SECONDS - 0.1)
    assert redeem(client, waiting, goods["id"])[1]["error"]["code"] == "OUT_OF_STOCK"  # still remembered here
    monotonic_at(monkeypatch, stock_memory, moment + stock_memory.SOLD_OUT_SECONDS)
    status, body = redeem(client, waiting, goods["id"])
    assert status == 201, body
    assert [balance(client, p) for p in (buyer, waiting)] == [100, 70] and reconciled(buyer, waiting)["clean"]


# --- the shelf ----------------------------------------------------------------------------------------------------

def test_two_shelf_reads_within_the_window_cost_one_read_of_the_summed_shards(client, monkeypatch):
    moment = 5000.0
    monotonic_at(monkeypatch, stock_memory, moment)
    category = "cat-" + uuid.uuid4().hex[:8]
    goods = new_goods(stock=10, stock_shards=4, category=category)
    assert call(client, "GET", "/v1/market/goods?limit=1")[0] == 200  # warms the catalog's goods and merchants
    with DynamoDBCalls() as calls:
        assert shelf_left(client, category) == [10]
        monotonic_at(monkeypatch, stock_memory, moment + stock_memory.SHELF_SECONDS - 0.1)
        assert shelf_left(client, category) == [10]
    assert calls.operations == ["BatchGetItem"]
    buyer = new_user(client, 100)
    [(_, outcome)] = race(race_redeem, [(buyer["id"], goods["id"], {"request_id": request_id()})])  # elsewhere
    assert outcome[0] == 201
    assert shelf_left(client, category) == [10]  # another container's sale shows when the window ends
    monotonic_at(monkeypatch, stock_memory, moment + stock_memory.SHELF_SECONDS)
    with DynamoDBCalls() as calls:
        assert shelf_left(client, category) == [9]
    assert calls.operations == ["BatchGetItem"]
    assert redeem(client, buyer, goods["id"])[0] == 201  # this container's own sale shows at once, unread
    with DynamoDBCalls() as calls:
        assert shelf_left(client, category) == [8]
    assert calls.operations == []
