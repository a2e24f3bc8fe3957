#!/usr/bin/env python3
"""Checks a GreenSprout carbon-inclusion issuance from its published files alone (docs/issuance.md).

    python3 verify_issuance.py DIR                 # DIR holds the issuance's files (or give the summary .json)
    python3 verify_issuance.py --proof PROOF.json --root ROOTS.json

Standard library only, no database, no network: anyone (an exchange, an auditor, a user) runs it on the files.

An issuance directory holds the summary (JSON), the entries CSV, the methodology registry export, the roots file
of the issuance's days and the leaves files of those days (docs/transparency.md), named in the summary. Checked:
  1. files: the entries CSV and the registry export have the SHA-256 and row count the summary states;
  2. leaves: every leaves file is canonical JSON lines in leaf-hash order, of its platform, day and shard; its
     leaves hash to its shard's root, the shard roots to the day's root; the day's entry count, carbon and totals by
     methodology version are those of its leaves;
  3. chain: each day's `chain` is the hash of its commitments and the previous day's chain; days follow each other
     with no gap;
  4. entries: every issued entry is a leaf of its day (its leaf hash found there, with the same entry id, pseudonym,
     kind, carbon and methodology), listed once;
  5. carbon: every issued entry's carbon follows its rule in the registry export, from the leaf's inputs (the same
     arithmetic as the platform's: Decimal, half-up rounding, the day caps the inputs record; tree days
     floor(A*n/365) - floor(A*(n-1)/365));
  6. totals: the summary's totals, per methodology version and per platform, are the sums of the entries listed.
A proof (GET /v1/me/ledger/{entry_id}/proof) is checked against a roots file: its leaf hashes to its leaf_hash, its
paths fold to its shard's root and its day's root, and the roots file has that day with that shard root, root and a
valid chain hash.

Prints a report; exit status 0 when every check holds, 1 when any fails (each failure says what failed), 2 when
the files cannot be read at all.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

YEAR_DAYS = 365
ZERO = "0" * 64
SUMMARY_REPORT = "GreenSprout carbon-inclusion reduction report"
REGISTRY_FORMAT = "greensprout-methodology-registry/1"
LEAF_FIELDS = {"v", "platform", "day", "entry_id", "pseudonym", "shard", "kind", "points", "carbon_mg", "source",
               "behavior", "methodology_id", "methodology_version", "inputs", "counted_via"}


class Unreadable(Exception):
    """Files that cannot be read at all (exit status 2)."""


class Wrong(ValueError):
    """An entry whose carbon cannot be recomputed under its rule: the message says why."""


# --- hashing (docs/transparency.md) ---------------------------------------------------------------------------

def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_hash(leaf_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_bytes).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of leaf hashes."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def fold(start: bytes, steps: list) -> bytes:
    h = start
    for step in steps:
        sibling = bytes.fromhex(step["hash"])
        h = node(sibling, h) if step["side"] == "L" else node(h, sibling)
    return h


def chain_hash(record: dict) -> str:
    body = {"v": 1, "platform": record["platform"], "day": record["day"], "root": record["root"],
            "entries": record["entries"], "carbon_mg": record["carbon_mg"], "prev": record["prev"]}
    return hashlib.sha256(b"\x02" + canonical(body)).hexdigest()


def shard_of(entry_id: str, shards: int) -> int:
    return int.from_bytes(hashlib.sha256(entry_id.encode()).digest()[:4], "big") % shards


# --- the arithmetic (chalicelib/domain/methodology.py, caps.py, accrual.py, recompute.py) ---------------------

class Rule:
    """One methodology version as the registry export gives it: the fields that define its arithmetic."""

    def __init__(self, item: dict) -> None:
        try:
            rule = item["rule"]
            self.methodology_id, self.version = str(item["methodology_id"]), str(item["version"])
            self.behavior = item.get("behavior")
            self.unit = rule["unit"]
            self.carbon_mg = int(rule["carbon"]["mg"])
            self.carbon_per = Decimal(str(rule["carbon"]["per"]))
            cap = rule.get("daily_quantity_max")
            self.daily_quantity_max = None if cap is None else Decimal(str(cap))
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise Unreadable(f"registry export: a methodology that cannot be read ({exc!r}): {item!r}") from exc
        if self.carbon_per <= 0 or self.carbon_mg < 0:
            raise Unreadable(f"registry export: {self.methodology_id} {self.version}: carbon must be >= 0, per > 0")

    def carbon_for(self, quantity: Decimal) -> int:
        """round_half_up(q * mg / per) milligrams."""
        return int((quantity * self.carbon_mg / self.carbon_per).to_integral_value(rounding=ROUND_HALF_UP))


def _number(inputs: dict, key: str) -> Decimal:
    raw = inputs.get(key)
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise Wrong(f"inputs.{key} is missing or not a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise Wrong(f"inputs.{key} is not a number: {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise Wrong(f"inputs.{key} is not a number >= 0: {raw!r}")
    return value


def _whole(inputs: dict, key: str) -> int:
    value = _number(inputs, key)
    if value != value.to_integral_value():
        raise Wrong(f"inputs.{key} is not a whole number: {inputs.get(key)!r}")
    return int(value)


def _counted(rule: Rule, inputs: dict) -> Decimal:
    quantity, ceiling = _number(inputs, "quantity"), rule.daily_quantity_max
    if "counted_quantity" not in inputs:
        if ceiling is not None and quantity > ceiling:
            raise Wrong(f"quantity {quantity} is above daily_quantity_max {ceiling}")
        return quantity
    counted = _number(inputs, "counted_quantity")
    if counted > quantity:
        raise Wrong(f"counted_quantity {counted} is above the quantity {quantity}")
    if ceiling is not None and counted > ceiling:
        raise Wrong(f"counted_quantity {counted} is above daily_quantity_max {ceiling}")
    if ceiling is None and counted not in (quantity, 0):
        raise Wrong(f"counted_quantity {counted} is less than the quantity {quantity} without a quantity cap")
    return counted


def carbon_of(rule: Rule, inputs: dict, counted_via: str | None = None) -> int:
    """The carbon `rule` gives for an entry's inputs (the same arithmetic as domain/recompute.carbon_of)."""
    if not isinstance(inputs, dict):
        raise Wrong("no inputs")
    if "annual_uptake_mg" in inputs and "day_n" in inputs:
        uptake, n = _whole(inputs, "annual_uptake_mg"), _whole(inputs, "day_n")
        if uptake != rule.carbon_mg or rule.carbon_per != YEAR_DAYS:
            raise Wrong(f"inputs.annual_uptake_mg {uptake} is not the methodology's {rule.carbon_mg} mg a year")
        if not 1 <= n <= YEAR_DAYS:
            raise Wrong(f"inputs.day_n {n} is outside the accrual year 1..{YEAR_DAYS}")
        carbon = uptake * n // YEAR_DAYS - uptake * (n - 1) // YEAR_DAYS
    elif "previous_revision" in inputs:
        carbon = rule.carbon_for(_number(inputs, "quantity")) - rule.carbon_for(_number(inputs, "previous_quantity")) \
            if "previous_quantity" in inputs else 0
    elif "day_total" in inputs:
        now, before = _number(inputs, "day_total"), _number(inputs, "previous_day_total")
        if before > now:
            raise Wrong(f"the day total went down ({before} -> {now})")
        if rule.daily_quantity_max is not None:
            now, before = min(now, rule.daily_quantity_max), min(before, rule.daily_quantity_max)
        carbon = rule.carbon_for(now) - rule.carbon_for(before)
    elif "quantity" in inputs:
        carbon = rule.carbon_for(_counted(rule, inputs))
    else:
        raise Wrong("inputs say nothing to recompute from (no quantity, day total, reading or tree day)")
    return 0 if counted_via else carbon


