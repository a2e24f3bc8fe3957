"""What operations cost DynamoDB, measured through the whole app (bench/journey.py, bench/operations.py), and
the hot-key rule of docs/capacity.md: no partition is written for two different people, by a request or by a
job (the fold, the boards' rebuild, their markers, the nightly jobs), unless its key is listed below."""
from __future__ import annotations

import re
import uuid

import pytest

from admin.__main__ import main as admin
from bench import capacity, capacity_model, hot_keys, journey, operations
from bench.measure import Call, Index, TableKeys, touches
from bench.units import cost, item_size
from chalicelib.store import models  # its TABLE_PREFIX is read on first use, once the stack is up
from infra.aws.policy import allows, policy

# Partitions written for many people by design, by key (never a whole table), each with why it stays cool.
# A platform's own keys (its boards, their histograms and ranking partitions, its orgs' parts and rows, its counters)
# are `default`'s prefixed "P#" for a platform P (docs/platforms.md): `_P` lets them match; each is written by that
# platform's people alone, so a platform's key is never hotter than `default`'s of the same name.
_P = r"(?:[a-z0-9-]{2,32}#)?"  # a platform id (domain/platforms.ID) and its "#"
SHARED_BY_DESIGN = {
    r"stock:(goods|tree)#[^#]+(#\d+)?": "a goods' or tree's stock item, or one of a goods' stock shards: a sale, an "
                                       "adoption or an expiry's refund (paced: services/expiry.py) takes one",
    r"redemptions/due:due#\d+": "a redemption's expiry shard (random): its sale, the expiry worker of the shard",
    r"adoptions/accruing:\d+": "the accrual shard (0..63) of a new adoption: adoptions are rare, spread over 64",
    r"account_shards:\d+": "a new account's entry in its shard (0..63); the points expiry's marker",
    r"agg_boards:dirty#\d+#\d+": "a fold shard's markers of a rebuild shard's boards: its worker once a run, its "
                             "joiners, the rebuild shard's worker",
    # the flags (store/board_marks.py): the 64 fold shards' workers and every org join write a rebuild shard's
    r"agg_boards:dirty#\d+": "a rebuild shard's marker flags (sort key: the fold shard), each put after markers: "
                           "by each fold shard's worker once a run, every join (the orgs board's shard: the "
                           "platform's join rate), a new name; deleted by the rebuild shard's worker once a run",
    rf"agg_boards:{_P}(users|orgs|org-[^#]+)": "a board, rebuilt by its rebuild shard's worker at most once a minute",
    r"agg_counters:lease#fold": "the fold shards' leases (sort key s00..s63): taken, renewed a page, freed",
    r"agg_counters:lease#boards": "the rebuild shards' leases (sort key s00..s15): taken, renewed a round, freed",
    rf"agg_counters:{_P}stats": "the platform counters (sort key: 16 parts), added to once a commit by 4 fold shards "
                               "each",
    rf"agg_counters:{_P}active#\d{{4}}-\d\d-\d\d": "the day's active people (16 parts), added to by the fold",
    rf"agg_counters:hist#{_P}(users|org-[^#]+)#[^#]+": "a board's rank histogram (sort key: the fold shard): one "
                                                       "writer",
    r"agg_inbox/pending:s\d+": "the inbox index of a fold shard: the stream handler's puts, the fold's removals",
    rf"agg_totals:{_P}o#[^#]+#\d+": "an organization's part (16): the fold's ADDs, once a commit, and its joiners' "
                                    "counts",
    rf"agg_totals:{_P}org#[^#]+": "an organization's row, written by the materialize job when its sum changed",
    rf"agg_totals/ranking:{_P}(users|org-[^#]+|orgparts|orgrows)#[^#]+#\d+": "a shard of a board's ranking index",
    rf"agg_totals/ranking:{_P}(orgmembers|orgrowmembers)#\d+": "a shard of the organizations' member-count index",
    r"ledger/by_root:[a-z0-9-]+#\d{4}-\d\d-\d\d#\d{3}": "a shard (256, by entry id) of a platform's day in the "
                                                     "transparency index: every entry of the day writes one "
                                                     "(docs/capacity.md, \"Transparency roots\")",
    r"photo_hashes:ph#[0-3]#[0-9a-f]{4}": "a bucket of the evidence photos' hashes (4 x 65,536): a photo check-in "
                                          "ADDs its hash to 4 (docs/capacity.md, \"Evidence photos\")",
}
# Keys of one person, or of one item of theirs (an adoption certificate, a redemption id): never shared.
# A person's id (`p_...`) is one person's too: "n#{person}", the statistics' item of a person on several platforms.
OWN = re.compile(r"[up]_[0-9A-Z]{8,}|GS-\d{4}-[0-9A-Z]{8}$|:[0-9A-Z]{26}$")


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
    # 4 transactional writes of <= 1 KB, and the ledger's by_kind and by_root (transparency) copies
    assert checkin.cost.write_units == 10


