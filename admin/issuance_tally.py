"""What an issuance counts (admin/issuance.py): the verdict on each earning entry's methodology version (one catalog
read per version, shared by the scan's threads), the entries of the issuance's scope (their users' platform) not
issued by another issuance (their markers), the tally per (verdict, methodology id, version) and per platform, and
the CSV logs of the entries' keys."""
from __future__ import annotations

import csv
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.domain.platforms import ALL
from chalicelib.services import catalog
from chalicelib.store.models import CatalogItem, LedgerEntry

from .issuance_marks import remembered
from .tree_versions import TreeVersions

EARNING_KINDS = ("earn", "accrual", "release")  # a release: a held credit, credited when released (docs/risk.md)
CORRECTING_KIND = "adjust"  # a partner's corrected reading: the difference in carbon, under its methodology
# The issued entries' keys, as the console keeps them while issuing (the published entries file names each entry by
# its leaf instead, admin/issuance_roots.ENTRY_COLUMNS); `root_key`: the day and shard of the entry's leaf.
ENTRY_COLUMNS = ("methodology_id", "methodology_version", "behavior", "user_id", "entry_id", "day", "kind",
                 "carbon_mg", "platform", "root_key")
OFFERED_COLUMNS = (*ENTRY_COLUMNS, "entry_source")  # the offered entries' log keeps what the recount needs
ELSEWHERE = "issued_elsewhere"  # the verdict on an entry another issuance marked: it issued it
LOOKUP_BATCH = 100  # entries whose platforms and markers are read at once


