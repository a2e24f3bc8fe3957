"""issuance --from D --to D --out FILE [--platform ID|all]: the carbon-inclusion reduction report for a carbon
exchange.

What is issued: `earn` and `accrual` ledger entries whose business day is in the period, with carbon
above zero, and the `adjust` entries of corrected partner readings (domain/readings.py: the difference in
carbon, above or below zero, under the reading's methodology), computed by a methodology version that the
catalog knows (`catalog.rule_version`) and that is not an estimate. A reading's entries are issued on their own
days, so what its issuances count in all is its net carbon, never more than its latest revision once the
correction's period is issued: a correction down after the reading's period was issued is a negative row of the
next issuance of the correction's day (a deduction from its totals), issued once like any entry (its marker).
Entries without a methodology (spends, refunds, an operator's points adjustments) are not reductions.
Estimates, and entries whose methodology version the catalog cannot confirm, are left out but counted under
"excluded", so nothing disappears silently.

Scope (shared/contract/platforms.md rule 5): `--platform P` (default `default`) counts the entries of P's users
(the account's `platform`, absent = `default`); `--platform all` counts every platform's, each attributed to the
platform of its user. Either way only entries holding their carbon: an entry with `counted_via` holds none (the
platform named there holds it) and is never listed. The summary gives totals per platform and overall. Each
scope has its registry: `carbon-inclusion` (`default`'s, as before platforms), `carbon-inclusion#P`,
`carbon-inclusion#all` (store/issuance.registry_of).

Traceable and verifiable by a stranger (docs/issuance.md, verifier/verify_issuance.py): the summary (JSON or CSV)
gives totals per (methodology id, version); a companion CSV lists every issued entry by its leaf in the daily roots
(day, platform, entry_id, pseudonym, leaf_hash; no user id) with its methodology and carbon; beside them the
methodology registry export (admin/issuance_export.py), the roots file and the leaves files of the entries' days
(admin/issuance_roots.py). The summary and the issuance record carry the files' SHA-256: the listed grams sum to
the totals. The console keeps each entry's user id only while marking (a temporary file, removed).

At most once within a scope: an issuance record (chalicelib/store/issuance.py) keyed by the period is written
with a condition, in one transaction with a version bump of the registry's head item, so two runs
cannot both issue; a period that overlaps an issued one is refused. A period overlapping a record written
before platforms (no `scope`: it issued every platform's entries of its days and marked none) is refused in
every scope.

At most once across scopes: each issued entry has a marker (store/issuance.IssuedEntry, pk "entry#{user_id}",
sk the entry id, naming its issuance "{registry}/{period}"), put with `attribute_not_exists OR issuance = this
one`. An entry marked by another issuance is left out ("issued_elsewhere", by issuance id). The entries file
lists exactly the entries whose marker names this issuance. The writes, in this order:
  1. the scan reads each candidate's account (its platform) and marker by key (BatchGetItem), and writes the
     entries no other issuance marked to a temporary file; nothing is written to DynamoDB (a dry run stops here);
  2. the record, state "issuing", with the head bump: from now on the period is taken in its scope;
  3. a marker for each offered entry; the entries file gets those whose marker is this issuance's;
  4. the record becomes "issued", with the totals and the files' SHA-256, on the condition that this run still
     holds it (`attempt`); then the files get their names and the audit record is written.
Why no entry is issued twice or lost when the console dies: before 2 nothing was written, so a re-run starts
again. From 2 on, markers exist only for an "issuing" or "issued" record. A console dying in 3 or 4 leaves the
record "issuing": every other period of the scope overlapping it is still refused, and other scopes leave out
what it marked. Running the same command again (same scope and period) takes the record over (a conditional
update of `attempt`, so one of two re-runs goes on), finds its own markers (the condition allows them), marks
the rest, and lists all of them: an entry marked before the crash is listed, one another scope marked meanwhile
is left out and listed there. A console dying after 4 but before the files are renamed leaves an issued record
without its files, as before markers. Markers are written by the console only; Lambda never reads this table.

Late entries: an event up to 7 days late still lands on its own business day, so the entries of a
day D are final only when D+7 is over. A period is issued only once its last day is at least 8 days
ago: no entry can appear in it afterwards, so nothing is missed by an earlier run and nothing is
issued twice by a later one. (--dry-run may preview an open period; the file says it is a preview.)
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from pynamodb.exceptions import PynamoDBException

from chalicelib.domain import clock
from chalicelib.domain.platforms import ALL, DEFAULT
from chalicelib.domain.transparency import ROOT_AFTER_DAYS
from chalicelib.errors import AppError
from chalicelib.services import transparency
from chalicelib.services.platforms import every_id
from chalicelib.settings import get_settings
from chalicelib.store.issuance import ISSUING, REGISTRY, IssuanceRecord, issuance_id, registry_of

from . import issuance_export as export
from . import issuance_marks as marks
from . import issuance_registry as registry
from . import issuance_roots as published
from . import ledger_scan
from .console import CommandError, Output, Progress, UsageError, audit, confirm, known_platform, operator
from .issuance_summary import summary, summary_text, text
from .issuance_tally import OFFERED_COLUMNS, EntryLog, Lookups, Tally, Verdicts, read_rows

ISSUE_AFTER_DAYS = clock.LATE_EVENT_DAYS + 1
MARK_THREADS = 8
MARK_CHUNK = 400


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _paths(args) -> tuple[Path, Path, Path, Path, Path, str]:
    """The summary, entries CSV, registry export, roots file and leaves folder, and the summary's format."""
    out = Path(args.out)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "json")
    entries = Path(args.entries) if args.entries else out.with_name(out.stem + ".entries.csv")
    beside = [out.with_name(out.stem + suffix) for suffix in (".registry.json", ".roots.json", ".leaves")]
    if entries == out or entries in beside:
        raise UsageError("--entries must differ from --out and from OUT_STEM.registry.json, .roots.json, .leaves")
    for path in (out, entries, *beside):
        if path.exists():
            raise CommandError(f"{path} exists: an issuance file is never overwritten; choose another name")
        if not path.parent.is_dir():
            raise CommandError(f"directory {path.parent} does not exist")
    return out, entries, *beside, fmt