def test_reading_one_s_own_data_is_one_call(journeys):
    for step in ("profile", "ledger page", "ledger page by kind", "summary"):
        assert measured(journeys, step).cost.calls == 1, step
    assert measured(journeys, "behaviours").cost.calls == 0  # the container's catalog cache


def test_a_returning_login_is_one_read_and_one_write(journeys):
    login = measured(journeys, "login (returning)")
    assert sorted(c.operation for c in login.calls) == ["GetItem", "UpdateItem"]


@pytest.fixture(scope="module")
def sample(app_module, stack):
    """The plan's measurements on a small sample: 2 days of history, 12 people over the fold shards; no expiry
    runs (they would expire other tests' points and coupons)."""
    from chalice.test import Client

    with Client(app_module.app, stage_name="local") as client:
        return operations.measure(client, app_module.app, stack, days=2, spread_users=12, expiries=False)


def shared_partitions(sample) -> dict[str, set[str]]:
    """Every partition written for two people or more -> what wrote it: requests (of two people), the
    stream handler, the fold of every shard, the boards' rebuild and the nightly jobs (outside one person's)."""
    found: dict[str, set[str]] = {}
    for name, people in sample["spread"]["requests"].items():
        for key in {k for keys in people for k in keys}:
            if sum(key in keys for keys in people) >= 2:
                found.setdefault(key, set()).add(name)
    for key in sample["journey_written_by_both"]:
        found.setdefault(key, set()).add("a new person's day")
    runs = [("stream handler", sample["spread"]["filing"]), ("board rebuild", sample["spread"]["materialize"])]
    runs += [("fold job", r) for r in sample["spread"]["fold_runs"]]
    runs += [(r["job"], r.get("request", r)) for r in sample["postings"] if r.get("kind") == "job"]
    for source, r in runs:
        for key in r["key_writes"]:
            if not OWN.search(key):
                found.setdefault(key, set()).add(source)
    return found


def test_no_partition_is_written_for_two_people_unless_its_key_is_listed(sample):
    """A hot key is a partition many people's work writes (a global counter, a shared list): requests and jobs
    alike may write one only if this file lists its key (docs/capacity.md gives its writes per second)."""
    shared = shared_partitions(sample)
    unexpected = {key: sorted(by) for key, by in shared.items()
                  if not any(re.fullmatch(pattern, key) for pattern in SHARED_BY_DESIGN)}
    assert not unexpected, f"partitions written for two different people: {unexpected}"
    sources = {source for by in shared.values() for source in by}
    assert {"fold job", "board rebuild", "stream handler"} <= sources, sources  # the jobs are covered
    assert any(key.startswith("agg_boards:dirty#") for key in shared)  # and so are the board markers


def test_a_platforms_board_and_counter_keys_are_listed_as_defaults_of_the_same_name_are():
    """The capacity sample is `default`'s journey; a platform P's keys are the same prefixed "P#" (the app's own
    key functions build them here), and the rules list them as they list `default`'s."""
    from chalicelib.domain.aggregation import board_of, user_owner
    from chalicelib.domain.orgs import member_owner, orgs_board, part_owner, row_owner
    from chalicelib.store.aggregates import active_name, stats_name

    for platform in ("default", "company-demo"):
        users, org = board_of(user_owner(platform, "u_X")), board_of(member_owner(platform, "o-x", "u_X"))
        keys = [f"agg_boards:{board}" for board in (users, org, orgs_board(platform))]
        keys += [f"agg_counters:hist#{users}#all", f"agg_counters:hist#{org}#w2026-W48",
                 f"agg_counters:{stats_name(platform)}", f"agg_counters:{active_name(platform, '2026-11-23')}",
                 f"agg_totals:{part_owner(platform, 'o-x', '03')}", f"agg_totals:{row_owner(platform, 'o-x')}"]
        for key in keys:
            assert any(re.fullmatch(pattern, key) for pattern in SHARED_BY_DESIGN), key


