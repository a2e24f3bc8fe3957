"""The console per platform (docs/platforms.md, "The console per platform"): `user minor` and `nickname
list|approve|reject` take --platform (default `default`). A school is the platform's org; a pending nickname of
a platform's user waits in that platform's moderation queue (`P#review`, `P#unchecked`) and is listed and decided
only with its --platform; `default`'s queue keeps its keys. An unknown platform is exit 2; audit records name
the platform."""
from __future__ import annotations

import json
import uuid

import pytest

from admin.__main__ import main as admin
from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.store.models import Account, AuditRecord
from chalicelib.store.privacy import ModerationItem
from tests.support.aggregates import join
from tests.support.api import call, login
from tests.support.market import load_catalog
from tests.support.persons import _onboard, login_on

PLATFORM = "t-moderated"
SCHOOL = "o-t-school-" + uuid.uuid4().hex[:6]  # P's school; `default` has a group of the same id
CODE = "SCHOOL-" + uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def moderated(stack, tmp_path_factory):
    load_catalog({"orgs": [{"id": SCHOOL, "name": "默认的同名组", "type": "group", "invite_code": "G-" + CODE}]})
    _onboard(stack, tmp_path_factory.mktemp("moderated"), {
        "id": PLATFORM, "name": "学校平台", "wechat_appid": "wx-t-moderated",
        "branding": {"name": "学校平台", "slogan": "学校", "primary_color": "#2E7D32", "logo_url": None},
        "behaviors": [{"code": "clean_plate"}], "partners": [],
        "orgs": [{"id": SCHOOL, "name": "平台小学", "type": "school", "invite_code": CODE}]}, "moderated-secret")
    return PLATFORM


@pytest.fixture
def wechat(stack):
    yield stack.wechat
    stack.wechat.faults.clear()


def on_platform(client) -> dict:
    return login_on(client, "o-" + uuid.uuid4().hex[:16], PLATFORM)


def audited(command: str, user_id: str) -> AuditRecord:
    return next(r for r in AuditRecord.query(clock.now().strftime("%Y-%m"), scan_index_forward=False)
                if r.command == command and user_id in json.dumps(r.arguments))


def listed(capsys, *args: str) -> list[str]:
    capsys.readouterr()
    assert admin(["nickname", "list", "--json", *args]) == 0
    return [row["user_id"] for row in json.loads(capsys.readouterr().out)]


def test_a_platform_s_school_marks_its_member_only_with_its_platform(client, moderated):
    pupil = on_platform(client)
    assert join(client, pupil, {"id": SCHOOL, "invite_code": CODE})[0] == 200
    reason = ["--reason", "roster"]
    assert admin(["user", "minor", pupil["id"], "--org", SCHOOL, "--platform", "nowhere", *reason]) == 2
    assert admin(["user", "minor", pupil["id"], "--org", SCHOOL, *reason]) == 1  # not a user of `default`
    assert Account.get(pupil["id"], consistent_read=True).minor_orgs is None
    openid = pupil["openid"] + "@wx-t-moderated"  # the fake WeChat's openid of it in P's mini program
    assert admin(["user", "minor", openid, "--org", SCHOOL, "--platform", PLATFORM, *reason]) == 0
    assert Account.get(pupil["id"], consistent_read=True).minor_orgs == [SCHOOL]  # P's school, not default's group
    assert audited("user minor", pupil["id"]).platform == PLATFORM


def test_default_s_user_is_not_marked_by_a_platform_s_school_of_the_same_id(client, moderated):
    member = login(client, "o-" + uuid.uuid4().hex[:16])
    assert join(client, member, {"id": SCHOOL, "invite_code": "G-" + CODE})[0] == 200  # default's group
    assert admin(["user", "minor", member["id"], "--org", SCHOOL, "--platform", PLATFORM, "--reason", "x"]) == 1
    assert admin(["user", "minor", member["id"], "--org", SCHOOL, "--reason", "x"]) == 1  # a group marks no one
    assert Account.get(member["id"], consistent_read=True).minor_orgs is None


def test_a_platform_user_s_pending_nickname_is_listed_and_decided_only_with_its_platform(client, moderated, capsys):
    user, regular = on_platform(client), login(client, "o-" + uuid.uuid4().hex[:16])
    for who in (user, regular):
        status, body = call(client, "PATCH", "/v1/me", {"nickname": "待审平台名"}, token=who["token"])
        assert (status, body["nickname_status"]) == (200, "pending")
    assert ModerationItem.get(f"{PLATFORM}#review", user["id"])
    assert ModerationItem.get("review", regular["id"])  # default's queue keeps its key
    assert admin(["nickname", "list", "--platform", "nowhere"]) == 2
    assert user["id"] not in listed(capsys) and regular["id"] in listed(capsys)
    assert listed(capsys, "--platform", PLATFORM) == [user["id"]]
    assert admin(["nickname", "approve", user["id"], "--reason", "fine"]) == 1  # not a user of `default`
    assert admin(["nickname", "approve", regular["id"], "--platform", PLATFORM, "--reason", "fine"]) == 1
    assert admin(["nickname", "approve", user["id"], "--platform", PLATFORM, "--reason", "fine"]) == 0
    assert Account.get(user["id"], consistent_read=True).nickname == "待审平台名"
    assert audited("nickname approve", user["id"]).platform == PLATFORM
    assert listed(capsys, "--platform", PLATFORM) == []
    assert admin(["nickname", "reject", regular["id"], "--reason", "no"]) == 0


def test_an_item_held_in_default_s_queue_before_the_queues_were_per_platform_moves_to_its_platform(
        client, moderated, capsys):
    user = on_platform(client)
    assert call(client, "PATCH", "/v1/me", {"nickname": "待审旧队列"}, token=user["token"])[0] == 200
    queued_at = ModerationItem.get(f"{PLATFORM}#review", user["id"]).queued_at
    ModerationItem(f"{PLATFORM}#review", user["id"]).delete()
    ModerationItem("review", user["id"], queued_at=queued_at).save()  # where this version's predecessor held it
    assert user["id"] not in listed(capsys)
    with pytest.raises(ModerationItem.DoesNotExist):
        ModerationItem.get("review", user["id"])
    assert listed(capsys, "--platform", PLATFORM) == [user["id"]]
    assert ModerationItem.get(f"{PLATFORM}#review", user["id"]).queued_at == queued_at


def test_the_job_rechecks_a_platform_s_unchecked_queue(client, moderated, wechat):
    user = on_platform(client)
    wechat.faults.add(path="/wxa/msg_sec_check", status=502, count=-1)
    assert call(client, "PATCH", "/v1/me", {"nickname": "平台小红花"}, token=user["token"])[1]["nickname_status"] == \
        "pending"
    wechat.faults.clear()
    assert ModerationItem.get(f"{PLATFORM}#unchecked", user["id"])
    assert jobs.job_named("recheck-nicknames").run(clock.now())["approved"] >= 1
    assert Account.get(user["id"], consistent_read=True).nickname == "平台小红花"
    with pytest.raises(ModerationItem.DoesNotExist):
        ModerationItem.get(f"{PLATFORM}#unchecked", user["id"])
