"""Leaderboards: built by a job from the ranking index, read with one GetItem (cached per container).

A board ("users", "orgs", "org-{id}") of one period is rebuilt when the fold has changed it (the job, sharded by
board: services/board_rebuild.py): 64 (users) or 4 (an org) Queries of the ranking index, 100 items each, merged
into the top 100, plus the parts of the rank histogram that exist (of 64) in one BatchGetItem. A reader gets the
board with one GetItem (cached 30 s) and their own total with one more: their rank is exact inside the top 100 and
bounded by the histogram below it (the range `rank_from`..`rank_to`, `rank` its best bound). The orgs board keeps
one row per org (`org#{id}`) beside it. Each platform has its own boards: a platform P's are "P#users", "P#orgs"
and "P#org-{id}" (its rows "P#org#{id}"), built from its users' tallies and its orgs' parts alone, and a caller
reads their own platform's (`default`'s keep the names of before platforms).

The use cases read through `BoardReading` and build through `BoardBuilding` (`bootstrap.board_reading()`,
`bootstrap.board_building()`: store/repositories_boards.py, the catalog's orgs, the public names;
tests/unit/fakes_aggregation.py's in memory); api/shapes_boards.py writes the JSON.
"""
from __future__ import annotations

import heapq
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..domain import clock
from ..domain.aggregation import user_owner
from ..domain.ids import stable_shard
from ..domain.orgs import member_owner, orgs_board, platform_of_orgs_board, row_owner
from ..domain.platforms import DEFAULT, scoped
from ..domain.ranking import (
    PARTS,
    PERIODS,
    TOP,
    Ranked,
    board_platform,
    board_shards,
    bucket,
    caller_rank_range,
    merge_histograms,
    period_key,
    rank,
)
from ..domain.results_boards import BoardRow, Leaderboard, OrgPlace, Place
from ..domain.values import immutable
from ..errors import NotFoundError, ValidationError
from .tokens import Caller

CACHE_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, dict]] = {}
_row_cache: dict[tuple[str, str], tuple[float, tuple[int, int]]] = {}  # (org_id, period) -> (at, (mg, members))


@immutable
class BoardReading:
    """What reading a board needs: the boards' reads, the catalog's orgs and the ids of a person's orgs."""

    store: Any  # store/repositories_boards.DynamoBoardReads, or an in-memory one in tests/unit
    orgs: Callable[[], dict[str, dict]]
    member_orgs: Callable[[str], list[str]]


@immutable
class BoardBuilding:
    """What building the boards needs: the boards' builds, the catalog's orgs and people's public names (adults'
    checked nicknames; services/public_names.py)."""

    store: Any  # store/repositories_boards.DynamoBoardBuilds, or an in-memory one in tests/unit
    orgs: Callable[[], dict[str, dict]]
    names: Callable[[list[str]], dict[str, str]]


def _reading(sources: BoardReading | None) -> BoardReading:
    from ..bootstrap import board_reading  # here: importing the module builds nothing

    return sources or board_reading()


def _building(sources: BoardBuilding | None) -> BoardBuilding:
    from ..bootstrap import board_building

    return sources or board_building()


def forget() -> None:
    """Drops this container's cached boards and org rows (the job that rebuilt them; tests)."""
    _cache.clear()
    _row_cache.clear()


# ---- reading -------------------------------------------------------------------------------------

def leaderboard(caller: Caller, board: str, period: str | None, sources: BoardReading | None = None) -> Leaderboard:
    """GET /v1/leaderboards/{board}?period=week|month|all: a board of the caller's platform ("users", "orgs",
    "org-{id}" are `default`'s; a platform P's are stored as "P#users", "P#orgs", "P#org-{id}"). Another
    platform's org is looked up in the caller's platform's orgs only, so it answers exactly as a missing one."""
    src, platform = _reading(sources), caller.platform
    period = period or "week"
    if period not in PERIODS:
        raise ValidationError("period 须为 week、month 或 all", field="period")
    if board not in ("users", "orgs") and not (board.startswith("org-") and board[4:] in _orgs(src, platform)):
        raise NotFoundError("没有这个排行榜", board=board)
    key = period_key(period, clock.business_day(clock.now()))
    mine = src.member_orgs(caller.user_id) if board == "orgs" else []
    data = (_orgs_board_with_rows(key, mine, src, platform) if board == "orgs"
            else built(scoped(platform, board), key, src))
    rows = [BoardRow(*row) for row in data.get("items", [])]
    if board == "orgs":
        me = _my_org(mine, data, key, src, platform)
    else:
        top = [Ranked(row.rank, row.id, row.carbon_mg) for row in rows]
        me = _me(caller, board, key, top, merge_histograms([data.get("histogram", {})]), src)
    return Leaderboard(board, period, key, rows, me, data.get("built_at"))


