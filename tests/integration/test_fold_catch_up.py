"""A year's catch-up lands in the aggregates however many periods one person's entries span."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import clock
from chalicelib.domain.ranking import period_keys
from tests.support.aggregates import drain, person_total
from tests.support.posting import Plan, Posting, post


def test_one_persons_entries_over_many_weeks_and_months_are_all_folded(user):
    today = clock.business_day(clock.now())
    # 40 entries over a year, ~40 weeks and 12 months, long ago: posted without a methodology, they are on days
    # no report, issuance or verify-ledger test reads (tests/support/days.py)
    days = [today - timedelta(days=1000 + 9 * n) for n in range(40)]

    def plan(_account):
        postings = [Posting("accrual", 0, 1000, "tree", behavior="tree_uptake", day=day) for day in days]
        return Plan(postings, respond=lambda entries, after: (201, {}))

    post(user["id"], plan)
    drain()
    assert person_total(f"u#{user['id']}", "all") == 40 * 1000
    weeks = {period_keys(day)[0] for day in days}
    assert len(weeks) > 30  # more periods than one transaction of 100 actions can carry
    for week in weeks:
        expected = 1000 * sum(1 for day in days if period_keys(day)[0] == week)
        assert person_total(f"u#{user['id']}", week) == expected


def test_a_persons_items_are_split_until_each_group_fits_one_transaction():
    from chalicelib.services.fold import Fold
    from chalicelib.store.aggregates import InboxItem
    from chalicelib.store.tx import MAX_ACTIONS

    today = clock.business_day(clock.now())
    items = [InboxItem(f"e#u_x#{n:03d}", user_id="u_x", what="entry", kind="earn", source="transit", points=10,
                       carbon_mg=80000, at=clock.iso(clock.now()), day=(today - timedelta(days=7 * n)).isoformat())
             for n in range(10)]  # ten weeks, two or three months
    memberships = [(f"o-{n}", "2020-01-01T00:00:00+08:00") for n in range(5)]
    fold = Fold(0, today)
    groups = fold._fitting(items, memberships)
    assert len(groups) > 1  # ten such items need more than one transaction's 100 actions
    assert [item for group, _ in groups for item in group] == items
    for group, plan in groups:
        assert len(group) + len(fold._touches(plan, "default")) <= MAX_ACTIONS


def test_a_unit_never_adds_more_actions_than_counted_before_it_is_staged():
    """A spend plans a zero change to the platform counters and writes none; the earn after it does write
    them: that action must be counted, or a transaction can be filled past DynamoDB's 100 actions."""
    from chalicelib.services.fold import Fold
    from chalicelib.store.aggregates import InboxItem

    today = clock.business_day(clock.now())
    at = clock.iso(clock.now())

    def entry(n: int, kind: str, source: str, points: int, carbon_mg: int) -> InboxItem:
        return InboxItem(f"e#u_z{n}#001", user_id=f"u_z{n}", what="entry", kind=kind, source=source, points=points,
                         carbon_mg=carbon_mg, at=at, day=today.isoformat())

    units = [[entry(1, "spend", "market", -10, 0)], [entry(2, "earn", "transit", 10, 80000)],
             [entry(3, "earn", "checkin", 0, 0)], [entry(4, "earn", "transit", 10, 80000)]]
    fold = Fold(0, today)
    planned = [(unit, fold._plan(unit, [])) for unit in units]
    fold._read(planned)
    for unit, plan in planned:
        before, counted = fold.tx.actions, fold._new_actions(unit, plan)
        fold._stage(unit, plan)
        assert fold.tx.actions - before <= counted, unit[0].key
