"""Review over the in-memory unit of work (tests/unit/fakes.py): held credits, refused spending, the rules' hook,
release and void (domain/review.py, domain/posting.py, services/review.py). Against DynamoDB Local, with races:
tests/integration/test_review.py, tests/races/test_review_races.py."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain import posting as posting_rules
from chalicelib.domain.aggregation import issued_points, matters
from chalicelib.domain.commands import AwardCheckin, RedeemGoods
from chalicelib.domain.posting import Posting
from chalicelib.domain.review import Flag
from chalicelib.errors import AccountUnderReviewError, NotUnderReviewError
from chalicelib.services import review
from chalicelib.services.checkins import award_checkin
from chalicelib.services.redeem import redeem_goods
from tests.unit.fakes import FakeAccount, InMemoryPostingUnitOfWork


class Queue:
    """store/review_queue's reads, over the fake's ledger."""

    def __init__(self, uow: InMemoryPostingUnitOfWork) -> None:
        self.uow = uow

    def unsettled(self, user_id: str, since: str) -> list:
        settled = {line.ref for line in self.uow.ledger if line.kind in ("release", "void")}
        return [line for line in self.uow.ledger if line.kind == "held" and line.entry_id not in settled]

    def staff_held(self, staff_id: str) -> dict:
        return {}  # no staff member's credits are listed in these tests (tests/integration/test_review.py)


@pytest.fixture
def uow() -> InMemoryPostingUnitOfWork:
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(FakeAccount("u_1", points=500))
    return uow


def account(uow) -> FakeAccount:
    return uow.accounts.items["u_1"]


def checkin(uow, n: int):
    return award_checkin(AwardCheckin("u_1", f"req_000{n}", "no_cutlery"), uow)  # a behaviour without a photo


def test_a_flagged_account_holds_its_check_in_counts_it_towards_the_day_and_keeps_its_balance(uow):
    review.flag("u_1", "test", uow)
    result = checkin(uow, 1)
    assert (result.entry.kind, result.entry.balance_after, result.points) == ("held", 500, 500)
    held = account(uow)
    assert (held.points, held.carbon_mg, held.points_earned) == (500, 0, 0)
    assert (held.points_held, held.carbon_held_mg) == (result.entry.points, result.entry.carbon_mg) != (0, 0)
    assert held.daily  # the day's counters count the held check-in (caps)
    assert held.lots is None or sum(held.lots.values()) == 500


def test_an_account_under_review_cannot_redeem_and_nothing_is_written(uow):
    review.flag("u_1", "test", uow)
    commits = uow.commits
    with pytest.raises(AccountUnderReviewError):
        redeem_goods(RedeemGoods("u_1", "req_0009", "g-cafe-americano"), uow)
    assert uow.commits == commits and account(uow).points == 500


def test_the_rules_hook_puts_the_account_under_review_in_the_same_write_and_holds_that_write():
    rule = None
    staged = posting_rules.stage(FakeAccount("u_2", points=7), [Posting("earn", 5, 900, "checkin", rule=rule)],
                                 flag=Flag("steps_repeat", "5 days of 10,000 steps"))
    assert [line.kind for line in staged.lines] == ["held"] and staged.points == 7
    assert staged.account["review_rules"][0]["rule"] == "steps_repeat" and staged.queue == "put"
    assert (staged.account["points_held"], staged.account["carbon_held_mg"]) == (5, 900)
    assert staged.summaries == {}


@pytest.mark.parametrize("outcome, credited", [("release", True), ("void", False)])
def test_release_or_void_settles_each_held_entry_once_and_clears_the_account(uow, outcome, credited):
    review.flag("u_1", "test", uow)
    held = [checkin(uow, n).entry for n in (1, 2)]
    done = review.settle("u_1", outcome, "reviewed", uow, Queue(uow))
    assert done.cleared and sorted(e["held"] for e in done.entries) == sorted(e.entry_id for e in held)
    settling = [line for line in uow.ledger if line.kind == outcome]
    assert sorted(line.ref for line in settling) == sorted(e.entry_id for e in held)
    total = sum(e.points for e in held)
    after = account(uow)
    assert after.points == 500 + (total if credited else 0)
    assert after.carbon_mg == (sum(e.carbon_mg for e in held) if credited else 0)
    assert (after.points_held, after.carbon_held_mg, after.review_since) == (0, 0, None)
    with pytest.raises(NotUnderReviewError):
        review.settle("u_1", outcome, "again", uow, Queue(uow))
    assert len([line for line in uow.ledger if line.kind == outcome]) == 2


def test_a_release_closes_the_open_appeal(uow):
    review.flag("u_1", "test", uow)
    uow.accounts.items["u_1"] = replace(account(uow), appeal={"id": "ap_1", "status": "open", "at": "x"},
                                        appeal_open="ap_1")
    review.settle("u_1", "release", "ok", uow, Queue(uow))
    assert account(uow).appeal["status"] == "closed" and account(uow).appeal_open is None


def test_held_and_voided_credits_reach_no_board_or_statistic_and_a_release_counts_as_issued():
    assert not matters("held", "checkin", 5, 144000) and not matters("void", "checkin", 0, 0)
    assert matters("release", "checkin", 5, 144000) and issued_points("release", 5) == 5
