"""What an issuance publishes of the daily roots (docs/issuance.md, docs/transparency.md): the roots file of its
days, the leaves files of those days copied as the roots job wrote them (never derived again), and each issued
entry named by its leaf: (day, platform, entry_id, pseudonym) and leaf_hash, no user id.

An issued entry's leaf is in the day its `root_key` names (its business day, or a later one for a write that came
after its day closed, domain/transparency.rooted_day). The issuance's days are, per platform, every day from the
first to the last of its entries' rooted days, so the roots file's chain has no gap; each day's leaves files are
read once from object storage (one GetItem of each shard's root record for its file's key, one GetObject a file)
and written to `OUT_STEM.leaves/{platform}/{day}/{shard:03d}-{shard root}.jsonl`. A day not rooted yet (or an
entry written before the roots existed, without `root_key`) is not published: its entries are listed with an
empty leaf_hash and pseudonym, and the summary warns that the verifier cannot check them.

Memory: the issued entries' ids of the days, and one leaves file at a time.
"""
from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from chalicelib.domain import clock, merkle
from chalicelib.store import transparency as roots
from chalicelib.store import transparency_objects as objects

from .console import CommandError, Progress

ENTRY_COLUMNS = ("day", "platform", "entry_id", "pseudonym", "leaf_hash", "methodology_id", "methodology_version",
                 "behavior", "kind", "carbon_mg", "business_day")
FORMAT = "issuance-entries/2"  # /1: user_id, entry_id, day (business), kind, carbon, platform; no leaf


def _days(first: str, last: str) -> list[str]:
    return [day.isoformat() for day in clock.days(date.fromisoformat(first), date.fromisoformat(last))]


def rooted(row: dict) -> tuple[str, str] | None:
    """(platform, rooted day) of an offered row, from its `root_key`; None for an entry without one."""
    parts = (row.get("root_key") or "").split("#")
    return (parts[0], parts[1]) if len(parts) == 3 else None


def publish(rows: Iterable[dict], leaves_dir: Path) -> tuple[list[dict], dict[str, tuple[str, str, str]], list[str]]:
    """Copies the leaves files of the rows' days into `leaves_dir`; returns the roots file's records, each issued
    entry's (leaf_hash, pseudonym) by entry id, and the warnings (days not rooted, entries without a root)."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    unrooted = 0
    for row in rows:
        key = rooted(row)
        if key is None:
            unrooted += 1
        else:
            wanted[key].add(row["entry_id"])
    spans: dict[str, list[str]] = defaultdict(list)
    for platform, day in wanted:
        spans[platform].append(day)
    records, found, warnings = [], {}, []
    days = [(platform, day) for platform, listed in sorted(spans.items()) for day in _days(min(listed), max(listed))]
    with Progress("copying leaves files", len(days), unit="days") as bar:
        for platform, day in days:
            record = roots.day_root(platform, day)
            if record is None:
                warnings.append(f"{platform} {day} is not rooted yet: {len(wanted.get((platform, day), ()))} of its "
                                "entries are listed without their leaf, and the verifier cannot check them")
            else:
                records.append(record)
                found.update(_copy_day(record, leaves_dir, wanted.get((platform, day), set())))
            bar.advance()
    if unrooted:
        warnings.append(f"{unrooted} entries were written before the daily roots (no root): listed without their "
                        "leaf, the verifier cannot check them")
    return records, found, warnings


def _copy_day(record: dict, leaves_dir: Path, entry_ids: set[str]) -> dict[str, tuple[str, str, str]]:
    platform, day = record["platform"], record["day"]
    found = {}
    for shard in range(int(record["shards"])):
        stored = roots.shard_root(platform, day, shard)
        if stored is None or stored["root"] != record["shard_roots"][shard]:
            raise CommandError(f"the root of shard {shard} of {platform} {day} is missing or not the day's: the "
                               "transparency record is damaged; nothing was issued past the markers (run again)")
        if not stored.get("leaves"):
            continue  # an empty shard has no file
        body = objects.get(stored["leaves"])
        if body is None or merkle.mth([merkle.leaf_hash(line) for line in body.split(b"\n") if line]).hex() \
                != stored["root"]:
            raise CommandError(f"the leaves file {stored['leaves']} is missing or does not hash to its shard root")
        target = leaves_dir / platform / day / Path(stored["leaves"]).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        for line in body.split(b"\n"):
            if not line:
                continue
            leaf = json.loads(line)
            if leaf["entry_id"] in entry_ids:
                found[leaf["entry_id"]] = (hashlib.sha256(b"\x00" + line).hexdigest(), leaf["pseudonym"], day)
    return found


def write_entries(rows: Iterable[dict], found: dict[str, tuple[str, str, str]], path: Path) -> int:
    """The issuance's entries CSV (ENTRY_COLUMNS): each row named by its leaf; returns the rows written."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(ENTRY_COLUMNS)
        for row in rows:
            leaf_hash, pseudonym, day = found.get(row["entry_id"], ("", "", (rooted(row) or ("", row["day"]))[1]))
            writer.writerow([day, row["platform"], row["entry_id"], pseudonym, leaf_hash, row["methodology_id"],
                             row["methodology_version"], row["behavior"], row["kind"], row["carbon_mg"], row["day"]])
            count += 1
    return count
