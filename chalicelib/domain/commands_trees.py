"""The saplings' commands (domain/commands.py says what a command is)."""
from __future__ import annotations

from datetime import date

from .commands import UserCommand
from .values import immutable


@immutable
class AdoptTree(UserCommand):
    """POST /v1/trees/{id}/adopt: a tree of the caller's platform (its token's)."""

    tree_id: str
    platform: str = "default"


@immutable
class AccrueShard:
    """One slice of the daily accrual job: credit shard `shard`'s adoptions through `through`, from
    `cursor` (None: the shard's start) until the shard ends or the slice runs out of time."""

    shard: int
    through: date
    cursor: dict | None = None
    dry_run: bool = False
    platform: str | None = None  # credit only this platform's adopters; None: every platform's (the scheduled job)
