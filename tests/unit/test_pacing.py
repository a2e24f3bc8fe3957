"""The pace the redemption expiry keeps on the keys its workers share (chalicelib/domain/pacing.py): a stock
item's refunds and a `due` key's expiries never run ahead of their rate, however many threads ask, and a
slow key never holds up another."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.domain.pacing import Pace


def test_one_key_is_given_moments_at_most_rate_a_second():
    pace = Pace()
    moments = [pace.reserve("goods#g-1", 31.25, now=100.0) for _ in range(63)]
    assert moments[0] == 100.0
    assert moments[-1] == pytest.approx(100.0 + 62 / 31.25)  # 63 actions: two seconds at 31.25 a second
    gaps = [later - earlier for earlier, later in zip(moments[:-1], moments[1:], strict=True)]
    assert gaps == pytest.approx([1 / 31.25] * 62)


def test_a_key_that_waits_does_not_hold_up_another():
    pace = Pace()
    for _ in range(100):
        pace.reserve("goods#slow", 10, now=0.0)  # ten seconds of refunds queued on one stock item
    assert pace.reserve("goods#other", 10, now=0.0) == 0.0
    assert pace.reserve("due#3", 250, now=0.0) == 0.0


def test_an_idle_key_starts_at_once_and_never_saves_up_a_burst():
    pace = Pace()
    assert pace.reserve("due#1", 250, now=5.0) == 5.0
    assert pace.reserve("due#1", 250, now=60.0) == 60.0  # idle a minute: no credit for the minute
    assert pace.reserve("due#1", 250, now=60.0) == pytest.approx(60.004)


def test_threads_sharing_a_pace_never_get_the_same_moment():
    pace = Pace()
    with ThreadPoolExecutor(max_workers=8) as pool:
        moments = list(pool.map(lambda _: pace.reserve("goods#g-1", 250, now=0.0), range(2000)))
    assert sorted(moments) == pytest.approx([n / 250 for n in range(2000)])


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        Pace().reserve("due#0", 0, now=0.0)
