"""Minors: a school org marks members as minors (`python -m admin user minor`), and their names are never shown
on public leaderboards, boards already built included."""
from __future__ import annotations

import uuid

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.domain.ranking import period_keys
from chalicelib.store.aggregates import Board
from chalicelib.store.models import AuditRecord
from tests.support.aggregates import checkin, drain, join, make_orgs
from tests.support.api import call, login


def person(client, nickname: str) -> dict:
    user = login(client, "o-" + uuid.uuid4().hex[:16])
    assert call(client, "PATCH", "/v1/me", {"nickname": nickname}, token=user["token"])[0] == 200
    return user


def board_names(client, viewer, board: str, period: str = "all") -> dict[str, str]:
    status, body = call(client, "GET", f"/v1/leaderboards/{board}?period={period}", token=viewer["token"])
    assert status == 200, body
    return {item["id"]: item["name"] for item in body["items"]}


def stored_boards_mention(board: str, text: str) -> list[str]:
    """The materialized items of `board` (this week, month and all time) that still hold `text`."""
    keys = period_keys(clock.business_day(clock.now()))
    return [key for key in keys for item in Board.batch_get([(board, key)]) if text in str(item.data)]


def test_a_minor_marked_by_their_school_is_never_named_on_a_board(client):
    (school,) = make_orgs("school")
    pupil_name, teacher_name = "小明" + uuid.uuid4().hex[:4], "王老师" + uuid.uuid4().hex[:4]
    pupil, teacher = person(client, pupil_name), person(client, teacher_name)
    for member in (pupil, teacher):
        assert join(client, member, school)[0] == 200
        checkin(client, member)
    drain()
    assert board_names(client, teacher, f"org-{school['id']}") == {pupil["id"]: pupil_name, teacher["id"]: teacher_name}

    assert admin(["user", "minor", pupil["id"], "--org", school["id"], "--reason", "school roster 2026"]) == 0
    drain()  # the boards that listed the pupil are rebuilt: this week's, this month's, all time's
    for period in ("week", "month", "all"):
        names = board_names(client, teacher, f"org-{school['id']}", period)
        assert names[pupil["id"]] == "绿芽用户" + pupil["id"][-4:]
        assert names[teacher["id"]] == teacher_name
    assert stored_boards_mention(f"org-{school['id']}", pupil_name) == []
    assert stored_boards_mention("users", pupil_name) == []
    record = next(r for r in AuditRecord.query(clock.now().strftime("%Y-%m"), scan_index_forward=False)
                  if r.command == "user minor")
    assert record.arguments["users"] == [pupil["id"]] and record.reason == "school roster 2026"

    assert admin(["user", "minor", pupil["id"], "--org", school["id"], "--off", "--reason", "turned 18"]) == 0
    drain()
    assert board_names(client, teacher, f"org-{school['id']}")[pupil["id"]] == pupil_name


def test_the_minor_s_own_view_is_unchanged(client):
    (school,) = make_orgs("school")
    pupil = person(client, "小红" + uuid.uuid4().hex[:4])
    assert join(client, pupil, school)[0] == 200
    assert admin(["user", "minor", pupil["openid"], "--org", school["id"], "--reason", "roster"]) == 0
    status, body = call(client, "GET", "/v1/me", token=pupil["token"])
    assert status == 200 and body["nickname"].startswith("小红")


def test_only_a_school_marks_and_only_its_own_members(client, capsys):
    school, company = make_orgs("school", "enterprise")
    member, outsider = person(client, "成员"), person(client, "路人")
    assert join(client, member, school)[0] == 200 and join(client, member, company)[0] == 200
    checkin(client, member)
    assert admin(["user", "minor", member["id"], "--org", company["id"], "--reason", "x"]) == 1
    assert admin(["user", "minor", outsider["id"], "--org", school["id"], "--reason", "x"]) == 1
    assert admin(["user", "minor", member["id"], "--org", school["id"], "--reason", "x", "--dry-run"]) == 0
    drain()
    assert board_names(client, member, f"org-{school['id']}")[member["id"]] == "成员"  # nothing was marked