def _refusals(args, scope: str) -> tuple[list[str], IssuanceRecord | None]:
    """Why this period cannot be issued now (a dry run only warns): still open to late entries, or overlapping;
    and the record of this same period left "issuing" by a console that died, which this run finishes."""
    first, last = args.first.isoformat(), args.last.isoformat()
    if args.first > args.last:
        raise UsageError(f"--from {first} is after --to {last}")
    reasons, unfinished = [], None
    closes = args.last + timedelta(days=ISSUE_AFTER_DAYS)
    if clock.business_day(clock.now()) < closes:
        reasons.append(f"{last} is still open to late entries (up to {clock.LATE_EVENT_DAYS} days late); "
                       f"it can be issued from {closes}")
    for record in registry.overlapping(registry_of(scope), first, last):
        if record.period == f"{first}..{last}" and record.state == ISSUING:
            unfinished = record
        else:
            reasons.append(f"overlaps issued period {record.period}" + (
                " (unfinished: run its own period again to finish it)" if record.state == ISSUING else ""))
    reasons += _unrooted(args.first, args.last, scope)
    if scope != DEFAULT:
        reasons += [f"overlaps period {r.period} issued by {REGISTRY} before platforms (it issued every platform's "
                    "entries of its days)" for r in registry.before_platforms(first, last)]
    if reasons and not args.dry_run:
        raise CommandError("; ".join(reasons) + ": refused, nothing issued")
    return reasons, unfinished


def _unrooted(first: date, last: date, scope: str) -> list[str]:
    """The days of the period the daily roots cover (from TRANSPARENCY_FIRST_DAY) whose root is not written yet, per
    platform of the scope: their entries could not be checked against a published root, so the period waits (one
    Query of `transparency_roots` a platform). Nothing when the deployment has not started its roots."""
    configured = get_settings().transparency_first_day  # "YYYY-MM-DD"
    if configured is None or last < date.fromisoformat(configured):
        return []
    start = date.fromisoformat(configured)
    since = max(first, start)
    wanted = (last - since).days + 1
    reasons = []
    for platform in (every_id() if scope == ALL else [scope]):
        rooted = {record["day"] for record in transparency.roots(platform, since, last)}
        if len(rooted) < wanted:
            missing = sorted({day.isoformat() for day in clock.days(since, last)} - rooted)
            reasons.append(f"{platform}: {len(missing)} day(s) not rooted yet ({missing[0]}..{missing[-1]}; the "
                           f"transparency-roots job roots a day {ROOT_AFTER_DAYS} days after it)")
    return reasons


