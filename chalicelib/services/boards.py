"""Leaderboards: built by a job from the ranking index, read with one GetItem (cached per container).

A board ("users", "orgs", "org-{id}") of one period is rebuilt when the fold has changed it: 64 (users)
or 4 (an org) Queries of the ranking index, 100 items each, merged into the top 100, plus the rank
histogram's 64 parts in one BatchGetItem. A reader gets the board with one GetItem (cached 30 s) and their own
total with one more: their rank is exact inside the top 100 and bounded by the histogram below it (the range
`rank_from`..`rank_to`, `rank` its best bound). The orgs board keeps one row per org (`org#{id}`) beside it.
"""
from __future__ import annotations

import heapq
import logging
import time
from collections import defaultdict

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DeleteError

from ..domain import clock
from ..domain.ids import stable_shard
from ..domain.ranking import (
    PARTS,
    PERIODS,
    SHARDS,
    TOP,
    Ranked,
    board_shards,
    bucket,
    caller_rank_range,
    merge_histograms,
    period_key,
    rank,
)
from ..errors import NotFoundError, ValidationError
from ..store.aggregates import Board, Counter, Total, dirty_partition
from ..store.tx import connection, raise_unavailable
from . import catalog, profile, public_names
from .posting import carbon_g
from .tokens import Caller

log = logging.getLogger(__name__)
CACHE_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, dict]] = {}
_row_cache: dict[tuple[str, str], tuple[float, tuple[int, int]]] = {}  # (org_id, period) -> (at, (mg, members))


def forget() -> None:
    """Drops this container's cached boards and org rows (the job that rebuilt them; tests)."""
    _cache.clear()
    _row_cache.clear()


# ---- reading -------------------------------------------------------------------------------------

def leaderboard(caller: Caller, board: str, period: str | None) -> dict:
    """GET /v1/leaderboards/{board}?period=week|month|all."""
    period = period or "week"
    if period not in PERIODS:
        raise ValidationError("period 须为 week、month 或 all", field="period")
    if board not in ("users", "orgs") and not (board.startswith("org-") and board[4:] in catalog.orgs()):
        raise NotFoundError("没有这个排行榜", board=board)
    key = period_key(period, clock.business_day(clock.now()))
    mine = [o["id"] for o in profile.account(caller.user_id).orgs or []] if board == "orgs" else []
    data = _orgs_board_with_rows(key, mine) if board == "orgs" else built(board, key)
    top = [Ranked(row[0], row[1], row[3]) for row in data.get("items", [])]
    items = [{"rank": r, "id": i, "name": name, "carbon_g": carbon_g(mg)} for r, i, name, mg in data.get("items", [])]
    if board == "orgs":
        me = _my_org(mine, data, key)
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


def _orgs_board_with_rows(key: str, org_ids: list[str]) -> dict:
    """The orgs board of `key`; when it is not cached, read in one BatchGetItem across both tables together
    with the rows of the caller's orgs (cached too), so the caller's place costs no call of its own."""
    hit = _cache.get(("orgs", key))
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    request = {Board.Meta.table_name: {"Keys": [{"board": {"S": "orgs"}, "period": {"S": key}}]}}
    if org_ids:
        request[Total.Meta.table_name] = {"Keys": [{"owner": {"S": f"org#{o}"}, "period": {"S": key}}
                                                   for o in dict.fromkeys(org_ids)]}
    found: dict[str, list[dict]] = defaultdict(list)
    while request:
        try:
            answer = connection().client.batch_get_item(RequestItems=request)
        except (BotoCoreError, ClientError) as exc:
            raise_unavailable(exc)
        for table, raw in answer.get("Responses", {}).items():
            found[table] += raw
        request = answer.get("UnprocessedKeys") or {}
    now, data = time.monotonic(), {}
    for raw in found[Board.Meta.table_name]:
        item = Board.from_raw_data(raw)
        data = {**(item.data or {}), "built_at": item.built_at}
    _cache[("orgs", key)] = (now, data)
    rows = {item.owner[4:]: item for item in map(Total.from_raw_data, found[Total.Meta.table_name])}
    for org_id in org_ids:
        row = rows.get(org_id)
        _row_cache[(org_id, key)] = (now, (int(row.value), int(row.members or 0)) if row else (0, 0))
    return data


