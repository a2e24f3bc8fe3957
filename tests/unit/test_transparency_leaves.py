"""The public leaf of a ledger entry and the day it is rooted under (domain/transparency.py)."""
from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

from chalicelib.domain import merkle, transparency
from chalicelib.domain.posting import LedgerLine


def entry(**changes):
    values = dict(entry_id="01JABCDEFGHJKMNPQRSTVWXYZ0", user_id="u_secret", kind="earn", points=2, carbon_mg=150,
                  source="operator", behavior="recycle", methodology_id="gs-recycle", methodology_version="1",
                  ref="partner-order-7", request_id="req-1", reason="why",
                  inputs={"quantity": "1.5", "counted_quantity": "1.5", "staff_user_id": "u_staff",
                          "merchant_id": "m1", "evidence": {"photo_hash": "ab"}, "tree_id": "t1",
                          "certificate_no": "GS-1", "ride_id": "r1", "distance_m": 1200.5},
                  counted_via=None)
    values.update(changes)
    return SimpleNamespace(**values)


def test_a_leaf_names_no_person_and_keeps_only_the_inputs_that_recompute_carbon():
    leaf = transparency.leaf("default", "2026-02-01", entry(), "p_PSEUDO")
    text = merkle.canonical(leaf).decode()
    for private in ("u_secret", "u_staff", "partner-order-7", "req-1", "why", "m1", "t1", "GS-1", "r1", "photo_hash"):
        assert private not in text
    assert leaf["inputs"] == {"quantity": "1.5", "counted_quantity": "1.5", "distance_m": "1200.5"}  # float: text
    assert set(leaf) == {"v", "platform", "day", "entry_id", "pseudonym", "shard", "kind", "points", "carbon_mg",
                         "source", "behavior", "methodology_id", "methodology_version", "inputs", "counted_via"}
    assert leaf["shard"] == transparency.shard_of(leaf["entry_id"]) < transparency.SHARDS
    assert "." not in json.dumps([v for v in leaf.values() if isinstance(v, (int, float))])  # no float anywhere


def test_an_entry_written_for_a_closed_day_is_rooted_under_the_oldest_open_day():
    written = "2026-03-20T10:00:00.000+08:00"
    assert transparency.rooted_day("2026-03-19", written) == "2026-03-19"
    assert transparency.rooted_day("2026-03-13", written) == "2026-03-13"  # 7 days late: still open
    assert transparency.rooted_day("2026-01-01", written) == "2026-03-13"  # an accrual caught up long after


def test_a_day_is_rooted_only_after_nothing_can_be_written_to_it():
    today = date(2026, 3, 20)
    last = transparency.closed_through(today)
    assert last == date(2026, 3, 11)
    # the oldest day a write of yesterday (the last day still writable while the job runs) could reach
    assert date.fromisoformat(transparency.rooted_day("2000-01-01", "2026-03-19T23:59:59.999+08:00")) > last


def test_every_ledger_line_carries_its_root_key():
    line = LedgerLine("01JABCDEFGHJKMNPQRSTVWXYZ0", "2026-03-20T10:00:00.000+08:00", "earn", 1, 0, 1, "checkin",
                      user_id="u_1", day="2026-03-20", platform="company-demo")
    values = line.values()
    assert values["root_key"] == f"company-demo#2026-03-20#{transparency.shard_of(line.entry_id):03d}"
    assert "platform" not in values
    default = LedgerLine("01J", "2026-03-20T10:00:00.000+08:00", "earn", 1, 0, 1, "checkin", user_id="u_1",
                         day="2026-03-20")
    assert default.values()["root_key"].startswith("default#2026-03-20#")


def test_a_shards_leaves_are_sorted_by_leaf_hash_and_its_root_is_their_tree_hash():
    leaves = [transparency.leaf("default", "2026-02-01", entry(entry_id=f"E{i}", carbon_mg=i), "p_x")
              for i in range(5)]
    shard = transparency.shard_leaves(leaves)
    assert shard.hashes == sorted(shard.hashes)
    assert shard.root == merkle.mth(shard.hashes).hex()
    assert (shard.entries, shard.carbon_mg) == (5, 10)
    assert transparency.parse_leaves(shard.body) == sorted(leaves, key=lambda x: merkle.leaf_hash(merkle.canonical(x)))
    assert shard.totals == [{"methodology_id": "gs-recycle", "version": "1", "entries": 5, "carbon_mg": 10}]


def test_a_day_record_chains_to_the_previous_day():
    record = transparency.day_record("default", "2026-02-01", [merkle.EMPTY.hex()] * 4, 0, 0, [], merkle.ZERO)
    assert record["root"] == merkle.mth([merkle.EMPTY] * 4).hex()
    assert record["chain"] == merkle.chain_hash("default", "2026-02-01", record["root"], 0, 0, merkle.ZERO)
    after = transparency.day_record("default", "2026-02-02", [merkle.EMPTY.hex()] * 4, 0, 0, [], record["chain"])
    assert after["prev"] == record["chain"] and after["chain"] != record["chain"]


def test_a_proof_finds_its_leaf_in_the_shards_hashes_file_by_binary_search():
    leaves = [transparency.leaf("default", "2026-02-01", entry(entry_id=f"E{i}", carbon_mg=i), "p_x")
              for i in range(37)]
    shard = transparency.shard_leaves(leaves)
    assert shard.hashes_body == b"".join(shard.hashes) and len(shard.hashes_body) == 37 * 32
    for index, leaf_hash in enumerate(shard.hashes):
        assert transparency.find_hash(shard.hashes_body, leaf_hash) == index
    other = merkle.leaf_hash(merkle.canonical(transparency.leaf("default", "2026-02-01", entry(entry_id="E99"), "p_x")))
    assert transparency.find_hash(shard.hashes_body, other) is None
    assert transparency.find_hash(b"", other) is None