# --- the report ------------------------------------------------------------------------------------------------

class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed: list[str] = []
        self.unchecked: list[str] = []

    def fail(self, what: str) -> None:
        self.failures.append(what)

    def check(self, ok: bool, passed: str, failed: str) -> bool:
        (self.passed if ok else self.failures).append(passed if ok else failed)
        return ok

    def text(self) -> str:
        lines = [f"OK    {line}" for line in self.passed] + [f"NOT CHECKED  {line}" for line in self.unchecked]
        lines += [f"FAIL  {line}" for line in self.failures]
        unchecked = f", {len(self.unchecked)} not checked" if self.unchecked else ""
        lines.append(f"{'FAILED' if self.failures else 'VERIFIED'}: {len(self.passed)} checks passed, "
                     f"{len(self.failures)} failed{unchecked}")
        return "\n".join(lines)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unreadable(f"cannot read {path}: {exc}") from exc


def find_summary(target: Path) -> Path:
    if target.is_file():
        return target
    found = []
    for path in sorted(target.glob("*.json")):
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("report") == SUMMARY_REPORT:
                found.append(path)
        except (OSError, ValueError, AttributeError):
            continue
    if len(found) != 1:
        raise Unreadable(f"{target}: expected one issuance summary (.json, \"report\": {SUMMARY_REPORT!r}), "
                         f"found {len(found)}")
    return found[0]


