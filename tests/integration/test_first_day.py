"""A newcomer's first day: what one day of self check-ins earns buys something in the demo catalog."""
from __future__ import annotations

import json
from pathlib import Path

from tests.support import photos
from tests.support.api import call, request_id
from tests.support.market import redeem

DEMO = json.loads((Path(__file__).resolve().parents[2] / "admin" / "demo_catalog.json").read_text("utf-8"))


def test_one_day_of_self_check_ins_buys_a_demo_goods_item(client, user):
    behaviors = call(client, "GET", "/v1/behaviors", token=user["token"])[1]["items"]
    for behavior in (b for b in behaviors if "checkin" in b["channels"]):
        evidence = {"quantity": 1, "evidence": {"odometer_km": 12034.5}} if behavior["code"] == "green_parking" else {}
        for _ in range(10):  # until the day's cap answers 429
            if "photo" in behavior["evidence"]:  # a fresh photo each time (clean plate, garbage sorting)
                evidence = {"evidence": {"upload_id": photos.upload(client, user)}}
            status, body = call(client, "POST", "/v1/checkins", {"behavior": behavior["code"],
                                "request_id": request_id(), **evidence}, token=user["token"])
            if status != 201:
                assert status == 429, body
                break
    earned = call(client, "GET", "/v1/me", token=user["token"])[1]["points"]
    assert earned > 0
    demo_goods = {g["id"] for g in DEMO["goods"]}
    shelf = call(client, "GET", "/v1/market/goods?limit=100", token=user["token"])[1]["items"]
    affordable = sorted((g for g in shelf if g["id"] in demo_goods and g["points_price"] <= earned
                         and g["stock_left"] > 0), key=lambda g: g["points_price"])
    assert affordable, f"{earned} points buy none of {sorted((g['points_price'], g['id']) for g in shelf)}"
    status, body = redeem(client, user, affordable[0]["id"])
    assert status == 201, body
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == earned - affordable[0]["points_price"]
