"""report --from D --to D [--platform ID|all]: reductions and points by behaviour and business day, and totals.

An offline job: a parallel Scan of the ledger filtered on `day` (admin/ledger_scan.py), folded into
counters keyed by (business day, behaviour), so memory grows with days x behaviours, never with
entries. Printed as an aligned table, or written as CSV or JSON; `--chart FILE.png` draws daily
carbon by behaviour (admin/charts.py, matplotlib: a console-only dependency).

Scope (shared/contract/platforms.md, "Operations"): `--platform P` (default `default`) counts the entries of P's
users (the account's `platform`, absent = `default`); `--platform all` counts every platform's, and gives each
platform's totals besides. An entry counted via another platform (`counted_via`) holds no carbon, so carbon summed
over platforms counts each reduction once; points are each platform's own. The platform of an entry's user is read
by key (BatchGetItem of accounts, 100 entries at a time, remembered); a deployment with no platform but `default`
reads none.
"""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from chalicelib.domain import clock
from chalicelib.domain.platforms import ALL, DEFAULT
from chalicelib.services import catalog
from chalicelib.store.models import LedgerEntry

from . import ledger_scan
from .console import CommandError, Output, UsageError, known_platform
from .issuance_marks import platforms_of, remembered

EARNING_KINDS = ("earn", "accrual", "release")  # a release: a held credit, credited when released (docs/risk.md)
SOURCE_NAMES = {"tree_uptake": "认养树木固碳", "tree": "认养树木固碳"}  # codes outside the behaviours' catalog
CSV_COLUMNS = ("day", "behavior", "name", "events", "carbon_mg", "carbon_g", "points")


@dataclass
class DayBehaviorTotals:
    """Per (day, behaviour): [events, carbon_mg, points] of earning entries; per kind: entries, points, carbon."""

    cells: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    kinds: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    adjust_up: int = 0

    def add(self, entry: LedgerEntry) -> None:
        points, carbon = int(entry.points or 0), int(entry.carbon_mg or 0)
        kind = self.kinds[entry.kind]
        kind[0], kind[1], kind[2] = kind[0] + 1, kind[1] + points, kind[2] + carbon
        if entry.kind == "adjust" and points > 0:
            self.adjust_up += points
        if entry.kind in EARNING_KINDS:
            cell = self.cells[(entry.day, entry.behavior or entry.source)]
            cell[0], cell[1], cell[2] = cell[0] + 1, cell[1] + carbon, cell[2] + points

    def merge(self, other: DayBehaviorTotals) -> DayBehaviorTotals:
        for target, source in ((self.cells, other.cells), (self.kinds, other.kinds)):
            for key, values in source.items():
                target[key] = [a + b for a, b in zip(target[key], values, strict=True)]
        self.adjust_up += other.adjust_up
        return self


LOOKUP_BATCH = 100  # entries whose users' platforms are read at once


@dataclass
class PlatformTotals:
    """DayBehaviorTotals per platform, for the scope (a platform id, or ALL). Entries wait, LOOKUP_BATCH at a time,
    for their users' platforms (`lookup`, None when every user is `default`'s); `finish` files the last ones."""

    scope: str
    lookup: Callable[[Iterable[str]], dict[str, str]] | None
    by_platform: dict[str, DayBehaviorTotals] = field(default_factory=lambda: defaultdict(DayBehaviorTotals))
    _pending: list[LedgerEntry] = field(default_factory=list)
    _known: dict[str, str] = field(default_factory=dict)

    def add(self, entry: LedgerEntry) -> None:
        if self.lookup is None:
            if self.scope in (ALL, DEFAULT):
                self.by_platform[DEFAULT].add(entry)
            return
        self._pending.append(entry)
        if len(self._pending) >= LOOKUP_BATCH:
            self.finish()

    def finish(self) -> None:
        batch, self._pending = self._pending, []
        if self.lookup is not None:
            remembered(self._known, {entry.user_id for entry in batch}, self.lookup)
        for entry in batch:
            platform = self._known.get(entry.user_id, DEFAULT)
            if self.scope in (ALL, platform):
                self.by_platform[platform].add(entry)

    def merge(self, other: PlatformTotals) -> PlatformTotals:
        for platform, totals in other.by_platform.items():
            self.by_platform[platform].merge(totals)
        return self

    def overall(self) -> DayBehaviorTotals:
        whole = DayBehaviorTotals()
        for totals in self.by_platform.values():
            whole.merge(totals)
        return whole


def scoped(scope: str) -> Callable[[], PlatformTotals]:
    """The accumulator of a report of `scope`: platforms are looked up only when the catalog has any but default."""
    lookup = platforms_of if catalog.platforms() else None
    return lambda: PlatformTotals(scope, lookup)


def carbon_g(mg: int) -> float:
    return mg / 1000


def behaviour_names() -> dict[str, str]:
    return {**SOURCE_NAMES, **{code: rule.name for code, rule in catalog.behaviors().items()}}


