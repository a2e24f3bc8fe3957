"""Hand-made issuance folders for the standalone verifier's tests (verifier/verify_issuance.py): leaves files, the
roots file with its chain, the registry export, the entries CSV and the summary, laid out as admin/issuance.py
writes them (docs/issuance.md). The hashing here is written again from docs/transparency.md, apart from the
verifier's, so a test does not grade the verifier with its own arithmetic."""
from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from admin.issuance_export import FORMAT as REGISTRY_FORMAT
from chalicelib.domain.caps import DayCount, award_day_total, award_self_reported, award_verified_event
from chalicelib.domain.recompute import tree_rule
from tests.unit.test_caps import demo_rule

SHARDS = 4
ZERO = "0" * 64
ENTRY_COLUMNS = ("day", "platform", "entry_id", "pseudonym", "leaf_hash", "methodology_id", "methodology_version",
                 "behavior", "kind", "carbon_mg")


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def tree_hash(hashes: list[bytes]) -> bytes:
    if not hashes:
        return _sha(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return _sha(b"\x01", tree_hash(hashes[:k]), tree_hash(hashes[k:]))


def shard_of(entry_id: str) -> int:
    return int.from_bytes(hashlib.sha256(entry_id.encode()).digest()[:4], "big") % SHARDS


def leaf(platform: str, day: str, n: int, rule, inputs: dict, carbon: int, kind: str = "earn",
         counted_via: str | None = None) -> dict:
    entry_id = f"e{day.replace('-', '')}{n:05d}"
    return {"v": 1, "platform": platform, "day": day, "entry_id": entry_id, "pseudonym": f"p_{n % 3}",
            "shard": shard_of(entry_id), "kind": kind, "points": 1, "carbon_mg": carbon, "source": "checkin",
            "behavior": rule.code, "methodology_id": rule.methodology_id, "methodology_version": rule.version,
            "inputs": inputs, "counted_via": counted_via}


def day_leaves(platform: str, day: str) -> list[dict]:
    """A day's leaves: check-ins, a capped day total of steps, a capped partner event, a tree day, a spend."""
    plate, steps, clothes = demo_rule("clean_plate"), demo_rule("walk_steps"), demo_rule("old_clothes")
    tree = tree_rule("GS-tree-x", "1", 7_000_000)
    out = [leaf(platform, day, n, plate, {"quantity": "1"}, 144000) for n in range(3)]
    first = award_day_total(steps, DayCount(), Decimal(12345))
    second = award_day_total(steps, first.day, Decimal(41000))
    out += [leaf(platform, day, 3, steps, first.inputs, first.carbon_mg),
            leaf(platform, day, 4, steps, second.inputs, second.carbon_mg)]
    clothes_award = award_self_reported(clothes, DayCount(), Decimal("2.5"))
    out.append(leaf(platform, day, 5, clothes, clothes_award.inputs, clothes_award.carbon_mg))
    ride = award_verified_event(demo_rule("bus_ride"), DayCount(events=6), Decimal(1))
    out.append(leaf(platform, day, 6, demo_rule("bus_ride"), ride.inputs, ride.carbon_mg))
    out.append(leaf(platform, day, 7, tree, {"annual_uptake_mg": 7_000_000, "day_n": 3}, 19178, kind="accrual"))
    spend = leaf(platform, day, 8, plate, None, 0, kind="spend")
    out.append({**spend, "behavior": None, "methodology_id": None, "methodology_version": None, "source": "market"})
    return out


def registry() -> dict:
    rules = [demo_rule(code) for code in ("clean_plate", "walk_steps", "old_clothes", "bus_ride")]
    rules.append(tree_rule("GS-tree-x", "1", 7_000_000))
    return {"format": REGISTRY_FORMAT, "methodologies": [
        {"methodology_id": r.methodology_id, "version": r.version, "behavior": r.code, "source": r.source,
         "estimate": r.estimate, "rule": r.rule_fields()} for r in rules]}


def build(folder: Path, days: dict[tuple[str, str], list[dict]], issued=None, stem: str = "issuance") -> Path:
    """Writes an issuance of `days`' leaves ({(platform, day): leaves}) into `folder`; `issued` picks the leaves
    that are issued (default: those with a methodology and carbon). Returns the summary's path."""
    folder.mkdir(parents=True, exist_ok=True)
    leaves_dir, records, rows, prev = folder / f"{stem}.leaves", [], [], defaultdict(lambda: ZERO)
    for (platform, day), leaves in sorted(days.items()):
        by_shard = defaultdict(list)
        for item in leaves:
            line = canonical(item)
            by_shard[item["shard"]].append((_sha(b"\x00", line), line, item))
        shard_roots = []
        for shard in range(SHARDS):
            pairs = sorted(by_shard[shard])
            root = tree_hash([h for h, _, _ in pairs]).hex()
            shard_roots.append(root)
            if pairs:
                path = leaves_dir / platform / day / f"{shard:03d}-{root}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"".join(line + b"\n" for _, line, _ in pairs))
            for h, _, item in pairs:
                if issued(item) if issued else (item["methodology_id"] and item["carbon_mg"]):
                    rows.append({"day": day, "platform": platform, "entry_id": item["entry_id"],
                                 "pseudonym": item["pseudonym"], "leaf_hash": h.hex(),
                                 "methodology_id": item["methodology_id"],
                                 "methodology_version": item["methodology_version"], "behavior": item["behavior"],
                                 "kind": item["kind"], "carbon_mg": item["carbon_mg"]})
        sums = defaultdict(lambda: [0, 0])
        for item in leaves:
            cell = sums[(item["methodology_id"], item["methodology_version"])]
            cell[0], cell[1] = cell[0] + 1, cell[1] + item["carbon_mg"]
        totals = [{"methodology_id": m, "version": v, "entries": n, "carbon_mg": c} for (m, v), (n, c) in
                  sorted(sums.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][1] or ""))]
        root = tree_hash([bytes.fromhex(r) for r in shard_roots]).hex()
        record = {"platform": platform, "day": day, "v": 1, "shards": SHARDS, "shard_roots": shard_roots,
                  "root": root, "entries": len(leaves), "carbon_mg": sum(i["carbon_mg"] for i in leaves),
                  "totals": totals, "prev": prev[platform]}
        body = {k: record[k] for k in ("platform", "day", "root", "entries", "carbon_mg", "prev")}
        record["chain"] = hashlib.sha256(b"\x02" + canonical({"v": 1, **body})).hexdigest()
        prev[platform] = record["chain"]
        records.append(record)
    entries, registry_path, roots = (folder / f"{stem}{suffix}" for suffix in (".entries.csv", ".registry.json",
                                                                               ".roots.json"))
    with entries.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, ENTRY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    registry_path.write_text(json.dumps(registry(), ensure_ascii=False), encoding="utf-8")
    roots.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    versions, platforms = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for row in rows:
        for cell in (versions[(row["methodology_id"], row["methodology_version"])], platforms[row["platform"]]):
            cell[0], cell[1] = cell[0] + 1, cell[1] + row["carbon_mg"]
    summary = {
        "report": "GreenSprout carbon-inclusion reduction report",
        "totals": {"entries": len(rows), "carbon_mg": sum(r["carbon_mg"] for r in rows)},
        "methodologies": [{"methodology_id": m, "methodology_version": v, "entries": n, "carbon_mg": c}
                          for (m, v), (n, c) in sorted(versions.items())],
        "platforms": {p: {"entries": n, "carbon_mg": c} for p, (n, c) in platforms.items()},
        "entries_file": {"path": entries.name, "rows": len(rows), "sha256": sha256(entries),
                         "columns": list(ENTRY_COLUMNS)},
        "registry_file": {"path": registry_path.name, "sha256": sha256(registry_path)},
        "roots_file": {"path": roots.name, "sha256": sha256(roots)},
        "leaves": {"path": leaves_dir.name}}
    out = folder / f"{stem}.json"
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def restate(summary_path: Path, **changes) -> None:
    """Rewrites the summary with `changes` and the files' digests as they now are (a forger's consistent summary)."""
    summary = {**json.loads(summary_path.read_text(encoding="utf-8")), **changes}
    for key in ("entries_file", "registry_file", "roots_file"):
        summary[key]["sha256"] = sha256(summary_path.parent / summary[key]["path"])
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
