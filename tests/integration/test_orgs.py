"""Organizations: listing without invite codes, joining with one, at most five, and an org's carbon
counting only what its members reduce after they joined."""
from __future__ import annotations

import json
import uuid

from chalicelib.domain.orgs import invite_digest
from tests.support.aggregates import checkin, drain, join, make_orgs
from tests.support.api import call, login


def test_orgs_are_listed_by_type_with_totals_and_never_with_their_invite_code(client):
    school, company = make_orgs("school", "enterprise")
    status, body = call(client, "GET", "/v1/orgs?type=school&limit=100")
    assert status == 200
    pages = [body]
    while pages[-1]["next_cursor"]:
        pages.append(call(client, "GET", f"/v1/orgs?type=school&limit=100&cursor={pages[-1]['next_cursor']}")[1])
    listed = {org["id"]: org for page in pages for org in page["items"]}
    assert listed[school["id"]] == {"id": school["id"], "name": school["name"], "type": "school", "members": 0,
                                    "carbon_g": 0.0}
    assert company["id"] not in listed and {org["type"] for org in listed.values()} == {"school"}
    status, one = call(client, "GET", f"/v1/orgs/{company['id']}")
    assert status == 200 and (one["type"], one["members"], one["carbon_g"]) == ("enterprise", 0, 0.0)
    for text in (json.dumps(pages, ensure_ascii=False), json.dumps(one, ensure_ascii=False)):
        assert school["invite_code"] not in text and company["invite_code"] not in text
        assert invite_digest(school["invite_code"]) not in text and "invite" not in text


def test_unknown_org_is_404_and_an_unknown_type_is_400(client, user):
    assert call(client, "GET", "/v1/orgs/o-nope")[1]["error"]["code"] == "NOT_FOUND"
    assert call(client, "GET", "/v1/orgs/o-nope")[0] == 404
    status, body = call(client, "GET", "/v1/orgs?type=club")
    assert (status, body["error"]["details"]["field"]) == (400, "type")
    assert join(client, user, {"id": "o-nope", "invite_code": "x"})[0] == 404


def test_a_wrong_invite_code_is_refused_and_a_second_join_is_a_conflict(client, user):
    (org,) = make_orgs("group")
    status, body = join(client, user, org, code="WRONG-CODE")
    assert (status, body["error"]["code"]) == (403, "INVALID_INVITE")
    status, body = join(client, user, org, code=" " + org["invite_code"].lower())  # as typed on a phone
    assert status == 200 and body["org"]["id"] == org["id"] and body["org"]["members"] == 1
    status, body = join(client, user, org)
    assert (status, body["error"]["code"]) == (409, "ALREADY_MEMBER")
    assert call(client, "GET", f"/v1/orgs/{org['id']}")[1]["members"] == 1
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert me["orgs"] == [{"id": org["id"], "name": org["name"]}]


def test_wrong_invite_codes_are_limited_so_a_code_cannot_be_guessed(client, user, monkeypatch):
    from datetime import timedelta

    from chalicelib.domain import clock
    from chalicelib.services import attempts

    (org,) = make_orgs("group")
    for n in range(attempts.MAX_FAILURES):
        status, body = join(client, user, org, code=f"GUESS-{n:04d}")
        assert (status, body["error"]["code"]) == (403, "INVALID_INVITE"), n
    status, body = join(client, user, org, code="GUESS-9999")
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    status, body = join(client, user, org)  # even the right code: the guesser learns nothing more
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["orgs"] == []
    assert join(client, login(client, f"other-{uuid.uuid4().hex}"), org)[0] == 200  # others are not held back
    later = clock.now() + timedelta(seconds=attempts.WINDOW_SECONDS)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert join(client, user, org)[0] == 200  # the next window: the right code joins


def test_join_needs_a_login_and_an_invite_code(client, user):
    (org,) = make_orgs("group")
    status, body = call(client, "POST", f"/v1/orgs/{org['id']}/join", {"invite_code": org["invite_code"]})
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
    status, body = call(client, "POST", f"/v1/orgs/{org['id']}/join", {}, token=user["token"])
    assert (status, body["error"]["details"]["field"]) == (400, "invite_code")


