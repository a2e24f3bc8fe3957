"""What an issuance of one scope counts (admin/issuance_tally.py), over fake lookups: its platform's users'
reductions holding their carbon, never an entry counted via another platform, and never one another issuance
marked; an entry marked by this same issuance (a re-run after a crash) is its own."""
from __future__ import annotations

import csv

from admin.issuance_tally import ELSEWHERE, OFFERED_COLUMNS, EntryLog, Lookups, Tally
from chalicelib.store.models import LedgerEntry

PLATFORMS = {"u_a": "default", "u_b": "company-demo", "u_c": "company-demo"}
MINE, OTHER = "carbon-inclusion#company-demo/2026-11-01..2026-11-01", "carbon-inclusion#all/2026-11-01..2026-11-01"


class IssueAll:
    def of(self, entry: LedgerEntry) -> tuple[str, str]:
        return "issue", "T/ACEF 031-2022"


def entry(user_id: str, entry_id: str, carbon_mg: int = 144000, kind: str = "earn", via: str | None = None):
    return LedgerEntry(user_id, entry_id, kind=kind, carbon_mg=carbon_mg, counted_via=via, day="2026-11-01",
                       behavior="clean_plate", source="checkin", methodology_id="ACEF-031-clean-plate",
                       methodology_version="2024.1")


def tally(tmp_path, scope: str, marked: dict, reads: list) -> tuple[Tally, EntryLog]:
    def platforms_of(user_ids):
        reads.append(sorted(user_ids))
        return {uid: PLATFORMS[uid] for uid in user_ids}

    offered = EntryLog(tmp_path / f"{scope}.csv", OFFERED_COLUMNS)
    lookups = Lookups(platforms_of, lambda keys: {key: marked[key] for key in keys if key in marked})
    return Tally(scope, IssueAll(), lookups, offered, MINE), offered


def offered_keys(log: EntryLog) -> list[tuple[str, str]]:
    log.close()
    return [(row["user_id"], row["entry_id"]) for row in csv.DictReader(open(log.path, encoding="utf-8"))]


def test_a_platform_counts_its_users_reductions_holding_their_carbon_and_not_marked_by_another(tmp_path):
    reads: list = []
    counting, offered = tally(tmp_path, "company-demo", {("u_c", "e5"): OTHER, ("u_b", "e2"): MINE}, reads)
    for item in (entry("u_a", "e1"), entry("u_b", "e2"), entry("u_b", "e3", via="default"),
                 entry("u_b", "e4", kind="spend", carbon_mg=0), entry("u_c", "e5"), entry("u_c", "e6")):
        counting.add(item)
    counting.finish()
    assert offered_keys(offered) == [("u_b", "e2"), ("u_c", "e6")]  # e2: marked by this same issuance
    assert counting.platforms == {"company-demo": {"entries": 2, "carbon_mg": 288000}}
    assert counting.elsewhere == {OTHER: 1}
    assert counting.groups[(ELSEWHERE, "ACEF-031-clean-plate", "2024.1")]["entries"] == 1
    assert reads == [["u_a", "u_b", "u_c"]]  # one read of the batch's accounts; e3 (counted via `default`, even
    # with carbon) and e4 (a spend) are never judged


def test_all_counts_every_platform_attributed_to_each_users_platform(tmp_path):
    counting, offered = tally(tmp_path, "all", {}, [])
    for item in (entry("u_a", "e1"), entry("u_b", "e2"), entry("u_a", "e3", carbon_mg=0, via="company-demo")):
        counting.add(item)
    counting.finish()
    assert offered_keys(offered) == [("u_a", "e1"), ("u_b", "e2")]
    assert counting.platforms == {"default": {"entries": 1, "carbon_mg": 144000},
                                  "company-demo": {"entries": 1, "carbon_mg": 144000}}
