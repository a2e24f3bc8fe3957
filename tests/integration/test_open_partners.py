"""The open partner protocol (shared/partners/open-protocol.md) over HTTP, against the fake open-protocol partner
(infra/local/fake_open_partner.py, playing the demo catalog's `bikeshare`): the link code's life, signed and
replayed calls, events counted once or ignored and counted, revocation told to the partner (again after its
outage), and a fifth partner onboarded by a catalog entry and a secret alone."""
from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.services import catalog
from chalicelib.settings import get_settings
from infra.local.ephemeral import OPEN_PARTNER_SECRET
from tests.support.api import call, login
from tests.support.open_partners import BIKE, link, link_code, linked, push
from tests.support.partners import ledger, me, reconcile_clean
from tests.support.persons import login_on

KM_MG = 33880  # shared_bike: 33.88 g CO2e a km (admin/demo_catalog.json)


@pytest.fixture
def fake(stack):
    stack.open_partner.faults.clear()
    return stack.open_partner


@pytest.fixture
def user(client, openid):
    return login(client, openid)


def listed(client, user, partner: str = BIKE) -> dict:
    return next(p for p in call(client, "GET", "/v1/partners", token=user["token"])[1]["items"] if p["id"] == partner)


def test_a_link_code_links_the_user_once_and_the_partner_list_shows_it(client, fake, user):
    status, issued = link_code(client, user)
    assert status == 201 and len(issued["link_code"]) >= 12
    expires = clock.parse_iso(issued["expires_at"])
    assert timedelta(minutes=9) < expires - clock.now() <= timedelta(minutes=10)
    assert listed(client, user)["status"] == "unbound"

    status, body = link(client, fake, issued["link_code"], "bk_alice")
    assert status == 200 and body["linked"] is True
    assert listed(client, user) | {"bound_at": None} == {**listed(client, user), "status": "bound", "bound_at": None}
    assert listed(client, user)["bound_at"] == body["bound_at"]
    # the same link again (the partner lost our answer) answers the same; another account with it is refused
    assert link(client, fake, issued["link_code"], "bk_alice") == (200, body)
    assert link(client, fake, issued["link_code"], "bk_mallory")[1]["error"]["code"] == "CODE_NOT_FOUND"


def test_unknown_expired_and_other_partners_codes_are_refused_and_a_refusal_does_not_use_the_code_up(
        client, fake, user, stack, tmp_path):
    assert link(client, fake, "NOSUCHCODE1234", "bk_x")[0] == 404
    status, issued = link_code(client, user)
    second_partner(stack, tmp_path)
    assert link(client, fake, issued["link_code"], "bk_x", partner="scooter")[1]["error"]["code"] == "CODE_NOT_FOUND"
    with pytest.MonkeyPatch.context() as patch:
        later = clock.now() + timedelta(minutes=11)
        patch.setattr(clock, "now", lambda: later)
        assert link(client, fake, issued["link_code"], "bk_x")[1]["error"]["code"] == "CODE_EXPIRED"
    assert link(client, fake, issued["link_code"], "bk_x")[0] == 200  # none of the refusals used it


def test_another_persons_user_ref_is_taken_and_the_code_stays_usable(client, fake, user, openid):
    taken = linked(client, fake, login(client, openid + "-other"))
    status, issued = link_code(client, user)
    assert link(client, fake, issued["link_code"], taken)[1]["error"]["code"] == "PARTNER_ACCOUNT_TAKEN"
    assert link(client, fake, issued["link_code"], "bk_" + uuid.uuid4().hex[:10])[0] == 200


@pytest.mark.parametrize("forge,code", [
    ({"secret": "x" * 40}, "BAD_SIGNATURE"),
    ({"partner": "nobody"}, "BAD_SIGNATURE"),
    ({"timestamp": int(time.time()) - 3600}, "REPLAYED"),
])
def test_a_bad_signature_an_unknown_partner_and_a_stale_call_are_refused(client, fake, user, forge, code):
    status, issued = link_code(client, user)
    assert link(client, fake, issued["link_code"], "bk_forged", **forge)[1]["error"]["code"] == code
    assert push(client, fake, [fake.event("bk_forged")], **forge)[1]["error"]["code"] == code
    assert listed(client, user)["status"] == "unbound"


