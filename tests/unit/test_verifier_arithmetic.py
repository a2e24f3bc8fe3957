"""The standalone verifier's arithmetic (verifier/verify_issuance.py, standard library only) is the platform's
(domain/recompute.py over domain/methodology.py and caps.py): on every behaviour and tree of the demo catalog, for
awards of every kind the caps make, and for inputs that break a cap, both give the same carbon or both refuse, so the
two cannot drift apart."""
from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain import recompute
from chalicelib.domain.caps import (
    CapReachedError,
    DayCount,
    award_day_total,
    award_self_reported,
    award_verified_event,
)
from chalicelib.domain.methodology import rule_from_catalog
from chalicelib.domain.trees import tree_from_catalog
from verifier import verify_issuance as verifier

DEMO = json.loads((Path(__file__).resolve().parents[2] / "admin" / "demo_catalog.json").read_text(encoding="utf-8"))
RULES = [rule_from_catalog(entry) for entry in DEMO["behaviors"]]
TREES = [tree_from_catalog(entry) for entry in DEMO["trees"]] + [
    tree_from_catalog(entry, platform["id"]) for platform in DEMO.get("platforms", [])
    for entry in platform.get("trees", [])]


def exported(rule) -> verifier.Rule:
    """The rule as the registry export publishes it (admin/issuance_export.py), read back by the verifier."""
    item = {"methodology_id": rule.methodology_id, "version": rule.version, "behavior": rule.code,
            "rule": rule.rule_fields()}
    return verifier.Rule(json.loads(json.dumps(item)))


def both(rule, inputs: dict, counted_via: str | None = None):
    """(domain's carbon or its refusal, the verifier's)."""
    stored = json.loads(json.dumps(inputs))  # as the ledger and a leaf keep them: strings and integers
    try:
        ours = recompute.carbon_of(rule, stored, counted_via)
    except recompute.RecomputeError as exc:
        ours = ("refused", str(exc))
    try:
        theirs = verifier.carbon_of(exported(rule), stored, counted_via)
    except verifier.Wrong as exc:
        theirs = ("refused", str(exc))
    return ours, theirs


def quantities(rule, rng: random.Random) -> list[Decimal]:
    fixed = [Decimal(1), Decimal("0.001"), Decimal("2.5"), Decimal(3), Decimal(499), Decimal(500), Decimal(12345),
             Decimal(30000), Decimal(41000), Decimal("49.999"), Decimal(50), Decimal(51)]
    return fixed + [Decimal(rng.randint(1, 10_000_000)) / 1000 for _ in range(40)]


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_every_demo_behaviour_recomputes_the_same_in_the_verifier(rule):
    rng = random.Random(rule.code)
    checked = 0
    for quantity in quantities(rule, rng):
        day = DayCount(events=rng.randint(0, 4), points=rng.randint(0, 30),
                       quantity_milli=rng.randint(0, 60_000_000), carbon_mg=0)
        awards = [award_verified_event(rule, day, quantity)]
        try:
            awards.append(award_self_reported(rule, DayCount(), quantity))
        except CapReachedError:
            pass
        total = award_day_total(rule, DayCount(quantity_milli=rng.randint(0, 40_000_000)), quantity)
        if total is not None:
            awards.append(total)
        for award in awards:
            ours, theirs = both(rule, award.inputs)
            assert ours == theirs, (award.inputs, ours, theirs)
            assert ours == award.carbon_mg or "day_total" in award.inputs, (award.inputs, ours)
            assert both(rule, award.inputs, counted_via="other") == (0, 0)
            checked += 1
        correction = {"quantity": str(quantity), "previous_quantity": str(quantity / 3), "previous_revision": 0}
        ours, theirs = both(rule, correction)
        assert ours == theirs == rule.carbon_for(quantity) - rule.carbon_for(quantity / 3)
    broken = [{"quantity": "5", "counted_quantity": "6"}, {"quantity": "99999", "counted_quantity": "99998"},
              {"quantity": "100000"}, {"day_total": "10", "previous_day_total": "20"}, {"note": "no quantity"},
              {"quantity": "x"}, {"quantity": "-1"}, {"quantity": True}]
    for inputs in broken:
        ours, theirs = both(rule, inputs)
        assert ours == theirs, (inputs, ours, theirs)
    assert checked > 50


@pytest.mark.parametrize("tree", TREES, ids=[tree.id for tree in TREES])
def test_every_demo_tree_accrues_the_same_in_the_verifier(tree):
    rule = recompute.tree_rule(tree.methodology_id, tree.version, tree.annual_uptake_mg)
    for n in (0, 1, 2, 3, 100, 364, 365, 366):
        inputs = {"annual_uptake_mg": tree.annual_uptake_mg, "day_n": n}
        ours, theirs = both(rule, inputs)
        assert ours == theirs
    wrong = {"annual_uptake_mg": tree.annual_uptake_mg + 1, "day_n": 5}
    assert both(rule, wrong)[0] == both(rule, wrong)[1] and both(rule, wrong)[0][0] == "refused"


def test_the_verifiers_hashing_is_the_roots_jobs():
    """Leaf and node hashes, the tree hash of any size, folding a path, the chain hash, the shard of an entry and the
    leaf's fields: the verifier's and domain/merkle.py's, domain/transparency.py's (the roots job's) agree."""
    from types import SimpleNamespace

    from chalicelib.domain import merkle, transparency

    rng = random.Random(25)
    for size in (0, 1, 2, 3, 5, 8, 13, 256, 257):
        hashes = [rng.randbytes(32) for _ in range(size)]
        assert verifier.mth(hashes) == merkle.mth(hashes)
        for index in {0, size // 2, size - 1} if size else ():
            steps = merkle.path(hashes, index)
            assert verifier.fold(hashes[index], steps) == merkle.fold(hashes[index], steps) == merkle.mth(hashes)
    entry = SimpleNamespace(entry_id="01JABCDEF", kind="earn", points=5, carbon_mg=144000, source="checkin",
                            behavior="clean_plate", methodology_id="ACEF-031-clean-plate", methodology_version="2026.1",
                            inputs={"quantity": "1", "evidence": {"photo": "x"}, "staff_user_id": "u_1"},
                            counted_via=None)
    leaf = transparency.leaf("default", "2026-10-01", entry, "p_abc")
    line = merkle.canonical(leaf)
    assert verifier.canonical(leaf) == line and verifier.leaf_hash(line) == merkle.leaf_hash(line)
    assert set(leaf) == verifier.LEAF_FIELDS and leaf["inputs"] == {"quantity": "1"}
    assert verifier.shard_of(entry.entry_id, transparency.SHARDS) == transparency.shard_of(entry.entry_id)
    record = transparency.day_record("default", "2026-10-01", [merkle.EMPTY.hex()] * 4, 0, 0, [], merkle.ZERO)
    assert verifier.chain_hash(record) == record["chain"]
