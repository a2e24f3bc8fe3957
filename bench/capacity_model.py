"""The arithmetic of the capacity plan: measurements (bench/operations.py) x the assumptions below.

Every figure of docs/capacity.md comes from here; every assumption is a named constant, listed by
ASSUMPTIONS() into the document itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# --- prices (us-east-1, on-demand, USD) ---------------------------------------------------------------
PRICE = {
    "wru": 0.625 / 1e6, "rru": 0.125 / 1e6,  # DynamoDB on-demand write / read request unit
    "storage_gb_month": 0.25, "pitr_gb_month": 0.20,  # table storage, continuous backups
    "lambda_request": 0.20 / 1e6, "lambda_gb_s": 0.0000166667,  # x86_64
    "api_tiers": ((333e6, 3.50 / 1e6), (667e6, 2.80 / 1e6), (19e9, 2.38 / 1e6), (math.inf, 1.51 / 1e6)),
    "log_gb": 0.50,  # CloudWatch Logs ingestion
}

# --- usage -----------------------------------------------------------------------------------------------
DAILY_ACTIVE = 0.20  # of registered people, on an average day
SIGNUPS_PER_DAY = 0.002  # new people a day, of registered people
PEAK_HOUR = 3.0  # busiest hour's rate / the day's mean rate
BURST = 2.0  # a minute's spike over the busiest hour (a push, a campaign)
ADOPTING = 0.05  # registered people with a tree in its accrual year: one accrual posting a night each
ORGS_PER_MILLION = 1_700  # organizations per million people (Luzhou: over 600 at 350,000 people)
POINTS_DUE_SHARE = 0.5  # accounts holding points of the expiring year on 1 January
COUPONS_AT_ONCE = 500_000 / 40e6  # coupons expiring at one midnight, of people (issue 19: a campaign of 500,000)
ONE_ORG_CHECKIN = "check-in (steady state, 1 org)"
PLAN_CHECKIN = "check-in (steady state, 2 orgs)"
PER_ACTIVE_USER = {  # requests a daily active person makes a day, by measured operation
    "login (returning)": 1.5, "profile": 3.0, "profile update": 0.01, "behaviours": 1.0, PLAN_CHECKIN: 2.0,
    "check-in replayed": 0.05, "ledger page": 0.5, "ledger page by kind": 0.1, "summary": 0.5, "trees": 0.2,
    "tree adoption": 0.005, "goods": 0.5, "redemption": 0.03, "join an organization": 0.002, "public stats": 0.3,
    "partner event: WeChat steps": 1.0, "partner event: bus ride (webhook)": 0.4,
    "partner event: bank event (webhook)": 0.1,
}
# --- platforms (issue 20): one deployment serving several platforms -------------------------------------------
PLATFORMS, PLATFORM_USERS = 20, 2e6  # the plan's column of platforms: 20 platforms of 2 million users each
ON_TWO_PLATFORMS = 0.10  # of those users, the share whose person is also a user of another platform
TWO_PLATFORM_JOIN = "login (joining a second platform)"
TWO_PLATFORM_CHECKIN = "check-in (steady state, 2 orgs, a person on two platforms)"
TWO_PLATFORM_RIDE = "partner event: bus ride imported on two platforms (webhook)"
RIDE = "partner event: bus ride (webhook)"
SUMMARY_MONTHS = 3  # behaviours a person uses in a month: summary items per person-month
SUMMARY_ITEM_BYTES = 180
EXPIRING_DAYS = 2  # idempotency records live 48 hours

# --- Lambda and latency ---------------------------------------------------------------------------------
MEMORY_GB = 0.5
LATENCY_MS = {"GetItem": 4, "Query": 5, "BatchGetItem": 6, "PutItem": 6, "UpdateItem": 6, "DeleteItem": 6,
              "BatchWriteItem": 10, "TransactWriteItems": 15}
OVERHEAD_MS = 4  # routing, token check, JSON
WECHAT_MS = 60  # code2session, for logins
LOG_BYTES_PER_REQUEST = 450
PAGE_READS = ("Query", "BatchGetItem", "Scan")


def ASSUMPTIONS() -> list[tuple[str, str]]:  # noqa: N802 - a table, named like the constants it lists
    mix = ", ".join(f"{per:g} {name}" for name, per in PER_ACTIVE_USER.items())
    return [
        ("prices (us-east-1 on-demand, USD)", "0.625 per million WRU, 0.125 per million RRU, 0.25 per GB-month "
         "storage, 0.20 PITR; Lambda 0.20 per million and 0.0000166667 per GB-s; API Gateway REST 3.50 per million "
         "(tiered); logs 0.50 per GB"),
        ("daily active people, sign-ups a day", f"{DAILY_ACTIVE:.0%} and {SIGNUPS_PER_DAY:.1%} of people"),
        ("per daily active person a day", mix),
        ("peaks", f"busiest hour {PEAK_HOUR:g} x the day's mean; a minute's burst {BURST:g} x the busiest hour"),
        ("trees", f"{ADOPTING:.0%} of people have a tree in its accrual year (one accrual posting a night)"),
        ("organizations", f"{ORGS_PER_MILLION:,} per million people; an org's board is rebuilt in each minute "
         "one of its members' entries is folded"),
        ("points expiry (1 January)", f"{POINTS_DUE_SHARE:.0%} of accounts hold points that expire"),
        ("redemption expiry", f"{COUPONS_AT_ONCE:.2%} of people's coupons expire at one midnight, all of one "
         "goods: the demo catalog's refundable coupon, refunded over its `stock_shards`"),
        ("latency (modelled, ms)", ", ".join(f"{k} {v}" for k, v in LATENCY_MS.items())
         + f"; {OVERHEAD_MS} per request, {WECHAT_MS} for WeChat's code2session"),
        ("Lambda", f"{MEMORY_GB * 1024:.0f} MB, {LOG_BYTES_PER_REQUEST} log bytes per request"),
        ("platforms (the last column)", f"{PLATFORMS} platforms of {PLATFORM_USERS / 1e6:g} M users each; "
         f"{ON_TWO_PLATFORMS:.0%} of users are a person with a user on another platform too: their check-ins cost "
         "a two-platform person's, their bus rides arrive once for both users and are imported on both, and as "
         "many of the day's new users join a second platform (a join, not a first login)"),
    ]


def latency(operations: dict) -> float:
    return sum(LATENCY_MS.get(op, 5) * n for op, n in operations.items())


@dataclass
class Operation:
    name: str
    per_day: float
    read_units: float
    write_units: float  # "busy": the operation's own items and its share of a run's shared items
    alone_write_units: float
    request_write_units: float
    request_operations: dict
    items_written: float = 0
    new_bytes: float = 0
    expiring_bytes: float = 0
    items_filed: float = 0
    background: bool = False
    key_writes: dict = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        wechat = WECHAT_MS if self.name.startswith("login") else 0
        return latency(self.request_operations) + (0 if self.background else OVERHEAD_MS + wechat)


def shared_per_item(measured: dict) -> tuple[float, float, float, float]:
    """Of the spread sample's fold runs: (shared WRU, RRU, modelled ms) per inbox item, and items per run."""
    runs = measured["spread"]["fold_runs"]
    items = sum(r["folded"] for r in runs) or 1
    shared = sum(r["write_units"] - r["own_units"] for r in runs)
    return (shared / items, sum(r["read_units"] for r in runs) / items,
            sum(latency(r["operations"]) for r in runs) / items, items / max(1, sum(1 for r in runs if r["folded"])))