def test_a_person_belongs_to_five_orgs_at_most(client, user):
    orgs = make_orgs("school", "enterprise", "group", "group", "group", "school")
    for org in orgs[:5]:
        assert join(client, user, org)[0] == 200
    status, body = join(client, user, orgs[5])
    assert (status, body["error"]["code"]) == (409, "TOO_MANY_ORGS")
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert [org["id"] for org in me["orgs"]] == [org["id"] for org in orgs[:5]]
    assert call(client, "GET", f"/v1/orgs/{orgs[5]['id']}")[1]["members"] == 0


def test_an_org_counts_its_members_reductions_from_the_moment_they_joined(client):
    (org,) = make_orgs("school")
    early, late = (login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(2))
    checkin(client, early)  # before joining: the person's own, not the org's
    assert join(client, early, org)[0] == 200
    checkin(client, early)
    checkin(client, early, "no_cutlery")
    checkin(client, late)
    checkin(client, late)  # made before `late` joins
    assert join(client, late, org)[0] == 200
    checkin(client, late, "no_cutlery")
    drain()
    status, body = call(client, "GET", f"/v1/orgs/{org['id']}")
    assert status == 200
    assert (body["members"], body["carbon_g"]) == (2, 144 + 45.72 + 45.72)
    assert body["carbon_g_by_period"] == {"week": 235.44, "month": 235.44, "all": 235.44}
    # each person's own account keeps every reduction
    for person in (early, late):
        assert call(client, "GET", "/v1/me", token=person["token"])[1]["carbon_g"] == 333.72
    listed = {o["id"]: o for o in call(client, "GET", "/v1/orgs?type=school&limit=100")[1]["items"]}
    if org["id"] in listed:  # the list reads the last built totals
        assert (listed[org["id"]]["members"], listed[org["id"]]["carbon_g"]) == (2, 235.44)


def test_joining_an_org_does_not_backdate_the_members_earlier_carbon(client, user):
    (org,) = make_orgs("enterprise")
    for _ in range(3):
        checkin(client, user)
    drain()
    assert join(client, user, org)[0] == 200
    drain()
    body = call(client, "GET", f"/v1/orgs/{org['id']}")[1]
    assert (body["members"], body["carbon_g"]) == (1, 0.0)


def test_a_big_batch_from_a_member_of_five_orgs_is_counted_exactly(client, user):
    """25 entries of one person in one fold page: split over several transactions of at most 100 actions."""
    from datetime import timedelta

    from chalicelib.domain import clock
    from tests.support.api import request_id
    from tests.support.posting import Plan, Posting, post

    orgs = make_orgs("school", "enterprise", "group", "group", "group")
    for org in orgs:
        assert join(client, user, org)[0] == 200
    today = clock.business_day(clock.now())

    def rides(account):
        postings = [Posting("earn", 1, 1000 + n, "transit", behavior="bus_ride", ref=f"r-{uuid.uuid4()}",
                            day=today - timedelta(days=n % 3)) for n in range(25)]
        return Plan(postings, respond=lambda entries, after: (201, {"n": len(entries)}))

    post(user["id"], rides, request_id=request_id())
    drain()
    since_joining = sum(1000 + n for n in range(0, 25, 3)) / 1000  # rides of the days before: not the orgs'
    for org in orgs:
        assert call(client, "GET", f"/v1/orgs/{org['id']}")[1]["carbon_g"] == since_joining == 9.108
    board = call(client, "GET", f"/v1/leaderboards/org-{orgs[0]['id']}?period=all", token=user["token"])[1]
    assert board["me"] == {"rank": 1, "carbon_g": 9.108, "approximate": False}
    mine = call(client, "GET", "/v1/leaderboards/users?period=all", token=user["token"])[1]["me"]
    assert mine["carbon_g"] == 25.3
