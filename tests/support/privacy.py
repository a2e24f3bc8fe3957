"""Helpers of the privacy and points-expiry tests: a clock set to another moment, raw reads of every table."""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.store.tables import ALL_MODELS
from chalicelib.store.tx import connection


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The app believes it is `moment` (a second later at each reading, so entries keep their order)."""
    ticks = itertools.count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: moment + timedelta(seconds=next(ticks)))
        yield


def shanghai(text: str) -> datetime:
    """"2026-01-01T00:00:00" in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


def raw_items_containing(*needles: str) -> list[tuple[str, str]]:
    """Every stored item, of every table, with one of `needles` in any of its values: (table, item).
    Reads the tables as they are, with the low-level client (no model hides an attribute), and looks inside
    JSON-encoded values too (PynamoDB's JSONAttribute escapes non-ASCII text as \\uXXXX)."""
    client, found = connection().client, []
    for model in ALL_MODELS:
        pages = client.get_paginator("scan").paginate(TableName=model.Meta.table_name)
        for page in pages:
            for item in page.get("Items", []):
                text = "\n".join(_texts(item))
                if any(needle in text for needle in needles):
                    found.append((model.Meta.table_name, text[:300]))
    return found


def _texts(value) -> list[str]:
    """Every string inside a DynamoDB JSON value, and the decoded form of those that hold JSON."""
    if isinstance(value, dict):
        return [text for part in value.values() for text in _texts(part)]
    if isinstance(value, list):
        return [text for part in value for text in _texts(part)]
    if not isinstance(value, str):
        return [str(value)]
    try:
        decoded = json.loads(value)
    except ValueError:
        return [value]
    return [value, json.dumps(decoded, ensure_ascii=False)]


def raw_item(model, **key) -> dict | None:
    """One item as stored (attribute name -> DynamoDB JSON value), consistently read; None when absent."""
    typed = {name: ({"N": str(value)} if isinstance(value, int) else {"S": value}) for name, value in key.items()}
    return connection().client.get_item(TableName=model.Meta.table_name, Key=typed, ConsistentRead=True).get("Item")


def busy_user(client, stack) -> dict:
    """A new user who has used every feature: nickname, check-in, WeChat Sports, bus rides (bound), the bank
    (bound, then revoked), an organization, points, three redemptions (one cancelled, one physical with a
    delivery address), an adopted tree and a collection point's credit. Returns what a test checks against."""
    import random
    import uuid

    from chalicelib.store.trees import Adoption
    from tests.support.aggregates import join, make_orgs
    from tests.support.api import call, login, request_id
    from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login
    from tests.support.partners import bind, sync

    openid = "o-" + uuid.uuid4().hex[:16]
    user = login(client, openid)
    token = user["token"]
    nickname = "全功能" + uuid.uuid4().hex[:6]
    assert call(client, "PATCH", "/v1/me", {"nickname": nickname}, token=token)[0] == 200
    from tests.support.photos import evidence_for

    assert call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                 **evidence_for(client, user, "clean_plate")}, token=token)[0] == 201
    day = clock.business_day(clock.now())
    start = int(datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI).timestamp())
    steps = stack.wechat.werun(openid, [{"timestamp": start, "step": 12345}])
    assert call(client, "POST", "/v1/werun/sync", steps, token=token)[0] == 200
    transit_ref = bind(client, stack, user, "transit")
    stack.transit.add_ride(transit_ref)
    assert sync(client, user, "transit")[1]["imported"] == 1
    bind(client, stack, user, "bank")
    assert call(client, "DELETE", "/v1/partners/bank/consent", token=token)[0] == 200
    (org,) = make_orgs("enterprise")
    assert join(client, user, org)[0] == 200
    give_points(user, 1000)
    coupon = new_goods(points_price=30)
    parcel = new_goods(kind="physical", points_price=40, cancellable=False)
    phone = "139" + "".join(random.choices("0123456789", k=8))
    detail = "绿" + uuid.uuid4().hex[:6] + "号楼3单元"  # unique, down to the 4 characters a masked copy keeps
    address = {"name": "张三丰", "phone": phone, "region": "四川省泸州市江阳区", "detail": detail}
    cancelled = redeem(client, user, coupon["id"])[1]["redemption"]["id"]
    assert call(client, "POST", f"/v1/me/redemptions/{cancelled}/cancel", token=token)[0] == 200
    unused = redeem(client, user, coupon["id"])[1]["redemption"]["id"]
    status, body = redeem(client, user, parcel["id"], address=address)
    assert status == 201, body
    parcel_id = body["redemption"]["id"]
    status, body = call(client, "POST", "/v1/trees/t-dawn-redwood-2026/adopt", {"request_id": request_id()},
                        token=token)
    assert status == 201, body
    adoption = body["adoption"]["id"]
    Adoption(adoption).update(actions=[Adoption.accrual_shard.remove()])  # no daily accrual for other tests
    _, staff_openids = new_merchant(1, collection_point=True)
    staff = staff_login(client, staff_openids[0])
    code = call(client, "GET", "/v1/me/member-code", token=token)[1]["member_code"]
    credit = {"request_id": request_id(), "member_code": code, "behavior": "old_clothes", "quantity": 2.5}
    assert call(client, "POST", "/v1/operator/credit", credit, token=staff["token"])[0] == 201
    return {**user, "nickname": nickname, "org": org, "phone": phone, "address": address,
            "transit_ref": transit_ref, "adoption": adoption,
            "redemptions": {"cancelled": cancelled, "unused": unused, "parcel": parcel_id}}
