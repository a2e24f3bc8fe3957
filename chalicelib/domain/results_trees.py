"""What the saplings' use cases return (domain/results.py says why never a status or JSON)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .adoptions import Adoption
from .posting import LedgerLine
from .trees import Tree
from .values import immutable

COUNTS = ("adoptions", "credited_days", "credited_mg", "completed", "frozen", "no_account", "failed")


@immutable
class AdoptionResult:
    """POST /v1/trees/{id}/adopt: the adoption, the balance after, and the `spend` entry."""

    adoption: Adoption
    points: int
    entry: LedgerLine


@immutable
class Offer:
    """GET /v1/trees: a tree on offer and how many of it are left (never below 0)."""

    tree: Tree
    available: int


@dataclass
class AccrualCounts:
    """What an accrual run did, as the job and the console report it (operations.md)."""

    counts: Counter = field(default_factory=Counter)
    cursor: dict | None = None  # where the shard's slice stopped (None: at its end)

    def as_dict(self) -> dict:
        return {key: int(self.counts.get(key, 0)) for key in COUNTS}


@immutable
class AdoptionsPage:
    """GET /v1/me/trees: the caller's adoptions, newest first, and the cursor of the next page."""

    items: list[Adoption]
    next_cursor: str | None