def operations(measured: dict, users: float, platforms: int = 1) -> list[Operation]:
    journey = {r["step"]: r for r in measured["journey"] if not r["skipped"]}
    postings = {r["step"]: r for r in measured["postings"]}
    shared_w, shared_r, _, _ = shared_per_item(measured)
    active = users * DAILY_ACTIVE
    rates = {name: active * per for name, per in PER_ACTIVE_USER.items()}
    rates["login (first time)"] = users * SIGNUPS_PER_DAY
    if platforms > 1:
        rates.update(on_two_platforms(rates))
    found = []
    for name, per_day in rates.items():
        if name in postings:
            found.append(_posting(name, postings[name], per_day, shared_w, shared_r))
        elif name in journey:
            r = journey[name]
            found.append(Operation(name, per_day, r["read_units"], r["write_units"], r["write_units"],
                                   r["write_units"], r["operations"], r["items_written"], r["new_bytes"],
                                   r["expiring_bytes"], key_writes=r.get("key_writes", {})))
    for name, r in postings.items():  # measured, but not in the day's mix (the 1-org check-in): 0 a day
        if name not in rates and r.get("kind") == "posting":
            found.append(_posting(name, r, 0, shared_w, shared_r))
    accrual = next(r for r in measured["postings"] if r.get("job") == "accrue-trees")
    op = _posting("tree accrual, per adoption (nightly)", accrual, users * ADOPTING, shared_w, shared_r)
    op.background = True
    found.append(op)
    found.extend(board_rebuild(measured, users, found))
    return found