def load_registry(path: Path) -> dict[tuple[str, str], list[Rule]]:
    doc = _json(path)
    if not isinstance(doc, dict) or doc.get("format") != REGISTRY_FORMAT:
        raise Unreadable(f"{path}: not a methodology registry export ({REGISTRY_FORMAT})")
    rules: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    for item in doc.get("methodologies") or []:
        rule = Rule(item)
        rules[(rule.methodology_id, rule.version)].append(rule)
    return rules


def read_leaves(path: Path, report: Report, platform: str, day: str, shard: int, shards: int) -> list[tuple]:
    """[(leaf hash, leaf)] of one leaves file, each line checked (canonical, its day's, its shard's, in order)."""
    body, out, where = path.read_bytes(), [], f"leaves {platform} {day} shard {shard}"
    if body and not body.endswith(b"\n"):
        report.fail(f"{where}: {path.name} does not end with a newline")
    for number, line in enumerate(body.split(b"\n")[:-1] if body.endswith(b"\n") else body.split(b"\n"), 1):
        try:
            leaf = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            report.fail(f"{where}: line {number} of {path.name} is not JSON")
            continue
        if not isinstance(leaf, dict) or canonical(leaf) != line:
            report.fail(f"{where}: line {number} of {path.name} is not canonical JSON")
            continue
        if set(leaf) != LEAF_FIELDS:
            report.fail(f"{where}: line {number}: fields {sorted(set(leaf) ^ LEAF_FIELDS)} differ from the format")
            continue
        if (leaf["platform"], leaf["day"], leaf["shard"]) != (platform, day, shard) or \
                shard_of(str(leaf["entry_id"]), shards) != shard:
            report.fail(f"{where}: line {number} (entry {leaf.get('entry_id')}) is of platform {leaf['platform']}, "
                        f"day {leaf['day']}, shard {leaf['shard']}: not this file's")
        out.append((leaf_hash(line), leaf))
    hashes = [h for h, _ in out]
    if hashes != sorted(hashes):
        report.fail(f"{where}: {path.name} is not in leaf-hash order")
    return out


def _totals(leaves: list[dict]) -> list[dict]:
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for leaf in leaves:
        cell = sums[(leaf["methodology_id"], leaf["methodology_version"])]
        cell[0] += 1
        cell[1] += int(leaf["carbon_mg"])
    ordered = sorted(sums.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][1] or ""))
    return [{"methodology_id": m, "version": v, "entries": n, "carbon_mg": c} for (m, v), (n, c) in ordered]


