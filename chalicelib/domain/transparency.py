"""What the public transparency record holds (docs/transparency.md): the leaf of a ledger entry, its shard, the
day it is rooted under, when a day may be rooted, and a day's root record. Pure.

A leaf carries no personal data: the entry's amounts, methodology and the `inputs` keys of INPUT_KEYS (what
recomputes carbon and the day cap that applied), under the person's pseudonym. Never the user id, openid,
`ref`, `request_id`, `reason`, staff or partner references, tree ids, certificate numbers, trips or orders.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import clock, ids, merkle, shards
from .values import immutable

VERSION = 1
SHARDS = shards.TRANSPARENCY
# An entry is rooted under its `day`, or under the oldest day still open when it was written if its `day` was
# already closed then (a tree accrual caught up after a long outage, an accrual run for a past `--date`): no
# write can reach a day older than OPEN_DAYS before the business day it is written on.
OPEN_DAYS = clock.LATE_EVENT_DAYS
# A day is rooted when this many days have passed: OPEN_DAYS, and one more day for a write staged before
# midnight that commits after it (a request's transaction is bounded by its 29 s, a job's by its 15 minutes).
ROOT_AFTER_DAYS = OPEN_DAYS + 2

# The keys of an entry's `inputs` a leaf keeps: what the methodology recomputes carbon and points from
# (domain/caps.py award inputs, domain/readings.py, services/accrual.py, services/werun.py), the day cap that
# applied, a void's held amounts and points expiry's year. Everything else (evidence and its photo hash,
# odometer readings, staff user ids, merchant ids, partner trip, event and order ids, tree ids, certificate
# numbers, boarding times, lines) stays in the ledger only.
INPUT_KEYS = frozenset({
    "quantity", "counted_quantity", "day_total", "previous_day_total", "extra_points",  # domain/caps.py
    "annual_uptake_mg", "day_n",  # tree accrual
    "month", "revision", "usage", "baseline", "previous_revision", "previous_quantity", "previous_usage",  # readings
    "mode", "distance_m",  # a ride's mode and distance (transit)
    "verified", "tolerance_km",  # a parked-car check-in's verdict (its readings stay in the ledger)
    "points", "carbon_mg",  # a void's held amounts (services/review.py)
    "lots_through",  # points expiry's year
})


def shard_of(entry_id: str) -> int:
    """A leaf's shard: of its entry id (random), so a person's entries are spread, and anyone can check it."""
    return ids.stable_shard(entry_id, SHARDS)


def rooted_day(day: str, at: str) -> str:
    """The day an entry is rooted under: its `day`, or the oldest day open at `at` if its `day` was closed."""
    oldest = clock.business_day(clock.parse_iso(at)) - timedelta(days=OPEN_DAYS)
    return max(date.fromisoformat(day), oldest).isoformat()


def root_key(platform: str, day: str, at: str, entry_id: str) -> str:
    """The ledger's `root_key` (GSI `by_root`): "{platform}#{rooted day}#{shard:03d}"."""
    return f"{platform}#{rooted_day(day, at)}#{shard_of(entry_id):03d}"


def closed_through(today: date) -> date:
    """The last day that can no longer change on `today`."""
    return today - timedelta(days=ROOT_AFTER_DAYS)


def public_inputs(inputs: dict | None) -> dict | None:
    """The allowed keys of `inputs`, floats as their shortest decimal string (`repr`), so a leaf has none."""
    if inputs is None:
        return None
    return {key: _plain(value) for key, value in sorted(inputs.items()) if key in INPUT_KEYS}


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def leaf(platform: str, day: str, entry: Any, pseudonym: str) -> dict:
    """The public leaf of a ledger entry (any object with LedgerEntry's attributes), rooted under `day`."""
    return {
        "v": VERSION, "platform": platform, "day": day, "entry_id": entry.entry_id, "pseudonym": pseudonym,
        "shard": shard_of(entry.entry_id), "kind": entry.kind, "points": int(entry.points),
        "carbon_mg": int(entry.carbon_mg), "source": entry.source, "behavior": entry.behavior,
        "methodology_id": entry.methodology_id, "methodology_version": entry.methodology_version,
        "inputs": public_inputs(entry.inputs), "counted_via": entry.counted_via}


