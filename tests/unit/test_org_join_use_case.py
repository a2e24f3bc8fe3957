"""join and get_org over in-memory memberships (tests/unit/fakes_orgs.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_orgs.py and tests/races/test_org_races.py.
"""
from __future__ import annotations

import pytest

from chalicelib.domain.commands_orgs import JoinOrg
from chalicelib.domain.orgs import MAX_ORGS
from chalicelib.errors import (
    AccountDeletedError,
    AlreadyMemberError,
    InvalidInviteError,
    NotFoundError,
    RateLimitedError,
    TooManyOrgsError,
    ValidationError,
)
from chalicelib.services import attempts, orgs
from tests.unit.fakes_orgs import InMemoryMemberships

SCHOOL, CODE = "o-lz-no1-school", "LZ1Z-2026"  # admin/demo_catalog.json


@pytest.fixture
def members() -> InMemoryMemberships:
    members = InMemoryMemberships()
    members.accounts["u_1"] = []
    members.accounts["u_2"] = []
    return members


def join(members, code=CODE, org_id=SCHOOL, user_id="u_1"):
    return orgs.join(JoinOrg(user_id, org_id, code), members)


def other_org(members, n: int) -> dict:
    org = {"id": f"o-extra-{n}", "name": f"组织{n}", "joined_at": "2026-11-30T09:00:00.000+08:00"}
    members.catalog[org["id"]] = {**org, "type": "group", "invite_sha256": "0" * 64}
    return {k: org[k] for k in ("id", "name", "joined_at")}


def test_the_right_code_as_typed_on_a_phone_joins_and_counts_one_member(members):
    detail = join(members, code=" lz1z-2026")
    assert (detail.id, detail.members) == (SCHOOL, 1)
    assert [org["id"] for org in members.accounts["u_1"]] == [SCHOOL]
    assert members.marked == ["u_1"]  # the orgs board is rebuilt with the new member count
    assert orgs.get_org(SCHOOL, members).members == 1


def test_a_wrong_code_is_refused_counted_and_writes_nothing(members):
    with pytest.raises(InvalidInviteError):
        join(members, code="WRONG-CODE")
    assert sum(members.failures.values()) == 1
    assert members.accounts["u_1"] == [] and members.commits == 0 and orgs.get_org(SCHOOL, members).members == 0


def test_joining_twice_is_refused_and_counts_the_member_once(members):
    join(members)
    with pytest.raises(AlreadyMemberError):
        join(members)
    assert len(members.accounts["u_1"]) == 1 and orgs.get_org(SCHOOL, members).members == 1


def test_a_sixth_org_is_refused(members):
    members.accounts["u_1"] = [other_org(members, n) for n in range(MAX_ORGS)]
    with pytest.raises(TooManyOrgsError):
        join(members)
    assert len(members.accounts["u_1"]) == MAX_ORGS and members.commits == 0


def test_ten_wrong_codes_close_the_window_even_for_the_right_code_and_not_for_others(members):
    for n in range(attempts.MAX_FAILURES):
        with pytest.raises(InvalidInviteError):
            join(members, code=f"GUESS-{n:04d}")
    with pytest.raises(RateLimitedError):
        join(members, code="GUESS-9999")
    with pytest.raises(RateLimitedError):
        join(members)  # the guesser learns nothing more
    assert members.accounts["u_1"] == [] and members.commits == 0
    assert join(members, user_id="u_2").members == 1  # another person is not held back


def test_a_join_that_loses_to_another_reads_again_and_keeps_both(members):
    elsewhere = other_org(members, 1)

    def another_join():
        members.before_commit = None
        members.accounts["u_1"] = [elsewhere]

    members.before_commit = another_join
    join(members)
    assert [org["id"] for org in members.accounts["u_1"]] == [elsewhere["id"], SCHOOL]
    assert orgs.get_org(SCHOOL, members).members == 1


def test_a_join_racing_for_the_last_seat_is_refused_once_the_other_took_it(members):
    members.accounts["u_1"] = [other_org(members, n) for n in range(MAX_ORGS - 1)]
    last = other_org(members, MAX_ORGS)

    def another_join():
        members.before_commit = None
        members.accounts["u_1"] = [*members.accounts["u_1"], last]

    members.before_commit = another_join
    with pytest.raises(TooManyOrgsError):
        join(members)
    assert members.accounts["u_1"][-1] == last and orgs.get_org(SCHOOL, members).members == 0


def test_an_unknown_org_a_missing_code_and_a_deleted_account_are_refused(members):
    with pytest.raises(NotFoundError):
        join(members, org_id="o-nowhere")
    with pytest.raises(ValidationError):
        join(members, code="")
    members.deleted.add("u_1")
    with pytest.raises(AccountDeletedError):
        join(members)
    assert members.commits == 0
