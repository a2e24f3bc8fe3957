"""DELETE /v1/me (and `python -m admin user delete`): consents revoked at the partners, unused redemptions
cancelled and refunded then forfeited, every personal field gone from every table (read raw), while the
ledger's amounts stay under the anonymous id: `reconcile`, org totals and an earlier issuance still verify. A
later login with the same WeChat account starts a new, empty account."""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, time, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.domain.privacy import DELETED_NAME
from chalicelib.store.issuance import REGISTRY, IssuanceRecord
from chalicelib.store.market import Redemption
from chalicelib.store.models import Account, AuditRecord, Identity, LedgerEntry
from chalicelib.store.partners import Consent, PartnerLink
from chalicelib.store.privacy import Erasure
from chalicelib.store.trees import Adoption
from tests.support.aggregates import drain
from tests.support.api import call, login, request_id
from tests.support.issued import rows_of
from tests.support.partners import bind, phone, phone_code, reconcile_clean
from tests.support.photos import evidence_for
from tests.support.privacy import busy_user, clock_at, raw_item, raw_items_containing

ISSUED_DAY = clock.business_day(clock.now()) - timedelta(days=45)  # this module's own day (reports use others)
CONFIRM = {"confirm": "DELETE"}


def org_figures(client, org) -> tuple[float, int]:
    status, body = call(client, "GET", f"/v1/orgs/{org['id']}")
    assert status == 200, body
    return body["carbon_g"], body["members"]


def issue(tmp_path) -> IssuanceRecord:
    name = f"del-{uuid.uuid4().hex[:6]}"
    assert admin(["issuance", "--from", ISSUED_DAY.isoformat(), "--to", ISSUED_DAY.isoformat(), "--out",
                  str(tmp_path / f"{name}.json"), "--yes", "--reason", "deletion test"]) == 0
    return IssuanceRecord.get(REGISTRY, f"{ISSUED_DAY}..{ISSUED_DAY}")


def issuance_verifies(record: IssuanceRecord) -> bool:
    """The issued entries file is the one recorded (SHA-256), and every entry it lists is still in the ledger
    with the same carbon, summing to the recorded total."""
    path = record.files["entries"]["path"]
    with open(path, "rb") as file:
        if hashlib.sha256(file.read()).hexdigest() != record.files["entries"]["sha256"]:
            return False
    total = 0
    for row in rows_of(path):
        stored = LedgerEntry.get(row["user_id"], row["entry_id"], consistent_read=True)
        if int(stored.carbon_mg) != int(row["carbon_mg"]):
            return False
        total += int(row["carbon_mg"])
    return total == int(record.carbon_mg)


def test_a_deleted_account_leaves_no_personal_data_and_every_figure_stays_true(client, stack, tmp_path):
    user = busy_user(client, stack)
    with clock_at(datetime.combine(ISSUED_DAY, time(12), clock.SHANGHAI)):  # an entry that gets issued
        assert call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                     **evidence_for(client, user, "clean_plate")},
                    token=user["token"])[0] == 201
    record = issue(tmp_path)
    assert any(row["user_id"] == user["id"] for row in rows_of(record.files["entries"]["path"]))
    drain()
    org_before = org_figures(client, user["org"])
    account_before = Account.get(user["id"], consistent_read=True)
    identity_key = account_before.identity_key
    assert any(table.endswith("agg_boards") for table, _ in raw_items_containing(user["nickname"]))  # named

    status, body = call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"])
    assert (status, body) == (200, {"deleted": True})
    drain()  # the boards that named the person are rebuilt

    # No personal field anywhere, reading every table raw: nickname, openid, phone, address, the WeChat identity.
    detail = user["address"]["detail"]
    needles = (user["nickname"], user["openid"], user["phone"], detail, detail[:4], identity_key)
    assert raw_items_containing(*needles) == []
    assert raw_item(Identity, key=identity_key) is None
    account = raw_item(Account, user_id=user["id"])
    assert not {"nickname", "avatar_url", "identity_key", "nickname_pending"} & set(account)
    assert account["deleted_at"]["S"] and account["points"] == {"N": "0"} and account["frozen"] == {"BOOL": True}
    for item in Consent.query(user["id"], consistent_read=True):
        assert item.status == "revoked" and item.partner_ref is None and item.authorization_id is None
        assert all("partner_ref" not in event for event in item.history)
    assert not PartnerLink.get(f"transit#{user['transit_ref']}").user_id  # the bus account may be bound again
    transit = [a for a in stack.transit.authorizations() if a["user_ref"] == user["transit_ref"]]
    assert transit and not any(a["active"] for a in transit)  # revoked at the partner too
    ids = user["redemptions"]
    redemptions = {r: Redemption.get(r, consistent_read=True) for r in ids.values()}
    assert redemptions[ids["unused"]].status == "cancelled" and redemptions[ids["unused"]].refunded
    assert redemptions[ids["parcel"]].status == "cancelled"  # even a non-cancellable parcel: nobody to ship to
    assert all(r.address_sealed is None and r.address_masked is None for r in redemptions.values())
    adoption = Adoption.get(user["adoption"], consistent_read=True)
    assert adoption.adopter_name == DELETED_NAME and adoption.accrual_shard is None

    # The amounts stay: the ledger sums to the balance, org totals and the issuance are unchanged.
    kinds = [(e.kind, int(e.points)) for e in LedgerEntry.query(user["id"], scan_index_forward=False)]
    assert kinds[0] == ("expire", -int(account_before.points) - 30 - 40)  # balance + the two refunds, forfeited
    assert reconcile_clean(user) == (True, [])
    assert org_figures(client, user["org"]) == org_before
    assert issuance_verifies(record)
    erasure = Erasure.get(user["id"])
    assert erasure.channel == "user" and erasure.finished_at and erasure.waiting is None

    # The old token is refused wherever the account is read; DELETE again is answered the same.
    assert call(client, "GET", "/v1/me", token=user["token"])[0] == 401
    assert call(client, "GET", "/v1/me/export", token=user["token"])[0] == 401
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate"},
                        token=user["token"])
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"]) == (200, {"deleted": True})
    rebind = {"phone_code": phone_code(stack, phone())}
    assert call(client, "PUT", "/v1/partners/bank/consent", rebind, token=user["token"])[0] == 401
    assert [c.partner_ref for c in Consent.query(user["id"])] == [None, None]  # nothing bound again

    # The same WeChat account logs in again: a new, empty account.
    again = login(client, user["openid"])
    assert again["login"]["new_user"] is True and again["id"] != user["id"]
    profile = call(client, "GET", "/v1/me", token=again["token"])[1]
    assert (profile["points"], profile["orgs"], profile["nickname"]) == (0, [], again["login"]["user"]["nickname"])


