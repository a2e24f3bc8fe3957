"""GET and PATCH /v1/me (services/profile.py) over an in-memory profile repository: no Java, no DynamoDB
endpoint, no HTTP (a nickname of an account with no WeChat openid is held back without asking WeChat).
The same promises against DynamoDB Local and the fake WeChat: tests/integration/test_profile.py,
tests/integration/test_content_check.py."""
from __future__ import annotations

import pytest

from chalicelib.api.shapes_profile import profile_json
from chalicelib.domain.profile import Org, UpdateProfile
from chalicelib.errors import AccountDeletedError, ValidationError
from chalicelib.services.profile import me, update
from chalicelib.services.tokens import Caller
from tests.unit.fakes_profile import FakeProfileAccount, InMemoryProfiles

CALLER = Caller("u-0001", ("user",))
AVATAR = "https://thirdwx.qlogo.cn/mmopen/abc/132"


@pytest.fixture
def profiles() -> InMemoryProfiles:
    store = InMemoryProfiles()
    store.add(FakeProfileAccount("u-0001", nickname="绿芽用户0001", carbon_mg=202458, points_earned=30,
                                 points_spent=30, orgs=[{"id": "org-1", "name": "泸州一中", "joined_at": "x"}]))
    return store


def test_the_profile_is_one_read_and_shows_the_owner_what_others_do_not_see(profiles):
    profiles.items["u-0001"].nickname_pending = "小绿"

    profile = me(CALLER, profiles)

    assert profiles.reads == 1
    assert (profile.nickname, profile.nickname_status) == ("小绿", "pending")
    assert profile.orgs == (Org("org-1", "泸州一中"),) and profile.roles == ("user",)
    assert (profile.expiring_points, profile.expiring_on) == (0, None)  # no points: nothing can expire
    shown = profile_json(profile)
    assert shown["carbon_g"] == 202.458 and shown["points_expiring"] == {"points": 0, "on": None}
    assert shown["orgs"] == [{"id": "org-1", "name": "泸州一中"}]


def test_an_avatar_change_is_one_update_and_no_read(profiles):
    profile = update(CALLER, UpdateProfile(avatar_url=AVATAR, avatar_given=True), profiles)

    assert profile.avatar_url == AVATAR and profiles.items["u-0001"].avatar_url == AVATAR
    assert (profiles.reads, profiles.updates) == (0, 1)


def test_an_avatar_of_null_removes_it(profiles):
    profiles.items["u-0001"].avatar_url = AVATAR
    assert update(CALLER, UpdateProfile(avatar_url=None, avatar_given=True), profiles).avatar_url is None


@pytest.mark.parametrize("command", [
    UpdateProfile(),
    UpdateProfile(avatar_url="http://thirdwx.qlogo.cn/a.png", avatar_given=True),
    UpdateProfile(avatar_url="https://evil.example/a.png", avatar_given=True),
    UpdateProfile(nickname="<script>", nickname_given=True),
    UpdateProfile(nickname="  ", nickname_given=True),
    UpdateProfile(nickname="好" * 21, nickname_given=True),
    UpdateProfile(nickname=7, nickname_given=True),
    UpdateProfile(nickname="小绿", nickname_given=True, avatar_url="ftp://x", avatar_given=True),
])
def test_a_bad_change_is_refused_before_anything_is_read_or_written(profiles, command):
    with pytest.raises(ValidationError):
        update(CALLER, command, profiles)
    assert (profiles.reads, profiles.updates, profiles.held) == (0, 0, {})


def test_a_nickname_wechat_could_not_check_is_held_back_in_the_unchecked_queue(profiles):
    profile = update(CALLER, UpdateProfile(nickname=" 小绿 ", nickname_given=True), profiles)

    stored = profiles.items["u-0001"]
    assert (stored.nickname, stored.nickname_pending, stored.nickname_check) == ("绿芽用户0001", "小绿", "unchecked")
    assert list(profiles.held) == [("unchecked", "u-0001")]
    assert (profile.nickname, profile.nickname_status) == ("小绿", "pending")


def test_the_unchanged_nickname_drops_a_pending_one_without_asking_again(profiles):
    update(CALLER, UpdateProfile(nickname="小绿", nickname_given=True), profiles)
    profiles.held.clear()

    profile = update(CALLER, UpdateProfile(nickname="绿芽用户0001", nickname_given=True), profiles)

    assert (profile.nickname, profile.nickname_status) == ("绿芽用户0001", "ok")
    assert profiles.items["u-0001"].nickname_pending is None and profiles.held == {}


def test_a_deleted_account_changes_nothing(profiles):
    profiles.items["u-0001"].deleted_at = "2026-12-01T09:00:00.000+08:00"
    with pytest.raises(AccountDeletedError):
        update(CALLER, UpdateProfile(avatar_url=AVATAR, avatar_given=True), profiles)
    with pytest.raises(AccountDeletedError):
        me(CALLER, profiles)
    assert profiles.items["u-0001"].avatar_url is None
