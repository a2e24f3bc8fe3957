"""The daily roots of the public transparency record (docs/transparency.md), the proofs of one's own entries and
the check that recomputes a rooted day.

Rooting (the sharded job `transparency-roots`, chalicelib/jobs.py): worker i, for each platform, for each day from
the day after the platform's last rooted day (or TRANSPARENCY_FIRST_DAY) through the last closed day
(domain/transparency.closed_through), reads shard i of the day once through the GSI `by_root`, writes the shard's
leaves file and then its shard root (once); then it closes, in day order, every day whose shards are all written:
the day's root record, chained to the previous day's. Every worker closes what it can after its shards, so the
last worker to finish closes the day; a retry or a second run at once computes the same records and keeps the
stored ones (each written once, `attribute_not_exists`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from ..domain import clock, merkle
from ..domain import transparency as rules
from ..domain.platforms import DEFAULT
from ..domain.values import immutable
from ..errors import NotFoundError, RootNotReadyError
from ..store import transparency as store
from ..store import transparency_objects as objects
from .platforms import every_id as platforms  # the platforms the job roots (a name the tests can narrow)

MAX_DAYS_PER_RUN = 31  # a run roots at most this many days per platform; the next run goes on
MAX_RANGE_DAYS = 31  # GET /v1/transparency/roots


def _days(first: date, last: date) -> list[str]:
    return [day.isoformat() for day in clock.days(first, last)]


def _next_day(day: str) -> date:
    return date.fromisoformat(day) + timedelta(days=1)


def pending_days(platform: str, today: date, first_day: str | None, through: date | None = None) -> list[str]:
    """The days the platform's next run roots: after its chain's head (or from `first_day`), through the last
    closed day (or `through`, if earlier), at most MAX_DAYS_PER_RUN."""
    last = rules.closed_through(today) if through is None else min(through, rules.closed_through(today))
    head = store.last_rooted(platform)
    start = _next_day(head["day"]) if head else (date.fromisoformat(first_day) if first_day else None)
    if start is None or start > last:
        return []
    return _days(start, min(last, start + timedelta(days=MAX_DAYS_PER_RUN - 1)))


def compute_shard(platform: str, day: str, shard: int, published: dict[str, str] | None = None) -> rules.ShardLeaves:
    """The shard's leaves as the ledger holds them now. Pseudonyms: the published file's (`published`, by entry
    id, for the check), else the live account's, else (deleted) a random one per account, linked to nothing."""
    entries = store.shard_entries(platform, day, shard)
    names: dict[str, str | None] = {}
    if published is None:
        names = store.pseudonyms({entry.user_id for entry in entries}) if entries else {}
    gone: dict[str, str] = {}
    leaves = []
    for entry in entries:
        name = (published or {}).get(entry.entry_id) or names.get(entry.user_id)
        if name is None:
            name = gone.setdefault(entry.user_id, rules.deleted_pseudonym())
        leaves.append(rules.leaf(platform, day, entry, name))
    return rules.shard_leaves(leaves)


def root_shard(platform: str, day: str, shard: int) -> dict:
    """The shard's root record: the stored one, or computed, its leaves file written, then written once."""
    stored = store.shard_root(platform, day, shard)
    if stored is not None:
        return stored
    computed = compute_shard(platform, day, shard)
    key = rules.leaves_key(platform, day, shard, computed.root) if computed.entries else None
    if key:  # both before the record that names them: a named file always exists
        objects.put(rules.hashes_key(platform, day, shard, computed.root), computed.hashes_body,
                    "application/octet-stream")
        objects.put(key, computed.body)
    return store.put_shard(platform, day, shard, {"v": rules.VERSION, "root": computed.root,
                                                 "entries": computed.entries, "carbon_mg": computed.carbon_mg,
                                                 "totals": computed.totals, "leaves": key})


def close_days(platform: str, days: list[str]) -> list[dict]:
    """The day records of `days` (in order) whose shards are all written, each chained to the one before."""
    closed = []
    for day in days:
        done = store.day_root(platform, day)
        if done is None:
            shards = store.shard_roots(platform, day)
            if len(shards) < rules.SHARDS:
                break
            head = store.day_root(platform, (date.fromisoformat(day) - timedelta(days=1)).isoformat())
            if head is None and store.last_rooted(platform) is not None:
                break  # the day before is not rooted yet: never a gap in the chain
            ordered = [shards[i] for i in range(rules.SHARDS)]
            record = rules.day_record(platform, day, [s["root"] for s in ordered], sum(s["entries"] for s in ordered),
                                      sum(s["carbon_mg"] for s in ordered),
                                      rules.merge_totals([s["totals"] for s in ordered]),
                                      head["chain"] if head else merkle.ZERO)
            done = store.put_day(record)
        closed.append(done)
    return closed


