"""The hottest keys and the nightly jobs' durations at a scale, from the measured runs (bench/operations.py).

Writes per second of a partition, at the burst of a scale, counted from every measured write:
- requests: of the spread sample's people (a first login, a join, a check-in each), a partition written for
  two people or more is shared: its rate is the operation's rate x the writes per person measured. Of the two
  new people's whole days, a partition both wrote (a goods' stock) is counted as if every such operation of
  the platform were on it (a flash sale).
- the stream handler and the fold job: a partition written exactly once per item in every run that writes
  it, and once for one item folded alone (an inbox index partition), is written at the speed its shards'
  workers fold; any other (a histogram, a counter, the lease, the board markers) as often per page as in
  the measured run, each shard's worker running a page a minute or, when more items wait, a page per PAGE
  items. Catching up (flat out), a worker runs a page per PAGE x the measured time per item; the larger
  of the two rates counts.
- the boards' rebuild: a marker is deleted as often as the fold writes it; a board or an org's row once a
  minute.
- the nightly jobs: a partition written once per item (outside the person's own) is written at the job's
  speed per shard, by every shard unless its key names the run's shard. A job's speed per shard is its
  workers flat out, or its pace when it is paced (the redemption expiry: services/expiry.py). A campaign's
  goods are refunded by the expiry of every shard, spread over the goods' stock shards (the measured
  coupon's `stock_shards`), each worker giving one stock item at most its share of the pace.
Partitions of one person (their id in the key) are left out: one person's rate is tiny.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

from chalicelib.domain import shards

from .capacity_model import (
    ADOPTING,
    BURST,
    COUPONS_AT_ONCE,
    ORGS_PER_MILLION,
    PAGE_READS,
    PEAK_HOUR,
    PLAN_CHECKIN,
    POINTS_DUE_SHARE,
    latency,
    shared_per_item,
)

# Partitions a job writes once when a shard's run ends, not per item: known here because a measured run of one
# item cannot tell them from a per-item write (the year's marker of a points expiry shard, `#expired#{year}`).
RUN_MARKERS = {("expire-points", "account_shards:")}
# Partitions a request picks at random among N (a redemption's shard of the `due` index): two measured people
# may land on the same one by chance, which does not make it everybody's key; it takes 1/N of their writes.
SPREAD_AT_RANDOM = {"redemptions/due:due#": shards.REDEMPTIONS_DUE}
PERSONAL = re.compile(r"[up]_[0-9A-Z]{8,}")  # a user's id, or a person's (their users on several platforms)


def _shared(key: str) -> bool:
    return not PERSONAL.search(key)


def hot_keys(measured: dict, plan: dict) -> list[tuple[str, float, str]]:
    burst = PEAK_HOUR * BURST
    rate = {op.name: op.per_day / 86400 * burst for op in plan["operations"]}
    rate["check-in"] = rate[PLAN_CHECKIN]
    found: dict[str, float] = defaultdict(float)
    sources: dict[str, set] = defaultdict(set)

    def add(key: str, per_s: float, source: str) -> None:
        found[key] += per_s
        sources[key].add(source)

    spread = measured["spread"]
    for name, people in spread["requests"].items():
        writers, writes = Counter(), Counter()
        for keys in people:
            writers.update(keys.keys())
            writes.update(keys)
        for key, n in writes.items():
            if writers[key] >= 2:
                add(key, rate[name] * n / spread["users"], name)
    both = set(measured["journey_written_by_both"])
    for r in measured["journey"]:
        for key, n in r.get("key_writes", {}).items():
            if key in both and r["step"] in rate and key not in found:
                spread_over = SPREAD_AT_RANDOM.get(_family(key))
                if spread_over:
                    add(key, rate[r["step"]] * n / spread_over, f"{r['step']} (one of {spread_over})")
                else:
                    add(key, rate[r["step"]] * n, f"{r['step']} (all on one item)")
    folded: dict[str, float] = defaultdict(float)

    def add_fold(key: str, per_s: float, source: str) -> None:
        folded[key] += per_s
        add(key, per_s, source)

    _fold(measured, plan, add_fold)
    _boards(measured, folded, add)
    tables = {key.split(":")[0] for key in both if _family(key) not in SPREAD_AT_RANDOM}
    job_runs = [r for r in measured["postings"] if r.get("kind") == "job" and r.get("job") in measured["jobs"]]
    per_run = {(r["job"], _family(key)) for r in job_runs if r["items"] >= 2
               for key, n in r.get("request", r)["key_writes"].items() if n < r["items"]} | RUN_MARKERS
    for r in job_runs:
        _job(r, measured["jobs"][r["job"]], tables, per_run, add)
    return sorted(((k, v, ", ".join(sorted(sources[k]))) for k, v in found.items()), key=lambda t: -t[1])


def _fold(measured: dict, plan: dict, add) -> None:
    runs, fold = measured["spread"]["fold_runs"], measured["jobs"]["fold-aggregates"]
    shards, page = fold["shards"], fold["page"]
    _, _, item_ms, _ = shared_per_item(measured)
    items_s, items = plan["items_per_s_burst"], sum(r["folded"] for r in runs) or 1
    pages_s = max(1 / 60, items_s / shards / page)
    catch_up_items_s, catch_up_pages_s = shards * 1000 / item_ms, 1000 / (page * item_ms)
    once = {_family(key) for r in measured["postings"] if r.get("kind") == "posting" and r["items_filed"] == 1
            for key, n in r["folded"]["key_writes"].items() if n == 1}  # one item folded alone: once for it
    per_key: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in runs:
        for key, n in r["key_writes"].items():
            if _shared(key):
                per_key[key].append((n, r["folded"]))
    for key, written in per_key.items():
        total, their_items = sum(n for n, _ in written), sum(i for _, i in written)
        if all(n == i for n, i in written) and _family(key) in once:  # once per item: at its shards' speed
            add(key, total / max(1, their_items) * len(written) * max(items_s / shards, catch_up_items_s / shards),
                "fold job")
        else:
            add(key, total * max(pages_s, catch_up_pages_s), "fold job")
    filing = measured["spread"]["filing"]
    for key, n in filing["key_writes"].items():
        if _shared(key):
            add(key, n / items * items_s, "stream handler")


def _family(key: str) -> str:
    """The partition without its shard number ("agg_inbox/pending:s" for "agg_inbox/pending:s07")."""
    return re.sub(r"\d+$", "", key)


def _boards(measured: dict, folded: dict[str, float], add) -> None:
    """A marker the fold wrote is deleted once by the rebuild (as often as the fold writes it); anything else
    the rebuild writes (a board, an org's row), once a run: a run a minute."""
    r = measured["spread"]["materialize"]
    for key, n in r["key_writes"].items():
        if _shared(key):
            add(key, folded[key] if key in folded else n / 60, "board rebuild")


def _job(r: dict, job: dict, shared_tables: set[str], per_run: set[tuple[str, str]], add) -> None:
    """A key the job writes for each item is hot if it is of a table whose partitions two people's requests
    share (a goods' stock): then every shard writes it, spread over the goods' stock shards; or if it names
    the run's shard (an index shard; not a marker, written once in a run of several items). Keys of one item
    (an adoption, a redemption) are not."""
    items = max(1, r["items"])
    per_shard_items_s = worker_rate(job, _item_ms(r, job), gives_stock(r))
    for key, n in r.get("request", r)["key_writes"].items():  # the job's own writes (its fold is counted above)
        if not _shared(key) or n < items / 2:
            continue
        if key.split(":")[0] in shared_tables:
            spread = job.get("stock_shards", 1) if key.startswith("stock:") else 1
            add(key, n / items * per_shard_items_s * job["shards"] / spread, r["job"])
        elif re.search(rf"(^|[#:_/]){r.get('shard')}$", key) and (r["job"], _family(key)) not in per_run:
            add(key, n / items * per_shard_items_s, r["job"])


def gives_stock(r: dict | None) -> bool:
    """The run gave units back to a goods' stock (a refund), so its stock item's pace bounds it."""
    return r is not None and any(key.startswith("stock:") for key in r.get("request", r)["key_writes"])


def worker_rate(job: dict, item_ms: float, refunds: bool) -> float:
    """Items a second one worker of a job does: its threads flat out, or its pace if that is lower (the
    redemption expiry: its expiries a second, and for refunds its share of every stock item's refunds, over
    the campaign goods' stock shards)."""
    rate = job["workers"] * 1000 / item_ms if item_ms else 0.0
    pace = job.get("paced")
    if pace:
        rate = min(rate, pace["per_worker"])
        if refunds:
            rate = min(rate, job.get("stock_shards", 1) * pace["per_stock_item"] / job["shards"])
    return rate


def _item_ms(r: dict, job: dict) -> float:
    """Modelled time of one item's work, without the page reads (a due one, for points expiry)."""
    calls = r.get("request", r)["operations"]
    work = {op: n for op, n in calls.items() if op not in PAGE_READS}
    return latency(work) / max(1, r.get("due", r["items"]))


def nightly(measured: dict, plan: dict) -> dict:
    users, jobs = plan["users"], measured["jobs"]
    rows: dict[str, dict] = {}
    for r in measured["postings"]:  # a job's last run; for the redemption expiry, one that refunded (a campaign)
        if r.get("kind") == "job" and (gives_stock(r) or not gives_stock(rows.get(r["job"]))):
            rows[r["job"]] = r
    found = {}
    for name, job_name, items, due in (
            ("tree accrual", "accrue-trees", users * ADOPTING, 1.0),
            ("points expiry (1 January)", "expire-points", users, POINTS_DUE_SHARE),
            ("redemption expiry (a campaign)", "expire-redemptions", users * COUPONS_AT_ONCE, 1.0)):
        job, r = jobs[job_name], rows.get(job_name)
        if r is None:
            continue
        per_shard = items / job["shards"]
        reads = r.get("request", r)["operations"]
        pages = math.ceil(per_shard / job["page"])
        batches = math.ceil(per_shard / job.get("batch", job["page"])) if reads.get("BatchGetItem") else 0
        item_ms = _item_ms(r, job)
        rate = worker_rate(job, item_ms, gives_stock(r))
        ms = pages * latency({"Query": 1}) + batches * latency({"BatchGetItem": 1}) \
            + (per_shard * due / rate * 1000 if rate else 0)
        parallel = f"{job['shards']} x {job['workers']}"
        if job.get("paced"):
            cap = worker_rate({**job, "workers": math.inf}, item_ms, gives_stock(r))
            parallel += f", {rate:,.0f} a s each (pace {cap:,.0f}"
            parallel += f": goods of {job.get('stock_shards', 1)} stock shards)" if gives_stock(r) else ")"
        found[name] = {"items": items, "parallel": parallel, "item_ms": item_ms, "minutes": ms / 60000}
    fold = jobs["fold-aggregates"]
    _, _, item_ms, _ = shared_per_item(measured)
    entries = users * ADOPTING  # the accrual's entries, all filed at midnight
    found["aggregation catch-up after the midnight accrual"] = {
        "items": entries, "parallel": f"{fold['shards']} x 1", "item_ms": item_ms,
        "minutes": entries / fold["shards"] * item_ms / 60000}
    found["board rebuild (every minute)"] = board_rebuild_minutes(measured, plan)
    return found


def board_rebuild_minutes(measured: dict, plan: dict) -> dict:
    """A minute's boards over the rebuild shards (services/board_rebuild.py), the slowest shard's run: its empty
    run (the lease, the flags' Query), then its share of the member boards and, in the same shard, the users'
    and the orgs' boards of every period (an upper bound: they are spread by a hash), WORKERS boards at once; the
    orgs board of all time alone takes at least its own time."""
    ops = {o.name: o for o in plan["operations"] if o.name.startswith("board rebuild")}
    job = measured["jobs"]["materialize-boards"]
    member, big = ops["board rebuild, per org member board (every minute)"], ops[
        "board rebuild, users' and orgs' boards (every minute)"]
    empty_ms = latency(ops["board rebuild, per shard run (every minute)"].request_operations)
    member_ms, members = latency(member.request_operations), member.per_day / 1440
    orgs_ms = orgs_board_ms(measured, plan)
    big_ms = latency(big.request_operations) * big.per_day / 1440 + orgs_ms
    busiest = members / job["shards"] * member_ms + big_ms
    return {"items": members + big.per_day / 1440, "parallel": f"{job['shards']} x {job['workers']}",
            "item_ms": member_ms, "minutes": (empty_ms + max(orgs_ms, busiest / job["workers"])) / 60000}


ORG_ENTRIES_PER_PAGE = 10_000  # keys-only `ranking` entries of org parts and rows (about 100 bytes) in a 1 MB page
ORGS_PER_PERSON = 2  # the steady-state person's: an entry changes this many org rows


def orgs_board_ms(measured: dict, plan: dict) -> float:
    """What the orgs board of all time adds at a scale to its measured build: paging the org parts' and rows'
    index partitions (PARTS each; on "all" the member counts' too) and writing the rows that changed (one per org
    with an entry folded in the minute, 25 a BatchWriteItem)."""
    from chalicelib.domain.ranking import PARTS

    orgs = plan["users"] / 1e6 * ORGS_PER_MILLION
    entries = plan["items_per_day"] / 1440
    pages = 2 * PARTS * (math.ceil(orgs / ORG_ENTRIES_PER_PAGE) + math.ceil(orgs / PARTS / ORG_ENTRIES_PER_PAGE))
    rows = min(orgs, entries * ORGS_PER_PERSON)
    return pages * latency({"Query": 1}) + math.ceil(rows / 25) * latency({"BatchWriteItem": 1})
