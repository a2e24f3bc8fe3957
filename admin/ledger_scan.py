"""A parallel Scan of the ledger for offline jobs (report, issuance): the one place the console scans it.

Request paths never scan; an offline job over every account's entries of some days is what a Scan
is for. The table is read in `segments` parallel segments (one thread each), filtered on `day`
(`FilterExpression day BETWEEN :from AND :to`), projected to the fields reports need, one page at a
time. Each segment folds its entries into its own accumulator (no lock on the hot path); the
accumulators are merged at the end. Memory is one page per segment plus what the accumulators keep,
never the table. An accumulator that works in batches (issuance's tally reads its entries' accounts and
markers by key, a batch at a time) may have `finish()`, called in its segment's thread after the last page.
Progress counts scanned items against the table's approximate item count.
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


def scan_days(first: date, last: date, make: Callable[[], A], segments: int = SEGMENTS,
              label: str = "scanning ledger") -> A:
    """Folds every ledger entry whose business day is in [first, last] into accumulators made by `make`."""
    condition = LedgerEntry.day.between(first.isoformat(), last.isoformat())

    def segment(number: int, bar: Progress) -> A:
        accumulator = make()
        result = LedgerEntry.scan(condition, segment=number, total_segments=segments, page_size=PAGE_SIZE,
                                  attributes_to_get=list(FIELDS))
        for page in result.page_iter:
            for raw in page.get("Items", ()):
                accumulator.add(LedgerEntry.from_raw_data(raw))
            bar.advance(int(page.get("ScannedCount", 0)))
        if hasattr(accumulator, "finish"):
            accumulator.finish()
        return accumulator

    with Progress(label, approximate_count(), unit="entries") as bar, ThreadPoolExecutor(segments) as pool:
        parts = list(pool.map(lambda number: segment(number, bar), range(segments)))
    return reduce(lambda left, right: left.merge(right), parts)
