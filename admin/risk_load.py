"""The catalog's "risk" section: the thresholds of the risk rules (contract/risk.md "Rules").

    "risk": {"steps_same_total_days": 5, "ring_accounts": 5, ...}

Every setting it leaves out keeps the contract's default (chalicelib/domain/risk.RiskSettings); an unknown
setting, or a value outside its range, refuses the whole file. Stored, with every setting written out, as the
catalog item ("policy", "risk"), which the rules read from the cached catalog (chalicelib/services/catalog.py
risk_settings): no request reads it. A file without the section leaves the stored settings as they are.
"""
from __future__ import annotations

from chalicelib.domain.risk import RiskError, section_of, settings_from
from chalicelib.store.models import CatalogItem

from .console import CommandError


def plan_risk(section):
    from .catalog_load import Planned, existing  # catalog_load lists this planner

    if section in (None, []):
        return Planned([], [], {"unchanged": []})
    try:
        stored = section_of(settings_from(section))
    except RiskError as exc:
        raise CommandError(str(exc)) from exc
    if existing("policy").get("risk") == stored:
        return Planned([], [], {"unchanged": ["risk"]})
    return Planned([CatalogItem("policy", "risk", data=stored)], [], {"changed": ["risk"]})
