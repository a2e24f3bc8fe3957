"""The standalone verifier (verifier/verify_issuance.py) on hand-made issuance folders
(tests/support/issuance_files.py): green on an issuance as published; red, saying what, on a changed carbon, a
removed, added or changed leaf, a broken chain, a wrong total, an entry that is no leaf; and an entry's proof
checked against the roots file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import issuance_files as files
from verifier import verify_issuance as verifier

DAYS = (("default", "2026-10-01"), ("default", "2026-10-02"), ("company-demo", "2026-10-01"))


def make(tmp_path: Path, mutate=None, issued=None) -> Path:
    days = {key: files.day_leaves(*key) for key in DAYS}
    if mutate:
        mutate(days)
    return files.build(tmp_path / "issuance", days, issued)


def run(target: Path, capsys, *more: str) -> tuple[int, str]:
    capsys.readouterr()
    status = verifier.main([str(target), *more] if target else list(more))
    return status, capsys.readouterr().out


def test_an_issuance_as_published_is_verified(tmp_path, capsys):
    summary = make(tmp_path)
    status, out = run(summary.parent, capsys)
    assert status == 0, out
    assert "VERIFIED" in out and "FAIL" not in out
    assert "chain default: 2 days 2026-10-01..2026-10-02 unbroken (from the platform's first day)" in out
    assert "entries: all 24 issued entries are leaves of their days and their carbon follows their rule" in out


def test_a_carbon_that_does_not_follow_its_rule_fails_even_when_rooted_and_totalled(tmp_path, capsys):
    def more_carbon(days):
        days[DAYS[0]][0]["carbon_mg"] = 144001
    status, out = run(make(tmp_path, more_carbon).parent, capsys)
    assert status == 1
    [failure] = [line for line in out.splitlines() if line.startswith("FAIL  entry")]
    assert "carbon 144001 mg, its rule gives 144000 mg" in failure and "ACEF-031-clean-plate 2026.1" in failure


def test_an_input_past_its_recorded_cap_fails(tmp_path, capsys):
    def past_cap(days):
        days[DAYS[0]][5]["inputs"] = {"quantity": "60"}  # old clothes: 50 kg a day at most
        days[DAYS[0]][5]["carbon_mg"] = 60 * 1_280_000
    status, out = run(make(tmp_path, past_cap).parent, capsys)
    assert status == 1 and "quantity 60 is above daily_quantity_max 50" in out


def _leaves_file(summary: Path, platform: str = "default", day: str = "2026-10-01") -> Path:
    return max((summary.parent / "issuance.leaves" / platform / day).glob("*.jsonl"),
               key=lambda p: len(p.read_bytes()))


def test_a_removed_leaf_fails_its_shard_root_and_the_day_counts(tmp_path, capsys):
    summary = make(tmp_path, issued=lambda leaf: leaf["kind"] == "accrual")
    path = _leaves_file(summary)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[1:]))
    status, out = run(summary, capsys)
    assert status == 1
    assert "not to its published shard root" in out and "(a leaf changed, removed or added)" in out
    assert "the root says 9 entries" in out


def test_an_added_leaf_fails(tmp_path, capsys):
    summary = make(tmp_path)
    path = _leaves_file(summary)
    extra = json.loads(path.read_bytes().splitlines()[0])
    extra["entry_id"] = extra["entry_id"] + "x"
    path.write_bytes(path.read_bytes() + files.canonical(extra) + b"\n")
    status, out = run(summary, capsys)
    assert status == 1 and "not to its published shard root" in out and "the leaves are 10 entries" in out


def test_one_changed_byte_of_a_leaf_fails(tmp_path, capsys):
    summary = make(tmp_path, issued=lambda leaf: False)  # not even issued: every leaf of the day is covered
    path = _leaves_file(summary, "company-demo")
    path.write_bytes(path.read_bytes().replace(b'"pseudonym":"p_', b'"pseudonym":"q_', 1))
    status, out = run(summary, capsys)
    assert status == 1 and "not to its published shard root" in out


@pytest.mark.parametrize("field, value, message", [
    ("prev", "ab" * 32, "prev abab"),
    ("carbon_mg", 1, "is not the hash of its root, counts and prev"),
])
def test_a_broken_chain_fails(tmp_path, capsys, field, value, message):
    summary = make(tmp_path)
    roots = summary.parent / "issuance.roots.json"
    records = json.loads(roots.read_text())
    second = next(r for r in records if r["day"] == "2026-10-02")
    second[field] = value
    roots.write_text(json.dumps(records))
    files.restate(summary)
    status, out = run(summary, capsys)
    assert status == 1 and "FAIL  chain default 2026-10-02: " in out and message in out


def test_a_gap_in_the_chain_fails(tmp_path, capsys):
    summary = make(tmp_path)
    roots = summary.parent / "issuance.roots.json"
    records = json.loads(roots.read_text())
    for record in records:  # the second day moved on by a day, its chain recomputed: the gap is what is wrong
        if record["day"] == "2026-10-02":
            record["day"] = "2026-10-03"
            record["chain"] = verifier.chain_hash(record)
    roots.write_text(json.dumps(records))
    files.restate(summary)
    status, out = run(summary, capsys)
    assert status == 1 and "a gap between 2026-10-01 and 2026-10-03" in out


def test_a_wrong_total_fails(tmp_path, capsys):
    summary = make(tmp_path)
    doc = json.loads(summary.read_text())
    files.restate(summary, totals={**doc["totals"], "carbon_mg": doc["totals"]["carbon_mg"] + 1})
    status, out = run(summary, capsys)
    assert status == 1 and "FAIL  totals: the summary says 24 entries of" in out


def test_an_entry_that_is_no_leaf_or_differs_from_its_leaf_fails(tmp_path, capsys):
    summary = make(tmp_path)
    entries = summary.parent / "issuance.entries.csv"
    lines = entries.read_text().splitlines()
    row = lines[1].split(",")
    row[4] = "00" * 32
    changed = lines[2].replace(",p_", ",p_9", 1)
    entries.write_text("\n".join([lines[0], ",".join(row), changed, *lines[3:]]) + "\n")
    files.restate(summary)
    status, out = run(summary, capsys)
    assert status == 1
    assert "is not a leaf of its day's published leaves" in out and "the entries file says pseudonym=" in out


def test_a_changed_entries_file_fails_its_digest(tmp_path, capsys):
    summary = make(tmp_path)
    entries = summary.parent / "issuance.entries.csv"
    entries.write_text(entries.read_text().replace("144000", "144001", 1))
    status, out = run(summary, capsys)
    assert status == 1 and "FAIL  file issuance.entries.csv: SHA-256" in out


def _proof(summary: Path, day: str = "2026-10-01") -> dict:
    """A proof as GET /v1/me/ledger/{entry_id}/proof gives it, made here from the published files."""
    records = json.loads((summary.parent / "issuance.roots.json").read_text())
    record = next(r for r in records if (r["platform"], r["day"]) == ("default", day))
    path = _leaves_file(summary, day=day)
    lines = path.read_bytes().splitlines()
    hashes = [files._sha(b"\x00", line) for line in lines]
    leaf = json.loads(lines[1])

    def audit(hashes, index):
        if len(hashes) == 1:
            return []
        k = 1 << ((len(hashes) - 1).bit_length() - 1)
        if index < k:
            return [*audit(hashes[:k], index), {"side": "R", "hash": files.tree_hash(hashes[k:]).hex()}]
        return [*audit(hashes[k:], index - k), {"side": "L", "hash": files.tree_hash(hashes[:k]).hex()}]

    shard_roots = [bytes.fromhex(r) for r in record["shard_roots"]]
    return {"entry_id": leaf["entry_id"], "day": day, "platform": "default", "leaf": lines[1].decode(),
            "leaf_hash": hashes[1].hex(), "shard": leaf["shard"], "shard_path": audit(hashes, 1),
            "shard_root": record["shard_roots"][leaf["shard"]], "day_path": audit(shard_roots, leaf["shard"]),
            "root": record["root"], "chain": record["chain"]}


def test_a_proof_verifies_against_its_days_root_and_fails_changed_or_against_another_day(tmp_path, capsys):
    summary = make(tmp_path)
    roots, proof_path = summary.parent / "issuance.roots.json", tmp_path / "proof.json"
    proof = _proof(summary)
    proof_path.write_text(json.dumps(proof))
    status, out = run(None, capsys, "--proof", str(proof_path), "--root", str(roots))
    assert status == 0, out
    assert "OK    proof: the published root of 2026-10-01 is the proof's" in out

    changed = {**proof, "leaf": proof["leaf"].replace('"carbon_mg":', '"carbon_mg":1', 1)}
    proof_path.write_text(json.dumps(changed))
    status, out = run(None, capsys, "--proof", str(proof_path), "--root", str(roots))
    assert status == 1 and "FAIL  proof: the leaf hashes to" in out

    other = _proof(summary, "2026-10-02")
    proof_path.write_text(json.dumps({**proof, "root": other["root"], "day_path": other["day_path"]}))
    status, out = run(None, capsys, "--proof", str(proof_path), "--root", str(roots))
    assert status == 1 and "FAIL  proof: the day path folds to" in out


def test_files_that_cannot_be_read_exit_2(tmp_path, capsys):
    assert run(tmp_path, capsys)[0] == 2