def root_slice(platform: str, shard: int, today: date, first_day: str | None, through: date | None = None,
               out_of_time: Callable[[], bool] = lambda: False, close: bool = True) -> dict:
    """One worker's part for one platform: its shard of every pending day, then (`close`) the days it can close."""
    days = pending_days(platform, today, first_day, through)
    counts = {"days": 0, "entries": 0, "closed": 0}
    for day in days:
        if out_of_time():
            break
        counts["entries"] += root_shard(platform, day, shard)["entries"]
        counts["days"] += 1
    counts["closed"] = len(close_days(platform, days)) if close else 0
    return counts


def run(platform: str, today: date, first_day: str | None, through: date | None = None) -> dict:
    """Every shard of one platform, in this process (the console, the tests): the days rooted, the chain's head."""
    days = pending_days(platform, today, first_day, through)
    entries = 0
    for shard in range(rules.SHARDS):  # as the workers do, then the days closed once (a worker closes after its shard)
        entries += root_slice(platform, shard, today, first_day, through, close=False)["entries"]
    close_days(platform, days)
    head = store.last_rooted(platform)
    return {"platform": platform, "days": days, "entries": entries, "head": head["day"] if head else None,
            "chain": head["chain"] if head else None}


@immutable
class DayCheck:
    day: str
    computed: dict | None  # the day's record recomputed from the ledger
    stored: dict | None

    @property
    def ok(self) -> bool:
        return self.computed is not None and self.computed == self.stored


def check_day(platform: str, day: str) -> DayCheck:
    """Recomputes a rooted day from the ledger (pseudonyms as published: they are in no table once a person is
    deleted) and compares the whole record (root, counts, totals, chain) with the stored one."""
    stored = store.day_root(platform, day)
    if stored is None:
        return DayCheck(day, None, None)
    shards = []
    for shard in range(stored["shards"]):
        published = _published(platform, day, shard, stored["shard_roots"][shard])
        shards.append(compute_shard(platform, day, shard, {leaf["entry_id"]: leaf["pseudonym"] for leaf in published}))
    computed = rules.day_record(platform, day, [s.root for s in shards], sum(s.entries for s in shards),
                                sum(s.carbon_mg for s in shards), rules.merge_totals([s.totals for s in shards]),
                                stored["prev"])
    return DayCheck(day, computed, stored)


def _published(platform: str, day: str, shard: int, root: str) -> list[dict]:
    if root == merkle.EMPTY.hex():
        return []
    body = objects.get(rules.leaves_key(platform, day, shard, root))
    return rules.parse_leaves(body or b"")


def proof(user_id: str, entry_id: str) -> dict:
    """The inclusion proof of one of the user's entries (GET /v1/me/ledger/{entry_id}/proof): NotFoundError for
    another user's or a missing entry, RootNotReadyError until its day is rooted. The leaf is built again from the
    entry and the account's pseudonym (as the job built it), found by its hash in the shard's hashes file (32 bytes a
    leaf, a tenth of the leaves file), and its paths computed from those hashes."""
    entry = store.entry(user_id, entry_id)
    if entry is None:
        raise NotFoundError()
    if not entry.root_key:  # written before the roots existed: never rooted
        raise RootNotReadyError()
    platform, day, shard_text = entry.root_key.rsplit("#", 2)
    shard = int(shard_text)
    record = store.day_root(platform, day)
    pseudonym = store.pseudonym_of(user_id)
    if record is None or pseudonym is None:
        raise RootNotReadyError()
    shard_root = record["shard_roots"][shard]
    line = merkle.canonical(rules.leaf(platform, day, entry, pseudonym))
    leaf_hash = merkle.leaf_hash(line)
    body = objects.get(rules.hashes_key(platform, day, shard, shard_root)) or b""
    index = rules.find_hash(body, leaf_hash)
    if index is None:
        raise RootNotReadyError()  # not among its day's published leaves: should never happen (see check_day)
    hashes = [body[i:i + 32] for i in range(0, len(body), 32)]
    return {"entry_id": entry_id, "day": day, "platform": platform, "leaf": line.decode("utf-8"),
            "leaf_hash": leaf_hash.hex(), "shard": shard, "shard_path": merkle.path(hashes, index),
            "shard_root": shard_root,
            "day_path": merkle.path([bytes.fromhex(r) for r in record["shard_roots"]], shard),
            "root": record["root"], "chain": record["chain"]}


def roots(platform: str, first: date, last: date) -> list[dict]:
    """The platform's root records from `first` to `last` (the route holds the range to MAX_RANGE_DAYS)."""
    return store.day_roots(platform or DEFAULT, first.isoformat(), last.isoformat())


def job_slice(shard: int, at: datetime, out_of_time: Callable[[], bool]) -> dict:
    """The scheduled job's worker (chalicelib/jobs.py): its shard of every platform; nothing while
    TRANSPARENCY_FIRST_DAY is unset (the deployment has not started its roots)."""
    from ..settings import get_settings

    first_day = get_settings().transparency_first_day
    totals = {"days": 0, "entries": 0, "closed": 0}
    if first_day is None:
        return {**totals, "unconfigured": 1}
    for platform in platforms():
        for name, n in root_slice(platform, shard, clock.business_day(at), first_day, None, out_of_time).items():
            totals[name] += n
    return totals