@immutable
class ShardLeaves:
    """One shard's leaves in `leaf_hash` order: the file's bytes, its root and its totals."""

    lines: list[bytes]
    hashes: list[bytes]
    root: str
    entries: int
    carbon_mg: int
    totals: list[dict]

    @property
    def body(self) -> bytes:
        return b"".join(line + b"\n" for line in self.lines)

    @property
    def hashes_body(self) -> bytes:
        """The hashes file: the leaf hashes, 32 bytes each, in the same order (what a proof reads)."""
        return b"".join(self.hashes)


def shard_leaves(leaves: list[dict]) -> ShardLeaves:
    pairs = sorted((merkle.leaf_hash(merkle.canonical(item)), merkle.canonical(item)) for item in leaves)
    hashes = [h for h, _ in pairs]
    return ShardLeaves([line for _, line in pairs], hashes, merkle.mth(hashes).hex(), len(leaves),
                       sum(item["carbon_mg"] for item in leaves), totals(leaves))


def parse_leaves(body: bytes) -> list[dict]:
    """A leaves file's leaves, in its order."""
    import json

    return [json.loads(line) for line in body.split(b"\n") if line]


def totals(leaves: list[dict]) -> list[dict]:
    """Entries and carbon by methodology version, sorted by id then version (entries without one: nulls first)."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for item in leaves:
        cell = sums[(item["methodology_id"], item["methodology_version"])]
        cell[0] += 1
        cell[1] += item["carbon_mg"]
    return merge_totals([[{"methodology_id": m, "version": v, "entries": n, "carbon_mg": c}
                          for (m, v), (n, c) in sums.items()]])


def merge_totals(parts: list[list[dict]]) -> list[dict]:
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for part in parts:
        for row in part:
            cell = sums[(row["methodology_id"], row["version"])]
            cell[0] += int(row["entries"])
            cell[1] += int(row["carbon_mg"])
    ordered = sorted(sums.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][1] or ""))
    return [{"methodology_id": m, "version": v, "entries": n, "carbon_mg": c} for (m, v), (n, c) in ordered]


def day_record(platform: str, day: str, shard_roots: list[str], entries: int, carbon_mg: int,
               day_totals: list[dict], prev: str) -> dict:
    """A day's root record, chained to the previous day's `chain` (merkle.ZERO for a platform's first day)."""
    root = merkle.mth([bytes.fromhex(r) for r in shard_roots]).hex()
    return {"platform": platform, "day": day, "v": VERSION, "shards": len(shard_roots), "shard_roots": shard_roots,
            "root": root, "entries": entries, "carbon_mg": carbon_mg, "totals": day_totals, "prev": prev,
            "chain": merkle.chain_hash(platform, day, root, entries, carbon_mg, prev)}


def leaves_key(platform: str, day: str, shard: int, root: str) -> str:
    """The leaves file's object key: named by its content's root, so a key is only ever written with one body."""
    return f"transparency/{platform}/{day}/{shard:03d}-{root}.jsonl"


def hashes_key(platform: str, day: str, shard: int, root: str) -> str:
    """The shard's hashes file (its leaf hashes in order, 32 bytes each), beside its leaves file: what a proof reads,
    a tenth of the leaves file's size."""
    return f"transparency/{platform}/{day}/{shard:03d}-{root}.hashes"


def find_hash(hashes: bytes, target: bytes) -> int | None:
    """The index of `target` in a hashes file's sorted 32-byte hashes (binary search), or None."""
    low, high = 0, len(hashes) // 32
    while low < high:
        middle = (low + high) // 2
        found = hashes[middle * 32:(middle + 1) * 32]
        if found == target:
            return middle
        if found < target:
            low = middle + 1
        else:
            high = middle
    return None


def deleted_pseudonym() -> str:
    """A pseudonym for the entries of a deleted account rooted after its deletion: random, linked to nothing."""
    return "ps_" + ids.random_code(20)  # shaped as a live one's: a leaf does not say its person left


def new_pseudonym() -> str:
    return "ps_" + ids.random_code(20)
