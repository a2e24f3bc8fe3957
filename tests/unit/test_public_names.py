"""What others may see of a person (chalicelib/domain/privacy.py): checked nicknames of adults only."""
from __future__ import annotations

from chalicelib.domain.privacy import DELETED_NAME, nickname_status, public_name


def test_an_adult_s_checked_nickname_is_shown():
    assert public_name("u_ABCDEFGHJK0123456789", "小绿") == "小绿"


def test_a_minor_is_shown_by_a_neutral_name_made_from_the_id():
    assert public_name("u_ABCDEFGHJK0123456789", "小明", minor=True) == "绿芽用户6789"


def test_a_deleted_account_is_never_named_even_when_a_name_is_left():
    assert public_name("u_ABCDEFGHJK0123456789", "小绿", minor=True, deleted=True) == DELETED_NAME == "已注销用户"


def test_no_nickname_gives_the_neutral_name():
    assert public_name("u_ABCDEFGHJK0123456789", None) == "绿芽用户6789"


def test_the_owner_sees_whether_their_nickname_is_waiting_or_was_refused():
    assert nickname_status("待审小明", "review") == "pending"
    assert nickname_status("小红", "unchecked") == "pending"
    assert nickname_status(None, "rejected") == "rejected"
    assert nickname_status(None, None) == "ok"
