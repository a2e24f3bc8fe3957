"""issuance --from D --to D --out FILE: the carbon-inclusion reduction report for a carbon exchange.

What is issued: `earn` and `accrual` ledger entries whose business day is in the period, with carbon
above zero, computed by a methodology version that the catalog knows (`catalog.rule_version`) and
that is not an estimate. Entries without a methodology (spends, refunds, adjustments) are not
reductions. Estimates, and entries whose methodology version the catalog cannot confirm, are left
out but counted under "excluded", so nothing disappears silently.

Traceable: the summary (JSON or CSV) gives totals per (methodology id, version); a companion CSV
lists every issued entry's key (user_id, entry_id) with its carbon, and the summary and the
issuance record carry that file's row count and SHA-256: the listed grams sum to the totals.

At most once: an issuance record (chalicelib/store/issuance.py) keyed by the period is written
with a condition, in one transaction with a version bump of the registry's head item, so two runs
cannot both issue; a period that overlaps an issued one is refused.

Late entries: an event up to 7 days late still lands on its own business day, so the entries of a
day D are final only when D+7 is over. A period is issued only once its last day is at least 8 days
ago: no entry can appear in it afterwards, so nothing is missed by an earlier run and nothing is
issued twice by a later one. (--dry-run may preview an open period; the file says it is a preview.)
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from datetime import timedelta
from pathlib import Path

from chalicelib.domain import clock
from chalicelib.errors import AppError
from chalicelib.store.issuance import HEAD, REGISTRY, IssuanceRecord
from chalicelib.store.tx import Tx, TxCancelledError

from . import ledger_scan
from .console import CommandError, Output, UsageError, audit, confirm, operator
from .issuance_tally import ENTRY_COLUMNS, EntryLog, Tally, Verdicts

ISSUE_AFTER_DAYS = clock.LATE_EVENT_DAYS + 1
SUMMARY_COLUMNS = ("status", "methodology_id", "methodology_version", "behaviors", "entries", "carbon_mg",
                   "carbon_g", "first_day", "last_day")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _records() -> list[IssuanceRecord]:
    return [r for r in IssuanceRecord.query(REGISTRY, consistent_read=True) if r.period != HEAD]


def _overlaps(first: str, last: str) -> list[str]:
    return [r.period for r in _records() if r.first_day <= last and r.last_day >= first]


def _record(record: IssuanceRecord) -> None:
    """Writes the record and bumps the head in one transaction; re-checks overlaps after a lost race."""
    for _ in range(5):
        try:  # the head first: a record written after this read changes the version, and fails our write
            version = IssuanceRecord.get(REGISTRY, HEAD, consistent_read=True).version
        except IssuanceRecord.DoesNotExist:
            version = None
        clash = _overlaps(record.first_day, record.last_day)
        if clash:
            raise CommandError(f"period {record.period} overlaps issued {', '.join(clash)}: refused, nothing issued")
        tx = Tx()
        tx.put("record", record, condition=IssuanceRecord.period.does_not_exist())
        tx.update("head", IssuanceRecord(REGISTRY, HEAD), actions=[IssuanceRecord.version.set((version or 0) + 1)],
                  condition=IssuanceRecord.version.does_not_exist() if version is None
                  else IssuanceRecord.version == version)
        try:
            tx.commit()
            return
        except TxCancelledError:
            continue
        except AppError as exc:
            raise CommandError(f"could not record the issuance ({exc.code}); nothing was issued") from exc
    raise CommandError("could not record the issuance (other issuances kept winning); nothing was issued, try again")


def _summary(doc: dict) -> dict:
    """Shapes the tally into the summary document's methodology and exclusion lists."""
    issued, excluded = [], []
    for (verdict, mid, version), g in sorted(doc.pop("groups").items(), key=lambda kv: tuple(map(str, kv[0]))):
        item = {"methodology_id": mid, "methodology_version": version, "behaviors": sorted(g["behaviors"]),
                "entries": g["entries"], "carbon_mg": g["carbon_mg"], "carbon_g": g["carbon_mg"] / 1000,
                "first_day": g["first_day"], "last_day": g["last_day"]}
        if verdict == "issue":
            issued.append({**item, "source": g["source"]})
        else:
            excluded.append({"reason": verdict, **item})
    carbon = sum(item["carbon_mg"] for item in issued)
    doc["totals"] = {"entries": sum(item["entries"] for item in issued), "carbon_mg": carbon,
                     "carbon_g": carbon / 1000, "carbon_kg": carbon / 1e6}
    doc["methodologies"], doc["excluded"] = issued, excluded
    return doc


def _summary_text(doc: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for status, items in (("issued", doc["methodologies"]), ("excluded", doc["excluded"])):
        for item in items:
            writer.writerow([item.get("reason", status), item["methodology_id"] or "",
                             item["methodology_version"] or "", " ".join(item["behaviors"]), item["entries"],
                             item["carbon_mg"], f"{item['carbon_mg'] / 1000:.3f}", item["first_day"], item["last_day"]])
    return buffer.getvalue()


def _paths(args) -> tuple[Path, Path, str]:
    out = Path(args.out)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "json")
    entries = Path(args.entries) if args.entries else out.with_name(out.stem + ".entries.csv")
    if entries == out:
        raise UsageError("--entries must differ from --out")
    for path in (out, entries):
        if path.exists():
            raise CommandError(f"{path} exists: an issuance file is never overwritten; choose another name")
        if not path.parent.is_dir():
            raise CommandError(f"directory {path.parent} does not exist")
    return out, entries, fmt


