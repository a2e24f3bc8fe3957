"""The issuance's summary (admin/issuance.py): the tally shaped as the summary document (JSON or CSV) and the
lines the operator reads."""
from __future__ import annotations

import csv
import io
import json

from .issuance_tally import Tally

SUMMARY_COLUMNS = ("status", "methodology_id", "methodology_version", "behaviors", "entries", "carbon_mg",
                   "carbon_g", "first_day", "last_day")


def summary(doc: dict, tally: Tally) -> dict:
    """Shapes the tally into the summary document's methodology, exclusion and platform lists."""
    issued, excluded = [], []
    for (verdict, mid, version), g in sorted(tally.groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
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
    doc["platforms"] = {platform: {**p, "carbon_g": p["carbon_mg"] / 1000}
                        for platform, p in sorted(tally.platforms.items())}
    doc["methodologies"], doc["excluded"] = issued, excluded
    doc["issued_elsewhere"] = dict(sorted(tally.elsewhere.items()))  # issuance id -> entries it issued, left out
    return doc


def summary_text(doc: dict, fmt: str) -> str:
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


def text(doc: dict, files: dict, dry_run: bool) -> str:
    t, period = doc["totals"], f"{doc['period']['from']}..{doc['period']['to']}"
    head = f"{'DRY RUN, nothing recorded: would issue' if dry_run else 'issued'} {period} ({doc['registry']}): " \
           f"{t['entries']:,} entries, {t['carbon_g']:,.3f} g CO2e ({t['carbon_kg']:,.3f} kg) in " \
           f"{len(doc['methodologies'])} methodology versions"
    lines = [head] + [f"  {m['methodology_id']} {m['methodology_version']}: {m['entries']:,} entries, "
                      f"{m['carbon_g']:,.3f} g" for m in doc["methodologies"]]
    lines += [f"  platform {p}: {v['entries']:,} entries, {v['carbon_g']:,.3f} g" for p, v in doc["platforms"].items()]
    lines += [f"  left out ({x['reason']}): {x['methodology_id'] or '-'} {x['methodology_version'] or ''} "
              f"{x['entries']:,} entries, {x['carbon_g']:,.3f} g" for x in doc["excluded"]]
    lines += [f"  issued by {issuance}: {n:,} entries left out" for issuance, n in doc["issued_elsewhere"].items()]
    lines += [f"  warning: {w}" for w in doc["warnings"]]
    lines.append(f"wrote {files['summary']['path']} (sha256 {files['summary']['sha256'][:12]}…) and "
                 f"{files['entries']['path']} ({files['entries']['rows']:,} entries, "
                 f"sha256 {files['entries']['sha256'][:12]}…)"
                 + (f", the registry export {files['registry']['path']} ({files['registry']['methodologies']} "
                    "methodology versions)" if "registry" in files else ""))
    return "\n".join(lines)
