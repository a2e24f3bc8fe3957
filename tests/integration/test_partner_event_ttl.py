"""Seen partner events expire (issue 19 item 9): each seen-event item is deleted by TTL 30 days after it was
written, and an event past the 7-day limit is refused before its seen item is looked at, so an event whose
item is gone (or still there) is ignored the same way and never counts twice."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.partner_events import SEEN_TTL
from chalicelib.store.partners import Consent, SeenEvent
from tests.support.partners import bind, ledger, me, now, push, sync


@pytest.fixture
def rider(client, stack, user):
    return user, bind(client, stack, user, "transit")


def test_a_seen_event_is_deleted_by_ttl_30_days_after_it_counted(client, stack, rider):
    user, ref = rider
    ride = stack.transit.add_ride(ref)
    before = now()
    assert push(client, stack.transit, [ride])[1]["accepted"] == 1
    seen = SeenEvent.get(f"transit#{ride['ride_id']}", consistent_read=True)
    assert SEEN_TTL == timedelta(days=30)
    assert before + SEEN_TTL - timedelta(seconds=1) <= seen.expires_at <= now() + SEEN_TTL + timedelta(seconds=1)
    ttl = SeenEvent._get_connection().connection.client.describe_time_to_live(TableName=SeenEvent.Meta.table_name)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_an_event_past_7_days_is_ignored_whether_its_seen_item_is_still_there_or_gone(client, stack, rider):
    user, ref = rider
    consented_at = (now() - timedelta(days=40)).isoformat()  # as if consent was given 40 days ago
    Consent.get(user["id"], "transit").update(actions=[Consent.periods.set([[consented_at, None]])])
    old = stack.transit.add_ride(ref, boarded_at=now() - timedelta(days=31))
    counted_at = clock.parse_iso(old["boarded_at"])
    # It counted when it was new; its seen item is the one that transaction wrote.
    SeenEvent(f"transit#{old['ride_id']}", user_id=user["id"], day=counted_at.date().isoformat(),
              at=clock.iso(counted_at), expires_at=counted_at + SEEN_TTL).save()

    assert push(client, stack.transit, [old])[1] == {"accepted": 0, "duplicates": 0, "ignored": 1}
    SeenEvent(f"transit#{old['ride_id']}").delete()  # what TTL does once its time is past
    assert push(client, stack.transit, [old])[1] == {"accepted": 0, "duplicates": 0, "ignored": 1}
    status, body = sync(client, user, "transit")
    assert (status, body["imported"], body["duplicates"]) == (200, 0, 0)
    assert (me(client, user)["points"], ledger(client, user)) == (0, [])
    with pytest.raises(SeenEvent.DoesNotExist):
        SeenEvent.get(f"transit#{old['ride_id']}", consistent_read=True)
