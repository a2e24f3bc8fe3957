"""The ledger entries an issuance's entries file lists. The file names entries by day, platform, entry id,
pseudonym and leaf hash, never by user id (docs/issuance.md); the tests find each entry's user by a Scan of the
test table (entry ids are unique), which no code path of the app does."""
from __future__ import annotations

import csv
from pathlib import Path

from chalicelib.store.models import LedgerEntry


def owners(entry_ids: list[str]) -> dict[str, str]:
    """{entry id: user id} of the given entries."""
    wanted, found = sorted(set(entry_ids)), {}
    for start in range(0, len(wanted), 100):
        chunk = wanted[start:start + 100]
        for entry in LedgerEntry.scan(LedgerEntry.entry_id.is_in(*chunk), attributes_to_get=["user_id", "entry_id"]):
            found[entry.entry_id] = entry.user_id
    return found


def rows_of(path: str | Path) -> list[dict]:
    """The entries file's rows, each with the `user_id` of its entry added."""
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    users = owners([row["entry_id"] for row in rows]) if rows else {}
    return [{**row, "user_id": users.get(row["entry_id"])} for row in rows]