def test_a_replayed_nonce_is_refused(client, fake, user):
    user_ref = linked(client, fake, user)
    events = [fake.event(user_ref)]
    assert push(client, fake, events, nonce="n" * 20)[0] == 200
    assert push(client, fake, [fake.event(user_ref)], nonce="n" * 20)[1]["error"]["code"] == "REPLAYED"


def test_events_count_once_across_retries_and_what_is_not_an_event_is_ignored_and_counted(client, fake, user):
    user_ref = linked(client, fake, user)
    now = datetime.now(clock.SHANGHAI)
    ride = fake.event(user_ref, quantity=3.2)
    assert push(client, fake, [ride]) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    assert push(client, fake, [ride]) == (200, {"accepted": 0, "duplicates": 1, "ignored": 0})
    bad = [fake.event(user_ref, type="hoverboard"), fake.event(user_ref, quantity=None),
           fake.event(user_ref, quantity="3"), fake.event(user_ref, quantity=31), fake.event(user_ref, quantity=-1),
           fake.event(user_ref, occurred_at=now + timedelta(hours=1)),
           fake.event(user_ref, occurred_at=now - timedelta(days=9)), "not an event"]
    assert push(client, fake, bad) == (200, {"accepted": 0, "duplicates": 0, "ignored": len(bad)})
    [entry] = [e for e in ledger(client, user) if e["source"] == BIKE]
    assert (entry["behavior"], entry["carbon_g"], entry["points"]) == ("shared_bike", 3.2 * KM_MG / 1000, 3)
    assert me(client, user)["carbon_g"] == pytest.approx(3.2 * KM_MG / 1000)
    assert reconcile_clean(user) == (True, [])


def test_revocation_tells_the_partner_and_later_events_are_ignored(client, fake, user):
    user_ref = linked(client, fake, user)
    status, body = call(client, "DELETE", f"/v1/partners/{BIKE}/consent", token=user["token"])
    assert (status, body["status"]) == (200, "revoked")
    assert {"partner": BIKE, "user_ref": user_ref} in [
        {k: r[k] for k in ("partner", "user_ref")} for r in fake.revocations()]
    assert push(client, fake, [fake.event(user_ref)]) == (200, {"accepted": 0, "duplicates": 0, "ignored": 1})


def test_a_partner_down_at_revocation_is_told_by_the_retry_job(client, fake, user):
    user_ref = linked(client, fake, user)
    fake.faults.add(path="/revoke", status=500, count=-1)
    assert call(client, "DELETE", f"/v1/partners/{BIKE}/consent", token=user["token"])[1]["status"] == "revoked"
    assert user_ref not in [r["user_ref"] for r in fake.revocations()]
    fake.faults.clear()
    assert admin(["run-jobs", "--once", "--job", "retry-partner-revocations"]) == 0
    assert user_ref in [r["user_ref"] for r in fake.revocations()]


def test_transit_binds_by_phone_and_an_open_partner_by_link_code(client, user):
    assert link_code(client, user, "transit")[1]["error"]["code"] == "NOT_AN_OPEN_PARTNER"
    status, body = call(client, "PUT", f"/v1/partners/{BIKE}/consent", {"phone_code": "pc_x"}, token=user["token"])
    assert (status, body["error"]["code"]) == (409, "LINK_BY_CODE")
    status, body = call(client, "POST", f"/v1/partners/{BIKE}/sync", token=user["token"])
    assert (status, body["error"]["code"]) == (409, "PUSH_ONLY")


def test_a_partner_a_platform_does_not_list_is_unknown_there(client, openid):
    demo = login_on(client, openid)
    assert link_code(client, demo)[1]["error"]["code"] == "UNKNOWN_PARTNER"
    assert BIKE not in [p["id"] for p in call(client, "GET", "/v1/partners", token=demo["token"])[1]["items"]]


