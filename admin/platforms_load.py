"""The catalog's "platforms" section (shared/contract/platforms.md, "Operations"): the tenants of the deployment.

Each entry is checked by chalicelib/domain/platforms.py against the deployment's behaviour rules: those of the
same file's top-level `behaviors`, else the stored ones. It goes to the catalog partition "platform" (no new
table: onboarding a platform is a catalog load plus its secret, WECHAT_SECRET__<ID>). A load never deletes a
platform: its users' tokens name it.
"""
from __future__ import annotations

from chalicelib.domain.platforms import PlatformError, check_entry
from chalicelib.store.models import CatalogItem

from .console import CommandError
from .partners_load import partner_ids


def plan_platforms(entries: list):
    from .catalog_load import LOADING, Planned, existing  # catalog_load lists this planner

    if not isinstance(entries, list):
        raise CommandError("platforms must be a list")
    listed = {b.get("code"): b for b in (LOADING.get() or {}).get("behaviors", []) if isinstance(b, dict)}
    rules = {**existing("behavior"), **listed}
    current, partners = existing("platform"), partner_ids()
    writes, report, seen, appids = [], {"changed": [], "unchanged": []}, set(), {}
    for entry in entries:
        try:
            checked = check_entry(entry, rules, partners)
        except PlatformError as exc:
            raise CommandError(str(exc)) from exc
        if checked["id"] in seen:
            raise CommandError(f"platform {checked['id']} is listed twice")
        seen.add(checked["id"])
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
