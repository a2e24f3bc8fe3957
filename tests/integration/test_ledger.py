"""GET /v1/me/ledger and /v1/me/summary: newest first, tamper-proof cursors, traceable entries."""
from __future__ import annotations

from chalicelib.domain.caps import recompute
from chalicelib.services import catalog
from chalicelib.store.models import LedgerEntry
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.photos import evidence_for


def _earn(client, user, behavior="clean_plate", **fields):
    """An entry of `behavior`'s; a clean plate or garbage sorting with its photo, as the demo catalog requires."""
    fields = fields or evidence_for(client, user, behavior)
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior, **fields},
                        token=user["token"])
    assert status == 201, body
    return body["entry"]


def test_ledger_pages_newest_first_with_cursors(client, user):
    made = [_earn(client, user, b) for b in ("clean_plate", "clean_plate", "no_cutlery", "garbage_sorting")]
    seen, cursor = [], None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page = call(client, "GET", "/v1/me/ledger" + query, token=user["token"])
        assert status == 200
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [e["id"] for e in seen] == [e["id"] for e in reversed(made)]
    assert [e["balance_after"] for e in seen] == [14, 12, 10, 5]


def test_kind_filter(client, user):
    from admin.__main__ import main as admin

    _earn(client, user)
    assert admin(["points", "adjust", user["id"], "-3", "--reason", "test correction"]) == 0
    status, page = call(client, "GET", "/v1/me/ledger?kind=adjust", token=user["token"])
    assert status == 200
    assert [(e["kind"], e["points"], e["source"]) for e in page["items"]] == [("adjust", -3, "admin")]
    assert call(client, "GET", "/v1/me/ledger?kind=bogus", token=user["token"])[0] == 400


def test_forged_or_foreign_cursors_are_400(client, user, openid):
    for _ in range(3):
        _earn(client, user)
    cursor = call(client, "GET", "/v1/me/ledger?limit=1", token=user["token"])[1]["next_cursor"]
    assert cursor
    other = login(client, openid + "-other")
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for token, bad in ((user["token"], tampered), (user["token"], "!!!"), (other["token"], cursor)):
        status, body = call(client, "GET", f"/v1/me/ledger?cursor={bad}", token=token)
        assert (status, body["error"]["code"]) == (400, "INVALID_CURSOR")


def test_a_page_of_ledger_is_one_dynamodb_call(client, user):
    for _ in range(3):
        _earn(client, user)
    with DynamoDBCalls() as calls:
        status, _ = call(client, "GET", "/v1/me/ledger?limit=2", token=user["token"])
    assert status == 200
    assert calls.operations == ["Query"]


def test_limit_out_of_range_is_a_validation_error(client, user):
    for limit in ("0", "101", "abc", "-1"):
        status, body = call(client, "GET", f"/v1/me/ledger?limit={limit}", token=user["token"])
        assert (status, body["error"]["details"]["field"]) == (400, "limit")


def test_every_entry_is_recomputed_from_its_methodology_version_and_inputs(client, user):
    _earn(client, user)
    _earn(client, user, "green_parking", quantity=1, evidence={"odometer_km": 1000})
    _earn(client, user, "no_cutlery")
    entries = list(LedgerEntry.query(user["id"]))
    assert len(entries) == 3
    for entry in entries:
        rule = catalog.rule_version(entry.behavior, entry.methodology_version)
        assert rule.methodology_id == entry.methodology_id
        carbon, points = recompute(rule, entry.inputs)
        assert (carbon, points) == (entry.carbon_mg, entry.points)


def test_summary_by_behaviour_month_and_equivalents(client, user):
    for _ in range(2):
        _earn(client, user)
    _earn(client, user, "no_cutlery")
    status, summary = call(client, "GET", "/v1/me/summary?period=month", token=user["token"])
    assert status == 200
    assert summary["carbon_g"] == 333.72 and summary["points"] == 12
    by = {row["behavior"]: row for row in summary["by_behavior"]}
    plate = by["clean_plate"]
    assert (plate["count"], plate["carbon_g"], plate["name"]) == (2, 288.0, "光盘打卡")
    assert [m["carbon_g"] for m in summary["by_month"]] == [333.72]
    assert summary["equivalents"] == {"tree_days": round(333.72 / 49.3, 1), "car_km": round(333.72 / 200, 1)}
    for period in ("year", "all"):
        assert call(client, "GET", f"/v1/me/summary?period={period}", token=user["token"])[1]["carbon_g"] == 333.72
    assert call(client, "GET", "/v1/me/summary?period=decade", token=user["token"])[0] == 400


def test_behaviours_list_shows_rules_and_methodologies(client):
    status, body = call(client, "GET", "/v1/behaviors")
    assert status == 200
    rows = {row["code"]: row for row in body["items"]}
    assert rows["clean_plate"]["carbon_g_per_unit"] == 144.0
    assert rows["walk_steps"]["carbon_g_per_unit"] == 0.0164
    assert rows["walk_steps"]["channels"] == ["werun"]
    assert rows["garbage_sorting"]["methodology"]["estimate"] is True
    assert rows["clean_plate"]["methodology"]["source"].startswith("T/ACEF 031-2022")


def test_the_ledger_page_shows_each_entry_exactly_as_it_was_written(client, user):
    from admin.__main__ import main as admin
    from chalicelib.api.shapes import entry_json
    from chalicelib.store.repositories_ledger import line

    _earn(client, user)
    assert admin(["points", "adjust", user["id"], "2", "--reason", "test"]) == 0
    page = call(client, "GET", "/v1/me/ledger", token=user["token"])[1]["items"]
    stored = [entry_json(line(e)) for e in LedgerEntry.query(user["id"], scan_index_forward=False)]
    assert page == stored
    assert page[0]["methodology"] is None and page[1]["methodology"]["id"] == "ACEF-031-clean-plate"