def second_partner(stack, tmp_path, secret: str | None = OPEN_PARTNER_SECRET) -> str:
    """A fifth partner, `scooter`, onboarded as the protocol says: a catalog entry and its secret, no code."""
    entry = {"id": "scooter", "name": "电单车", "protocol": "open-v1", "scopes": ["rides"],
             "events": [{"type": "ebike_ride", "behavior": "shared_bike", "quantity": "km", "max_quantity": 40}],
             "revoke_url": stack.open_partner.revoke_url}
    path = tmp_path / "scooter.json"
    path.write_text(json.dumps({"partners": [entry]}, ensure_ascii=False), encoding="utf-8")
    assert admin(["load", str(path)]) == 0
    if secret is None:
        os.environ.pop("PARTNER_SECRET__SCOOTER", None)
    else:
        os.environ["PARTNER_SECRET__SCOOTER"] = secret
    get_settings.cache_clear()
    catalog.forget()
    return "scooter"


def test_a_fifth_partner_is_a_catalog_entry_and_a_secret(client, fake, user, stack, tmp_path):
    second_partner(stack, tmp_path)
    status, issued = link_code(client, user, "scooter")
    assert status == 201
    assert link(client, fake, issued["link_code"], "sc_1", partner="scooter")[0] == 200
    ride = fake.event("sc_1", type="ebike_ride", field="km", quantity=5)
    assert push(client, fake, [ride], partner="scooter") == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    [entry] = [e for e in ledger(client, user) if e["source"] == "scooter"]
    assert entry["carbon_g"] == 5 * KM_MG / 1000


def test_a_partner_without_a_usable_secret_is_unknown(client, fake, user, stack, tmp_path):
    second_partner(stack, tmp_path, secret="too-short")
    try:
        assert link_code(client, user, "scooter")[1]["error"]["code"] == "UNKNOWN_PARTNER"
        assert push(client, fake, [fake.event("sc_1")], partner="scooter")[1]["error"]["code"] == "BAD_SIGNATURE"
    finally:
        second_partner(stack, tmp_path)


def test_a_catalog_entry_the_protocol_does_not_allow_is_refused_whole(tmp_path, capsys):
    bad = {"id": "bad", "name": "x", "protocol": "open-v1", "scopes": [],
           "events": [{"type": "ride", "behavior": "clean_plate", "quantity": "km", "max_quantity": 1}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"partners": [bad]}), encoding="utf-8")
    assert admin(["load", str(path)]) == 1
    assert "does not have the channel 'partner'" in capsys.readouterr().err
    assert "bad" not in catalog.open_partners()



def partner_row(capsys, partner: str = BIKE) -> dict:
    capsys.readouterr()
    assert admin(["partner", "list", "--json"]) == 0
    return next(row for row in json.loads(capsys.readouterr().out) if row["id"] == partner)


def test_partner_list_counts_consents_and_the_last_24_hours_of_deliveries(client, fake, user, capsys):
    before = partner_row(capsys)
    assert before["protocol"] == "open-v1" and before["events"] == ["bike_ride->shared_bike"]
    assert before["status"] == "ok"
    user_ref = linked(client, fake, user)
    ride = fake.event(user_ref)
    push(client, fake, [ride])
    push(client, fake, [ride, fake.event(user_ref, type="hoverboard")])
    push(client, fake, [ride], secret="x" * 40)  # refused
    after = partner_row(capsys)
    assert after["bound"] - before["bound"] == 1
    assert {k: after["last_24h"][k] - before["last_24h"][k] for k in after["last_24h"]} == {
        "accepted": 1, "duplicates": 1, "ignored": 1, "refused": 1}
    call(client, "DELETE", f"/v1/partners/{BIKE}/consent", token=user["token"])
    assert partner_row(capsys)["bound"] == before["bound"]
    rows = {row["id"]: row for row in json.loads((admin(["partner", "list", "--json"]), capsys.readouterr().out)[1])}
    assert {"transit", "bank", BIKE} <= set(rows) and rows["transit"]["protocol"] == "built-in"


