"""Collection points: a user shows a member code, staff of a recycling point credit old clothes by the kilogram.

o-staff-2 is staff of m-recycle, the demo catalog's collection point; o-staff-1 (m-cafe) is not one.
Tests that make failed lookups use staff of a collection point of their own.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

from admin.__main__ import main as admin
from admin.accounts import show
from chalicelib.domain import clock, ids
from chalicelib.services import catalog
from chalicelib.store.models import LedgerEntry
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.market import balance, new_merchant, staff_login
from tests.support.reconcile import reconciled


def member_code(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me/member-code", token=user["token"])
    assert status == 200, body
    return body


def credit(client, staff, code, behavior="old_clothes", quantity=2.5, rid=None):
    body = {"request_id": rid or request_id(), "member_code": code, "behavior": behavior, "quantity": quantity}
    return call(client, "POST", "/v1/operator/credit", body, token=staff["token"])


def collection_point(client, staff: int = 1, **ceilings) -> list[dict]:
    _, openids = new_merchant(staff, collection_point=True, **ceilings)
    return [staff_login(client, openid) for openid in openids]


def friends(client, openid, n: int) -> list[dict]:
    return [login(client, f"{openid}-f{i}") for i in range(n)]


def test_a_member_code_is_unguessable_and_lives_five_minutes(client, user):
    first, second = member_code(client, user), member_code(client, user)
    assert re.match(f"^[{ids.ALPHABET}]{{12}}$", first["member_code"]) and first["member_code"] != second["member_code"]
    assert first["qr_payload"] == "GS:M:" + first["member_code"]
    lifetime = clock.parse_iso(first["expires_at"]) - clock.now()
    assert timedelta(minutes=4, seconds=50) < lifetime <= timedelta(minutes=5)


def test_a_collection_point_credits_old_clothes_by_the_kilogram(client, user):
    recycler = staff_login(client, "o-staff-2")
    status, body = credit(client, recycler, member_code(client, user)["member_code"], quantity=2.5)
    assert status == 201, body
    entry = body["entry"]
    assert (entry["kind"], entry["behavior"], entry["source"]) == ("earn", "old_clothes", "operator")
    assert (entry["points"], entry["carbon_g"], entry["balance_after"]) == (60, 3200.0, 60)  # 30/kg, 1.28 kg CO2e/kg
    assert entry["methodology"] == {"id": "LZ-old-clothes", "version": "2024.1"}
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert (me["points"], me["carbon_g"]) == (60, 3200.0)
    assert reconciled(user)["clean"]


def test_a_member_code_credits_only_once(client, user):
    recycler = staff_login(client, "o-staff-2")
    code = member_code(client, user)["member_code"]
    assert credit(client, recycler, code)[0] == 201
    status, body = credit(client, recycler, code)
    assert (status, body["error"]["code"]) == (410, "CODE_EXPIRED")
    assert balance(client, user) == 60


def test_the_same_request_id_twice_credits_once(client, user):
    recycler = staff_login(client, "o-staff-2")
    code, rid = member_code(client, user)["member_code"], request_id()
    first, second = credit(client, recycler, code, rid=rid), credit(client, recycler, code, rid=rid)
    assert first == second and first[0] == 201
    assert balance(client, user) == 60


def test_request_ids_are_scoped_to_the_staff_member(client, user, openid):
    first_staff, second_staff = collection_point(client, staff=2)
    other = login(client, openid + "-b")
    rid = request_id()
    assert credit(client, first_staff, member_code(client, user)["member_code"], rid=rid)[0] == 201
    assert credit(client, second_staff, member_code(client, other)["member_code"], rid=rid)[0] == 201
    assert (balance(client, user), balance(client, other)) == (60, 60)


def test_staff_of_a_shop_that_is_no_collection_point_cannot_credit(client, user):
    code = member_code(client, user)["member_code"]
    status, body = credit(client, staff_login(client, "o-staff-1"), code)
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert credit(client, staff_login(client, "o-staff-2"), code)[0] == 201  # the code was not spent


def test_a_plain_user_cannot_credit(client, user, openid):
    other = login(client, openid + "-b")
    status, body = credit(client, other, member_code(client, user)["member_code"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert balance(client, user) == 0


def test_staff_cannot_credit_their_own_member_code(client):
    (staff,) = collection_point(client)
    status, body = credit(client, staff, member_code(client, staff)["member_code"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert balance(client, staff) == 0


def test_a_behaviour_without_the_operator_channel_is_refused(client, user):
    status, body = credit(client, staff_login(client, "o-staff-2"), member_code(client, user)["member_code"],
                          behavior="clean_plate", quantity=None)
    assert (status, body["error"]["code"]) == (422, "NOT_OPERATOR_CREDITABLE")


def test_a_credit_that_would_pass_the_daily_cap_is_refused_whole_and_keeps_the_code(client, user):
    recycler = staff_login(client, "o-staff-2")
    assert credit(client, recycler, member_code(client, user)["member_code"], quantity=40)[0] == 201
    code = member_code(client, user)["member_code"]
    status, body = credit(client, recycler, code, quantity=20)  # 60 kg in a day passes the 50 kg ceiling
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")
    assert balance(client, user) == 1200
    assert credit(client, recycler, code, quantity=10)[0] == 201
    assert balance(client, user) == 1500


def test_an_expired_member_code_is_gone(client, user, monkeypatch):
    code = member_code(client, user)["member_code"]
    later = clock.now() + timedelta(minutes=6)
    monkeypatch.setattr(clock, "now", lambda: later)
    status, body = credit(client, staff_login(client, "o-staff-2"), code)
    assert (status, body["error"]["code"]) == (410, "CODE_EXPIRED")


def test_an_unknown_member_code_is_not_found(client):
    (staff,) = collection_point(client)
    status, body = credit(client, staff, "7ZZZZZZZZZZZ")
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")


def test_a_frozen_account_gets_no_member_code(client, user):
    assert admin(["user", "freeze", user["id"], "--reason", "test: suspected fraud"]) == 0
    status, body = call(client, "GET", "/v1/me/member-code", token=user["token"])
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_FROZEN")


def test_wrong_member_codes_lock_the_staff_member_out_even_for_the_right_code(client, user):
    guesser, colleague = collection_point(client, staff=2)
    code = member_code(client, user)["member_code"]
    for n in range(10):
        status, body = credit(client, guesser, f"7{n:0>11}")
        assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND"), n
    status, body = credit(client, guesser, "7ZZZZZZZZZZZ")
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    status, body = credit(client, guesser, code)  # the right code: a guesser learns nothing more
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert body["error"]["details"]["retry_after_seconds"] > 0
    assert balance(client, user) == 0
    assert credit(client, colleague, code)[0] == 201  # the code was not spent; other staff are not locked out
    assert balance(client, user) == 60


def test_one_staff_member_cannot_credit_friends_past_the_staff_ceiling(client, openid):
    insider, colleague = collection_point(client, staff=2, daily_staff_quantity_max=60, daily_quantity_max=1000)
    first, second, third = friends(client, openid, 3)
    assert credit(client, insider, member_code(client, first)["member_code"], quantity=50)[0] == 201
    assert credit(client, insider, member_code(client, second)["member_code"], quantity=10)[0] == 201  # 60 kg today
    code = member_code(client, third)["member_code"]
    status, body = credit(client, insider, code, quantity=1)
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")
    assert body["error"]["details"]["cap"] == "staff"
    assert (balance(client, first), balance(client, second), balance(client, third)) == (1500, 300, 0)
    assert list(LedgerEntry.query(third["id"])) == []  # refused whole: nothing written
    assert reconciled(first, second, third)["clean"]
    assert credit(client, colleague, code, quantity=1)[0] == 201  # the code was kept; the colleague has room
    assert balance(client, third) == 30


def test_the_merchant_ceiling_counts_every_staff_member_of_the_merchant(client, openid):
    first_staff, second_staff = collection_point(client, staff=2, daily_staff_quantity_max=60, daily_quantity_max=100)
    people = friends(client, openid, 4)
    assert credit(client, first_staff, member_code(client, people[0])["member_code"], quantity=50)[0] == 201
    assert credit(client, first_staff, member_code(client, people[1])["member_code"], quantity=10)[0] == 201
    assert credit(client, second_staff, member_code(client, people[2])["member_code"], quantity=40)[0] == 201
    status, body = credit(client, second_staff, member_code(client, people[3])["member_code"], quantity=0.5)
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")  # 40 kg by this staff member, 100 in all
    assert body["error"]["details"]["cap"] == "merchant"
    assert balance(client, people[3]) == 0 and list(LedgerEntry.query(people[3]["id"])) == []
    assert reconciled(*people)["clean"]
    (elsewhere,) = collection_point(client, daily_staff_quantity_max=60, daily_quantity_max=100)
    assert credit(client, elsewhere, member_code(client, people[3])["member_code"], quantity=0.5)[0] == 201


def test_a_credit_larger_than_a_ceiling_is_refused_without_a_write(client, user):
    (staff,) = collection_point(client, daily_staff_quantity_max=5, daily_quantity_max=1000)
    status, body = credit(client, staff, member_code(client, user)["member_code"], quantity=5.5)
    assert (status, body["error"]["code"], body["error"]["details"]["cap"]) == (429, "DAILY_LIMIT_REACHED", "staff")
    assert balance(client, user) == 0


def test_a_collection_point_without_ceilings_gets_the_contracts_defaults(client, openid):
    (staff,) = collection_point(client)  # 200 a staff member, 2,000 the merchant (operations.md)
    people = friends(client, openid, 5)
    for person in people[:4]:
        assert credit(client, staff, member_code(client, person)["member_code"], quantity=50)[0] == 201
    status, body = credit(client, staff, member_code(client, people[4])["member_code"], quantity=0.001)
    assert (status, body["error"]["details"]["cap"]) == (429, "staff")


def test_the_entry_names_the_staff_member_for_operators_and_the_merchant_for_the_member(client, user):
    merchant_id, openids = new_merchant(1, collection_point=True)
    staff = staff_login(client, openids[0])
    assert credit(client, staff, member_code(client, user)["member_code"])[0] == 201
    (entry,) = LedgerEntry.query(user["id"])
    assert (entry.inputs["staff_user_id"], entry.inputs["merchant_id"]) == (staff["id"], merchant_id)
    (shown,) = show(user["id"])["recent_entries"]
    assert shown["credited_by"] == {"merchant_id": merchant_id, "staff_user_id": staff["id"]}
    status, export = call(client, "GET", "/v1/me/export", token=user["token"])
    assert status == 200
    (exported,) = [e for e in export["ledger"] if e["source"] == "operator"]
    assert exported["credited_at"] == {"merchant_id": merchant_id, "name": "测试商户"}
    text = json.dumps(export, ensure_ascii=False)
    assert staff["id"] not in text and openids[0] not in text


def test_a_credit_is_one_consistent_read_of_each_key_and_one_transaction(client, user):
    staff = staff_login(client, "o-staff-2")
    code = member_code(client, user)["member_code"]
    call(client, "GET", "/v1/behaviors")  # the catalog cache is warm, as on a warm container
    with DynamoDBCalls() as calls:
        assert credit(client, staff, code)[0] == 201
    assert calls.operations == ["GetItem", "GetItem", "TransactWriteItems"]  # member code, account, the credit


def test_the_catalog_refuses_a_ceiling_that_is_not_a_positive_quantity(tmp_path, capsys):
    merchant = {"id": "m-t-" + uuid.uuid4().hex[:8], "name": "回收点", "staff_openids": [], "collection_point": True}
    for bad in ({"daily_staff_quantity_max": 0}, {"daily_quantity_max": -5}, {"daily_quantity_max": "lots"},
                {"daily_staff_quantity_max": True}, {"daily_quantity_max": 1.0005}):
        path = tmp_path / "catalog.json"
        path.write_text(json.dumps({"merchants": [{**merchant, **bad}]}), encoding="utf-8")
        assert admin(["load", str(path)]) == 1, bad
        assert next(iter(bad)) in capsys.readouterr().err
    path.write_text(json.dumps({"merchants": [{**merchant, "daily_staff_quantity_max": 80.5,
                                               "daily_quantity_max": 500}]}), encoding="utf-8")
    assert admin(["load", str(path)]) == 0
    assert catalog.merchants()[merchant["id"]]["daily_staff_quantity_max"] == 80.5
