"""Tree methodology versions as the catalog's history keeps them, for the console jobs that need a version's figure
(verify-ledger, an issuance's verdicts and registry export, the catalog load's checks).

The history is written once per version by the catalog load (admin/trees_load.py): partition
"tree_methodology#{methodology id}" (a platform P's "P#tree_methodology#{id}", domain/trees.history_kind), sort key
the version, data `Tree.version_record()`. The load refuses a version whose figure (annual uptake, estimate) differs
from the one stored on any platform, so one (methodology id, version) has one figure in the whole deployment.
Reading a methodology id is one Query per platform (default, then the catalog's platforms), cached for the run.
"""
from __future__ import annotations

import threading

from chalicelib.domain.methodology import Rule
from chalicelib.domain.recompute import tree_rule
from chalicelib.domain.trees import history_kind, record_figure
from chalicelib.services.platforms import every_id
from chalicelib.store import catalog_items


class TreeVersions:
    """Every platform's recorded versions of a tree methodology, read once per methodology id; shared by threads."""

    def __init__(self, platforms: list[str] | None = None) -> None:
        self._platforms = platforms
        self._lock = threading.Lock()
        self._read: dict[str, dict[str, list[tuple[str, dict]]]] = {}

    def stored(self, methodology_id: str, version: str) -> list[tuple[str, dict]]:
        """(platform, record) of each platform whose history holds this version."""
        with self._lock:
            if methodology_id not in self._read:
                found: dict[str, list[tuple[str, dict]]] = {}
                for platform in self._platforms or every_id():
                    for stored_version, data in catalog_items.partition(history_kind(methodology_id, platform)).items():
                        found.setdefault(stored_version, []).append((platform, data))
                self._read[methodology_id] = found
            return list(self._read[methodology_id].get(version, ()))

    def record(self, methodology_id: str | None, version: str | None) -> dict | None:
        """The version's record; None when no platform recorded it (or, against the load's checks, two platforms
        recorded different figures: then neither is the version's)."""
        if not methodology_id or not version:
            return None
        records = [data for _, data in self.stored(methodology_id, version)]
        if not records or len({record_figure(data) for data in records}) > 1:
            return None
        return records[0]

    def rule(self, methodology_id: str | None, version: str | None) -> Rule | None:
        """The version as a rule (domain/recompute.tree_rule: its annual uptake A mg per 365 days), or None."""
        record = self.record(methodology_id, version)
        if record is None:
            return None
        return tree_rule(record["methodology_id"], record["version"], int(record["annual_uptake_mg"]),
                         str(record.get("source") or ""), bool(record["estimate"]))
