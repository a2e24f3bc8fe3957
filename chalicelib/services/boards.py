"""Leaderboards: built by a job from the ranking index, read with one GetItem (cached per container).

A board ("users", "orgs", "org-{id}") of one period is rebuilt when the fold has changed it: 16 (users)
or 4 (an org) Queries of the ranking index, 100 items each, merged into the top 100, plus the rank
histogram's 16 parts in one BatchGetItem. A reader gets the board with one GetItem (cached 30 s) and their own
total with one more: their rank is exact inside the top 100 and estimated from the histogram below it.
"""
from __future__ import annotations

import time
from collections import defaultdict

from pynamodb.exceptions import DeleteError

from ..domain import clock
from ..domain.ranking import (
    PERIODS,
    SHARDS,
    TOP,
    Ranked,
    board_shards,
    caller_rank,
    merge_histograms,
    period_key,
    rank,
)
from ..errors import NotFoundError, ValidationError
from ..store.aggregates import Board, Counter, Total
from . import catalog, profile, public_names
from .posting import carbon_g
from .tokens import Caller

CACHE_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, dict]] = {}


def forget() -> None:
    """Drops this container's cached boards (the job that rebuilt them; tests)."""
    _cache.clear()


# ---- reading -------------------------------------------------------------------------------------

def leaderboard(caller: Caller, board: str, period: str | None) -> dict:
    """GET /v1/leaderboards/{board}?period=week|month|all."""
    period = period or "week"
    if period not in PERIODS:
        raise ValidationError("period 须为 week、month 或 all", field="period")
    if board not in ("users", "orgs") and not (board.startswith("org-") and board[4:] in catalog.orgs()):
        raise NotFoundError("没有这个排行榜", board=board)
    key = period_key(period, clock.business_day(clock.now()))
    data = built(board, key)
    top = [Ranked(row[0], row[1], row[3]) for row in data.get("items", [])]
    items = [{"rank": r, "id": i, "name": name, "carbon_g": carbon_g(mg)} for r, i, name, mg in data.get("items", [])]
    if board == "orgs":
        me = _my_org(caller, data)
    else:
        me = _me(caller, board, key, top, merge_histograms([data.get("histogram", {})]))
    return {"board": board, "period": period, "period_key": key, "items": items, "me": me,
            "built_at": data.get("built_at")}


def built(board: str, key: str) -> dict:
    """The materialized board (empty when nothing has been counted on it yet), cached CACHE_SECONDS."""
    hit = _cache.get((board, key))
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        item = Board.get(board, key)
        data = {**(item.data or {}), "built_at": item.built_at}
    except Board.DoesNotExist:
        data = {}
    _cache[(board, key)] = (time.monotonic(), data)
    return data


def org_totals() -> dict[str, list[int]]:
    """{org_id: [carbon_mg, members]} for every org, as last built (GET /v1/orgs)."""
    return built("orgs", "all").get("totals", {})


def _me(caller: Caller, board: str, key: str, top: list[Ranked], histogram: dict[int, int]) -> dict | None:
    owner = f"u#{caller.user_id}" if board == "users" else f"m#{board[4:]}#{caller.user_id}"
    try:
        value = int(Total.get(owner, key).value)
    except Total.DoesNotExist:
        if board != "users" and board[4:] not in {o["id"] for o in profile.account(caller.user_id).orgs or []}:
            return None  # not a member: no place on this org's board
        value = 0
    position, approximate = caller_rank(caller.user_id, value, top, histogram)
    return {"rank": position, "carbon_g": carbon_g(value), "approximate": approximate}


def _my_org(caller: Caller, data: dict) -> dict | None:
    """On the orgs board, the caller's best-placed org (every org's total is on the board: exact)."""
    mine = [o["id"] for o in profile.account(caller.user_id).orgs or []]
    values = data.get("values", {})
    if not mine:
        return None
    best = max(mine, key=lambda org_id: values.get(org_id, 0))
    value = values.get(best, 0)
    position = 1 + sum(1 for other, mg in values.items() if mg > value and other != best)
    name = catalog.orgs().get(best, {}).get("name")
    return {"rank": position, "carbon_g": carbon_g(value), "approximate": False, "id": best, "name": name}


# ---- building (the materialize-boards job) -------------------------------------------------------

def materialize_dirty(now) -> dict:
    """The job: rebuilds every board the fold marked, then clears each mark unless it was marked again."""
    rebuilt = 0
    for marker in Board.query("dirty"):
        board, _, key = marker.period.partition("|")
        build(board, key)
        rebuilt += 1
        try:
            marker.delete(condition=Board.marked == marker.marked)
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    forget()
    return {"rebuilt": rebuilt}


def build(board: str, key: str) -> None:
    data = _build_orgs(key) if board == "orgs" else _build_people(board, key)
    Board(board, key, data=data, built_at=clock.iso(clock.now())).save()


def _build_people(board: str, key: str) -> dict:
    rows = []
    for shard in range(board_shards(board)):
        for item in Total.ranking.query(f"{board}#{key}#{shard:02d}", scan_index_forward=False, limit=TOP):
            if int(item.value) > 0:
                rows.append((item.owner.rsplit("#", 1)[-1], int(item.value)))
    top = rank(rows)
    names = _nicknames([row.id for row in top])
    parts = Counter.batch_get([(f"hist#{board}#{key}", f"s{shard:02d}") for shard in range(SHARDS)])
    histogram = merge_histograms(part.counts or {} for part in parts)
    return {"items": [[row.rank, row.id, names.get(row.id), row.value] for row in top],
            "histogram": {str(bucket): count for bucket, count in histogram.items()},
            "count": sum(histogram.values())}


def _build_orgs(key: str) -> dict:
    """Every org's total (orgs are few: the partial sums of all of them are read, not only a top)."""
    orgs = catalog.orgs()
    values: dict[str, int] = defaultdict(int)
    for shard in range(SHARDS):
        for item in Total.ranking.query(f"orgparts#{key}#{shard:02d}"):
            values[item.owner.split("#")[1]] += int(item.value)
    top = rank((org_id, values.get(org_id, 0)) for org_id in orgs)
    data = {"items": [[row.rank, row.id, orgs[row.id]["name"], row.value] for row in top],
            "values": {org_id: values.get(org_id, 0) for org_id in orgs}}
    if key == "all":
        members: dict[str, int] = defaultdict(int)
        for shard in range(SHARDS):
            for item in Total.ranking.query(f"orgmembers#{shard:02d}"):
                members[item.owner.split("#")[1]] += int(item.value)
        data["totals"] = {org_id: [values.get(org_id, 0), members.get(org_id, 0)] for org_id in orgs}
    return data


def _nicknames(user_ids: list[str]) -> dict[str, str]:
    """Checked nicknames of adults; minors and deleted accounts get a neutral name (services/public_names.py)."""
    return public_names.public_names(user_ids)