def check_day(record: dict, leaves_dir: Path, report: Report) -> dict[bytes, dict]:
    """One day's leaves against its root record; returns its leaves by leaf hash."""
    platform, day, shards = record["platform"], record["day"], int(record["shards"])
    where, folder = f"day {platform} {day}", leaves_dir / platform / day
    found: dict[bytes, dict] = {}
    shard_roots = []
    if len(record["shard_roots"]) != shards:
        report.fail(f"{where}: {len(record['shard_roots'])} shard roots for {shards} shards")
    for shard in range(shards):
        files = sorted(folder.glob(f"{shard:03d}-*.jsonl")) if folder.is_dir() else []
        if len(files) > 1:
            report.fail(f"{where}: {len(files)} leaves files for shard {shard}")
        pairs = read_leaves(files[0], report, platform, day, shard, shards) if files else []
        root = mth([h for h, _ in pairs]).hex()
        shard_roots.append(root)
        expected = record["shard_roots"][shard] if shard < len(record["shard_roots"]) else None
        if root != expected:
            report.fail(f"{where}: shard {shard}'s leaves hash to {root}, not to its published shard root "
                        f"{expected} (a leaf changed, removed or added)")
        for h, leaf in pairs:
            if h in found:
                report.fail(f"{where}: leaf {h.hex()} is listed twice")
            found[h] = leaf
    root = mth([bytes.fromhex(r) for r in record["shard_roots"]]).hex()
    report.check(root == record["root"], f"{where}: {len(found):,} leaves hash to root {record['root'][:16]}…",
                 f"{where}: the shard roots hash to {root}, not to the published root {record['root']}")
    carbon = sum(int(leaf["carbon_mg"]) for leaf in found.values())
    report.check((len(found), carbon) == (record["entries"], record["carbon_mg"]),
                 f"{where}: {len(found):,} entries, {carbon:,} mg as published",
                 f"{where}: the leaves are {len(found)} entries of {carbon} mg; the root says {record['entries']} "
                 f"entries of {record['carbon_mg']} mg")
    report.check(_totals(list(found.values())) == record["totals"], f"{where}: totals by methodology version",
                 f"{where}: the totals by methodology version are not those of its leaves")
    return found


def check_chain(records: list[dict], report: Report) -> None:
    by_platform: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_platform[record["platform"]].append(record)
    for platform, days in by_platform.items():
        days.sort(key=lambda r: r["day"])
        broken = False
        for index, record in enumerate(days):
            if chain_hash(record) != record["chain"]:
                report.fail(f"chain {platform} {record['day']}: its chain {record['chain']} is not the hash of its "
                            f"root, counts and prev")
                broken = True
            if index:
                before = days[index - 1]
                if date.fromisoformat(record["day"]) != date.fromisoformat(before["day"]) + timedelta(days=1):
                    report.fail(f"chain {platform}: a gap between {before['day']} and {record['day']}")
                    broken = True
                if record["prev"] != before["chain"]:
                    report.fail(f"chain {platform} {record['day']}: prev {record['prev']} is not {before['day']}'s "
                                f"chain {before['chain']}")
                    broken = True
        if not broken:
            first = days[0]
            start = "the platform's first day" if first["prev"] == ZERO else f"prev {first['prev'][:16]}…"
            report.passed.append(f"chain {platform}: {len(days)} days {first['day']}..{days[-1]['day']} unbroken "
                                 f"(from {start})")


def check_entry(row: dict, leaves: dict[bytes, dict], registry: dict, report: Report) -> dict | None:
    """One issued entry: a leaf of its day, the same entry, its carbon following its rule."""
    where = f"entry {row.get('platform')} {row.get('day')} {row.get('entry_id')}"
    try:
        leaf = leaves.get(bytes.fromhex(row["leaf_hash"]))
    except ValueError:
        leaf = None
    if leaf is None:
        report.fail(f"{where}: leaf {row['leaf_hash']} is not a leaf of its day's published leaves")
        return None
    same = {"entry_id": leaf["entry_id"], "pseudonym": leaf["pseudonym"], "day": leaf["day"],
            "platform": leaf["platform"], "kind": leaf["kind"], "carbon_mg": str(leaf["carbon_mg"]),
            "methodology_id": leaf["methodology_id"] or "", "methodology_version": leaf["methodology_version"] or ""}
    differs = [key for key, value in same.items() if str(row.get(key, "")) != value]
    if differs:
        report.fail(f"{where}: the entries file says {', '.join(f'{k}={row.get(k)!r}' for k in differs)}; its leaf "
                    f"says {', '.join(f'{k}={same[k]!r}' for k in differs)}")
        return None
    rules = registry.get((leaf["methodology_id"], leaf["methodology_version"]))
    if not rules:
        report.fail(f"{where}: methodology {leaf['methodology_id']} {leaf['methodology_version']} is not in the "
                    "registry export")
        return None
    errors = []
    for rule in rules:
        try:
            carbon = carbon_of(rule, leaf["inputs"], leaf["counted_via"])
        except Wrong as exc:
            errors.append(str(exc))
            continue
        if carbon == int(leaf["carbon_mg"]):
            return leaf
        errors.append(f"carbon {leaf['carbon_mg']} mg, its rule gives {carbon} mg")
    report.fail(f"{where} ({leaf['methodology_id']} {leaf['methodology_version']}): {errors[0]}")
    return None


