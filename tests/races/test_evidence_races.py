"""Photo check-ins racing from several processes: the transaction's markers decide, whatever the reads saw."""
from __future__ import annotations

import pytest

from chalicelib.store.models import Account, LedgerEntry
from tests.support import photos
from tests.support.api import login, request_id
from tests.support.racer import race
from tests.support.reconcile import reconciled


@pytest.fixture
def people(client, openid):
    return [login(client, f"{openid}-{n}") for n in range(4)]


def test_four_people_sending_the_same_photo_at_once_earn_once(client, people):
    data = photos.photo()
    with photos.photo_required(*photos.PHOTO_BEHAVIORS):
        uploads = [photos.upload(client, person, data) for person in people]
    calls = [(person["id"], {"request_id": request_id(), "behavior": "clean_plate",
                             "evidence": {"upload_id": upload_id}})
             for person, upload_id in zip(people, uploads, strict=True)]
    outcomes = race(photos.raced_checkin, calls)
    results = sorted(result for kind, result in outcomes if kind == "ok")
    assert len(results) == 4, outcomes
    assert results.count((201, "")) == 1 and results.count((409, "EVIDENCE_REUSED")) == 3
    assert sum(int(Account.get(p["id"], consistent_read=True).points) for p in people) == 5
    assert reconciled(*people)["clean"]


def test_one_upload_sent_by_four_requests_at_once_serves_one_checkin(client, user):
    with photos.photo_required(*photos.PHOTO_BEHAVIORS):
        upload_id = photos.upload(client, user)
    calls = [(user["id"], {"request_id": request_id(), "behavior": "clean_plate",
                           "evidence": {"upload_id": upload_id}}) for _ in range(4)]
    outcomes = race(photos.raced_checkin, calls)
    results = sorted(result for kind, result in outcomes if kind == "ok")
    assert len(results) == 4, outcomes
    assert results.count((201, "")) == 1 and results.count((409, "EVIDENCE_REUSED")) == 3
    assert len(list(LedgerEntry.query(user["id"]))) == 1
    assert reconciled(user)["clean"]
