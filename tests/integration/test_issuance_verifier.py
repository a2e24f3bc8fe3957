"""End to end: an issuance produced from the local stack, and the standalone verifier (verifier/verify_issuance.py)
run on its files as a stranger runs it (a subprocess, `python -I -S`: the standard library only, no database, no
network). A platform of its own (tests/support/persons.ledger_platform), so the test's day has its own chain of
daily roots, rooted by the roots job (chalicelib/services/transparency.run) as its first day.

The days are 181, 179, 177 and 175 days ago (tests/support/days.py): no other test writes there."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.services import transparency
from chalicelib.store.models import Account
from tests.support.api import call, request_id
from tests.support.days import at
from tests.support.partners import reconcile_clean
from tests.support.persons import LEDGER_PLATFORM_APPID, ledger_platform, login_on
from tests.support.steps import werun

TODAY = clock.business_day(clock.now())
DAY, DAY_NOT_ROOTED, DAY_WAITING, DAY_DELETED = (TODAY - timedelta(days=n) for n in (181, 179, 177, 175))
VERIFIER = Path(__file__).resolve().parents[2] / "verifier" / "verify_issuance.py"


def verifier(*argv: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-I", "-S", str(VERIFIER), *argv], capture_output=True, text=True,
                          timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def fill(client, stack, platform: str, day=DAY) -> list[dict]:
    users = [login_on(client, f"o-verify-{n}-{request_id()}", platform) for n in range(2)]
    with at(day, 9):
        for user in users:
            for _ in range(3):
                status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(),
                                                                     "behavior": "no_cutlery"}, token=user["token"])
                assert status == 201, body
            for steps in (12345, 41000):  # the second past the 30,000 steps a day counts
                there = {**user, "openid": f"{user['openid']}@{LEDGER_PLATFORM_APPID}"}  # the fake's openid there
                status, body = werun(client, stack, there, {0: steps}, appid=LEDGER_PLATFORM_APPID)
                assert status == 200, body
    return users


def test_an_issuance_from_the_stack_verifies_and_fails_on_one_changed_byte(client, stack, tmp_path, capsys):
    platform = ledger_platform(stack, tmp_path)
    users = fill(client, stack, platform)
    rooted = transparency.run(platform, TODAY, DAY.isoformat(), DAY)
    assert (rooted["days"], rooted["head"]) == ([DAY.isoformat()], DAY.isoformat())
    folder = tmp_path / "issuance"
    folder.mkdir()
    capsys.readouterr()
    assert admin(["issuance", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--platform", platform,
                  "--out", str(folder / "issuance.json"), "--yes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["entries"] == 10 and doc["warnings"] == []  # 3 check-ins and 2 step totals each
    registry = json.loads((folder / "issuance.registry.json").read_text(encoding="utf-8"))
    assert {(m["methodology_id"], m["version"], m["behavior"]) for m in registry["methodologies"]} == {
        ("SJ-no-cutlery", "2022.1", "no_cutlery"), ("LZ-walk", "2024.1", "walk_steps")}
    entries = (folder / "issuance.entries.csv").read_text(encoding="utf-8")
    assert all(user["id"] not in entries for user in users) and "user_id" not in entries
    [record] = json.loads((folder / "issuance.roots.json").read_text(encoding="utf-8"))
    assert (record["platform"], record["day"], record["entries"]) == (platform, DAY.isoformat(), 10)

    status, out = verifier(str(folder))
    assert status == 0, out
    assert "entries: all 10 issued entries are leaves of their days and their carbon follows their rule" in out
    assert f"chain {platform}: 1 days {DAY}..{DAY} unbroken (from the platform's first day)" in out

    entry_id = next(e for e in call(client, "GET", "/v1/me/ledger", token=users[0]["token"])[1]["items"])["id"]
    status, proof = call(client, "GET", f"/v1/me/ledger/{entry_id}/proof", token=users[0]["token"])
    assert status == 200, proof
    (tmp_path / "proof.json").write_text(json.dumps(proof), encoding="utf-8")
    status, out = verifier("--proof", str(tmp_path / "proof.json"), "--root", str(folder / "issuance.roots.json"))
    assert status == 0 and "OK    proof: the published root of" in out, out

    leaves = max((folder / "issuance.leaves").rglob("*.jsonl"), key=lambda path: path.stat().st_size)
    body = bytearray(leaves.read_bytes())
    body[body.index(b'"carbon_mg":') + len(b'"carbon_mg":')] ^= 1  # one digit of one leaf's carbon: 4 -> 5 ...
    leaves.write_bytes(bytes(body))
    status, out = verifier(str(folder))
    assert status == 1 and "not to its published shard root" in out, out
    assert reconcile_clean(*users) == (True, [])


def test_entries_of_a_day_not_rooted_are_issued_with_a_warning_and_the_verifier_fails_them(client, stack, tmp_path,
                                                                                           capsys):
    platform = ledger_platform(stack, tmp_path)
    users = fill(client, stack, platform, DAY_NOT_ROOTED)
    folder = tmp_path / "issuance"
    folder.mkdir()
    capsys.readouterr()
    assert admin(["issuance", "--from", DAY_NOT_ROOTED.isoformat(), "--to", DAY_NOT_ROOTED.isoformat(),
                  "--platform", platform, "--out", str(folder / "issuance.json"), "--yes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["warnings"] == [f"{platform} {DAY_NOT_ROOTED} is not rooted yet: 10 of its entries are listed without "
                               "their leaf, and the verifier cannot check them"]
    assert json.loads((folder / "issuance.roots.json").read_text(encoding="utf-8")) == []
    status, out = verifier(str(folder))
    assert status == 1 and out.count("its day is not in the roots file") == 10, out
    assert "totals: 10 entries" in out  # what can be checked still is
    assert reconcile_clean(*users) == (True, [])


def test_once_the_roots_have_started_a_period_waits_for_its_roots(client, stack, tmp_path, capsys, monkeypatch):
    """With TRANSPARENCY_FIRST_DAY set (the deployment roots its days), a period with a day not rooted yet is refused
    (its entries could not be checked against a published root); once the roots job has rooted it, it is issued."""
    from chalicelib.settings import get_settings

    platform = ledger_platform(stack, tmp_path)
    users = fill(client, stack, platform, DAY_WAITING)
    out = tmp_path / "issuance.json"
    args = ["issuance", "--from", DAY_WAITING.isoformat(), "--to", DAY_WAITING.isoformat(), "--platform", platform,
            "--out", str(out), "--yes", "--json"]
    monkeypatch.setenv("TRANSPARENCY_FIRST_DAY", DAY_WAITING.isoformat())
    get_settings.cache_clear()
    try:
        capsys.readouterr()
        assert admin(args) != 0
        said = capsys.readouterr()
        assert f"{platform}: 1 day(s) not rooted yet ({DAY_WAITING}..{DAY_WAITING}" in said.out + said.err
        assert not out.exists()
        transparency.run(platform, TODAY, DAY_WAITING.isoformat(), DAY_WAITING)
        assert admin(args) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["totals"]["entries"] == 10 and doc["warnings"] == []
    finally:
        monkeypatch.delenv("TRANSPARENCY_FIRST_DAY")
        get_settings.cache_clear()
    assert verifier(str(tmp_path))[0] == 0
    assert reconcile_clean(*users) == (True, [])


def test_a_person_deleted_after_their_day_was_rooted_leaves_the_issuance_verifiable_and_unnamed(client, stack,
                                                                                                 tmp_path, capsys):
    platform = ledger_platform(stack, tmp_path)
    users = fill(client, stack, platform, DAY_DELETED)
    transparency.run(platform, TODAY, DAY_DELETED.isoformat(), DAY_DELETED)
    gone = users[0]
    pseudonym = Account.get(gone["id"]).pseudonym
    status, body = call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=gone["token"])
    assert status == 200, body

    folder = tmp_path / "issuance"
    folder.mkdir()
    capsys.readouterr()
    assert admin(["issuance", "--from", DAY_DELETED.isoformat(), "--to", DAY_DELETED.isoformat(), "--platform",
                  platform, "--out", str(folder / "issuance.json"), "--yes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["entries"] == 10  # the deleted person's reductions stay issued, under their pseudonym
    entries = (folder / "issuance.entries.csv").read_text(encoding="utf-8")
    assert entries.count(pseudonym) == 5 and gone["id"] not in entries
    assert Account.get(gone["id"]).pseudonym is None  # nothing we keep links that pseudonym to the user any more
    status, out = verifier(str(folder))
    assert status == 0, out