def _scan(args, scope: str, mine: str, offered: Path) -> Tally:
    """Tallies the period's entries of the scope; writes those no other issuance marked to `offered`."""
    log, verdicts, lookups = EntryLog(offered, OFFERED_COLUMNS), Verdicts(), Lookups(marks.platforms_of, marks.owners)
    try:
        return ledger_scan.scan_days(args.first, args.last, lambda: Tally(scope, verdicts, lookups, log, mine),
                                     segments=args.segments, label="issuance")
    finally:
        log.close()


def _settle(offered: Path, log: EntryLog, tally: Tally, held: registry.Claim | None) -> None:
    """Marks every offered entry as this issuance's (a dry run marks none) and lists in `log` those it holds; an
    entry another issuance marked meanwhile is left out. The issued totals are counted again from what is listed."""
    total = sum(g["entries"] for key, g in tally.groups.items() if key[0] == "issue") or None
    sources, rows = tally.recount_issued(), read_rows(offered)
    with Progress("marking issued entries", total, unit="entries") as bar, ThreadPoolExecutor(MARK_THREADS) as pool:
        while chunk := list(islice(rows, MARK_CHUNK)):
            owners = pool.map(lambda row: marks.mark(held.id, row["user_id"], row["entry_id"]), chunk) if held \
                else [None] * len(chunk)
            for row, owner in zip(chunk, owners, strict=True):
                tally.count(tally.left_out(owner) if owner else "issue", row,
                            sources[(row["methodology_id"], row["methodology_version"])])
                if owner is None:
                    log.write(row)
            bar.advance(len(chunk))


def _hold(args, doc: dict, unfinished: IssuanceRecord | None, scope: str) -> registry.Claim:
    """Step 2: the period's record, "issuing" (or the unfinished one, taken over)."""
    if unfinished is not None:
        return registry.take_over(unfinished)
    period = doc["period"]
    return registry.claim(IssuanceRecord(
        registry_of(scope), doc["issuance"]["id"], first_day=period["from"], last_day=period["to"],
        issued_at=doc["issuance"]["issued_at"], operator=operator(), reason=args.reason, scope=scope))


def _document(args, scope: str, warnings: list[str], unfinished: IssuanceRecord | None) -> dict:
    first, last = args.first.isoformat(), args.last.isoformat()
    period, registry_name = f"{first}..{last}", registry_of(scope)
    if unfinished is not None:
        warnings = [*warnings, f"finishes issuance {period} of {registry_name}, left unfinished since "
                               f"{unfinished.issued_at} by {unfinished.operator}"]
    return {
        "report": "GreenSprout carbon-inclusion reduction report", "registry": registry_name, "platform": scope,
        "period": {"from": first, "to": last, "business_days": "Asia/Shanghai"},
        "issuance": {"id": None if args.dry_run else period, "marker": issuance_id(registry_name, period),
                     "issued_at": None if args.dry_run else (
                         unfinished.issued_at if unfinished is not None else clock.iso(clock.now())),
                     "operator": operator(), "reason": args.reason, "dry_run": args.dry_run,
                     "resumed": unfinished is not None},
        "warnings": warnings,
        "late_entries": f"only periods whose last day is at least {ISSUE_AFTER_DAYS} days old are issued",
    }


def _unfinished(held: registry.Claim, exc: BaseException) -> CommandError:
    return CommandError(f"issuance {held.id} is recorded but unfinished ({exc}): run the same command again "
                        "(same --platform, --from and --to) to finish it; no entry is issued twice or lost")


def _publish(keys: Path, tmp: dict[str, Path], held: registry.Claim | None) -> tuple[dict, list[str]]:
    """Steps after the markers, into temporary files: the leaves files and roots of the issued entries' days, the
    entries CSV naming each entry by its leaf (admin/issuance_roots.py), and the registry export."""
    try:
        records, found, warnings = published.publish(read_rows(keys), tmp["leaves"])
    except (AppError, PynamoDBException, CommandError) as exc:
        raise _unfinished(held, exc) if held else CommandError(f"could not read the daily roots ({exc})") from exc
    tmp["roots"].write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    rows = published.write_entries(read_rows(keys), found, tmp["entries"])
    exported = export.export((row["behavior"], row["methodology_id"], row["methodology_version"])
                             for row in read_rows(keys))
    tmp["registry"].write_text(export.text(exported), encoding="utf-8")
    leaves = sorted(path for path in tmp["leaves"].rglob("*.jsonl"))
    return {"entries_file": {"path": "", "rows": rows, "sha256": _sha256(tmp["entries"]),
                             "columns": list(published.ENTRY_COLUMNS), "format": published.FORMAT},
            "registry_file": {"path": "", "sha256": _sha256(tmp["registry"]), "format": export.FORMAT,
                              "methodologies": len(exported["methodologies"])},
            "roots_file": {"path": "", "sha256": _sha256(tmp["roots"]), "days": len(records)},
            "leaves": {"path": "", "files": len(leaves)}}, warnings


