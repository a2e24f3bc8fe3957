"""What an issuance counts (admin/issuance.py): the verdict on each earning entry's methodology version (one catalog
read per version, shared by the scan's threads), the tally per (verdict, methodology id, version), and the CSV log
of the issued entries' keys."""
from __future__ import annotations

import csv
import threading
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.services import catalog
from chalicelib.store.models import CatalogItem, LedgerEntry

EARNING_KINDS = ("earn", "accrual")
ENTRY_COLUMNS = ("methodology_id", "methodology_version", "behavior", "user_id", "entry_id", "day", "kind",
                 "carbon_mg")


class Verdicts:
    """Whether an entry's methodology version may be issued; one catalog read per version, shared by threads."""

    def __init__(self) -> None:
        self._known: dict[tuple, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def of(self, entry: LedgerEntry) -> tuple[str, str]:
        """("issue", source) or (reason left out, "")."""
        if not entry.methodology_id or not entry.methodology_version:
            return "no_methodology", ""
        key = (entry.behavior, entry.methodology_id, entry.methodology_version)
        with self._lock:
            if key not in self._known:
                self._known[key] = self._judge(*key)
            return self._known[key]

    @staticmethod
    def _judge(behavior: str | None, methodology_id: str, version: str) -> tuple[str, str]:
        try:
            rule = catalog.rule_version(behavior or "", version)
        except CatalogItem.DoesNotExist:
            return Verdicts._tree(methodology_id, version)
        if rule.methodology_id != methodology_id:
            return "unknown_methodology", ""
        return ("estimate", "") if rule.estimate else ("issue", rule.source)

    @staticmethod
    def _tree(methodology_id: str, version: str) -> tuple[str, str]:
        """Tree accrual names the methodology its adoption was sold with; the `tree` partition has each tree's."""
        for data in catalog.trees().values():
            methodology = data.get("methodology") or {}
            if methodology.get("id") == methodology_id and str(methodology.get("version")) == version:
                return ("estimate", "") if methodology.get("estimate") else ("issue", str(methodology.get("source")))
        return "unknown_methodology", ""


class EntryLog:
    """The issued entries' keys, written as CSV while the segments scan (one lock, one row each)."""

    def __init__(self, path: Path) -> None:
        self.path, self.rows = path, 0
        self._file = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(ENTRY_COLUMNS)
        self._lock = threading.Lock()

    def write(self, entry: LedgerEntry) -> None:
        row = [entry.methodology_id, entry.methodology_version, entry.behavior or "", entry.user_id,
               entry.entry_id, entry.day, entry.kind, int(entry.carbon_mg)]
        with self._lock:
            self._writer.writerow(row)
            self.rows += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


@dataclass
class Tally:
    """Per (verdict, methodology id, version): entries, carbon, behaviours, first and last day."""

    log: EntryLog
    verdicts: Verdicts
    groups: dict[tuple, dict] = field(default_factory=dict)

    def add(self, entry: LedgerEntry) -> None:
        if entry.kind not in EARNING_KINDS or int(entry.carbon_mg or 0) <= 0:
            return
        verdict, source = self.verdicts.of(entry)
        self._count((verdict, entry.methodology_id, entry.methodology_version), int(entry.carbon_mg),
                    {entry.behavior or entry.source}, entry.day, entry.day, 1, source)
        if verdict == "issue":
            self.log.write(entry)

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
        return self
