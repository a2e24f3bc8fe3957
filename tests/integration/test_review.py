"""Review (docs/risk.md "Review"): an account under review earns `held` entries, cannot spend, may appeal once at
a time; a reviewer releases (credits) or voids what it holds, each held entry once; reconcile holds throughout."""
from __future__ import annotations

import json
import uuid

import pytest

from admin.__main__ import main as admin
from chalicelib.services import review
from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork
from chalicelib.store.models import Account, LedgerEntry
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login
from tests.support.persons import login_on
from tests.support.reconcile import reconciled


def me(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body


def checkin(client, user, rid: str | None = None, behavior: str = "no_cutlery"):  # a behaviour without a photo
    return call(client, "POST", "/v1/checkins", {"request_id": rid or request_id(), "behavior": behavior},
                token=user["token"])


def appeal(client, user, text: str = "我每天都认真光盘，请复核"):
    return call(client, "POST", "/v1/me/appeals", {"text": text}, token=user["token"])


def ledger(user_id: str) -> list[LedgerEntry]:
    return list(LedgerEntry.query(user_id, consistent_read=True))


def risk(*argv: str, capsys=None):
    status = admin(["risk", *argv])
    if capsys is None:
        return status
    return status, json.loads(capsys.readouterr().out) if "--json" in argv else None


def flag(user: dict, platform: str = "default") -> None:
    assert admin(["risk", "flag", user["id"], "--reason", "test: looks scripted", "--platform", platform]) == 0


@pytest.mark.parametrize("outcome", ["release", "void"])
def test_held_check_ins_are_released_or_voided_once_and_the_account_cleared(client, user, capsys, outcome):
    earned = checkin(client, user)[1]
    balance, carbon_g = earned["points"], earned["carbon_g"]
    give_points(user, 100)
    balance += 100
    flag(user)
    assert me(client, user)["review"] == {"status": "under_review", "since": me(client, user)["review"]["since"],
                                          "rules": ["operator"], "points_held": 0, "carbon_held_g": 0}

    status, held = checkin(client, user)
    assert status == 201 and held["entry"]["kind"] == "held", held
    assert held["entry"]["points"] == earned["entry"]["points"] and held["entry"]["balance_after"] == balance
    assert (held["points"], held["carbon_g"]) == (balance, carbon_g)  # nothing credited
    assert checkin(client, user)[0] == 201  # no_cutlery: 3 a day; the held ones count towards it
    status, body = checkin(client, user)
    assert status == 429 and body["error"]["code"] == "DAILY_LIMIT_REACHED"
    shown = me(client, user)
    assert (shown["points"], shown["carbon_g"]) == (balance, carbon_g)
    assert shown["review"]["points_held"] == 2 * earned["entry"]["points"]
    assert shown["review"]["carbon_held_g"] == pytest.approx(2 * earned["entry"]["carbon_g"])
    assert reconciled(user)["clean"]

    goods = new_goods(points_price=30)
    status, body = redeem(client, user, goods["id"])
    assert status == 403 and body["error"]["code"] == "ACCOUNT_UNDER_REVIEW", body
    assert me(client, user)["points"] == balance

    status, body = appeal(client, user)
    assert status == 201 and body["appeal"]["status"] == "open", body
    status, again = appeal(client, user, "再说一次")
    assert status == 409 and again["error"]["code"] == "APPEAL_OPEN"

    held_ids = sorted(e.entry_id for e in ledger(user["id"]) if e.kind == "held")
    assert len(held_ids) == 2
    capsys.readouterr()
    assert admin(["risk", outcome, user["id"], "--reason", "test: reviewed", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert sorted(e["held"] for e in result["entries"]) == held_ids and result["cleared"]

    entries = ledger(user["id"])
    settled = [e for e in entries if e.kind == outcome]
    assert sorted(e.ref for e in settled) == held_ids
    shown = me(client, user)
    credited = 2 * earned["entry"]["points"] if outcome == "release" else 0
    assert shown["points"] == balance + credited
    assert shown["review"] == {"status": "clear", "since": None, "rules": [], "points_held": 0, "carbon_held_g": 0}
    account = Account.get(user["id"], consistent_read=True)
    assert account.appeal["status"] == "closed" and account.appeal_open is None
    assert reconciled(user)["clean"]
    kinds = {e["kind"] for e in call(client, "GET", "/v1/me/ledger", token=user["token"])[1]["items"]}
    assert {"held", outcome} <= kinds
    only = call(client, "GET", f"/v1/me/ledger?kind={outcome}", token=user["token"])[1]["items"]
    assert [e["kind"] for e in only] == [outcome, outcome]

    assert admin(["risk", outcome, user["id"], "--reason", "again"]) == 1  # nothing left: not under review
    assert [e.entry_id for e in ledger(user["id"])] == [e.entry_id for e in entries]
    assert redeem(client, user, goods["id"])[0] == 201  # clear again: spending works


def test_a_platform_user_under_review_is_that_accounts_and_released_on_its_platform(client, openid, capsys):
    user = login_on(client, openid)
    flag(user, DEMO_PLATFORM)
    status, held = checkin(client, user)
    assert status == 201 and held["entry"]["kind"] == "held"
    assert me(client, user)["review"]["points_held"] == held["entry"]["points"] > 0
    assert admin(["risk", "release", user["id"], "--reason", "x"]) == 1  # not a `default` user: as a missing one
    capsys.readouterr()
    assert admin(["risk", "list", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["user_id"] == user["id"])
    assert row["platform"] == DEMO_PLATFORM
    assert admin(["risk", "release", user["id"], "--reason", "ok", "--platform", DEMO_PLATFORM]) == 0
    shown = me(client, user)
    assert shown["points"] == held["entry"]["points"] and shown["review"]["status"] == "clear"
    assert reconciled(user)["clean"]


def test_a_check_in_retried_while_under_review_returns_the_same_held_entry(client, user):
    flag(user)
    rid = request_id()
    first, second = checkin(client, user, rid), checkin(client, user, rid)
    assert first == second and first[1]["entry"]["kind"] == "held"
    assert len([e for e in ledger(user["id"]) if e.kind == "held"]) == 1
    assert me(client, user)["review"]["points_held"] == first[1]["entry"]["points"]


def test_a_held_check_in_is_still_one_read_and_one_transaction(client, user):
    flag(user)
    with DynamoDBCalls() as calls:
        status, _ = checkin(client, user)
    assert status == 201
    assert calls.operations.count("TransactWriteItems") == 1 and calls.operations.count("GetItem") <= 1


def test_appeals_are_checked_and_only_for_an_account_under_review(client, user):
    status, body = appeal(client, user)
    assert status == 409 and body["error"]["code"] == "NOT_UNDER_REVIEW"
    flag(user)
    status, body = appeal(client, user, "违禁内容")
    assert status == 422 and body["error"]["code"] == "CONTENT_REJECTED"
    assert appeal(client, user, "")[0] == 400 and appeal(client, user, "长" * 501)[0] == 400
    assert Account.get(user["id"], consistent_read=True).appeal_open is None
    other = login(client, "o-" + uuid.uuid4().hex[:16])  # another user's appeal is not this one's
    assert appeal(client, other)[1]["error"]["code"] == "NOT_UNDER_REVIEW"
    assert appeal(client, user)[0] == 201


def test_risk_list_is_oldest_first_and_filters_by_rule_and_a_dry_run_writes_nothing(client, capsys):
    first, second = (login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(2))
    flag(first)
    review.flag(second["id"], "the steps rule's hook", DynamoPostingUnitOfWork(), rule="steps_repeat")
    checkin(client, second)
    capsys.readouterr()
    assert admin(["risk", "list", "--json"]) == 0
    listed = [r["user_id"] for r in json.loads(capsys.readouterr().out)]
    assert listed.index(first["id"]) < listed.index(second["id"])
    assert admin(["risk", "list", "--rule", "steps_repeat", "--json"]) == 0
    rows = {r["user_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert second["id"] in rows and first["id"] not in rows
    assert rows[second["id"]]["points_held"] > 0 and rows[second["id"]]["rules"] == ["steps_repeat"]

    before = (Account.get(second["id"], consistent_read=True).attribute_values, len(ledger(second["id"])))
    assert admin(["risk", "release", second["id"], "--reason", "preview", "--dry-run", "--json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert len(preview["entries"]) == 1 and preview["points_credited"] == rows[second["id"]]["points_held"]
    assert (Account.get(second["id"], consistent_read=True).attribute_values, len(ledger(second["id"]))) == before
    assert admin(["risk", "void", second["id"], "--reason", "done"]) == 0
    capsys.readouterr()
    assert admin(["risk", "list", "--json"]) == 0
    assert second["id"] not in [r["user_id"] for r in json.loads(capsys.readouterr().out)]
    assert reconciled(first, second)["clean"]


def test_risk_commands_are_audited(client, user, capsys):
    flag(user)
    assert admin(["risk", "release", user["id"], "--reason", "checked by hand"]) == 0
    capsys.readouterr()
    assert admin(["audit", "--json"]) == 0
    trail = json.loads(capsys.readouterr().out)
    done = {r["command"] for r in trail if r["arguments"].get("user") == user["id"]}
    assert {"risk flag", "risk release"} <= done


def test_a_collection_point_credit_to_a_member_under_review_is_held_on_the_members_account(client, user):
    _, (openid,) = new_merchant(1, collection_point=True)
    staff = staff_login(client, openid)
    flag(user)
    code = call(client, "GET", "/v1/me/member-code", token=user["token"])[1]["member_code"]
    status, body = call(client, "POST", "/v1/operator/credit", {"request_id": request_id(), "member_code": code,
                                                                 "behavior": "old_clothes", "quantity": 2},
                        token=staff["token"])
    assert status == 201 and body["entry"]["kind"] == "held" and body["entry"]["balance_after"] == 0, body
    shown = me(client, user)
    assert (shown["points"], shown["review"]["points_held"]) == (0, body["entry"]["points"])
    assert admin(["risk", "release", user["id"], "--reason", "weighed again"]) == 0
    assert me(client, user)["points"] == body["entry"]["points"] and reconciled(user)["clean"]


def test_credits_of_staff_under_review_are_held_on_the_members_accounts_and_settled_by_the_staffs_review(
        client, capsys):
    _, (openid,) = new_merchant(1, collection_point=True)
    staff = staff_login(client, openid)
    members = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(2)]
    give_points(members[0], 50)
    flag(staff)

    def credit(member) -> dict:
        code = call(client, "GET", "/v1/me/member-code", token=member["token"])[1]["member_code"]
        status, body = call(client, "POST", "/v1/operator/credit", {
            "request_id": request_id(), "member_code": code, "behavior": "old_clothes", "quantity": 1},
            token=staff["token"])
        assert status == 201, body
        return body["entry"]

    held = [credit(member) for member in members]
    assert [entry["kind"] for entry in held] == ["held", "held"]
    first = me(client, members[0])
    assert (first["points"], first["review"]["status"]) == (50, "clear")  # the member is not under review
    assert first["review"]["points_held"] == held[0]["points"] > 0  # but what the staff gave waits
    assert reconciled(staff, *members)["clean"]
    capsys.readouterr()
    assert admin(["risk", "list", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["user_id"] == staff["id"])
    assert row["credits_given_held"] == 2 and row["rules"] == ["operator"]
    assert admin(["risk", "release", staff["id"], "--reason", "the scale was right", "--dry-run", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["entries"]) == 2
    assert admin(["risk", "release", staff["id"], "--reason", "the scale was right"]) == 0
    assert [me(client, m)["points"] for m in members] == [50 + held[0]["points"], held[1]["points"]]
    assert [me(client, m)["review"]["points_held"] for m in members] == [0, 0]
    assert [e.ref for e in ledger(members[1]["id"]) if e.kind == "release"] == [held[1]["id"]]
    assert admin(["risk", "release", staff["id"], "--reason", "again"]) == 1  # clear: nothing settled twice
    assert credit(members[1])["kind"] == "earn"  # the staff member is clear again
    assert reconciled(staff, *members)["clean"]