def org_rows(org_ids: list[str], key: str = "all") -> dict[str, tuple[int, int]]:
    """{org_id: (carbon_mg, members)} of these orgs in period `key`, as the orgs board job last summed them
    (GET /v1/orgs, an org of the caller's below the top): one BatchGetItem (at most 100 orgs) for the rows
    not cached in this container in the last CACHE_SECONDS; an org without a row has (0, 0)."""
    now, found = time.monotonic(), {}
    missing = []
    for org_id in org_ids:
        hit = _row_cache.get((org_id, key))
        if hit and now - hit[0] < CACHE_SECONDS:
            found[org_id] = hit[1]
        else:
            missing.append(org_id)
    if missing:
        fetched = {item.owner[4:]: (int(item.value), int(item.members or 0))
                   for item in Total.batch_get([(f"org#{org_id}", key) for org_id in missing])}
        for org_id in missing:
            found[org_id] = fetched.get(org_id, (0, 0))
            _row_cache[(org_id, key)] = (now, found[org_id])
    return found


def _me(caller: Caller, board: str, key: str, top: list[Ranked], histogram: dict[int, int]) -> dict | None:
    owner = f"u#{caller.user_id}" if board == "users" else f"m#{board[4:]}#{caller.user_id}"
    try:
        value = int(Total.get(owner, key).value)
    except Total.DoesNotExist:
        if board != "users" and board[4:] not in {o["id"] for o in profile.account(caller.user_id).orgs or []}:
            return None  # not a member: no place on this org's board
        value = 0
    return {**_placed(*caller_rank_range(caller.user_id, value, top, histogram)), "carbon_g": carbon_g(value)}


def _placed(rank_from: int, rank_to: int, approximate: bool) -> dict:
    """`rank` and `approximate`; below the top also the range the competition rank lies in, and what `rank`
    is: its best bound (rank_from)."""
    placed = {"rank": rank_from, "approximate": approximate}
    if approximate:
        placed.update(rank_from=rank_from, rank_to=rank_to, rank_is="best_bound")
    return placed


def _my_org(mine: list[str], data: dict, key: str) -> dict | None:
    """On the orgs board, the caller's best-placed org among `mine`: exact in the top list, else its row's
    total (cached like the board) ranked like a person's, against the board's histogram of org totals."""
    if not mine:
        return None
    rows = data.get("items", [])
    listed = {row[1]: (row[0], row[3]) for row in rows}
    values = {org_id: listed[org_id][1] for org_id in mine if org_id in listed}
    unlisted = [org_id for org_id in mine if org_id not in listed]
    if unlisted:
        values.update({org_id: carbon for org_id, (carbon, _) in org_rows(unlisted, key).items()})
    best = max(mine, key=lambda org_id: (values.get(org_id, 0), org_id in listed))
    value = values.get(best, 0)
    if best in listed:
        placed = _placed(listed[best][0], listed[best][0], False)
    else:
        top = [Ranked(row[0], row[1], row[3]) for row in rows]
        placed = _placed(*caller_rank_range(best, value, top, merge_histograms([data.get("histogram", {})])))
    name = catalog.orgs().get(best, {}).get("name")
    return {**placed, "carbon_g": carbon_g(value), "id": best, "name": name}


# ---- building (the materialize-boards job) -------------------------------------------------------