def _orgs(sources: BoardReading | BoardBuilding, platform: str) -> dict[str, dict]:
    """`platform`'s orgs (the catalog's `org` partition, P's `P#org`)."""
    return sources.orgs() if platform == DEFAULT else sources.orgs(platform)


def built(board: str, key: str, sources: BoardReading | None = None) -> dict:
    """The materialized board (empty when nothing has been counted on it yet), cached CACHE_SECONDS."""
    hit = _cache.get((board, key))
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    data = _reading(sources).store.board(board, key)
    _cache[(board, key)] = (time.monotonic(), data)
    return data


def _orgs_board_with_rows(key: str, org_ids: list[str], sources: BoardReading | None = None,
                          platform: str = DEFAULT) -> dict:
    """`platform`'s orgs board of `key`; when it is not cached, read in one BatchGetItem across both tables
    together with the rows of the caller's orgs (cached too), so the caller's place costs no call of its own."""
    board = orgs_board(platform)
    hit = _cache.get((board, key))
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    store = _reading(sources).store
    data, rows = (store.orgs_board_with_rows(key, org_ids) if platform == DEFAULT
                  else store.orgs_board_with_rows(key, org_ids, platform))
    now = time.monotonic()
    _cache[(board, key)] = (now, data)
    for org_id in org_ids:
        _row_cache[(scoped(platform, org_id), key)] = (now, rows.get(org_id, (0, 0)))
    return data


def org_rows(org_ids: list[str], key: str = "all", sources: BoardReading | None = None,
             platform: str = DEFAULT) -> dict[str, tuple[int, int]]:
    """{org_id: (carbon_mg, members)} of these orgs of `platform` in period `key`, as the orgs board job last
    summed them (GET /v1/orgs, an org of the caller's below the top): one BatchGetItem (at most 100 orgs) for the
    rows not cached in this container in the last CACHE_SECONDS; an org without a row has (0, 0)."""
    now, found = time.monotonic(), {}
    missing = []
    for org_id in org_ids:
        hit = _row_cache.get((scoped(platform, org_id), key))
        if hit and now - hit[0] < CACHE_SECONDS:
            found[org_id] = hit[1]
        else:
            missing.append(org_id)
    if missing:
        store = _reading(sources).store
        fetched = store.org_rows(missing, key) if platform == DEFAULT else store.org_rows(missing, key, platform)
        for org_id in missing:
            found[org_id] = fetched.get(org_id, (0, 0))
            _row_cache[(scoped(platform, org_id), key)] = (now, found[org_id])
    return found


def _me(caller: Caller, board: str, key: str, top: list[Ranked], histogram: dict[int, int],
        sources: BoardReading) -> Place | None:
    """The caller's place on `board` ("users" or "org-{id}") of their platform."""
    platform = caller.platform
    owner = (user_owner(platform, caller.user_id) if board == "users"
             else member_owner(platform, board[4:], caller.user_id))
    value = sources.store.total(owner, key)
    if value is None:
        if board != "users" and board[4:] not in sources.member_orgs(caller.user_id):
            return None  # not a member: no place on this org's board
        value = 0
    return Place(*caller_rank_range(caller.user_id, value, top, histogram), value)


def _my_org(mine: list[str], data: dict, key: str, sources: BoardReading | None = None,
            platform: str = DEFAULT) -> OrgPlace | None:
    """On the orgs board, the caller's best-placed org among `mine`: exact in the top list, else its row's
    total (cached like the board) ranked like a person's, against the board's histogram of org totals."""
    if not mine:
        return None
    src = _reading(sources)
    rows = data.get("items", [])
    listed = {row[1]: (row[0], row[3]) for row in rows}
    values = {org_id: listed[org_id][1] for org_id in mine if org_id in listed}
    unlisted = [org_id for org_id in mine if org_id not in listed]
    if unlisted:
        values.update({org_id: carbon for org_id, (carbon, _) in org_rows(unlisted, key, src, platform).items()})
    best = max(mine, key=lambda org_id: (values.get(org_id, 0), org_id in listed))
    value = values.get(best, 0)
    if best in listed:
        rank_from, rank_to, approximate = listed[best][0], listed[best][0], False
    else:
        top = [Ranked(row[0], row[1], row[3]) for row in rows]
        histogram = merge_histograms([data.get("histogram", {})])
        rank_from, rank_to, approximate = caller_rank_range(best, value, top, histogram)
    return OrgPlace(rank_from, rank_to, approximate, value, best, _orgs(src, platform).get(best, {}).get("name"))


# ---- building (the materialize-boards job) -------------------------------------------------------

def materialize_dirty(now, sources: BoardBuilding | None = None) -> dict:
    """The whole job in this process: every rebuild shard's marked boards (services/board_rebuild.py, where the
    job's sharding, its leases and each board's isolation are)."""
    from .board_rebuild import rebuild_all

    return rebuild_all(now, sources)


