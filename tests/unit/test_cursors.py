"""List cursors are signed for their list and their platform (store/cursor.py): one platform's cursor is refused
on another even for the same list, and `default`'s cursors keep the bytes they had before platforms."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.errors import InvalidCursorError
from chalicelib.settings import get_settings
from chalicelib.store import cursor

KEY = {"user_id": {"S": "u_1"}, "entry_id": {"S": "e_9"}}


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "c" * 40)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_cursor_reads_back_on_its_own_platform_and_list():
    for platform in ("default", "company-demo"):
        assert cursor.decode(cursor.encode(KEY, "ledger|u_1|", platform), "ledger|u_1|", platform) == KEY


@pytest.mark.parametrize("made_on, used_on", [("company-demo", "default"), ("default", "company-demo"),
                                              ("company-demo", "city-9")])
def test_a_cursor_of_one_platform_is_invalid_on_another_for_the_same_list(made_on, used_on):
    made = cursor.encode(KEY, "ledger|u_1|", made_on)
    with pytest.raises(InvalidCursorError):
        cursor.decode(made, "ledger|u_1|", used_on)


def test_defaults_cursor_is_the_signed_key_alone_as_before_platforms():
    made = cursor.encode(KEY, "ledger|u_1|")
    raw = base64.urlsafe_b64decode(made + "=" * (-len(made) % 4))
    assert json.loads(raw[16:]) == KEY
    assert cursor.decode(made, "ledger|u_1|") == KEY
