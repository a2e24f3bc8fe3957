"""What requests cost DynamoDB, measured through the whole app (infra/aws/journey.py), and the hot-spot
rule of docs/capacity.md: no request writes a partition that another user's requests write."""
from __future__ import annotations

import uuid

import pytest

from admin.__main__ import main as admin
from chalicelib.store import models  # its TABLE_PREFIX is read on first use, once the stack is up
from infra.aws import capacity, journey
from infra.aws.measure import item_size, touches
from infra.aws.policy import allows, policy

# Partitions many users write by design, each with the reason it stays cool (docs/capacity.md).
SHARED_BY_DESIGN = {
    "stock": "one item per goods or tree: a sale takes one (about 500 sales/s per item with transactions)",
    "adoptions/accruing": "the accrual shard (0..63) of a new adoption: adoptions are rare, spread over 64",
    "redemptions/due": "the expiry shard (0..7, random) of a new redemption",
    "agg_boards": "the 'dirty#{shard}' marker of a board to rebuild: an org join of a user of that shard, once a "
                  "run by the shard's fold worker",
    "agg_totals": "an organization's member count, one of 16 parts by user: joins are rare",
    "account_shards": "a new account's entry in the list of every account (shard 0..63 by user id): once per "
                      "registration, read by the yearly points expiry",
}


@pytest.fixture(scope="module")
def journeys(app_module):
    """The same day for two new users, measured step by step."""
    from chalice.test import Client

    def grant(user_id: str) -> None:
        admin(["points", "adjust", user_id, "1000", "--reason", "capacity test"])

    with Client(app_module.app, stage_name="local") as client:
        return [{m.step: m for m in journey.run(client, app_module.app, "o-cap-" + uuid.uuid4().hex[:10], grant)}
                for _ in range(2)]


def measured(journeys, step):
    found = journeys[0][step]
    if found.skipped:
        pytest.skip(f"{step}: {found.skipped}")
    return found


def test_a_check_in_is_one_consistent_read_and_one_transaction_of_four_items(journeys):
    checkin = measured(journeys, "check-in")
    assert [c.operation for c in checkin.calls] == ["GetItem", "TransactWriteItems"]
    assert checkin.calls[0].params["ConsistentRead"] is True
    tables = sorted(t.table.removeprefix(models.TABLE_PREFIX) for t in touches(checkin.calls[1], {}))
    assert tables == ["accounts", "idempotency", "ledger", "summaries"]
    assert checkin.cost.write_units == 9  # 4 transactional writes of <= 1 KB, and the ledger's by_kind copy


def test_reading_one_s_own_data_is_one_call(journeys):
    for step in ("profile", "ledger page", "ledger page by kind", "summary"):
        assert measured(journeys, step).cost.calls == 1, step
    assert measured(journeys, "behaviours").cost.calls == 0  # the container's catalog cache


def test_a_returning_login_is_one_read_and_one_write(journeys):
    login = measured(journeys, "login (returning)")
    assert sorted(c.operation for c in login.calls) == ["GetItem", "UpdateItem"]


def test_no_request_writes_a_partition_another_user_writes(journeys):
    """A hot key is a partition every user writes (a global counter, a shared list): none on request paths."""
    first, second = ({p for m in j.values() for p in m.written} for j in journeys)
    shared = {(table.removeprefix(models.TABLE_PREFIX), key) for table, key in first & second}
    unexpected = {(t, k) for t, k in shared if t not in SHARED_BY_DESIGN}
    assert not unexpected, f"partitions written by two different users: {sorted(unexpected)}"


def test_every_call_of_the_journey_is_allowed_by_the_api_s_own_policy(journeys):
    document = policy("dev", "api_handler")
    for measured_step in journeys[0].values():
        for call in measured_step.calls:
            for touch in touches(call, {}):
                table = "greensprout-dev-" + touch.table.removeprefix(models.TABLE_PREFIX)
                arn = f"arn:aws:dynamodb:ap-east-1:123456789012:table/{table}"
                arn += f"/index/{touch.index}" if touch.index else ""
                assert allows(document, f"dynamodb:{touch.action}", arn), (measured_step.step, touch.action, arn)


def test_the_capacity_plan_scales_with_users_and_names_every_assumption(journeys):
    rows = journey.as_rows(list(journeys[0].values()))
    small, large = (capacity.plan(rows, users) for users in (1e6, 4e7))
    assert large["requests_per_day"] == pytest.approx(small["requests_per_day"] * 40)
    assert large["cost_month"] > small["cost_month"] * 20  # API Gateway's volume tiers make it a little less
    table = capacity.markdown(rows, [1e6, 1e7, 4e7])
    assert "| check-in | 1 GetItem, 1 TransactWriteItems |" in table


def test_item_sizes_follow_dynamodb_s_rules():
    assert item_size({"user_id": {"S": "u_1"}}) == 7 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 bytes + 1
    assert item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"s": {"S": "绿芽"}}) == 1 + 6  # UTF-8 bytes
