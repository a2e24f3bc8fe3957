"""GET /v1/me/export: everything held about the caller (profile, consents and their history, the whole ledger,
redemptions, adoptions, orgs), read by a bounded set of Queries on the caller's keys, with no secret in it."""
from __future__ import annotations

import json

from tests.support.api import DynamoDBCalls, call
from tests.support.privacy import busy_user

SOURCES = {"checkin", "werun", "transit", "market", "tree", "operator", "admin"}


def whole_ledger(client, user) -> list[dict]:
    entries, cursor = [], ""
    while True:
        status, body = call(client, "GET", f"/v1/me/ledger?limit=100&cursor={cursor}", token=user["token"])
        assert status == 200, body
        entries += body["items"]
        if not body["next_cursor"]:
            return entries
        cursor = body["next_cursor"]


def test_the_export_of_a_user_who_used_every_feature_is_complete(client, stack):
    user = busy_user(client, stack)
    with DynamoDBCalls() as calls:
        status, export = call(client, "GET", "/v1/me/export", token=user["token"])
    assert status == 200, export
    profile = call(client, "GET", "/v1/me", token=user["token"])[1]

    mine = export["profile"]
    assert (mine["id"], mine["nickname"], mine["points"], mine["carbon_g"]) == (
        user["id"], user["nickname"], profile["points"], profile["carbon_g"])
    assert mine["wechat"]["openid"] == user["openid"] and mine["wechat"]["last_login_at"]
    assert sum(mine["points_lots"].values()) >= mine["points"]

    consents = {c["id"]: c for c in export["consents"]}
    assert consents["transit"]["status"] == "bound"
    assert consents["transit"]["history"][0]["partner_ref"] == user["transit_ref"]
    assert consents["bank"]["status"] == "revoked"
    assert [h["event"] for h in consents["bank"]["history"]] == ["bound", "revoked", "revoked_at_partner"]

    ledger = export["ledger"]
    assert [e["id"] for e in ledger] == [e["id"] for e in whole_ledger(client, user)]  # every entry, in order
    assert {e["source"] for e in ledger} >= SOURCES
    assert {e["kind"] for e in ledger} >= {"earn", "spend", "refund", "adjust"}
    assert ledger[0]["balance_after"] == profile["points"]
    ride = next(e for e in ledger if e["source"] == "transit")
    assert ride["inputs"]["mode"] == "bus" and ride["day"]
    assert {row["behavior"] for row in export["summaries"]} >= {"clean_plate", "walk_steps", "bus_ride"}

    redemptions = {r["id"]: r for r in export["redemptions"]}
    ids = user["redemptions"]
    assert set(redemptions) == set(ids.values())
    assert redemptions[ids["cancelled"]]["status"] == "cancelled" and redemptions[ids["unused"]]["status"] == "issued"
    phone = user["phone"]
    assert redemptions[ids["parcel"]]["address"]["phone"] == phone[:3] + "****" + phone[-4:]

    (adoption,) = export["adoptions"]
    assert adoption["id"] == user["adoption"] and adoption["certificate"]["adopter_nickname"] == user["nickname"]
    assert [o["id"] for o in export["orgs"]] == [user["org"]["id"]] and export["orgs"][0]["joined_at"]

    text = json.dumps(export, ensure_ascii=False)
    for secret in (phone, stack.wechat.session_key(user["openid"]), "session_key", "sealed", '"v1:', '"v2:'):
        assert secret not in text, secret
    assert "Scan" not in calls.operations and len(calls) <= 12, calls.operations  # a bounded set of key reads


def test_an_export_holds_only_the_caller_s_data(client, stack, user):
    other = busy_user(client, stack)
    status, export = call(client, "GET", "/v1/me/export", token=user["token"])
    assert status == 200
    assert export["ledger"] == [] and export["redemptions"] == [] and export["adoptions"] == []
    assert other["id"] not in json.dumps(export) and other["nickname"] not in json.dumps(export, ensure_ascii=False)


def test_an_export_needs_a_token(client):
    status, body = call(client, "GET", "/v1/me/export")
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