def check_totals(summary: dict, rows: list[dict], report: Report) -> None:
    by_version: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    by_platform: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        carbon = int(row["carbon_mg"])
        for cell in (by_version[(row["methodology_id"], row["methodology_version"])], by_platform[row["platform"]]):
            cell[0] += 1
            cell[1] += carbon
    entries, carbon = len(rows), sum(int(row["carbon_mg"]) for row in rows)
    totals = summary.get("totals") or {}
    report.check((totals.get("entries"), totals.get("carbon_mg")) == (entries, carbon),
                 f"totals: {entries:,} entries, {carbon:,} mg ({carbon / 1e6:,.3f} kg) add up",
                 f"totals: the summary says {totals.get('entries')} entries of {totals.get('carbon_mg')} mg; the "
                 f"entries file lists {entries} of {carbon} mg")
    stated = {(m["methodology_id"], m["methodology_version"]): [m["entries"], m["carbon_mg"]]
              for m in summary.get("methodologies") or []}
    report.check(stated == dict(by_version), f"totals: {len(stated)} methodology versions add up",
                 f"totals by methodology version: the summary says {stated}; the entries file gives "
                 f"{dict(by_version)}")
    platforms = {p: [v["entries"], v["carbon_mg"]] for p, v in (summary.get("platforms") or {}).items()}
    report.check(platforms == dict(by_platform), f"totals: {len(platforms)} platforms add up",
                 f"totals by platform: the summary says {platforms}; the entries file gives {dict(by_platform)}")


def verify_issuance(target: Path) -> Report:
    report = Report()
    summary_path = find_summary(target)
    folder, summary = summary_path.parent, _json(summary_path)
    named = {key: summary.get(key) for key in ("entries_file", "registry_file", "roots_file", "leaves")}
    if not named["entries_file"] or not named["registry_file"]:
        raise Unreadable(f"{summary_path}: the summary names no entries file or no registry export")
    for key in ("entries_file", "registry_file", "roots_file"):
        if named[key]:
            path = folder / named[key]["path"]
            if not path.is_file():
                raise Unreadable(f"{path} (named by the summary) is missing")
            digest = _sha256(path)
            report.check(digest == named[key]["sha256"], f"file {path.name}: SHA-256 as the summary states",
                         f"file {path.name}: SHA-256 {digest}, the summary states {named[key]['sha256']}")
    with (folder / named["entries_file"]["path"]).open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        rows, columns = list(reader), reader.fieldnames or []
    report.check(len(rows) == named["entries_file"]["rows"], f"entries file: {len(rows):,} rows as stated",
                 f"entries file: {len(rows)} rows, the summary states {named['entries_file']['rows']}")
    registry = load_registry(folder / named["registry_file"]["path"])
    check_totals(summary, rows, report)
    if "leaf_hash" not in columns:
        report.unchecked.append("the entries file is of the format before daily roots (no leaf_hash): the entries "
                                "cannot be matched to leaves nor their carbon recomputed")
        return report
    if not named["roots_file"] or not named["leaves"]:
        report.fail("the summary names no roots file or no leaves folder: the entries cannot be checked")
        return report
    records = _json(folder / named["roots_file"]["path"])
    leaves_dir = folder / named["leaves"]["path"]
    check_chain(records, report)
    days = {(r["platform"], r["day"]): r for r in records}
    leaves_of = {key: check_day(record, leaves_dir, report) for key, record in sorted(days.items())}
    seen: set[str] = set()
    good = 0
    for row in rows:
        key = (row["platform"], row["day"])
        if key not in leaves_of:
            report.fail(f"entry {row['platform']} {row['day']} {row['entry_id']}: its day is not in the roots file")
            continue
        if row["leaf_hash"] in seen:
            report.fail(f"entry {row['platform']} {row['day']} {row['entry_id']}: listed twice")
            continue
        seen.add(row["leaf_hash"])
        good += check_entry(row, leaves_of[key], registry, report) is not None
    report.check(good == len(rows), f"entries: all {len(rows):,} issued entries are leaves of their days and "
                                    "their carbon follows their rule",
                 f"entries: {len(rows) - good} of {len(rows)} issued entries fail (above)")
    return report


