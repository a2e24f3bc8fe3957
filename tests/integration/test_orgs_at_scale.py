"""The orgs board at 100,000 organizations (issue 19 item 1): one row per org, a top-100 board item far
under DynamoDB's 400 KB (the old single item held every catalog org's totals: 100,000 of them pass it many
times over), the users board built in the same run, and GET /v1/orgs paged over all of them."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from chalicelib.api.shapes_boards import place_json
from chalicelib.domain import clock
from chalicelib.domain.ids import stable_shard
from chalicelib.domain.ranking import PARTS, TOP
from chalicelib.services import boards, catalog
from chalicelib.store import board_marks
from chalicelib.store.aggregates import Board, Total
from tests.support.api import DynamoDBCalls, call

ORGS = 100_000
ACTIVE = ORGS // 10


@pytest.fixture
def many_orgs(monkeypatch):
    """100,000 orgs in the catalog, held in this process's catalog cache (so no other test lists them)."""
    orgs = {f"o-scale-{n:06d}": {"id": f"o-scale-{n:06d}", "name": f"规模组织{n}", "type": ("enterprise", "school",
                                 "group")[n % 3], "invite_sha256": "0" * 64} for n in range(ORGS)}
    monkeypatch.setitem(catalog._cache, "org", (time.monotonic() + 86400, orgs))
    yield orgs
    boards.forget()


def _load_parts(orgs: dict) -> str:
    """In DynamoDB Local, through batch writes, one part of the carbon of every tenth org (most orgs count
    nothing in a given period) in a period of this test's own, so no other test's board reads them: org n
    has 1 g per twenty orgs below it, so the active orgs tie two by two. Returns the period key."""
    key = f"t{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    with Total.batch_write() as batch:
        for n, org_id in enumerate(orgs):
            if n % 10 == 0:
                part = n % PARTS
                batch.save(Total(f"o#{org_id}#{part:02d}", key, value=1000 * (n // 20 + 1),
                                 board_shard=f"orgparts#{key}#{part:02d}"))
        for n in range(3):  # three people on the users board of the same period
            batch.save(Total(f"u#u_scale{n}", key, value=5000 * (n + 1), board_shard=f"users#{key}#{n:02d}"))
    print(f"loaded {ACTIVE} org parts in {time.monotonic() - started:.1f} s")
    return key


def test_both_boards_are_rebuilt_at_100000_orgs_and_the_orgs_board_stays_small(many_orgs):
    key = _load_parts(many_orgs)
    board_marks.mark_one(0, "orgs", key)  # a marker and its flag, as a join writes them
    board_marks.mark_one(1, "users", key)
    started = time.monotonic()
    assert boards.materialize_dirty(clock.now()).get("failed") is None
    print(f"built both boards in {time.monotonic() - started:.1f} s")
    built = Board.get("orgs", key).data
    assert len(json.dumps(built, ensure_ascii=False).encode()) < 40_000  # the top 100 and a histogram
    assert [row[0] for row in built["items"][:4]] == [1, 1, 3, 3] and len(built["items"]) == TOP
    assert {row[1] for row in built["items"][:2]} == {"o-scale-099990", "o-scale-099980"}
    assert built["items"][0][3] == 1000 * 5_000 and sum(built["histogram"].values()) == ACTIVE
    assert built["count"] == ORGS
    people = Board.get("users", key).data
    assert [(row[0], row[1], row[3]) for row in people["items"]] == [
        (1, "u_scale2", 15000), (2, "u_scale1", 10000), (3, "u_scale0", 5000)]
    # one row per org, each its summed total: a page of them is one BatchGetItem
    sample = [f"o-scale-{n:06d}" for n in (0, 1, 10, 20, 50_000, 99_990)]
    with DynamoDBCalls() as calls:
        rows = boards.org_rows(sample, key)
    assert calls.operations == ["BatchGetItem"]
    assert [rows[o][0] for o in sample] == [1000, 0, 1000, 2000, 1000 * 2_501, 1000 * 5_000]
    row = Total.get("org#o-scale-000020", key)
    assert row.board_shard == f"orgrows#{key}#{stable_shard('o-scale-000020', PARTS):02d}"
    # an org of the caller's far below the top: its own total, ranked from the histogram, flagged approximate
    boards.forget()
    with DynamoDBCalls() as calls:
        data = boards._orgs_board_with_rows(key, ["o-scale-000100"])
        me = place_json(boards._my_org(["o-scale-000100"], data, key))  # the JSON GET /v1/leaderboards/orgs shows
    assert calls.operations == ["BatchGetItem"]  # the board and the caller's org rows together
    assert (me["id"], me["carbon_g"], me["approximate"]) == ("o-scale-000100", 6.0, True)
    # 9,988 orgs have more; its bucket holds it and its tie: the competition rank 9,989 and the range
    assert (me["rank"], me["rank_from"], me["rank_to"], me["rank_is"]) == (9_989, 9_989, 9_990, "best_bound")
    # built again with nothing changed: no row is written again
    with DynamoDBCalls() as calls:
        boards.build("orgs", key)
    assert "BatchWriteItem" not in calls.operations


def test_the_org_list_pages_through_100000_orgs_a_page_at_a_time(client, many_orgs):
    orgs = many_orgs
    seen, cursor, pages = [], None, 0
    with DynamoDBCalls() as calls:
        status, body = call(client, "GET", "/v1/orgs?type=school&limit=100")
    assert status == 200 and len(body["items"]) == 100 and body["next_cursor"]
    assert calls.operations == ["BatchGetItem"]  # the page's rows
    while pages < 5:
        path = "/v1/orgs?type=school&limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, body = call(client, "GET", path)
        assert status == 200
        seen += [org["id"] for org in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
    schools = sorted(o for o, org in orgs.items() if org["type"] == "school")
    assert seen == schools[:500] and cursor
