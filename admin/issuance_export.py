"""The methodology registry export an issuance writes beside its summary and entries files (docs/issuance.md): every
methodology version its entries use, with the behaviour and the rule fields that define the arithmetic
(`Rule.rule_fields()`), so the standalone verifier (verifier/verify_issuance.py) recomputes each issued entry's
carbon with no access to our catalog.

Behaviours' versions come from the catalog's immutable rule history (`methodology#{behaviour}`, one GetItem per
version); a tree's from the history of tree methodology versions (admin/tree_versions.py: its annual uptake as a
rule of A mg per 365 days, domain/recompute.tree_rule), which keeps a replaced offer's version too. A version the
catalog cannot give is never issued (admin/issuance_tally.Verdicts), so the export always has every issued entry's
rule.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from chalicelib.domain.recompute import TREE_BEHAVIOR

from .verify_ledger import Rules

FORMAT = "greensprout-methodology-registry/1"


def export(versions: Iterable[tuple[str, str, str]], rules: Rules | None = None) -> dict:
    """The registry export of (behaviour, methodology id, version) triples, sorted by id, version, behaviour."""
    rules = rules or Rules()
    listed = []
    for behavior, methodology_id, version in sorted(set(versions), key=lambda v: (v[1], v[2], v[0])):
        if behavior == TREE_BEHAVIOR:
            rule = rules.tree(methodology_id, version)
            found = [rule] if rule is not None else []
        else:
            rule = rules.of(behavior, version)
            found = [rule] if rule is not None and rule.methodology_id == methodology_id else []
        listed += [{"methodology_id": methodology_id, "version": version, "behavior": behavior,
                    "source": rule.source, "estimate": rule.estimate, "rule": rule.rule_fields()} for rule in found]
    return {"format": FORMAT, "methodologies": listed}


def text(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