def verify_proof(proof_path: Path, roots_path: Path) -> Report:
    report, proof, roots = Report(), _json(proof_path), _json(roots_path)
    try:
        leaf_bytes = proof["leaf"].encode("utf-8")
        leaf = json.loads(proof["leaf"])
        h = leaf_hash(leaf_bytes)
        report.check(h.hex() == proof["leaf_hash"], "proof: the leaf hashes to its leaf_hash",
                     f"proof: the leaf hashes to {h.hex()}, not to {proof['leaf_hash']}")
        report.check(canonical(leaf) == leaf_bytes, "proof: the leaf is canonical JSON",
                     "proof: the leaf is not canonical JSON")
        report.check((leaf.get("entry_id"), leaf.get("day"), leaf.get("platform"), leaf.get("shard")) == (
                     proof["entry_id"], proof["day"], proof["platform"], proof["shard"]),
                     f"proof: the leaf is entry {proof['entry_id']} of {proof['platform']} {proof['day']}",
                     "proof: the leaf is not the entry, day, platform or shard the proof names")
        shard_root = fold(h, proof["shard_path"]).hex()
        report.check(shard_root == proof["shard_root"], "proof: the shard path folds to the shard root",
                     f"proof: the shard path folds to {shard_root}, not to {proof['shard_root']}")
        root = fold(bytes.fromhex(proof["shard_root"]), proof["day_path"]).hex()
        report.check(root == proof["root"], "proof: the day path folds to the day's root",
                     f"proof: the day path folds to {root}, not to {proof['root']}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unreadable(f"{proof_path}: not a proof ({exc!r})") from exc
    records = roots if isinstance(roots, list) else [roots]
    record = next((r for r in records if (r.get("platform"), r.get("day")) == (proof["platform"], proof["day"])), None)
    if record is None:
        report.fail(f"proof: {roots_path.name} has no root of {proof['platform']} {proof['day']}")
        return report
    report.check(record["root"] == root == proof["root"], f"proof: the published root of {proof['day']} is the "
                 "proof's", f"proof: the published root of {proof['day']} is {record['root']}, the proof leads to "
                 f"{root}")
    shard = proof["shard"]
    if "shard_roots" not in record:  # GET /v1/transparency/roots lists days without their shard roots
        report.unchecked.append(f"proof: {roots_path.name} has no shard roots: the shard root is checked through "
                                "the day path only")
    else:
        published = record["shard_roots"][shard] if 0 <= shard < len(record["shard_roots"]) else None
        report.check(published == proof["shard_root"], f"proof: the published shard root {shard} is the proof's",
                     f"proof: the published shard root {shard} is {published}, not {proof['shard_root']}")
    report.check(chain_hash(record) == record["chain"] and proof.get("chain", record["chain"]) == record["chain"],
                 "proof: the day's chain hash holds", f"proof: the chain hash of {proof['day']} does not hold")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify_issuance.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("issuance", nargs="?", help="the issuance's folder, or its summary .json")
    parser.add_argument("--proof", metavar="PROOF.json", help="an entry's inclusion proof")
    parser.add_argument("--root", metavar="ROOTS.json", help="the roots file to check the proof against")
    args = parser.parse_args(argv)
    if bool(args.proof) != bool(args.root) or bool(args.proof) == bool(args.issuance):
        parser.error("give an issuance folder, or --proof and --root")
    try:
        report = verify_proof(Path(args.proof), Path(args.root)) if args.proof else \
            verify_issuance(Path(args.issuance))
    except Unreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OSError) as exc:
        print(f"error: the files are not an issuance's or a proof's as docs/issuance.md describes ({exc!r})",
              file=sys.stderr)
        return 2
    print(report.text())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
