"""The catalog's "platforms" section (shared/contract/platforms.md, "Operations"): the tenants of the deployment.

Each entry is checked by chalicelib/domain/platforms.py against the deployment's behaviour rules: those of the
same file's top-level `behaviors`, else the stored ones. It goes to the catalog partition "platform" (no new
table: onboarding a platform is a catalog load plus its secret, WECHAT_SECRET__<ID>). A load never deletes a
platform: its users' tokens name it. Its `merchants` and `goods` are checked by the top level's rules and go to
its own partitions `P#merchant`, `P#staff` and `P#goods`, their stock to "P#goods#{id}" (`_plan_shop`).

An entry's `trees` and `orgs` are planned by the top-level sections' own planners (admin/trees_load.plan_trees,
admin/orgs_load.plan_orgs) into the platform's partitions `P#tree` and `P#org` (and its trees' stock "P#tree#{id}");
the report lists them per platform under `trees` and `orgs`. Its `points` policy is planned by the top level's
(admin/points_load.plan_points) into `P#policy`, reported under `points` (only when an entry has one).
"""
from __future__ import annotations

from chalicelib.domain.platforms import PlatformError, check_entry
from chalicelib.store.models import CatalogItem

from .console import CommandError
from .orgs_load import plan_orgs
from .partners_load import partner_ids


def plan_platforms(entries: list):
    from .catalog_load import LOADING, Planned, existing  # catalog_load lists this planner

    if not isinstance(entries, list):
        raise CommandError("platforms must be a list")
    listed = {b.get("code"): b for b in (LOADING.get() or {}).get("behaviors", []) if isinstance(b, dict)}
    rules = {**existing("behavior"), **listed}
    current, partners = existing("platform"), partner_ids()
    writes, seen, appids = [], set(), {}
    report: dict = {"changed": [], "unchanged": [], "trees": {}, "orgs": {}}
    deletes: list = []
    for entry in entries:
        try:
            checked = check_entry(entry, rules, partners)
        except PlatformError as exc:
            raise CommandError(str(exc)) from exc
        if checked["id"] in seen:
            raise CommandError(f"platform {checked['id']} is listed twice")
        seen.add(checked["id"])
        shop = _plan_shop(checked["id"], entry)
        if shop is not None:
            writes += shop.writes
            deletes += shop.deletes
            for what, ids in shop.report.items():
                report.setdefault(what, []).extend(f"{checked['id']}/{one}" for one in ids)
        for section, planned in _plan_trees_and_orgs(checked["id"], entry).items():
            writes += planned.writes
            report.setdefault(section, {})[checked["id"]] = planned.report
        appids.setdefault(checked["wechat_appid"], []).append(checked["id"])
        if current.get(checked["id"]) == checked:
            report["unchanged"].append(checked["id"])
        else:
            report["changed"].append(checked["id"])
            writes.append(CatalogItem("platform", checked["id"], data=checked))
    for pid, data in current.items():
        if pid not in seen:
            appids.setdefault(data.get("wechat_appid"), []).append(pid)
    shared = {appid: ids for appid, ids in appids.items() if len(ids) > 1}
    if shared:
        raise CommandError("two platforms cannot share a mini program: " +
                           "; ".join(f"{appid}: {', '.join(ids)}" for appid, ids in shared.items()))
    return Planned(writes, deletes, report)


def _plan_shop(pid: str, entry: dict):
    """The platform's `merchants` and `goods`, checked as the top level's are (admin/catalog_load.plan_merchants,
    admin/goods_load.plan_goods) and planned into its own partitions (`P#merchant`, `P#staff`, `P#goods`, stock
    "P#goods#{id}"); None when the entry has neither."""
    from .catalog_load import Planned, plan_merchants
    from .goods_load import plan_goods

    if "merchants" not in entry and "goods" not in entry:
        return None
    where = f"platform {pid}"
    try:
        merchants = plan_merchants(entry.get("merchants", []), pid)
        goods = plan_goods(entry.get("goods", []), pid, entry.get("merchants", []))
    except CommandError as exc:
        raise CommandError(f"{where}: {exc}") from exc
    return Planned(merchants.writes + goods.writes, merchants.deletes + goods.deletes,
                   {"merchants_changed": merchants.report["changed"], "goods_changed": goods.report["changed"],
                    "stock_changed": goods.report["stock_changed"]})


def _plan_trees_and_orgs(pid: str, entry: dict) -> dict:
    """{section: Planned} of the entry's `trees`, `orgs` and `points`, planned by the top-level sections' own
    planners into the platform's partitions (`P#tree` and its stock, `P#org`, `P#policy`)."""
    from .catalog_load import plan_trees
    from .points_load import plan_points
    from .subscribe_templates_load import plan_subscribe_templates

    found = {}
    for section, planner in (("trees", plan_trees), ("orgs", plan_orgs), ("points", plan_points),
                             ("subscribe_templates", plan_subscribe_templates)):
        if section in entry:
            try:
                found[section] = planner(entry[section], platform=pid)
            except CommandError as exc:
                raise CommandError(f"platform {pid}: {exc}") from exc
    return found
