"""What the ingest use cases return (services/ingest.py, partner_sync.py, webhooks.py, werun.py): counts and
amounts, never a status code or a JSON body (api/partners.py and api/werun.py decide those)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .caps import DayCount
from .values import immutable


@dataclass
class Outcome:
    """Events of one ingestion: how many counted, were already counted, or did not count, and what they earned."""

    imported: int = 0
    duplicates: int = 0
    ignored: int = 0
    points: int = 0
    carbon_mg: int = 0
    # the keys of the events imported (a webhook counts each event of a person on several platforms once)
    imported_keys: set[str] = field(default_factory=set, compare=False, repr=False)

    def add(self, other: Outcome) -> Outcome:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.points += other.points
        self.carbon_mg += other.carbon_mg
        self.imported_keys |= other.imported_keys
        return self


@dataclass
class SyncResult(Outcome):
    """A pull: the pages' outcome, and whether the partner has more after where it stopped."""

    has_more: bool = False


@immutable
class StepDay:
    """One day of WeChat Sports: its step total and what the day has earned in all (after this sync)."""

    day: date
    steps: int
    earned: DayCount


@immutable
class WeRunResult:
    days: list[StepDay] = field(default_factory=list)  # newest first
    points: int = 0  # awarded by this sync
    carbon_mg: int = 0