def build(first: date, last: date, totals: DayBehaviorTotals, names: dict[str, str]) -> dict:
    """The report document (what --format json prints), from the folded counters."""
    def line(values: list[int], **keys: str) -> dict:
        events, carbon, points = values
        return {**keys, "events": events, "carbon_mg": carbon, "carbon_g": carbon_g(carbon), "points": points}

    rows = [line(v, day=day, behavior=code, name=names.get(code, code))
            for (day, code), v in sorted(totals.cells.items())]
    per_behavior: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (_, code), values in totals.cells.items():
        per_behavior[code] = [a + b for a, b in zip(per_behavior[code], values, strict=True)]
    by_behavior = sorted((line(v, behavior=code, name=names.get(code, code)) for code, v in per_behavior.items()),
                         key=lambda item: -item["carbon_mg"])
    kinds = {kind: {"entries": n, "points": points, "carbon_mg": carbon}
             for kind, (n, points, carbon) in sorted(totals.kinds.items())}
    points_of = Counter({kind: values["points"] for kind, values in kinds.items()})
    carbon = sum(values["carbon_mg"] for kind, values in kinds.items() if kind != "held")  # held: not credited
    summary = {
        "entries": sum(values["entries"] for values in kinds.values()),
        "events": sum(values[0] for values in per_behavior.values()),
        "carbon_mg": carbon, "carbon_g": carbon_g(carbon),
        "points_issued": points_of["earn"] + points_of["release"] + totals.adjust_up,
        "points_spent": -points_of["spend"],
        "points_refunded": points_of["refund"],
        "points_expired": -points_of["expire"],
        "points_adjusted_down": totals.adjust_up - points_of["adjust"],
    }
    return {"from": first.isoformat(), "to": last.isoformat(), "rows": rows, "by_behavior": by_behavior,
            "totals": summary, "by_kind": kinds}


def _width(text: str) -> int:
    """Terminal cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: tuple[str, ...], rows: list[tuple], right_from: int) -> list[str]:
    cells = [tuple(str(value) for value in row) for row in [header, *rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]

    def pad(text: str, i: int) -> str:
        gap = " " * (widths[i] - _width(text))
        return gap + text if i >= right_from else text + gap

    return ["  ".join(pad(text, i) for i, text in enumerate(row)).rstrip() for row in cells]


def grams(mg: int) -> str:
    return f"{mg / 1000:,.3f}"


def as_table(report: dict) -> str:
    lines = [f"GreenSprout report {report['from']} .. {report['to']} (business days, Asia/Shanghai)", ""]
    rows = [(r["day"], r["behavior"], r["name"], f"{r['events']:,}", grams(r["carbon_mg"]), f"{r['points']:,}")
            for r in report["rows"]]
    if rows:
        lines += _table(("day", "behaviour", "name", "events", "carbon_g", "points"), rows, 3)
    else:
        lines.append("no reductions in this period")
    lines += ["", "by behaviour"]
    lines += _table(("behaviour", "name", "events", "carbon_g", "points"),
                    [(b["behavior"], b["name"], f"{b['events']:,}", grams(b["carbon_mg"]), f"{b['points']:,}")
                     for b in report["by_behavior"]], 2)
    t = report["totals"]
    scope = report.get("platform")
    lines += ["", "platform totals" if scope in (None, ALL, DEFAULT) else f"totals of {scope}"]
    lines += _table(("", "value"), [
        ("ledger entries", f"{t['entries']:,}"), ("reduction events", f"{t['events']:,}"),
        ("carbon (g CO2e)", grams(t["carbon_mg"])), ("points issued", f"{t['points_issued']:,}"),
        ("points spent", f"{t['points_spent']:,}"), ("points refunded", f"{t['points_refunded']:,}"),
        ("points expired", f"{t['points_expired']:,}"), ("points adjusted down", f"{t['points_adjusted_down']:,}"),
    ], 1)
    if "platforms" in report:
        lines += ["", "by platform"]
        lines += _table(("platform", "events", "carbon_g", "points issued", "points spent"),
                        [(p, f"{v['totals']['events']:,}", grams(v["totals"]["carbon_mg"]),
                          f"{v['totals']['points_issued']:,}", f"{v['totals']['points_spent']:,}")
                         for p, v in report["platforms"].items()], 1)
    return "\n".join(lines)


def as_csv(report: dict) -> str:
    """One row per (day, behaviour) with reductions; carbon both exact (mg) and in grams with 3 decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        writer.writerow([row["day"], row["behavior"], row["name"], row["events"], row["carbon_mg"],
                         f"{row['carbon_mg'] / 1000:.3f}", row["points"]])
    return buffer.getvalue()


def _written(file: dict) -> str:
    """A written file's path, and for a chart without Chinese, why (with or without --out)."""
    if file.get("chinese") is False:
        return f"{file['path']} (no CJK font: behaviour codes shown; apt-get install fonts-wqy-microhei)"
    return file["path"]


def run(args, out: Output) -> int:
    if args.first > args.last:
        raise UsageError(f"--from {args.first} is after --to {args.last}")
    scope = known_platform(args.platform, allow_all=True)
    fmt = args.format or ("json" if args.json else "table")
    totals = ledger_scan.scan_days(args.first, args.last, scoped(scope), segments=args.segments, label="report")
    names = behaviour_names()
    report = {**build(args.first, args.last, totals.overall(), names), "platform": scope}
    if scope == ALL:
        report["platforms"] = {platform: {key: value for key, value in build(args.first, args.last, part, names).items()
                                          if key in ("totals", "by_behavior", "by_kind")}
                               for platform, part in sorted(totals.by_platform.items())}
    text = {"table": as_table, "csv": as_csv}.get(fmt, lambda r: json.dumps(r, ensure_ascii=False, indent=2))(report)
    written = {}
    if args.chart:
        from . import charts

        written["chart"] = charts.daily_carbon(args.chart, clock.days(args.first, args.last), report)
    if not args.out:
        print(text)
        for path in written.values():
            out.info(f"chart written to {_written(path)}")
        return 0
    try:
        Path(args.out).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc}") from exc
    written["out"] = {"path": args.out, "format": fmt}
    t = report["totals"]
    out.result({"from": report["from"], "to": report["to"], "totals": t, "written": written},
               f"{report['from']} .. {report['to']}: {t['events']:,} events, {grams(t['carbon_mg'])} g CO2e, "
               f"{t['points_issued']:,} points issued; wrote " + ", ".join(map(_written, written.values())))
    return 0
