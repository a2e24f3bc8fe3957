"""The catalog's "platforms" section (shared/contract/platforms.md, "Operations"): the tenants of the deployment.

Each entry is checked by chalicelib/domain/platforms.py against the deployment's behaviour rules: those of the
same file's top-level `behaviors`, else the stored ones. It goes to the catalog partition "platform" (no new
table: onboarding a platform is a catalog load plus its secret, WECHAT_SECRET__<ID>). A load never deletes a
platform: its users' tokens name it.

An entry's `trees` and `orgs` are planned by the top-level sections' own planners (admin/catalog_load.plan_trees,
admin/orgs_load.plan_orgs) into the platform's partitions `P#tree` and `P#org` (and its trees' stock "P#tree#{id}");
the report lists them per platform under `trees` and `orgs`.
"""
from __future__ import annotations

from chalicelib.domain.platforms import PlatformError, check_entry
from chalicelib.services.partners import PARTNERS
from chalicelib.store.models import CatalogItem

from .console import CommandError
from .orgs_load import plan_orgs


def plan_platforms(entries: list):
    from .catalog_load import LOADING, Planned, existing, plan_trees  # catalog_load lists this planner

    if not isinstance(entries, list):
        raise CommandError("platforms must be a list")
    listed = {b.get("code"): b for b in (LOADING.get() or {}).get("behaviors", []) if isinstance(b, dict)}
    rules = {**existing("behavior"), **listed}
    current = existing("platform")
    writes, report, seen, appids = [], {"changed": [], "unchanged": [], "trees": {}, "orgs": {}}, set(), {}
    for entry in entries:
        try:
            checked = check_entry(entry, rules, tuple(PARTNERS))
        except PlatformError as exc:
            raise CommandError(str(exc)) from exc
        if checked["id"] in seen:
            raise CommandError(f"platform {checked['id']} is listed twice")
        seen.add(checked["id"])
        for section, planner in (("trees", plan_trees), ("orgs", plan_orgs)):
            if section in entry:
                try:
                    planned = planner(entry[section], platform=checked["id"])
                except CommandError as exc:
                    raise CommandError(f"platform {checked['id']}: {exc}") from exc
                writes += planned.writes
                report[section][checked["id"]] = planned.report
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
    return Planned(writes, [], report)
