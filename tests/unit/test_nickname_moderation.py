"""A moderator's verdicts on held-back nicknames (services/nicknames.py) over in-memory queues: no Java, no
DynamoDB endpoint. Against DynamoDB Local and the fake WeChat: tests/integration/test_content_check.py."""
from __future__ import annotations

import pytest

from chalicelib.domain.profile import NicknameDecision, PendingNickname, UpdateProfile
from chalicelib.errors import NotFoundError, ServiceUnavailableError, ValidationError
from chalicelib.services import nicknames
from chalicelib.services.profile import update
from chalicelib.services.tokens import Caller
from tests.unit.fakes_profile import FakeProfileAccount, InMemoryNicknameReviews


@pytest.fixture
def queues() -> InMemoryNicknameReviews:
    store = InMemoryNicknameReviews()
    for user in ("u-1", "u-2"):
        store.add(FakeProfileAccount(user, nickname=f"绿芽用户{user}"))
        update(Caller(user, ("user",)), UpdateProfile(nickname=f"小绿{user}", nickname_given=True), store)
    return store


def test_the_moderator_lists_what_still_waits_and_stale_items_are_dropped(queues):
    queues.items["u-2"].nickname_pending = None  # changed again meanwhile: its item is stale

    waiting = nicknames.waiting_list("unchecked", queues)

    assert [(p.user_id, p.nickname, p.current) for p in waiting] == [("u-1", "小绿u-1", "绿芽用户u-1")]
    assert isinstance(waiting[0], PendingNickname)
    assert list(queues.held) == [("unchecked", "u-1")]


def test_approving_sets_the_nickname_and_empties_both_queues(queues):
    assert nicknames.decide("u-1", True, queues) == NicknameDecision("u-1", "小绿u-1", True)
    assert (queues.items["u-1"].nickname, queues.items["u-1"].nickname_pending) == ("小绿u-1", None)
    assert ("unchecked", "u-1") not in queues.held


def test_rejecting_keeps_the_previous_nickname_and_says_rejected_to_its_owner(queues):
    nicknames.decide("u-1", False, queues)
    stored = queues.items["u-1"]
    assert (stored.nickname, stored.nickname_pending, stored.nickname_check) == ("绿芽用户u-1", None, "rejected")


def test_a_verdict_on_a_nickname_changed_meanwhile_writes_nothing(queues):
    real = queues.settle
    queues.settle = lambda user, pending, verdict, at: real(user, pending + "!", verdict, at)  # judged an older one
    with pytest.raises(ServiceUnavailableError):
        nicknames.decide("u-1", True, queues)
    assert queues.items["u-1"].nickname == "绿芽用户u-1"


def test_nothing_to_decide_and_an_unknown_queue_are_refused(queues):
    with pytest.raises(NotFoundError):
        nicknames.decide("u-404", True, queues)
    nicknames.decide("u-1", True, queues)
    with pytest.raises(NotFoundError):
        nicknames.decide("u-1", True, queues)
    with pytest.raises(ValidationError):
        nicknames.waiting_list("spam", queues)