def test_no_table_is_listed_whole():
    for pattern in SHARED_BY_DESIGN:
        table, _, key = pattern.partition(":")
        assert key and key not in (".*", ".+") and not re.fullmatch(pattern, f"{table}:u_0000000000000000"), pattern


def test_every_call_of_the_journey_is_allowed_by_the_api_s_own_policy(journeys):
    document = policy("dev", "api_handler")
    for measured_step in journeys[0].values():
        for call in measured_step.calls:
            for touch in touches(call, {}):
                table = "greensprout-dev-" + touch.table.removeprefix(models.TABLE_PREFIX)
                arn = f"arn:aws:dynamodb:ap-east-1:123456789012:table/{table}"
                arn += f"/index/{touch.index}" if touch.index else ""
                assert allows(document, f"dynamodb:{touch.action}", arn), (measured_step.step, touch.action, arn)


def test_the_plan_states_units_money_hot_keys_and_nightly_jobs_at_each_scale(sample):
    small, large = (capacity_model.plan(sample, users) for users in (1e6, 4e7))
    assert large["requests_per_day"] == pytest.approx(small["requests_per_day"] * 40)
    assert large["burst_wru_s"] > small["burst_wru_s"] * 20 and large["burst_rru_s"] > small["burst_rru_s"] * 20
    assert large["cost_month"] > small["cost_month"] * 20  # API Gateway's volume tiers make it a little less
    assert {"DynamoDB requests", "Lambda", "API Gateway"} <= set(large["costs"])
    key, rate, source = large["hot_keys"][0]
    assert rate > 0 and rate >= large["hot_keys"][-1][1]
    assert any("fold job" in s for _, _, s in large["hot_keys"])
    jobs = large["nightly"]
    assert {"tree accrual", "aggregation catch-up after the midnight accrual"} <= set(jobs)
    assert all(figures["minutes"] > small["nightly"][name]["minutes"] > 0 for name, figures in jobs.items())
    table = capacity.markdown(sample, [1e6, 1e7, 4e7])
    assert "### Goals (issue 19)" in table and "| check-in (steady state, 1 org) | 1 GetItem" in table


def test_the_boards_rebuild_of_a_minute_at_40_million_people_takes_under_a_minute_over_its_shards(sample):
    from chalicelib import jobs
    from chalicelib.services import board_rebuild

    rebuild = capacity_model.plan(sample, 4e7)["nightly"]["board rebuild (every minute)"]
    job = jobs.job_named("materialize-boards")
    assert rebuild["parallel"] == f"{job.shards} x {board_rebuild.WORKERS}" and job.shards > 1
    assert rebuild["items"] > 50_000 and rebuild["item_ms"] > 0  # an org's board for each of a minute's entries
    assert rebuild["minutes"] < 1
    member = sample["spread"]["rebuild_parts"]["member board"]
    assert member["rebuilt"] == 1 and member["operations"].get("Query", 0) >= 4  # the board's and its markers'


def test_a_steady_state_check_in_counts_its_aggregation_measured_by_the_fold(sample):
    checkin = next(r for r in sample["postings"] if r["step"] == capacity_model.ONE_ORG_CHECKIN)
    assert checkin["items_filed"] == 1  # the stream handler filed its entry ...
    assert checkin["folded"]["operations"].get("TransactWriteItems")  # ... and the fold applied it
    assert checkin["write_units"] == pytest.approx(
        checkin["request"]["write_units"] + checkin["filed"]["write_units"] + checkin["folded"]["write_units"])
    assert checkin["folded"]["write_units"] > checkin["request"]["write_units"]


def test_an_index_key_change_is_a_delete_and_a_put_and_an_absent_batch_key_still_costs():
    keys = {"t": TableKeys("owner", None, {"ranking": Index("board", "value", "KEYS_ONLY")})}
    before = {"owner": {"S": "a"}, "board": {"S": "b#1"}, "value": {"N": "5"}}
    after = {**before, "value": {"N": "6"}}
    update = Call("UpdateItem", {"TableName": "t", "Key": {"owner": {"S": "a"}}}, {},
                  before={("t", (("owner", "a"),)): before})
    assert cost([update], keys, lambda touch: after).write_units == 1 + 2  # the item, then the index: delete + put
    unchanged = Call("UpdateItem", {"TableName": "t", "Key": {"owner": {"S": "a"}}}, {},
                     before={("t", (("owner", "a"),)): after})
    assert cost([unchanged], keys, lambda touch: after).write_units == 1  # the index holds nothing new
    batch = Call("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"owner": {"S": "a"}}, {"owner": {"S": "z"}}],
                                                         "ConsistentRead": True}}}, {"Responses": {"t": [after]}})
    assert cost([batch], keys, lambda touch: None).read_units == 2  # the absent key costs the minimum too


