"""A parallel Scan of the ledger for offline jobs (report, issuance, verify-ledger): the one place the console
scans it.

Request paths never scan; an offline job over every account's entries of some days is what a Scan
is for. The table is read in `segments` parallel segments (one thread each), filtered on `day`
(`FilterExpression day BETWEEN :from AND :to`), projected to the fields reports need, one page at a
time. Each segment folds its entries into its own accumulator (no lock on the hot path); the
accumulators are merged at the end. Memory is one page per segment plus what the accumulators keep,
never the table. An accumulator that works in batches (issuance's tally reads its entries' accounts and
markers by key, a batch at a time) may have `finish()`, called in its segment's thread after the last page.
Progress counts scanned items against the table's approximate item count. `scan_segments` is the scan itself,
for a job that handles each page (verify-ledger, which checkpoints every segment's position to resume from it).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import reduce
from typing import Protocol, TypeVar

from pynamodb.exceptions import PynamoDBException

from chalicelib.store.models import LedgerEntry

from .console import Progress

SEGMENTS = 4
PAGE_SIZE = 1000
FIELDS = ("user_id", "entry_id", "day", "kind", "points", "carbon_mg", "behavior", "source",
          "methodology_id", "methodology_version", "counted_via", "root_key")


class Accumulator(Protocol):
    def add(self, entry: LedgerEntry) -> None: ...

    def merge(self, other: Accumulator) -> Accumulator: ...


A = TypeVar("A", bound=Accumulator)


def approximate_count() -> int | None:
    """DynamoDB's ItemCount of the ledger (refreshed about every six hours on AWS): for the ETA only."""
    try:
        return int(LedgerEntry.describe_table().get("ItemCount") or 0) or None
    except (PynamoDBException, KeyError, TypeError, ValueError):  # an estimate must never stop the job
        return None


def scan_segments(condition, segments: int, on_page: Callable[[int, list[LedgerEntry], dict | None], None],
                  fields: tuple[str, ...] = FIELDS, label: str = "scanning ledger", page_size: int = PAGE_SIZE,
                  start_keys: dict[int, dict | None] | None = None,
                  on_done: Callable[[int], None] | None = None) -> None:
    """The ledger's `segments` Scan segments (filter `condition`, projection `fields`, `page_size` items a page),
    one thread each: `on_page(segment, entries, last_key)` after each page (`last_key` None on a segment's last
    page), then `on_done(segment)`, both in the segment's thread. `start_keys`: where each segment starts (its saved
    LastEvaluatedKey, None from the beginning); a segment it does not name is done already and is not read."""

    def segment(number: int, bar: Progress) -> None:
        if start_keys is not None and number not in start_keys:
            return
        result = LedgerEntry.scan(condition, segment=number, total_segments=segments, page_size=page_size,
                                  last_evaluated_key=(start_keys or {}).get(number), attributes_to_get=list(fields))
        for page in result.page_iter:
            on_page(number, [LedgerEntry.from_raw_data(raw) for raw in page.get("Items", ())],
                    page.get("LastEvaluatedKey"))
            bar.advance(int(page.get("ScannedCount", 0)))
        if on_done is not None:
            on_done(number)

    with Progress(label, approximate_count(), unit="entries") as bar, ThreadPoolExecutor(segments) as pool:
        list(pool.map(lambda number: segment(number, bar), range(segments)))


def scan_days(first: date, last: date, make: Callable[[], A], segments: int = SEGMENTS,
              label: str = "scanning ledger") -> A:
    """Folds every ledger entry whose business day is in [first, last] into accumulators made by `make`, one a
    segment, merged at the end."""
    parts = [make() for _ in range(segments)]

    def fold(number: int, entries: list[LedgerEntry], _last_key: dict | None) -> None:
        for entry in entries:
            parts[number].add(entry)

    def finish(number: int) -> None:
        if hasattr(parts[number], "finish"):
            parts[number].finish()

    scan_segments(LedgerEntry.day.between(first.isoformat(), last.isoformat()), segments, fold, label=label,
                  on_done=finish)
    return reduce(lambda left, right: left.merge(right), parts)
