"""`python -m admin verify-ledger` (admin/verify_ledger.py): every entry that carries carbon recomputed from its
methodology version and its inputs; clean on a busy day of the demo catalog, a mismatch for each entry altered
directly in the table, entries without carbon skipped and counted, and a run that dies goes on from its checkpoint.

Each test owns its business day (tests/support/days.py): 173, 175, 178 and 171 days ago; no other test writes there
(the tree tests' accruals of those days are of their own users, and recompute as ours do)."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

from admin import catalog_load, verify_ledger
from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.models import LedgerEntry
from chalicelib.store.trees import Adoption
from tests.support import busy_day
from tests.support.api import call, request_id
from tests.support.days import at
from tests.support.partners import reconcile_clean

TODAY = clock.business_day(clock.now())
DAY_CLEAN, DAY_ALTERED, DAY_RESUMED, DAY_REPLACED = (TODAY - timedelta(days=n) for n in (173, 175, 178, 171))


def verify(capsys, day, *more: str, status: int = 0) -> dict:
    capsys.readouterr()
    assert admin(["verify-ledger", "--from", day.isoformat(), "--to", day.isoformat(), "--json", *more]) == status
    return json.loads(capsys.readouterr().out)


def entries_of(users: list[dict]) -> list[LedgerEntry]:
    return [e for user in users for e in LedgerEntry.query(user["id"], consistent_read=True)]


def test_a_busy_day_recomputes_clean_and_entries_without_carbon_are_skipped(client, stack, rides, capsys):
    users = busy_day.fill(client, stack, DAY_CLEAN, rides)
    mine = entries_of(users)
    kinds = {(e.kind, e.source) for e in mine}
    assert {("earn", "checkin"), ("earn", "werun"), ("earn", "transit"), ("earn", "bank"), ("earn", "operator"),
            ("accrual", "tree"), ("earn", busy_day.GRID), ("adjust", busy_day.GRID), ("held", "checkin"),
            ("release", "checkin")} <= kinds
    assert any(e.counted_via for e in mine) and any(int(e.carbon_mg) == 0 and e.methodology_id for e in mine)

    result = verify(capsys, DAY_CLEAN)
    assert result["mismatches"] == [] and result["mismatching"] == 0
    assert result["recomputed"] == result["matching"] >= sum(1 for e in mine if e.day == DAY_CLEAN.isoformat()
                                                            and (int(e.carbon_mg) or e.methodology_id))
    assert result["skipped_no_carbon"] >= 1  # the points adjustment
    assert result["read"] == result["recomputed"] + result["skipped_no_carbon"]
    versions = result["by_version"]
    assert versions["ACEF-031-clean-plate 2026.1"]["entries"] >= 3
    assert {"LZ-walk 2024.1", "LZ-bus-ride 2024.1", "CITIC-e-statement 2022.1", "LZ-old-clothes 2024.1",
            "GS-household-power-saving 2026.1", "GS-tree-dawn-redwood 2026.1", "SJ-no-cutlery 2022.1"} <= set(versions)
    on_rides = [e for e in mine if e.user_id == users[2]["id"] and e.day == DAY_CLEAN.isoformat()]
    only = verify(capsys, DAY_CLEAN, "--platform", rides)  # the rides platform's users' entries only
    assert only["recomputed"] == only["matching"] == len(on_rides) == 7 and only["platform"] == rides
    assert only["other_platforms"] == result["recomputed"] - 7
    assert reconcile_clean(*users) == (True, [])


def _update(entry: LedgerEntry, *actions) -> None:
    entry.update(actions=list(actions))


def test_an_entry_altered_in_the_table_is_a_mismatch_with_its_key_and_why(client, stack, capsys):
    users = busy_day.fill(client, stack, DAY_ALTERED)
    assert verify(capsys, DAY_ALTERED)["mismatching"] == 0
    mine = [e for e in entries_of(users) if e.day == DAY_ALTERED.isoformat()]
    plate = next(e for e in mine if e.behavior == "clean_plate" and e.kind == "earn")
    steps = next(e for e in mine if e.behavior == "walk_steps" and int(e.carbon_mg) > 0)
    ride = next(e for e in mine if e.behavior == "bus_ride" and int(e.carbon_mg) > 0)
    tree = next(e for e in mine if e.kind == "accrual")
    carbon = {e.entry_id: int(e.carbon_mg) for e in (plate, steps, ride, tree)}
    before = {e.entry_id: (int(e.carbon_mg), e.inputs, e.methodology_version) for e in (plate, steps, ride, tree)}
    try:
        _update(plate, LedgerEntry.carbon_mg.set(int(plate.carbon_mg) + 1))
        _update(steps, LedgerEntry.inputs.set({**steps.inputs, "day_total": "29000"}))
        _update(ride, LedgerEntry.methodology_version.set("1999.1"))
        _update(tree, LedgerEntry.inputs.set({**tree.inputs, "annual_uptake_mg": 70_000_000}))
        _finds_the_four(capsys, users, plate, steps, ride, tree, carbon)
    finally:  # as they were: other tests reconcile the whole deployment
        for entry in (plate, steps, ride, tree):
            carbon_mg, inputs, version = before[entry.entry_id]
            _update(entry, LedgerEntry.carbon_mg.set(carbon_mg), LedgerEntry.inputs.set(inputs),
                    LedgerEntry.methodology_version.set(version))
    assert verify(capsys, DAY_ALTERED)["mismatching"] == 0


def _finds_the_four(capsys, users, plate, steps, ride, tree, carbon) -> None:
    capsys.readouterr()
    assert admin(["verify-ledger", "--from", DAY_ALTERED.isoformat(), "--to", DAY_ALTERED.isoformat()]) == 1
    printed = capsys.readouterr().out
    result = verify(capsys, DAY_ALTERED, status=1)
    found = {m["entry_id"]: m for m in result["mismatches"]}
    assert set(found) == {plate.entry_id, steps.entry_id, ride.entry_id, tree.entry_id}
    assert result["mismatching"] == 4 and result["matching"] == result["recomputed"] - 4
    assert (found[plate.entry_id]["stored_carbon_mg"], found[plate.entry_id]["recomputed_carbon_mg"]) == (
        carbon[plate.entry_id] + 1, carbon[plate.entry_id])
    assert found[plate.entry_id]["user_id"] == users[0]["id"]
    assert found[steps.entry_id]["stored_carbon_mg"] == carbon[steps.entry_id]
    assert found[steps.entry_id]["recomputed_carbon_mg"] != carbon[steps.entry_id]
    assert "not in the catalog" in found[ride.entry_id]["why"]
    assert "annual_uptake_mg" in found[tree.entry_id]["why"]
    for entry in (plate, steps, ride, tree):
        assert f"MISMATCH {entry.user_id}/{entry.entry_id}" in printed


def test_a_run_that_dies_goes_on_from_its_checkpoint_and_counts_each_page_once(client, stack, capsys, tmp_path,
                                                                             monkeypatch):
    busy_day.fill(client, stack, DAY_RESUMED)
    whole = verify(capsys, DAY_RESUMED)
    checkpoint = tmp_path / "verify.json"
    monkeypatch.setattr(verify_ledger, "PAGE_SIZE", 3)
    original, pages = verify_ledger.Verification.page, []

    def dying(self, *args):
        if len(pages) == 4:
            raise KeyboardInterrupt  # the operator's ^C, or the machine going away, after 4 pages
        pages.append(args)
        original(self, *args)

    monkeypatch.setattr(verify_ledger.Verification, "page", dying)
    assert admin(["verify-ledger", "--from", DAY_RESUMED.isoformat(), "--to", DAY_RESUMED.isoformat(),
                  "--segments", "1", "--resume", str(checkpoint), "--json"]) == 130
    saved = json.loads(checkpoint.read_text())
    assert len(pages) == 4 and saved["positions"][0]["last_key"] and not saved["positions"][0]["done"]
    monkeypatch.setattr(verify_ledger.Verification, "page", original)
    resumed = verify(capsys, DAY_RESUMED, "--segments", "1", "--resume", str(checkpoint))
    assert {k: resumed[k] for k in ("read", "recomputed", "matching", "skipped_no_carbon", "by_version")} == {
        k: whole[k] for k in ("read", "recomputed", "matching", "skipped_no_carbon", "by_version")}
    assert verify(capsys, DAY_RESUMED, "--segments", "1", "--resume", str(checkpoint))["read"] == whole["read"]
    capsys.readouterr()
    assert admin(["verify-ledger", "--from", DAY_CLEAN.isoformat(), "--to", DAY_CLEAN.isoformat(),
                  "--segments", "1", "--resume", str(checkpoint)]) == 2  # another run's checkpoint: refused


def _offer(tree_id: str, methodology_id: str, version: str, annual_g: int) -> None:
    catalog_load.load({"trees": [{"id": tree_id, "species": "水杉", "location": "泸州市纳溪区", "points_price": 10,
                                  "annual_uptake_g": annual_g, "stock": 5, "methodology": {
                                      "id": methodology_id, "version": version, "source": "test", "estimate": True}}]},
                      dry_run=False)


def test_an_accrual_of_a_replaced_tree_offer_still_recomputes_from_its_version(client, user, capsys):
    """An adoption keeps the figure it was sold with; once the offer moves to a new version, the old version's
    accruals are still recomputed from the catalog's history of tree methodology versions."""
    method, tree_id = f"TEST-replaced-{uuid.uuid4().hex[:8]}", "t-replaced-" + uuid.uuid4().hex[:8]
    assert admin(["points", "adjust", user["id"], "100", "--reason", "test"]) == 0
    adopted = []
    for version, annual_g in (("r1", 3650), ("r2", 7300)):  # 10 g, then 20 g a day
        _offer(tree_id, method, version, annual_g)
        with at(DAY_REPLACED - timedelta(days=1), 10):
            status, body = call(client, "POST", f"/v1/trees/{tree_id}/adopt", {"request_id": request_id()},
                                token=user["token"])
        assert status == 201, body
        adopted.append(body["adoption"]["id"])
    try:
        assert admin(["accrue-trees", "--date", DAY_REPLACED.isoformat()]) == 0
        accruals = {e.methodology_version: e for e in entries_of([user]) if e.kind == "accrual"}
        assert {v: (e.methodology_id, int(e.carbon_mg)) for v, e in accruals.items()} == {
            "r1": (method, 10_000), "r2": (method, 20_000)}
        result = verify(capsys, DAY_REPLACED)
        assert result["mismatches"] == []
        assert result["by_version"][f"{method} r1"] == {"entries": 1, "matching": 1, "carbon_mg": 10_000}
        assert result["by_version"][f"{method} r2"] == {"entries": 1, "matching": 1, "carbon_mg": 20_000}
        old = accruals["r1"]
        try:
            _update(old, LedgerEntry.carbon_mg.set(10_001))
            [mismatch] = verify(capsys, DAY_REPLACED, status=1)["mismatches"]
            assert (mismatch["entry_id"], mismatch["stored_carbon_mg"], mismatch["recomputed_carbon_mg"]) == (
                old.entry_id, 10_001, 10_000)
            _update(old, LedgerEntry.carbon_mg.set(10_000), LedgerEntry.methodology_version.set("r9"))
            [mismatch] = verify(capsys, DAY_REPLACED, status=1)["mismatches"]  # a version with no history
            assert mismatch["entry_id"] == old.entry_id and "not in the catalog" in mismatch["why"]
        finally:
            _update(old, LedgerEntry.carbon_mg.set(10_000), LedgerEntry.methodology_version.set("r1"))
        assert verify(capsys, DAY_REPLACED)["mismatching"] == 0
        assert reconcile_clean(user) == (True, [])
    finally:  # nothing left accruing for later tests' run-jobs
        for adoption_id in adopted:
            Adoption(adoption_id).update(actions=[Adoption.accrual_shard.remove()])