def test_a_board_marker_is_not_storage_growth_and_a_new_board_is():
    keys = {"agg_boards": TableKeys("board", "period", {})}

    def put(board: str, period: str) -> Call:
        item = {"board": {"S": board}, "period": {"S": period}, "marked": {"S": "m1"}}
        return Call("PutItem", {"TableName": "agg_boards", "Item": item}, {}, before={})

    marker = cost([put("dirty#03#07", "users|w2026-49|m1")], keys, lambda touch: None)
    board = cost([put("org-o1", "w2026-49")], keys, lambda touch: None)
    assert (marker.new_bytes, marker.write_units) == (0, 1)  # written, paid for, deleted by the next rebuild
    assert board.new_bytes > 0


def test_item_sizes_follow_dynamodb_s_rules():
    assert item_size({"user_id": {"S": "u_1"}}) == 7 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 bytes + 1
    assert item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"s": {"S": "绿芽"}}) == 1 + 6  # UTF-8 bytes


def test_the_redemption_expiry_is_planned_at_its_pace_over_the_campaign_goods_stock_shards():
    """A campaign's refunds are planned at the job's pace (services/expiry.py), not its threads flat out: a
    worker's `due` key at most its pace, the campaign goods' stock items their share of theirs, spread over the
    goods' stock shards; a plain expiry (no refund) only at the `due` key's pace."""
    refund = {"job": "expire-redemptions", "shard": 3, "items": 1, "operations": {"Query": 1, "GetItem": 1,
              "TransactWriteItems": 1}, "key_writes": {"redemptions/due:due#3": 1, "stock:goods#g-c#3": 1}}
    plain = {"job": "expire-redemptions", "shard": 6, "items": 1, "operations": {"Query": 1, "UpdateItem": 1},
             "key_writes": {"redemptions/due:due#6": 1}}

    def planned(run: dict, stock_shards: int) -> dict[str, float]:
        job = {"shards": 8, "page": 100, "workers": 4, "stock_shards": stock_shards,
               "paced": {"per_worker": 250, "per_stock_item": 250}}
        found: dict[str, float] = {}
        hot_keys._job(run, job, {"stock"}, set(), lambda key, rate, source: found.update({key: rate}))
        return found

    flat_out = 4 * 1000 / capacity_model.latency({"GetItem": 1, "TransactWriteItems": 1})  # 4 threads, a shard
    assert planned(refund, 8) == pytest.approx({"redemptions/due:due#3": flat_out, "stock:goods#g-c#3": flat_out})
    assert planned(refund, 1) == pytest.approx({"redemptions/due:due#3": 250 / 8, "stock:goods#g-c#3": 250})
    assert planned(plain, 1) == pytest.approx({"redemptions/due:due#6": 250})  # 4 threads alone: 667 a second


def test_a_person_on_two_platforms_checks_in_with_one_read_and_one_transaction_and_the_plan_has_their_column(
        sample):
    """docs/capacity.md's last column: the measured person joins the demo platform; their check-in keeps the
    calls of a check-in (the person's day counter and the peer's carbon ride in the same transaction), and a bus
    ride both platforms import is one webhook's calls."""
    rows = {r["step"]: r for r in sample["postings"]}
    alone, shared = rows[capacity_model.PLAN_CHECKIN], rows[capacity_model.TWO_PLATFORM_CHECKIN]
    assert shared["request"]["operations"] == alone["request"]["operations"] == {"GetItem": 1, "TransactWriteItems": 1}
    assert shared["request"]["write_units"] > alone["request"]["write_units"]  # the counter and the peer's carbon
    ride = rows[capacity_model.TWO_PLATFORM_RIDE]
    assert ride["request"]["operations"]["TransactWriteItems"] == 1 and rows[capacity_model.TWO_PLATFORM_JOIN]
    platforms = capacity_model.plan(sample, 4e7, platforms=20)
    assert platforms["requests_per_day"] < capacity_model.plan(sample, 4e7)["requests_per_day"]  # rides once for two
    assert {capacity_model.TWO_PLATFORM_CHECKIN, capacity_model.TWO_PLATFORM_JOIN} <= {
        o.name for o in platforms["operations"] if o.per_day > 0}
    assert "| 20 platforms x 2 M users |" in capacity.markdown(sample, [1e6, 4e7])