def materialize_dirty(now) -> dict:
    """The job: rebuilds every board the fold marked, then clears its marks unless they were marked again.

    The marks are read with one Query per fold shard's marker partition (SHARDS Queries, paged; no scan).
    A board that fails to build is logged and keeps its marks (the next run tries it again); the other
    boards are built all the same."""
    marks: dict[tuple[str, str], list[Board]] = defaultdict(list)
    for shard in range(SHARDS):
        for marker in Board.query(dirty_partition(shard)):
            board, _, key = marker.period.partition("|")
            marks[(board, key)].append(marker)
    rebuilt, failed = 0, 0
    for (board, key), markers in sorted(marks.items()):
        try:
            build(board, key)
        except Exception:  # noqa: BLE001 - one board's failure must not stop the others
            log.exception("board %s %s could not be built; kept marked for the next run", board, key)
            failed += 1
            continue
        rebuilt += 1
        for marker in markers:
            try:
                marker.delete(condition=Board.marked == marker.marked)
            except DeleteError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
    forget()
    return {"rebuilt": rebuilt, "failed": failed} if failed else {"rebuilt": rebuilt}


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
    """The orgs board of a period, at any number of orgs: each org's total is summed from its parts (PARTS
    Queries of the keys-only ranking index; only orgs with carbon or members have parts) and kept as one
    row per org (agg_totals "org#{id}", written only when it changed: the rows are read back the same way);
    the board item holds the top TOP (orgs without carbon fill it while fewer are counted) and the histogram
    of the orgs' totals, for the rank of an org below the top."""
    orgs = catalog.orgs()
    values = {o: v for o, v in _summed(f"orgparts#{key}").items() if o in orgs}
    members = {o: v for o, v in _summed("orgmembers").items() if o in orgs} if key == "all" else None
    _write_rows(key, values, members)
    counted = sorted(values.items(), key=lambda row: (-row[1], row[0]))[:TOP]
    if len(counted) < TOP:  # fewer orgs have carbon than the board shows: the first others, at 0
        counted += [(o, 0) for o in heapq.nsmallest(TOP, (o for o in orgs if o not in values))]
    top = rank(counted)
    histogram: dict[int, int] = defaultdict(int)
    for value in values.values():
        if value > 0:
            histogram[bucket(value)] += 1
    return {"items": [[row.rank, row.id, orgs[row.id]["name"], row.value] for row in top],
            "histogram": {str(b): n for b, n in histogram.items()}, "count": len(orgs)}


def _summed(partition: str) -> dict[str, int]:
    """{org_id: value} summed over the PARTS index partitions "{partition}#{p}" (org parts or org rows)."""
    sums: dict[str, int] = defaultdict(int)
    for part in range(PARTS):
        for item in Total.ranking.query(f"{partition}#{part:02d}"):
            sums[item.owner.split("#")[1]] += int(item.value)
    return sums


def _write_rows(key: str, values: dict[str, int], members: dict[str, int] | None) -> None:
    """Writes the org rows that changed: carbon in period `key` (on "all" with the member count, which also
    has a row of its own, "members", to compare against)."""
    old = _summed(f"orgrows#{key}")
    old_members = _summed("orgrowmembers") if members is not None else {}
    members = members or {}
    with Total.batch_write() as batch:
        for org_id in sorted(set(values) | set(old) | set(members) | set(old_members)):
            part = f"{stable_shard(org_id, PARTS):02d}"
            carbon, count = values.get(org_id, 0), members.get(org_id, 0)
            members_changed = count != old_members.get(org_id, 0)
            if carbon != old.get(org_id, 0) or members_changed:
                batch.save(Total(f"org#{org_id}", key, value=carbon, members=count if key == "all" else None,
                                 board_shard=f"orgrows#{key}#{part}"))
            if members_changed:
                batch.save(Total(f"org#{org_id}", "members", value=count, board_shard=f"orgrowmembers#{part}"))


def _nicknames(user_ids: list[str]) -> dict[str, str]:
    """Checked nicknames of adults; minors and deleted accounts get a neutral name (services/public_names.py)."""
    return public_names.public_names(user_ids)
