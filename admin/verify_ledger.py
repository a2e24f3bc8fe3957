"""verify-ledger [--from D --to D] [--platform P] [--resume FILE]: recomputes every entry that carries carbon.

Each entry with carbon, or naming a methodology (domain/recompute.carries_carbon), is recomputed from its methodology
id and version, as the catalog keeps it for ever (the `methodology#{behaviour}` partition written by
admin/catalog_load.py: a rule never changes under its version; a tree's from the history of tree methodology
versions the load writes, admin/tree_versions.py: one Query per platform and tree methodology id a run meets; an
entry whose version has no record is a mismatch), and from its stored inputs, the day caps they record checked
(domain/recompute.py, the pure arithmetic the standalone verifier repeats). Entries without carbon (spends, refunds,
expiry, voids, an operator's points adjustments) are counted as skipped.

An offline console job, never a request path: a parallel Scan of the ledger (`--segments`, admin/ledger_scan.py),
filtered on `day` when --from/--to are given, one page (PAGE_SIZE items) at a time per segment, with a progress bar
on a terminal. Memory is one page per segment, the counts and the mismatches found. `--platform P` keeps the
entries of P's users (their accounts read by key, a batch per page). `--resume FILE` keeps a checkpoint in FILE
after every page: each segment's LastEvaluatedKey, the counts and the mismatches so far; run the same command
again with the same FILE to go on from there (a page is counted once: its counts and its segment's key are saved
together). Exit status 1 when any entry does not match, with the list of them (entry key, stored vs recomputed,
why).
"""
from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from pathlib import Path

from chalicelib.domain.platforms import DEFAULT
from chalicelib.domain.recompute import TREE_BEHAVIOR, carries_carbon, recompute_entry
from chalicelib.services import catalog
from chalicelib.store.models import CatalogItem, LedgerEntry

from . import issuance_marks
from .console import CommandError, Output, UsageError, known_platform
from .ledger_scan import scan_segments
from .tree_versions import TreeVersions

PAGE_SIZE = 1000
FIELDS = ("user_id", "entry_id", "day", "kind", "carbon_mg", "behavior", "methodology_id", "methodology_version",
          "inputs", "counted_via")
CHECKPOINT_FORMAT = "verify-ledger/1"


class Rules:
    """Methodology versions by (behaviour, version), and trees' by (methodology id, version): one catalog read
    each, shared by the segments' threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trees = TreeVersions()

    def of(self, behavior: str | None, version: str | None):
        if not version:
            return None
        with self._lock:
            try:
                return catalog.rule_version(behavior or "", version)
            except CatalogItem.DoesNotExist:
                return None

    def tree(self, methodology_id: str | None, version: str | None):
        """The tree methodology version's rule as the catalog's history keeps it (admin/tree_versions.py), or None
        when it has none."""
        return self._trees.rule(methodology_id, version)


def _blank() -> dict:
    return {"read": 0, "skipped_no_carbon": 0, "other_platforms": 0, "recomputed": 0, "matching": 0,
            "mismatching": 0, "carbon_mg": 0, "by_version": {}}


class Verification:
    """The counts, the mismatches and each segment's position; saved to the checkpoint file after every page."""

    def __init__(self, identity: dict, segments: int, path: Path | None) -> None:
        self.identity, self.path, self._lock = identity, path, threading.Lock()
        self.counts, self.mismatches = _blank(), []
        self.positions: list[dict] = [{"last_key": None, "done": False} for _ in range(segments)]
        if path is not None and path.exists():
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read checkpoint {path}: {exc}") from exc
        if saved.get("format") != CHECKPOINT_FORMAT or saved.get("identity") != self.identity:
            raise UsageError(f"checkpoint {path} is of another run ({saved.get('identity')}); run with the same "
                             "--from, --to, --platform and --segments, or another --resume file")
        self.counts, self.mismatches, self.positions = saved["counts"], saved["mismatches"], saved["positions"]

    def page(self, segment: int, counts: dict, mismatches: list[dict], last_key: dict | None) -> None:
        with self._lock:
            for key, value in counts.items():
                if key != "by_version":
                    self.counts[key] += value
            for version, group in counts["by_version"].items():
                mine = self.counts["by_version"].setdefault(version, {"entries": 0, "matching": 0, "carbon_mg": 0})
                for key, value in group.items():
                    mine[key] += value
            self.mismatches.extend(mismatches)
            self.positions[segment] = {"last_key": last_key, "done": last_key is None}
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"format": CHECKPOINT_FORMAT, "identity": self.identity, "counts": self.counts,
                                   "mismatches": self.mismatches, "positions": self.positions}), encoding="utf-8")
        os.replace(tmp, self.path)


