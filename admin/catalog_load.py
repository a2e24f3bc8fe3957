"""load FILE / seed-demo: an idempotent upsert of the catalog (operations.md).

Everything is checked before anything is written. A behaviour's rule and its methodology version
change together: a new version is stored beside the old ones (entries keep the version they were
computed with), and a changed rule under an unchanged version is refused. Trees' methodology versions
are kept the same way (admin/trees_load.py).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.domain import clock
from chalicelib.domain.market import MerchantError, credit_ceilings
from chalicelib.domain.methodology import RuleError, rule_from_catalog
from chalicelib.domain.platforms import DEFAULT, scoped
from chalicelib.services import catalog
from chalicelib.store import stock
from chalicelib.store.models import CatalogItem

from .console import CommandError
from .goods_load import plan_goods
from .orgs_load import plan_orgs
from .partners_load import plan_partners
from .platforms_load import plan_platforms
from .points_load import plan_points
from .risk_load import plan_risk
from .subscribe_templates_load import plan_subscribe_templates
from .trees_load import VersionRecord, plan_trees

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.json")
# The whole document being planned, for a section that refers to another (goods name their merchant).
LOADING: ContextVar[dict | None] = ContextVar("LOADING", default=None)


@dataclass
class Planned:
    """What loading one section would write and delete, and a report for the operator."""

    writes: list = field(default_factory=list)
    deletes: list = field(default_factory=list)
    report: dict = field(default_factory=dict)


def read_catalog(path: str | Path) -> dict:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read catalog {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise CommandError("a catalog is a JSON object with sections such as 'behaviors'")
    unknown = sorted(set(doc) - set(SECTIONS))
    if unknown:
        raise CommandError(f"sections not supported by this version of the console: {', '.join(unknown)}")
    return doc


def existing(kind: str) -> dict[str, dict]:
    """Every catalog item of one partition, by id."""
    return {item.id: item.data for item in CatalogItem.query(kind)}


def upserts(kind: str, label: str, checked: Iterable[dict]) -> Planned:
    """The writes of a section whose entries are stored as they are checked, one item each in partition `kind`:
    an entry listed twice refuses the file; one equal to the stored item is unchanged (no write)."""
    current, writes, report, seen = existing(kind), [], {"changed": [], "unchanged": []}, set()
    for entry in checked:  # checked one by one: the first refusal, in file order, is the one reported
        if entry["id"] in seen:
            raise CommandError(f"{label} {entry['id']} is listed twice")
        seen.add(entry["id"])
        if current.get(entry["id"]) == entry:
            report["unchanged"].append(entry["id"])
        else:
            report["changed"].append(entry["id"])
            writes.append(CatalogItem(kind, entry["id"], data=entry))
    return Planned(writes, [], report)


def plan_behaviors(entries: list) -> Planned:
    writes, report = [], {"added": [], "new_version": [], "unchanged": []}
    current = existing("behavior")
    for entry in entries:
        try:
            rule = rule_from_catalog(entry)
        except RuleError as exc:
            raise CommandError(str(exc)) from exc
        stored = {item.id: item.data for item in CatalogItem.query(f"methodology#{rule.code}")}
        if rule.version in stored and rule_from_catalog(stored[rule.version]).rule_fields() != rule.rule_fields():
            raise CommandError(f"behaviour {rule.code}: the rule changed but methodology version {rule.version} "
                               "did not; give the changed rule a new version")
        if current.get(rule.code) == entry:
            report["unchanged"].append(rule.code)
            continue
        report["added" if rule.code not in current else "new_version"].append(f"{rule.code}@{rule.version}")
        if rule.version not in stored:
            writes.append(CatalogItem(f"methodology#{rule.code}", rule.version, data=entry))
        writes.append(CatalogItem("behavior", rule.code, data=entry))
    return Planned(writes, [], report)


def plan_merchants(entries: list, platform: str = DEFAULT) -> Planned:
    """The merchants of `platform` (the top level's: `default`'s; a platform entry's: admin/platforms_load.py)
    into its partitions `merchant` and `staff` (`P#merchant`, `P#staff` for another platform P)."""
    if not isinstance(entries, list):
        raise CommandError("merchants must be a list")
    writes, report, staff_of = [], {"changed": [], "unchanged": []}, {}
    merchant_kind, staff_kind = scoped(platform, "merchant"), scoped(platform, "staff")
    current = existing(merchant_kind)
    for merchant in entries:
        if not isinstance(merchant, dict) or not isinstance(merchant.get("id"), str) or not merchant.get("name"):
            raise CommandError(f"merchant needs an id and a name: {merchant!r}")
        try:
            credit_ceilings(merchant)  # a collection point's daily ceilings on operator credits
        except MerchantError as exc:
            raise CommandError(str(exc)) from exc
        for openid in merchant.get("staff_openids", []):
            if staff_of.setdefault(openid, merchant["id"]) != merchant["id"]:
                raise CommandError(f"staff {openid} is listed by two merchants")
        if current.get(merchant["id"]) == merchant:
            report["unchanged"].append(merchant["id"])
        else:
            report["changed"].append(merchant["id"])
            writes.append(CatalogItem(merchant_kind, merchant["id"], data=merchant))
    listed = {m["id"] for m in entries}
    staff = existing(staff_kind)
    # A listed merchant's staff no merchant of the file lists any more; one moved to another merchant is not
    # deleted (deletes run after writes: that would undo the move), the write below re-points them.
    deletes = [CatalogItem(staff_kind, openid) for openid, data in staff.items()
               if data["merchant_id"] in listed and openid not in staff_of]
    writes += [CatalogItem(staff_kind, openid, data={"merchant_id": mid}) for openid, mid in staff_of.items()
               if staff.get(openid) != {"merchant_id": mid}]
    return Planned(writes, deletes, report)


@dataclass
class StockTotal:
    """A planned write of a catalog item's offered stock (store/stock.py keeps what was already sold), over
    its `shards` sub-items. `label` names the item for the operator ("goods g-coffee", "tree t-camphor-2026")."""

    key: str
    total: int
    label: str = ""
    taken_as: str = "sold"
    shards: int = 1

    def save(self) -> None:
        try:
            stock.set_total(self.key, self.total, self.shards)
        except stock.StockError as exc:  # a sale or adoption landed after the plan read the stock
            planned_stock(self.key, self.total, self.label, self.taken_as, self.shards)  # the refusal, read again
            raise CommandError(f"{self.label or self.key}: {exc}") from exc


def planned_stock(key: str, total: int, label: str = "", taken_as: str = "sold",
                  shards: int = 1) -> StockTotal | None:
    """The stock write a new total (or a new number of shards) needs, or None; refuses a total below what
    was already sold, summed over the shards."""
    current = stock.read_shards(key, shards)
    sold = stock.taken(current)
    if total < sold:
        raise CommandError(f"{label or key}: stock {total} is below the {sold} already taken ({taken_as}); "
                           f"offer at least {sold}")
    unchanged = len(current) == shards and sum(int(item.total) for item in current.values()) == total
    return None if unchanged else StockTotal(key, total, label, taken_as, shards)


# Each catalog section and the function that plans it, in load order (merchants before the goods they sell).
# A feature adds its section here; a section not listed is refused by read_catalog.
SECTIONS: dict[str, Callable[[list], Planned]] = {
    "behaviors": plan_behaviors,
    "merchants": plan_merchants,
    "goods": plan_goods,
    "trees": plan_trees,
    "orgs": plan_orgs,
    "points": plan_points,  # the points policy: expiry (admin/points_load.py)
    "risk": plan_risk,  # the risk rules' thresholds (admin/risk_load.py)
    "subscribe_templates": plan_subscribe_templates,  # nudges' WeChat templates (admin/subscribe_templates_load.py)
    "partners": plan_partners,  # open-protocol partners, after the behaviours they earn (admin/partners_load.py)
    "platforms": plan_platforms,  # the tenants, after the behaviours they choose from (admin/platforms_load.py)
}


def plan(doc: dict) -> tuple[list, list, dict]:
    """Plans every section (any error refuses the whole file): (writes, deletes, report by section)."""
    LOADING.set(doc)
    writes, deletes, reports = [], [], {}
    for section, planner in SECTIONS.items():
        planned = planner(doc.get(section, []))
        writes += planned.writes
        deletes += planned.deletes
        reports[section] = planned.report
    return writes, deletes, reports


def apply(writes: list, deletes: list) -> None:
    """Writes a plan. Stock totals and tree methodology versions' history items go first: they are the only
    writes that can still be refused (a sale after the plan read the stock; another load recording the version
    with another figure), and a refusal then stops the load before any definition is written."""
    refusable = [item for item in writes if isinstance(item, (StockTotal, VersionRecord))]
    now = clock.iso(clock.now())
    for done, item in enumerate(refusable):
        try:
            if isinstance(item, VersionRecord):
                item.updated_at = now
            item.save()
        except CommandError as exc:
            applied = ", ".join(_label(w) for w in refusable[:done])
            raise CommandError(f"{exc}; nothing else was written" if not applied else
                               f"{exc}; {applied} already written, nothing else was written "
                               "(load the corrected file again)") from exc
    for item in writes:
        if not isinstance(item, (StockTotal, VersionRecord)):
            item.updated_at = now
            item.save()
    for item in deletes:
        item.delete()
    catalog.forget()


def _label(write) -> str:
    return f"the stock of {write.label or write.key}" if isinstance(write, StockTotal) else write.label


def load(doc: dict, dry_run: bool) -> dict:
    """Plans every section first (any error refuses the whole file), then writes."""
    writes, deletes, reports = plan(doc)
    if not dry_run:
        apply(writes, deletes)
    return {**reports, "writes": len(writes) + len(deletes), "dry_run": dry_run}