def _refusals(args) -> list[str]:
    """Why this period cannot be issued now (a dry run only warns): still open to late entries, or overlapping."""
    first, last = args.first.isoformat(), args.last.isoformat()
    if args.first > args.last:
        raise UsageError(f"--from {first} is after --to {last}")
    reasons = []
    closes = args.last + timedelta(days=ISSUE_AFTER_DAYS)
    if clock.business_day(clock.now()) < closes:
        reasons.append(f"{last} is still open to late entries (up to {clock.LATE_EVENT_DAYS} days late); "
                       f"it can be issued from {closes}")
    reasons += [f"overlaps issued period {period}" for period in _overlaps(first, last)]
    if reasons and not args.dry_run:
        raise CommandError("; ".join(reasons) + ": refused, nothing issued")
    return reasons


def _compute(args, warnings: list[str], entries_name: str, fmt: str, tmp_out: Path, tmp_entries: Path) -> dict:
    """Scans the period, writes the entries file and the summary (both under temporary names)."""
    first, last = args.first.isoformat(), args.last.isoformat()
    log, verdicts = EntryLog(tmp_entries), Verdicts()
    try:
        tally = ledger_scan.scan_days(args.first, args.last, lambda: Tally(log, verdicts), segments=args.segments,
                                      label="issuance")
    finally:
        log.close()
    period = f"{first}..{last}"
    doc = _summary({
        "report": "GreenSprout carbon-inclusion reduction report", "registry": REGISTRY,
        "period": {"from": first, "to": last, "business_days": "Asia/Shanghai"},
        "issuance": {"id": None if args.dry_run else period,
                     "issued_at": None if args.dry_run else clock.iso(clock.now()),
                     "operator": operator(), "reason": args.reason, "dry_run": args.dry_run},
        "warnings": warnings, "groups": tally.groups,
        "entries_file": {"path": entries_name, "rows": log.rows, "sha256": _sha256(tmp_entries),
                         "columns": list(ENTRY_COLUMNS)},
        "late_entries": f"only periods whose last day is at least {ISSUE_AFTER_DAYS} days old are issued",
    })
    tmp_out.write_text(_summary_text(doc, fmt), encoding="utf-8")
    return doc


def run(args, out: Output) -> int:
    warnings = _refusals(args)
    out_path, entries_path, fmt = _paths(args)
    tmp_out, tmp_entries = (p.with_name(f"{p.name}.tmp-{os.getpid()}") for p in (out_path, entries_path))
    try:
        doc = _compute(args, warnings, entries_path.name, fmt, tmp_out, tmp_entries)
        files = {"summary": {"path": str(out_path), "sha256": _sha256(tmp_out)},
                 "entries": {**doc["entries_file"], "path": str(entries_path)}}
        if not args.dry_run:
            totals = doc["totals"]
            confirm(f"issue {totals['carbon_kg']:,.3f} kg CO2e from {totals['entries']:,} entries for "
                    f"{doc['issuance']['id']} to the exchange? This cannot be undone", args.yes)
            _record(IssuanceRecord(
                REGISTRY, doc["issuance"]["id"], first_day=doc["period"]["from"], last_day=doc["period"]["to"],
                issued_at=doc["issuance"]["issued_at"], operator=operator(), reason=args.reason,
                entries=totals["entries"], carbon_mg=totals["carbon_mg"], files=files,
                totals=[{k: m[k] for k in ("methodology_id", "methodology_version", "entries", "carbon_mg")}
                        for m in doc["methodologies"]]))
        os.replace(tmp_entries, entries_path)
        os.replace(tmp_out, out_path)
        if not args.dry_run:
            audit("issuance", {"from": doc["period"]["from"], "to": doc["period"]["to"], "out": str(out_path)},
                  args.reason, {"entries": doc["totals"]["entries"], "carbon_mg": doc["totals"]["carbon_mg"],
                                "files": files})
    finally:
        for tmp in (tmp_out, tmp_entries):
            tmp.unlink(missing_ok=True)
    out.result({**doc, "files": files}, _text(doc, files, args.dry_run))
    return 0


def _text(doc: dict, files: dict, dry_run: bool) -> str:
    t, period = doc["totals"], f"{doc['period']['from']}..{doc['period']['to']}"
    head = f"{'DRY RUN, nothing recorded: would issue' if dry_run else 'issued'} {period}: {t['entries']:,} entries, " \
           f"{t['carbon_g']:,.3f} g CO2e ({t['carbon_kg']:,.3f} kg) in {len(doc['methodologies'])} methodology versions"
    lines = [head] + [f"  {m['methodology_id']} {m['methodology_version']}: {m['entries']:,} entries, "
                      f"{m['carbon_g']:,.3f} g" for m in doc["methodologies"]]
    lines += [f"  left out ({x['reason']}): {x['methodology_id'] or '-'} {x['methodology_version'] or ''} "
              f"{x['entries']:,} entries, {x['carbon_g']:,.3f} g" for x in doc["excluded"]]
    lines += [f"  warning: {w}" for w in doc["warnings"]]
    lines.append(f"wrote {files['summary']['path']} (sha256 {files['summary']['sha256'][:12]}…) and "
                 f"{files['entries']['path']} ({files['entries']['rows']:,} entries, "
                 f"sha256 {files['entries']['sha256'][:12]}…)")
    return "\n".join(lines)