def on_two_platforms(rates: dict[str, float]) -> dict[str, float]:
    """The day's rates moved to the operations of persons on two platforms (ON_TWO_PLATFORMS of the users): their
    check-ins; their bus rides, one event for two users, imported on both; the new users who join a second
    platform."""
    share = ON_TWO_PLATFORMS
    return {PLAN_CHECKIN: rates[PLAN_CHECKIN] * (1 - share), TWO_PLATFORM_CHECKIN: rates[PLAN_CHECKIN] * share,
            RIDE: rates[RIDE] * (1 - share), TWO_PLATFORM_RIDE: rates[RIDE] * share / 2,
            "login (first time)": rates["login (first time)"] * (1 - share),
            TWO_PLATFORM_JOIN: rates["login (first time)"] * share}


def _posting(name: str, r: dict, per_day: float, shared_w: float, shared_r: float) -> Operation:
    request, items = r["request"], r["items_filed"]
    busy = request["write_units"] + r["own_aggregation_units"] + shared_w * items
    return Operation(name, per_day, request["read_units"] + r["filed"]["read_units"] + shared_r * items,
                     min(busy, r["write_units"]), r["write_units"],
                     request["write_units"], request["operations"], r["items_written"], r["new_bytes"],
                     r["expiring_bytes"], items, key_writes=r.get("key_writes", {}))


def boards_per_minute(users: float, ops: list[Operation]) -> tuple[float, float]:
    """(the users' and orgs' boards, the org member boards) rebuilt a minute: 3 periods each; an org's board in
    each minute one of its members' entries is folded (at most every org's)."""
    entries_per_minute = sum(o.per_day * o.items_filed for o in ops) / 1440
    return 3 * 2.0, 3 * min(users / 1e6 * ORGS_PER_MILLION, entries_per_minute)


def _less(run: dict, empty: dict) -> dict:
    """A board's own part of a rebuild shard's run: the run's calls and units less those of a run with nothing
    marked (the lease, the Query of its flags)."""
    ops = {k: max(0.0, v - empty["operations"].get(k, 0)) for k, v in run["operations"].items()}
    return {"read_units": max(0.0, run["read_units"] - empty["read_units"]),
            "write_units": max(0.0, run["write_units"] - empty["write_units"]),
            "operations": {k: v for k, v in ops.items() if v}, "items_written": run["items_written"]}