def test_deleting_needs_the_confirmation(client, user):
    for body in (None, {}, {"confirm": "yes"}, {"confirm": "delete"}):
        status, answer = call(client, "DELETE", "/v1/me", body, token=user["token"])
        assert (status, answer["error"]["details"]["field"]) == (400, "confirm")
    assert call(client, "GET", "/v1/me", token=user["token"])[0] == 200


def test_a_partner_that_is_down_is_told_later_and_keeps_its_reference_until_then(client, stack, user):
    ref = bind(client, stack, user, "transit")
    stack.transit.faults.add(path="/v1/authorizations/", status=503, count=-1)
    try:
        assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"]) == (200, {"deleted": True})
        item = Consent.get(user["id"], "transit", consistent_read=True)
        assert item.status == "revoked" and item.revocation_pending == "transit" and item.partner_ref == ref
        assert Erasure.get(user["id"]).waiting == "partners"
        assert not PartnerLink.get(f"transit#{ref}").user_id  # released at once
    finally:
        stack.transit.faults.clear()
    for name in ("retry-partner-revocations", "finish-erasures"):
        jobs.job_named(name).run(clock.now())
    item = Consent.get(user["id"], "transit", consistent_read=True)
    assert item.partner_ref is None and item.revocation_pending is None
    assert not any(a["active"] for a in stack.transit.authorizations() if a["user_ref"] == ref)
    erasure = Erasure.get(user["id"])
    assert erasure.waiting is None and erasure.finished_at


def test_the_console_deletes_a_request_received_by_another_channel_audited(client, user, capsys):
    assert call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                 **evidence_for(client, user, "clean_plate")},
                token=user["token"])[0] == 201
    assert admin(["user", "delete", user["openid"], "--reason", "ticket 42", "--dry-run"]) == 0
    assert call(client, "GET", "/v1/me", token=user["token"])[0] == 200  # a dry run changes nothing
    assert admin(["user", "delete", user["openid"], "--reason", "ticket 42"]) == 1  # no terminal: needs --yes
    assert admin(["user", "delete", user["openid"], "--reason", "ticket 42", "--yes"]) == 0
    assert call(client, "GET", "/v1/me", token=user["token"])[0] == 401
    assert Erasure.get(user["id"]).channel == "console"
    record = next(r for r in AuditRecord.query(clock.now().strftime("%Y-%m"), scan_index_forward=False)
                  if r.command == "user delete" and r.arguments.get("user") == user["id"])
    assert record.reason == "ticket 42" and record.outcome["points_forfeited"] == 5
    assert user["openid"] not in str(record.arguments)  # the audit names the anonymous id only
    assert admin(["user", "delete", user["id"], "--reason", "again", "--yes"]) == 0  # already deleted: no change
    assert reconcile_clean(user) == (True, [])


@pytest.mark.parametrize("route", ["/v1/me/ledger", "/v1/me/redemptions", "/v1/me/trees", "/v1/me/summary"])
def test_lists_of_one_s_own_entries_refuse_the_token_after_deletion(client, user, route):
    """These routes read only the caller's entries (one Query, no account read): the deleted account's token is
    refused all the same (services/revocations.py), not until it expires (JWT_TTL_SECONDS)."""
    assert call(client, "PATCH", "/v1/me", {"nickname": "将注销"}, token=user["token"])[0] == 200
    assert call(client, "GET", route, token=user["token"])[0] == 200
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"])[0] == 200
    status, body = call(client, "GET", route, token=user["token"])
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
    assert "将注销" not in str(body) and user["openid"] not in str(body)


@pytest.mark.parametrize("stop_at", ["_remove_identity", "_last_steps"])
def test_a_deletion_that_stopped_half_way_is_finished_by_the_next_request(client, user, monkeypatch, stop_at):
    from chalicelib.services import erasure

    assert call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                 **evidence_for(client, user, "clean_plate")},
                token=user["token"])[0] == 201
    original = getattr(erasure, stop_at)

    def crash(*args, **kwargs):
        raise RuntimeError("the Lambda timed out here")

    monkeypatch.setattr(erasure, stop_at, crash)
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"])[0] == 500
    monkeypatch.setattr(erasure, stop_at, original)
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"]) == (200, {"deleted": True})
    assert raw_item(Identity, key=f"wx#{user['openid']}") is None
    assert Account.get(user["id"], consistent_read=True).deleted_at
    assert Erasure.get(user["id"]).finished_at
    expires = [int(e.points) for e in LedgerEntry.query(user["id"]) if e.kind == "expire"]
    assert expires == [-5]  # forfeited once, whatever the retries
    assert reconcile_clean(user) == (True, [])