def build(board: str, key: str, sources: BoardBuilding | None = None,
          parts: tuple[list[int], str] | None = None) -> None:
    """Builds a board of a period and saves it. `parts`, for a person board: (the histogram parts that can exist,
    when all were last read); None: read all SHARDS parts."""
    src = _building(sources)
    platform = platform_of_orgs_board(board)
    data = _build_orgs(key, src, platform) if platform else _build_people(board, key, src, parts)
    src.store.save_board(board, key, data, clock.iso(clock.now()))


def _build_people(board: str, key: str, sources: BoardBuilding, parts: tuple[list[int], str] | None = None) -> dict:
    """A person board from its parts (`parts`: the fold shards to read, and since when; all SHARDS when None),
    in one BatchGetItem: their histograms, and their leaders merged into the top TOP; it remembers the parts
    found. The legacy ranking index partitions (totals from before the tallies) are read too, and a person found
    in both counts with the higher total (totals only grow: the other is out of date)."""
    found = sources.store.board_parts(board, key, parts[0] if parts else None)
    best: dict[str, int] = {}
    for _, leaders in found.values():
        for user_id, value in leaders.items():
            best[user_id] = max(best.get(user_id, 0), int(value))
    legacy = board_shards(board) if board_platform(board) == DEFAULT else 0  # P's boards: none (ranking.py)
    for shard in range(legacy):
        for owner, value in sources.store.ranked(f"{board}#{key}#{shard:02d}", limit=TOP):
            user_id = owner.rsplit("#", 1)[-1]
            best[user_id] = max(best.get(user_id, 0), value)
    top = rank((user_id, value) for user_id, value in best.items() if value > 0)
    names = sources.names([row.id for row in top])
    histogram = merge_histograms(counts for counts, _ in found.values())
    return {"items": [[row.rank, row.id, names.get(row.id), row.value] for row in top],
            "histogram": {str(bucket): count for bucket, count in histogram.items()},
            "count": sum(histogram.values()), "parts": sorted(found),
            "parts_at": parts[1] if parts else clock.iso(clock.now())}


def _build_orgs(key: str, sources: BoardBuilding | None = None, platform: str = DEFAULT) -> dict:
    """The orgs board of a period, at any number of orgs: each org's total is summed from its parts (PARTS
    Queries of the keys-only ranking index; only orgs with carbon or members have parts) and kept as one
    row per org (agg_totals "org#{id}", written only when it changed: the rows are read back the same way);
    the board item holds the top TOP (orgs without carbon fill it while fewer are counted) and the histogram
    of the orgs' totals, for the rank of an org below the top. A platform P's ("P#orgs") sums P's orgs' parts
    and keeps P's rows, each key prefixed "P#" (domain/orgs.py)."""
    src = _building(sources)
    orgs = _orgs(src, platform)
    values = {o: v for o, v in _summed(f"orgparts#{key}", src, platform).items() if o in orgs}
    members = ({o: v for o, v in _summed("orgmembers", src, platform).items() if o in orgs}
               if key == "all" else None)
    _write_rows(key, values, members, src, platform)
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


def _summed(partition: str, sources: BoardBuilding, platform: str = DEFAULT) -> dict[str, int]:
    """{org_id: value} summed over the PARTS index partitions "{partition}#{p}" (org parts or org rows) of
    `platform` (P's: "P#{partition}#{p}", owners "P#o#..." and "P#org#...")."""
    sums: dict[str, int] = defaultdict(int)
    for part in range(PARTS):
        for owner, value in sources.store.ranked(scoped(platform, f"{partition}#{part:02d}")):
            sums[owner.split("#")[1 if platform == DEFAULT else 2]] += value
    return sums


def _write_rows(key: str, values: dict[str, int], members: dict[str, int] | None, sources: BoardBuilding,
               platform: str = DEFAULT) -> None:
    """Writes the org rows that changed: carbon in period `key` (on "all" with the member count, which also
    has a row of its own, "members", to compare against)."""
    old = _summed(f"orgrows#{key}", sources, platform)
    old_members = _summed("orgrowmembers", sources, platform) if members is not None else {}
    members = members or {}
    rows = []
    for org_id in sorted(set(values) | set(old) | set(members) | set(old_members)):
        part = f"{stable_shard(org_id, PARTS):02d}"
        carbon, count = values.get(org_id, 0), members.get(org_id, 0)
        members_changed = count != old_members.get(org_id, 0)
        owner = row_owner(platform, org_id)
        if carbon != old.get(org_id, 0) or members_changed:
            rows.append((owner, key, carbon, count if key == "all" else None,
                         scoped(platform, f"orgrows#{key}#{part}")))
        if members_changed:
            rows.append((owner, "members", count, None, scoped(platform, f"orgrowmembers#{part}")))
    if rows:
        sources.store.save_org_rows(rows)