def board_rebuild(measured: dict, users: float, ops: list[Operation]) -> list[Operation]:
    """The boards' rebuild a minute: the org member boards (most of them), the users' and the orgs' boards, and
    each rebuild shard's run around them, from the measured runs (bench/operations.rebuild_parts)."""
    parts, shards = measured["spread"]["rebuild_parts"], measured["jobs"]["materialize-boards"]["shards"]
    big, members = boards_per_minute(users, ops)
    empty = parts["empty shard"]
    rows = [("board rebuild, per org member board (every minute)", members * 1440,
             _less(parts["member board"], empty)),
            ("board rebuild, users' and orgs' boards (every minute)", big * 1440,
             _mean(_less(parts["users board"], empty), _less(parts["orgs board"], empty))),
            ("board rebuild, per shard run (every minute)", shards * 1440, empty)]
    return [Operation(name, per_day, r["read_units"], r["write_units"], r["write_units"], r["write_units"],
                      r["operations"], r["items_written"], background=True) for name, per_day, r in rows]


def _mean(a: dict, b: dict) -> dict:
    names = {**a["operations"], **b["operations"]}
    return {"read_units": (a["read_units"] + b["read_units"]) / 2,
            "write_units": (a["write_units"] + b["write_units"]) / 2,
            "operations": {k: (a["operations"].get(k, 0) + b["operations"].get(k, 0)) / 2 for k in names},
            "items_written": (a["items_written"] + b["items_written"]) / 2}


def api_cost(requests: float) -> float:
    cost, left = 0.0, requests
    for size, price in PRICE["api_tiers"]:
        used = min(left, size)
        cost, left = cost + used * price, left - used
        if left <= 0:
            break
    return cost


def plan(measured: dict, users: float, price_factor: float = 1.0, platforms: int = 1) -> dict:
    ops = operations(measured, users, platforms)
    api = [o for o in ops if not o.background]
    requests = sum(o.per_day for o in api)
    mean_rps = requests / 86400
    burst = PEAK_HOUR * BURST
    rru = sum(o.per_day * o.read_units for o in ops)
    wru = sum(o.per_day * o.write_units for o in ops)
    _, _, fold_ms, page_items = shared_per_item(measured)
    items_per_day = sum(o.per_day * o.items_filed for o in ops)
    gb_s = (sum(o.per_day * o.duration_ms for o in ops) + items_per_day * fold_ms) / 1000 * MEMORY_GB
    mean_ms = sum(o.per_day * o.duration_ms for o in api) / requests
    stored = next(r for r in measured["journey"] if r["step"].startswith("stored per user"))
    per_user_bytes = stored["new_bytes"] + SUMMARY_MONTHS * 12 * SUMMARY_ITEM_BYTES
    grown = sum(o.per_day * (o.new_bytes * 365 + o.expiring_bytes * EXPIRING_DAYS) for o in ops)
    storage_gb = (users * per_user_bytes + grown) / 1e9
    month = 30.4
    costs = {
        "DynamoDB requests": (rru * PRICE["rru"] + wru * PRICE["wru"]) * month,
        "DynamoDB storage + PITR (after a year)": storage_gb * (PRICE["storage_gb_month"] + PRICE["pitr_gb_month"]),
        "Lambda": requests * month * PRICE["lambda_request"] + gb_s * month * PRICE["lambda_gb_s"],
        "API Gateway": api_cost(requests * month),
        "CloudWatch Logs": requests * LOG_BYTES_PER_REQUEST / 1e9 * month * PRICE["log_gb"],
    }
    costs = {k: v * price_factor for k, v in costs.items()}
    from .hot_keys import hot_keys, nightly

    found = {
        "users": users, "platforms": platforms, "daily_active": users * DAILY_ACTIVE, "requests_per_day": requests,
        "mean_rps": mean_rps,
        "peak_rps": mean_rps * PEAK_HOUR, "burst_rps": mean_rps * burst,
        "burst_rru_s": rru / 86400 * burst, "burst_wru_s": wru / 86400 * burst, "storage_gb_year": storage_gb,
        "concurrency_peak": mean_rps * burst * mean_ms / 1000, "costs": costs, "cost_month": sum(costs.values()),
        "operations": ops, "page_items": page_items, "items_per_s_burst": items_per_day / 86400 * burst,
        "items_per_day": items_per_day,
    }
    found["hot_keys"] = hot_keys(measured, found)
    found["nightly"] = nightly(measured, found)
    return found