def check_page(entries: list[LedgerEntry], rules: Rules, platforms: dict[str, str] | None,
               scope: str | None) -> tuple[dict, list[dict]]:
    """One page's counts and mismatches; `platforms` (user id -> platform) when only `scope`'s users count."""
    counts, mismatches = _blank(), []
    by_version: dict = defaultdict(lambda: {"entries": 0, "matching": 0, "carbon_mg": 0})
    for entry in entries:
        counts["read"] += 1
        carbon = int(entry.carbon_mg or 0)
        if not carries_carbon(carbon, entry.methodology_id):
            counts["skipped_no_carbon"] += 1
            continue
        if platforms is not None and platforms.get(entry.user_id, DEFAULT) != scope:
            counts["other_platforms"] += 1
            continue
        rule = rules.of(entry.behavior, entry.methodology_version) if entry.behavior != TREE_BEHAVIOR \
            else rules.tree(entry.methodology_id, entry.methodology_version)
        outcome = recompute_entry(rule, carbon, entry.inputs, entry.methodology_id, entry.counted_via)
        version = by_version[f"{entry.methodology_id} {entry.methodology_version}"]
        version["entries"] += 1
        version["carbon_mg"] += carbon
        counts["recomputed"] += 1
        counts["carbon_mg"] += carbon
        if outcome.matches:
            counts["matching"] += 1
            version["matching"] += 1
        else:
            counts["mismatching"] += 1
            mismatches.append({"user_id": entry.user_id, "entry_id": entry.entry_id, "day": entry.day,
                               "kind": entry.kind, "behavior": entry.behavior,
                               "methodology_id": entry.methodology_id,
                               "methodology_version": entry.methodology_version,
                               "stored_carbon_mg": carbon, "recomputed_carbon_mg": outcome.carbon_mg,
                               "why": outcome.why})
    counts["by_version"] = dict(by_version)
    return counts, mismatches


def _condition(args):
    first, last = args.first, args.last
    if first and last:
        if first > last:
            raise UsageError(f"--from {first} is after --to {last}")
        return LedgerEntry.day.between(first.isoformat(), last.isoformat())
    if first:
        return LedgerEntry.day >= first.isoformat()
    if last:
        return LedgerEntry.day <= last.isoformat()
    return None


def verify(args, scope: str | None) -> Verification:
    condition = _condition(args)
    identity = {"from": args.first and args.first.isoformat(), "to": args.last and args.last.isoformat(),
                "platform": scope, "segments": args.segments}
    state = Verification(identity, args.segments, Path(args.resume) if args.resume else None)
    rules, known = Rules(), {}
    known_lock = threading.Lock()

    def platforms_of(entries: list[LedgerEntry]) -> dict[str, str] | None:
        if scope is None:
            return None
        users = {e.user_id for e in entries if carries_carbon(int(e.carbon_mg or 0), e.methodology_id)}
        with known_lock:
            return dict(issuance_marks.remembered(known, users))

    def check(number: int, entries: list[LedgerEntry], last_key: dict | None) -> None:
        counts, mismatches = check_page(entries, rules, platforms_of(entries), scope)
        state.page(number, counts, mismatches, last_key)

    scan_segments(condition, args.segments, check, fields=FIELDS, label="verifying ledger", page_size=PAGE_SIZE,
                  start_keys={n: p["last_key"] for n, p in enumerate(state.positions) if not p["done"]})
    return state


def text(counts: dict, mismatches: list[dict]) -> str:
    lines = [f"read {counts['read']:,} entries: {counts['recomputed']:,} recomputed, {counts['matching']:,} matching, "
             f"{counts['mismatching']:,} mismatching; {counts['skipped_no_carbon']:,} without carbon skipped"
             + (f", {counts['other_platforms']:,} of other platforms" if counts["other_platforms"] else "")]
    lines += [f"  {version}: {g['entries']:,} entries, {g['matching']:,} matching, {g['carbon_mg'] / 1000:,.3f} g"
              for version, g in sorted(counts["by_version"].items())]
    lines += [f"MISMATCH {m['user_id']}/{m['entry_id']} ({m['day']}, {m['kind']}, {m['behavior']} "
              f"{m['methodology_id']} {m['methodology_version']}): stored {m['stored_carbon_mg']} mg, recomputed "
              f"{'-' if m['recomputed_carbon_mg'] is None else m['recomputed_carbon_mg']} mg: {m['why']}"
              for m in mismatches]
    return "\n".join(lines)


def run(args, out: Output) -> int:
    scope = known_platform(args.platform) if args.platform else None
    state = verify(args, scope)
    mismatches = sorted(state.mismatches, key=lambda m: (m["day"], m["user_id"], m["entry_id"]))
    out.result({**state.counts, "platform": scope, "mismatches": mismatches}, text(state.counts, mismatches))
    return 1 if mismatches else 0