def run(args, out: Output) -> int:
    scope = known_platform(args.platform, allow_all=True)
    warnings, unfinished = _refusals(args, scope)
    out_path, entries_path, registry_path, roots_path, leaves_path, fmt = _paths(args)
    final = {"summary": out_path, "entries": entries_path, "registry": registry_path, "roots": roots_path,
             "leaves": leaves_path, "keys": entries_path.with_name(entries_path.name + ".keys"),
             "offered": entries_path.with_name(entries_path.name + ".offered")}
    tmp = {name: path.with_name(f"{path.name}.tmp-{os.getpid()}") for name, path in final.items()}
    doc, held = _document(args, scope, warnings, unfinished), None
    try:
        tally = _scan(args, scope, doc["issuance"]["marker"], tmp["offered"])
        if not args.dry_run:
            offered = summary(dict(doc), tally)["totals"]
            confirm(f"issue {offered['carbon_kg']:,.3f} kg CO2e from {offered['entries']:,} entries for "
                    f"{doc['issuance']['id']} ({doc['registry']}) to the exchange? This cannot be undone", args.yes)
            held = _hold(args, doc, unfinished, scope)
        log = EntryLog(tmp["keys"])
        try:
            _settle(tmp["offered"], log, tally, held)
        except (AppError, PynamoDBException) as exc:
            raise _unfinished(held, exc) if held else CommandError(f"could not read the ledger ({exc})") from exc
        finally:
            log.close()
        files_doc, more = _publish(tmp["keys"], tmp, held)
        for key, name in (("entries_file", "entries"), ("registry_file", "registry"), ("roots_file", "roots"),
                          ("leaves", "leaves")):
            files_doc[key]["path"] = final[name].name
        doc = summary({**doc, **files_doc, "warnings": [*doc["warnings"], *more]}, tally)
        tmp["summary"].write_text(summary_text(doc, fmt), encoding="utf-8")
        files = {"summary": {"path": str(out_path), "sha256": _sha256(tmp["summary"])},
                 "entries": {**doc["entries_file"], "path": str(entries_path)},
                 "registry": {**doc["registry_file"], "path": str(registry_path)},
                 "roots": {**doc["roots_file"], "path": str(roots_path)},
                 "leaves": {**doc["leaves"], "path": str(leaves_path)}}
        if held:
            _finish(held, doc, files)
        for name in ("entries", "registry", "roots", "leaves", "summary"):  # the summary last: it names the others
            if name == "leaves" and not tmp["leaves"].exists():
                tmp["leaves"].mkdir()
            os.replace(tmp[name], final[name])
        if held:
            audit("issuance", {"platform": scope, "from": doc["period"]["from"], "to": doc["period"]["to"],
                               "out": str(out_path)}, args.reason,
                  {"entries": doc["totals"]["entries"], "carbon_mg": doc["totals"]["carbon_mg"], "files": files,
                   "registry": doc["registry"], "resumed": held.resumed})
    finally:
        for name, path in tmp.items():
            if name == "leaves":
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    out.result({**doc, "files": files}, text(doc, files, args.dry_run))
    return 0


def _finish(held: registry.Claim, doc: dict, files: dict) -> None:
    """Step 4: the record is issued, with what the files hold."""
    totals = doc["totals"]
    try:
        registry.finish(held, {
            "entries": totals["entries"], "carbon_mg": totals["carbon_mg"], "files": files,
            "totals": [{k: m[k] for k in ("methodology_id", "methodology_version", "entries", "carbon_mg")}
                       for m in doc["methodologies"]],
            "platforms": {p: {"entries": v["entries"], "carbon_mg": v["carbon_mg"]}
                          for p, v in doc["platforms"].items()}})
    except (AppError, PynamoDBException) as exc:
        raise _unfinished(held, exc) from exc
