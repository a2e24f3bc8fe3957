"""The rules of platforms (chalicelib/domain/platforms.py) and their settings, without I/O."""
from __future__ import annotations

import pytest

from chalicelib.domain.platforms import PlatformError, check_entry, is_platform_id, secret_name
from chalicelib.settings import from_environ

RULES = {"clean_plate": {"code": "clean_plate", "daily_limit": 3}, "bus_ride": {"code": "bus_ride"}}
PARTNERS = ("transit", "bank")


def _entry(**changes) -> dict:
    entry = {"id": "city-a", "name": "城市甲", "wechat_appid": "wx-city-a",
             "branding": {"name": "城市甲", "slogan": "绿色出行", "primary_color": "#2E7D32", "logo_url": None},
             "behaviors": [{"code": "clean_plate", "points": {"points": 2, "per": 1}, "daily_limit": 3},
                           {"code": "bus_ride", "daily_limit": 40, "daily_points_max": 100}],
             "partners": ["transit"]}
    return {**entry, **changes}


@pytest.mark.parametrize("platform_id, name", [("default", "WECHAT_SECRET"),
                                               ("company-demo", "WECHAT_SECRET__COMPANY_DEMO"),
                                               ("city-9", "WECHAT_SECRET__CITY_9")])
def test_each_platforms_secret_has_its_own_setting(platform_id, name):
    assert secret_name(platform_id) == name


@pytest.mark.parametrize("value, ok", [("ab", True), ("a" * 32, True), ("city-9", True), ("a", False),
                                       ("a" * 33, False), ("City", False), ("a_b", False), (None, False), (7, False)])
def test_platform_ids(value, ok):
    assert is_platform_id(value) is ok


def test_a_good_entry_is_stored_with_only_what_a_platform_may_set():
    stored = check_entry(_entry(), RULES, PARTNERS)
    assert stored["behaviors"] == [{"code": "clean_plate", "points": {"points": 2, "per": 1}, "daily_limit": 3},
                                   {"code": "bus_ride", "daily_limit": 40, "daily_points_max": 100}]
    assert stored["partners"] == ["transit"] and stored["branding"]["logo_url"] is None


@pytest.mark.parametrize("changes", [
    {"behaviors": [{"code": "clean_plate", "daily_limit": 4}]},  # only lower
    {"behaviors": [{"code": "clean_plate", "daily_limit": 0}]},
    {"behaviors": [{"code": "clean_plate", "points": {"points": -1}}]},
    {"behaviors": [{"code": "clean_plate", "points": {"points": 1, "per": 0}}]},
    {"behaviors": [{"code": "clean_plate", "methodology": {"id": "x", "version": "2"}}]},  # grams are the deployment's
    {"behaviors": [{"code": "walk"}]},
    {"behaviors": "clean_plate"},
    {"branding": {"name": "x", "slogan": "y", "primary_color": "#12345", "logo_url": None}},
    {"branding": {"name": "x", "slogan": "y", "primary_color": "#123456", "logo_url": "http://x"}},
    {"partners": ["transit", "transit"]},
    {"goods": {"id": "g-1"}},  # a list: its entries are checked by the loader, as the top level's
    {"colour": "red"},
])
def test_a_bad_entry_is_refused(changes):
    with pytest.raises(PlatformError):
        check_entry(_entry(**changes), RULES, PARTNERS)


def test_the_settings_keep_every_platforms_secret_and_only_those():
    settings = from_environ({"JWT_SECRET": "s" * 40, "WECHAT_SECRET": "default-secret",
                             "WECHAT_SECRET__CITY_A": "city-secret", "WECHAT_SECRET__EMPTY": ""})
    assert settings.wechat_secret_of("city-a") == "city-secret"
    assert settings.wechat_secret_of("default") == settings.wechat_secret == "default-secret"
    assert settings.wechat_secret_of("empty") is None
