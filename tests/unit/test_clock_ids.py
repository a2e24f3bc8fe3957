"""Business days in Asia/Shanghai, ISO 8601 with offset, and identifiers (pure, no database)."""
from __future__ import annotations

import math
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chalicelib.domain import clock, ids

FORBIDDEN = set("ILOU")


# --- business days ------------------------------------------------------------------------------------


def test_one_second_before_shanghai_midnight_is_still_the_23rd():
    assert clock.business_day(datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)) == date(2026, 11, 23)


def test_shanghai_midnight_starts_the_24th():
    assert clock.business_day(datetime(2026, 11, 23, 16, 0, 0, tzinfo=UTC)) == date(2026, 11, 24)


def test_the_last_microsecond_before_shanghai_midnight_is_still_the_23rd():
    assert clock.business_day(datetime(2026, 11, 23, 15, 59, 59, 999999, tzinfo=UTC)) == date(2026, 11, 23)


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 11, 23, 23, 59, 59, tzinfo=clock.SHANGHAI), date(2026, 11, 23)),
    (datetime(2026, 11, 24, 0, 0, 0, tzinfo=clock.SHANGHAI), date(2026, 11, 24)),
    (datetime(2026, 11, 23, 10, 59, 59, tzinfo=timezone(timedelta(hours=-5))), date(2026, 11, 23)),
    (datetime(2026, 11, 23, 11, 0, 0, tzinfo=timezone(timedelta(hours=-5))), date(2026, 11, 24)),
    (datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC), date(2027, 1, 1)),
    (datetime(2028, 2, 28, 16, 0, 0, tzinfo=UTC), date(2028, 2, 29)),
])
def test_the_business_day_is_the_shanghai_calendar_day_whatever_the_offset(moment, expected):
    assert clock.business_day(moment) == expected


def test_a_naive_datetime_has_no_business_day():
    with pytest.raises(ValueError):
        clock.business_day(datetime(2026, 11, 23, 15, 59, 59))


def test_now_is_aware_and_in_shanghai():
    moment = clock.now()
    assert moment.utcoffset() == timedelta(hours=8)
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)


# --- ISO 8601 -------------------------------------------------------------------------------------------


def test_iso_writes_shanghai_time_with_plus_08_00():
    assert clock.iso(datetime(2026, 11, 23, 0, 30, tzinfo=UTC)) == "2026-11-23T08:30:00+08:00"


def test_iso_writes_the_next_shanghai_day_after_utc_16_00():
    assert clock.iso(datetime(2026, 11, 23, 16, 0, tzinfo=UTC)) == "2026-11-24T00:00:00+08:00"


def test_iso_keeps_milliseconds_when_present_and_drops_finer_digits():
    moment = datetime(2026, 11, 23, 0, 30, 5, 123456, tzinfo=UTC)
    assert clock.iso(moment) == "2026-11-23T08:30:05.123+08:00"


def test_iso_output_has_one_shape_for_any_offset():
    shape = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+08:00$")
    for hours in (-12, -5, 0, 5.5, 8, 14):
        moment = datetime(2026, 11, 23, 12, tzinfo=timezone(timedelta(hours=hours)))
        assert shape.match(clock.iso(moment)), clock.iso(moment)
        assert clock.parse_iso(clock.iso(moment)) == moment


def test_parse_iso_refuses_a_timestamp_without_offset():
    with pytest.raises(ValueError):
        clock.parse_iso("2026-11-23T08:30:00")


def test_epoch_milliseconds_round_trip():
    moment = datetime(2026, 11, 23, 8, 30, 5, 123000, tzinfo=clock.SHANGHAI)
    ms = clock.epoch_ms(moment)
    assert ms == 1795393805123
    assert clock.from_epoch_ms(ms) == moment
    assert clock.from_epoch_ms(ms).utcoffset() == timedelta(hours=8)


# --- random codes -----------------------------------------------------------------------------------------


def test_the_alphabet_is_crockford_base32_without_i_l_o_u():
    assert len(ids.ALPHABET) == len(set(ids.ALPHABET)) == 32
    assert not FORBIDDEN & set(ids.ALPHABET)
    assert set(ids.ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") - FORBIDDEN
    assert list(ids.ALPHABET) == sorted(ids.ALPHABET)  # so that base32 strings sort as their numbers


@pytest.mark.parametrize("length", [1, 8, 12, 20])
def test_random_codes_have_the_length_asked_and_only_alphabet_characters(length):
    for _ in range(200):
        code = ids.random_code(length)
        assert len(code) == length
        assert set(code) <= set(ids.ALPHABET)
        assert not FORBIDDEN & set(code)


def test_a_12_character_code_carries_60_bits():
    assert len(ids.ALPHABET) ** 12 == 2 ** 60
    assert math.log2(len(ids.ALPHABET)) * 12 == 60


def test_every_position_of_a_code_uses_the_whole_alphabet():
    """5 bits a character only if all 32 characters turn up at every position (P(miss) ~ 1e-26)."""
    codes = [ids.random_code(12) for _ in range(2000)]
    for position in range(12):
        seen = Counter(code[position] for code in codes)
        assert set(seen) == set(ids.ALPHABET), position
        assert max(seen.values()) < 2000 / 32 * 2  # roughly uniform, not stuck on a few characters


def test_random_codes_do_not_repeat():
    codes = {ids.random_code(12) for _ in range(10000)}
    assert len(codes) == 10000


def test_user_ids_are_u_and_20_code_characters():
    user = ids.user_id()
    assert re.fullmatch(r"u_[0-9A-HJKMNP-TV-Z]{20}", user)
    assert ids.user_id() != user


# --- sortable ids -----------------------------------------------------------------------------------------


def _decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 32 + ids.ALPHABET.index(char)
    return number


def test_a_sortable_id_is_26_characters_of_the_alphabet():
    value = ids.sortable_id(clock.epoch_ms(clock.now()))
    assert len(value) == 26
    assert set(value) <= set(ids.ALPHABET)


@pytest.mark.parametrize("ms", [0, 1, 31, 32, 1023, 1024, 1_795_393_805_123, 2 ** 50 - 1])
def test_a_sortable_id_starts_with_its_milliseconds_in_10_characters(ms):
    value = ids.sortable_id(ms)
    assert len(value) == 26
    assert _decode(value[:10]) == ms


def test_sortable_ids_made_at_increasing_milliseconds_sort_in_that_order():
    rng = random.Random(20261123)
    base = 1_795_393_805_123
    times = sorted(set([base + rng.randrange(10 ** 9) for _ in range(2000)] + [9, 10, 31, 32, 33, 1023, 1024]))
    made = [ids.sortable_id(ms) for ms in times]
    assert sorted(made) == made
    shuffled = made[:]
    rng.shuffle(shuffled)
    assert sorted(shuffled) == made


def test_consecutive_milliseconds_sort_in_order_across_character_boundaries():
    for ms in (9, 31, 32 * 32 - 1, 1_795_393_805_119, 1_795_393_805_151):
        assert ids.sortable_id(ms) < ids.sortable_id(ms + 1)


def test_two_ids_of_the_same_millisecond_differ():
    assert ids.sortable_id(1_795_393_805_123) != ids.sortable_id(1_795_393_805_123)