def test_partner_test_signs_a_sample_batch_that_the_running_api_accepts(base_url, capsys):
    capsys.readouterr()
    assert admin(["partner", "test", BIKE, "--base", base_url, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["answer"]) == (200, {"accepted": 0, "duplicates": 0, "ignored": 1})
    assert admin(["partner", "test", "transit", "--base", base_url]) == 1  # transit has its own API
    assert "no open-protocol partner transit" in capsys.readouterr().err


@pytest.fixture(scope="module")
def bikes(stack, database, tmp_path_factory):
    """A platform that works with the open partner and rewards shared_bike with 2 points a km, onboarded as
    docs/platforms.md says."""
    from tests.support.persons import _onboard

    return _onboard(stack, tmp_path_factory.mktemp("bikes"), {
        "id": "t-bikes", "name": "骑行平台", "wechat_appid": "wx-t-bikes",
        "branding": {"name": "骑行平台", "slogan": "骑车", "primary_color": "#224466", "logo_url": None},
        "behaviors": [{"code": "shared_bike", "points": {"points": 2, "per": 1}}], "partners": [BIKE]},
        "test-bikes-secret")


def test_a_ride_linked_on_two_platforms_counts_its_carbon_once_with_points_on_each(client, fake, openid, bikes):
    """Counted once across platforms (issue 21): the person's `default` user and their user of a platform that
    works with the open partner, both linked to one bike account."""
    on_default, on_bikes = login(client, openid), login_on(client, openid, bikes)
    user_ref = linked(client, fake, on_default)
    status, issued = link_code(client, on_bikes)
    assert status == 201 and link(client, fake, issued["link_code"], user_ref)[0] == 200  # the same person
    ride = fake.event(user_ref, quantity=3.2)
    assert push(client, fake, [ride]) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    assert push(client, fake, [ride]) == (200, {"accepted": 0, "duplicates": 1, "ignored": 0})
    [held] = [e for e in ledger(client, on_default) if e["source"] == BIKE]
    [via] = [e for e in ledger(client, on_bikes) if e["source"] == BIKE]
    assert (held["carbon_g"], held["points"], held["counted_via"]) == (3.2 * KM_MG / 1000, 3, None)
    assert (via["carbon_g"], via["points"], via["counted_via"]) == (0, 6, "default")
    assert me(client, on_bikes)["person_carbon_g"] == pytest.approx(3.2 * KM_MG / 1000)
    assert reconcile_clean(on_default, on_bikes) == (True, [])


def test_another_persons_link_on_another_platform_is_taken(client, fake, openid, bikes):
    user_ref = linked(client, fake, login(client, openid))
    other = login_on(client, openid + "-someone-else", bikes)
    status, issued = link_code(client, other)
    assert link(client, fake, issued["link_code"], user_ref)[1]["error"]["code"] == "PARTNER_ACCOUNT_TAKEN"


def test_linking_again_with_another_account_ends_the_first_link_and_tells_the_partner(client, fake, user):
    first = linked(client, fake, user)
    second = linked(client, fake, user)
    assert first in [r["user_ref"] for r in fake.revocations()]
    assert push(client, fake, [fake.event(first)])[1]["ignored"] == 1
    assert push(client, fake, [fake.event(second)])[1]["accepted"] == 1


def test_linking_the_same_account_again_keeps_the_link_and_tells_the_partner_nothing(client, fake, user):
    user_ref = linked(client, fake, user)
    bound_at = listed(client, user)["bound_at"]
    status, issued = link_code(client, user)
    assert link(client, fake, issued["link_code"], user_ref) == (200, {"linked": True, "bound_at": bound_at})
    assert user_ref not in [r["user_ref"] for r in fake.revocations()]
    assert push(client, fake, [fake.event(user_ref)])[1]["accepted"] == 1


@pytest.mark.parametrize("body", [{"link_code": "AAAAAAAAAAAAAAAA"}, {"user_ref": "bk_x"},
                                  {"link_code": "AAAAAAAAAAAAAAAA", "user_ref": "a#b"},
                                  {"link_code": 7, "user_ref": "bk_x"}])
def test_a_signed_link_without_its_fields_is_a_validation_error(client, fake, body):
    raw = json.dumps(body).encode()
    status, answer = call(client, "POST", "/v1/open/links", raw,
                          headers=fake.signed("POST", "/v1/open/links", raw))
    assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR")