class Verdicts:
    """Whether an entry's methodology version may be issued; one catalog read per version, shared by threads."""

    def __init__(self) -> None:
        self._known: dict[tuple, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._trees = TreeVersions()

    def of(self, entry: LedgerEntry) -> tuple[str, str]:
        """("issue", source) or (reason left out, "")."""
        if not entry.methodology_id or not entry.methodology_version:
            return "no_methodology", ""
        key = (entry.behavior, entry.methodology_id, entry.methodology_version)
        with self._lock:
            if key not in self._known:
                self._known[key] = self._judge(*key)
            return self._known[key]

    def _judge(self, behavior: str | None, methodology_id: str, version: str) -> tuple[str, str]:
        try:
            rule = catalog.rule_version(behavior or "", version)
        except CatalogItem.DoesNotExist:
            return self._tree(methodology_id, version)
        if rule.methodology_id != methodology_id:
            return "unknown_methodology", ""
        return ("estimate", "") if rule.estimate else ("issue", rule.source)

    def _tree(self, methodology_id: str, version: str) -> tuple[str, str]:
        """Tree accrual names the methodology version its adoption was sold with; the catalog's history of tree
        methodology versions keeps it (admin/tree_versions.py), a replaced offer's too."""
        rule = self._trees.rule(methodology_id, version)
        if rule is None:
            return "unknown_methodology", ""
        return ("estimate", "") if rule.estimate else ("issue", rule.source)


class EntryLog:
    """Entries' keys as CSV rows (ENTRY_COLUMNS), written by several threads (one lock, one row each)."""

    def __init__(self, path: Path, columns: tuple[str, ...] = ENTRY_COLUMNS) -> None:
        self.path, self.rows, self.columns = path, 0, columns
        self._file = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(columns)
        self._lock = threading.Lock()

    def write(self, row: dict) -> None:
        with self._lock:
            self._writer.writerow([row[column] for column in self.columns])
            self.rows += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def counts(kind: str, carbon_mg: int, methodology_id: str | None) -> bool:
    """A reduction an issuance counts: an `earn` or `accrual` entry with carbon above zero, or an `adjust` entry
    with a methodology and carbon (a partner's corrected reading, domain/readings.py: up, or down, a deduction).
    An operator's `adjust` moves points only and names no methodology."""
    if kind in EARNING_KINDS:
        return carbon_mg > 0
    return kind == CORRECTING_KIND and carbon_mg != 0 and bool(methodology_id)


def row_of(entry: LedgerEntry, platform: str) -> dict:
    return {"methodology_id": entry.methodology_id, "methodology_version": entry.methodology_version,
            "behavior": entry.behavior or "", "user_id": entry.user_id, "entry_id": entry.entry_id, "day": entry.day,
            "kind": entry.kind, "carbon_mg": int(entry.carbon_mg), "platform": platform,
            "root_key": entry.root_key or "", "entry_source": entry.source}


def read_rows(path: Path) -> Iterator[dict]:
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            yield {**row, "carbon_mg": int(row["carbon_mg"])}


@dataclass
class Lookups:
    """The reads a tally needs, by key (admin/issuance_marks.py; fakes in unit tests)."""

    platforms_of: Callable[[Iterable[str]], dict[str, str]]
    owners: Callable[[Iterable[tuple[str, str]]], dict[tuple[str, str], str]]


@dataclass
class Tally:
    """Per (verdict, methodology id, version): entries, carbon, behaviours, first and last day; per platform: the
    issued entries and carbon; per other issuance: the entries it issued that this one leaves out.

    The scan `add`s every entry of the period; an entry counts when it is a reduction (`counts`: `earn` or
    `accrual`, or a reading's correction `adjust`, whose negative carbon is a deduction) holding its carbon
    (`counted_via` null: an entry counted via another platform holds none, and is never listed) whose user is of
    the scope (`scope` a platform id, or ALL). Those whose version may be issued and that no other issuance marked
    (`mine` may have: a re-run of a console that died half-way) are offered: written to `offered`, counted as
    "issue". The entries are judged LOOKUP_BATCH at a time (one BatchGetItem of their
    accounts' platforms, one of their markers)."""

    scope: str
    verdicts: Verdicts
    lookups: Lookups
    offered: EntryLog | None = None
    mine: str | None = None
    groups: dict[tuple, dict] = field(default_factory=dict)
    platforms: dict[str, dict] = field(default_factory=dict)
    elsewhere: dict[str, int] = field(default_factory=dict)
    _pending: list[LedgerEntry] = field(default_factory=list)
    _known: dict[str, str] = field(default_factory=dict)

    def add(self, entry: LedgerEntry) -> None:
        if entry.counted_via or not counts(entry.kind, int(entry.carbon_mg or 0), entry.methodology_id):
            return
        self._pending.append(entry)
        if len(self._pending) >= LOOKUP_BATCH:
            self.finish()

    def finish(self) -> None:
        """Judges the entries added since the last call (the scan calls it after a segment's last page)."""
        batch, self._pending = self._pending, []
        platforms = self._platforms({entry.user_id for entry in batch})
        judged = [(entry, platforms[entry.user_id]) for entry in batch
                  if self.scope == ALL or platforms[entry.user_id] == self.scope]
        issuable = [(entry, platform, self.verdicts.of(entry)) for entry, platform in judged]
        marked = self.lookups.owners([(e.user_id, e.entry_id) for e, _, (verdict, _) in issuable if verdict == "issue"])
        for entry, platform, (verdict, source) in issuable:
            owner = marked.get((entry.user_id, entry.entry_id)) if verdict == "issue" else None
            if owner and owner != self.mine:
                verdict = self.left_out(owner)
            row = row_of(entry, platform)
            self.count(verdict, row, source)
            if verdict == "issue" and self.offered is not None:
                self.offered.write(row)

    def _platforms(self, user_ids: set[str]) -> dict[str, str]:
        return remembered(self._known, user_ids, self.lookups.platforms_of)

    def left_out(self, owner: str) -> str:
        self.elsewhere[owner] = self.elsewhere.get(owner, 0) + 1
        return ELSEWHERE

    def count(self, verdict: str, row: dict, source: str) -> None:
        carbon = row["carbon_mg"]
        self._count((verdict, row["methodology_id"], row["methodology_version"]), carbon,
                    {row["behavior"] or row["entry_source"]}, row["day"], row["day"], 1, source)
        if verdict == "issue":
            platform = self.platforms.setdefault(row["platform"], {"entries": 0, "carbon_mg": 0})
            platform["entries"] += 1
            platform["carbon_mg"] += carbon

    def recount_issued(self) -> dict[tuple, str]:
        """Forgets what was counted as issued (before the markers are put); returns each version's source."""
        sources = {key[1:]: g["source"] for key, g in self.groups.items() if key[0] == "issue"}
        self.groups = {key: g for key, g in self.groups.items() if key[0] != "issue"}
        self.platforms = {}
        return sources

    def _count(self, key: tuple, carbon: int, behaviors: set, first: str, last: str, n: int, source: str) -> None:
        group = self.groups.setdefault(key, {"entries": 0, "carbon_mg": 0, "behaviors": set(), "first_day": first,
                                             "last_day": last, "source": source})
        group["entries"] += n
        group["carbon_mg"] += carbon
        group["behaviors"] |= behaviors
        group["first_day"], group["last_day"] = min(group["first_day"], first), max(group["last_day"], last)

    def merge(self, other: Tally) -> Tally:
        for key, g in other.groups.items():
            self._count(key, g["carbon_mg"], g["behaviors"], g["first_day"], g["last_day"], g["entries"], g["source"])
        for platform, p in other.platforms.items():
            mine = self.platforms.setdefault(platform, {"entries": 0, "carbon_mg": 0})
            mine["entries"] += p["entries"]
            mine["carbon_mg"] += p["carbon_mg"]
        for owner, n in other.elsewhere.items():
            self.elsewhere[owner] = self.elsewhere.get(owner, 0) + n
        return self
