"""The capacity plan: measured cost per operation (infra/aws/journey.py) x assumed usage -> requests,
request units, items, storage, Lambda concurrency and money for 1, 10 and 40 million users.

    python -m infra.aws.capacity [--users 1e6 1e7 4e7] [--price-factor 1.0]   # prints docs/capacity.md's tables

Every assumption is a named constant below, so the plan is re-run, not re-derived, when usage is known
or a feature changes what an operation costs. Prices: us-east-1 on-demand list prices (USD); multiply
with --price-factor for another region.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass

# --- prices (us-east-1, on-demand, USD) ---------------------------------------------------------------
PRICE = {
    "wru": 0.625 / 1e6, "rru": 0.125 / 1e6,  # DynamoDB on-demand write / read request unit
    "storage_gb_month": 0.25, "pitr_gb_month": 0.20,  # table storage, continuous backups
    "lambda_request": 0.20 / 1e6, "lambda_gb_s": 0.0000166667,  # x86_64
    "api_tiers": ((333e6, 3.50 / 1e6), (667e6, 2.80 / 1e6), (19e9, 2.38 / 1e6), (math.inf, 1.51 / 1e6)),
    "log_gb": 0.50,  # CloudWatch Logs ingestion
}

# --- usage (assumptions) -------------------------------------------------------------------------------
DAILY_ACTIVE = 0.20  # of registered users, on an average day
SIGNUPS_PER_DAY = 0.002  # new users a day, of registered users
PEAK_HOUR = 3.0  # busiest hour's rate / the day's mean rate
BURST = 2.0  # a minute's spike over the busiest hour (a push, a campaign)
ADOPTING = 0.05  # registered users with a tree in its accrual year: one accrual posting a day each
PARTNER_EVENT = "partner event (steps, ride, bank)"  # not measured: estimated as a check-in plus its extras
AGGREGATION = "stream aggregation, per ledger entry (background)"
# Per ledger entry of a person in one organization, when the fold's batch holds no other entry of theirs (an
# upper bound: histograms, counters and board markers are shared by every entry of a batch). Not measured:
# the journey does not run the stream handlers and the fold yet. Write units, item by item (services/fold.py):
AGGREGATION_WRITES = {
    "inbox put, and its `pending` index copy (stream handler, PutItem)": 1 + 1,
    "inbox update in the fold's transaction: `pending` removed (index copy deleted), expiry set": 2 + 1,
    "3 period totals of the person: rewritten, `ranking` key changes (index delete + put)": 3 * (2 + 2),
    "3 member totals in the org: the same": 3 * (2 + 2),
    "3 partial sums of the org (ADD), `ranking` key changes": 3 * (2 + 2),
    "6 rank histograms rewritten (users and org-{id}, 3 periods)": 6 * 2,
    "the shard's stats counter and active-day counter": 2 * 2,
    "9 board markers under `dirty#{shard}`, once per run (users, org-{id}, orgs x 3 periods; BatchWriteItem)": 9 * 1,
}
# Reads: the pending page (Query), the state (totals, histograms, counters: BatchGetItem, each item rounded
# alone, consistent) and the person's orgs (a consistent BatchGetItem of the account).
AGGREGATION_ESTIMATE = {"calls": 6, "read_units": 18.0, "write_units": float(sum(AGGREGATION_WRITES.values())),
                        "items_written": 28, "new_bytes": 0, "expiring_bytes": 0,
                        "operations": {"Query": 1, "BatchGetItem": 2, "PutItem": 1, "TransactWriteItems": 1,
                                       "BatchWriteItem": 1}}
BACKGROUND = ("tree accrual (scheduled)", AGGREGATION)
POSTINGS = ("check-in", "tree adoption", "redemption", "partner event (steps, ride, bank)", "tree accrual (scheduled)")
PER_ACTIVE_USER = {  # requests a daily active user makes a day, by measured step
    "login (returning)": 1.5, "profile": 3.0, "profile update": 0.01, "behaviours": 1.0, "check-in": 2.0,
    "check-in replayed": 0.05, "ledger page": 0.5, "ledger page by kind": 0.1, "summary": 0.5, "trees": 0.2,
    "tree adoption": 0.005, "goods": 0.5, "redemption": 0.03, "join an organization": 0.002, "public stats": 0.3,
    PARTNER_EVENT: 1.5,
}
ENTRY_SUMMARY_MONTHS = 3  # behaviours a person uses in a month: summary items per user-month
SUMMARY_ITEM_BYTES = 180  # a summaries item (user, "YYYY-MM#behaviour", 3 numbers) with its overhead
EXPIRING_DAYS = 2  # idempotency records live 48 hours

# --- Lambda (assumptions) -----------------------------------------------------------------------------
MEMORY_GB = 0.5
LATENCY_MS = {"GetItem": 4, "Query": 5, "BatchGetItem": 6, "PutItem": 6, "UpdateItem": 6, "DeleteItem": 6,
              "BatchWriteItem": 10, "TransactWriteItems": 15}
OVERHEAD_MS = 4  # routing, token check, JSON
WECHAT_MS = 60  # code2session, for logins
LOG_BYTES_PER_REQUEST = 450  # START/END/REPORT lines and one warning in a hundred


@dataclass
class Operation:
    name: str
    per_day: float
    calls: float
    read_units: float
    write_units: float
    items_written: float
    new_bytes: float
    expiring_bytes: float
    operations: dict
    estimated: bool = False

    @property
    def duration_ms(self) -> float:
        calls = sum(LATENCY_MS.get(op, 5) * n for op, n in self.operations.items())
        return OVERHEAD_MS + calls + (WECHAT_MS if self.name.startswith("login") else 0)


def operations(rows: list[dict], users: float) -> list[Operation]:
    """Measured steps at their daily rate; unmeasured feature steps as a check-in-shaped posting."""
    measured = {r["step"]: r for r in rows if not r["skipped"]}
    posting = measured["check-in"]
    active = users * DAILY_ACTIVE
    rates = {name: active * per for name, per in PER_ACTIVE_USER.items()}
    rates["login (first time)"] = users * SIGNUPS_PER_DAY
    rates["tree accrual (scheduled)"] = users * ADOPTING
    postings = sum(rate for name, rate in rates.items() if name in POSTINGS)
    rates[AGGREGATION] = postings
    found = []
    for name, per_day in rates.items():
        row, estimated = measured.get(name), False
        if name == AGGREGATION:
            row, estimated = AGGREGATION_ESTIMATE, True
        elif row is None:
            row, estimated = dict(posting), True
            if name == PARTNER_EVENT:  # the event's seen-marker put, and one consistent BatchGetItem
                row.update(read_units=row["read_units"] + 4, write_units=row["write_units"] + 2,
                           calls=row["calls"] + 1, new_bytes=row["new_bytes"] + 250,
                           operations={**row["operations"], "BatchGetItem": 1})
        found.append(Operation(name, per_day, row["calls"], row["read_units"], row["write_units"],
                               row["items_written"], row["new_bytes"], row["expiring_bytes"], row["operations"],
                               estimated))
    return found


def api_cost(requests: float) -> float:
    cost, left = 0.0, requests
    for size, price in PRICE["api_tiers"]:
        used = min(left, size)
        cost, left = cost + used * price, left - used
        if left <= 0:
            break
    return cost


def plan(rows: list[dict], users: float, price_factor: float = 1.0) -> dict:
    ops = operations(rows, users)
    api_ops = [o for o in ops if o.name not in BACKGROUND]
    requests = sum(o.per_day for o in api_ops)
    mean_rps = requests / 86400
    rru = sum(o.per_day * o.read_units for o in ops)
    wru = sum(o.per_day * o.write_units for o in ops)
    gb_s = sum(o.per_day * o.duration_ms / 1000 * MEMORY_GB for o in ops)
    mean_ms = sum(o.per_day * o.duration_ms for o in api_ops) / requests
    stored = next(r for r in rows if r["step"].startswith("stored per user"))
    per_user_bytes = stored["new_bytes"] + ENTRY_SUMMARY_MONTHS * 12 * SUMMARY_ITEM_BYTES
    grown = sum(o.per_day * (o.new_bytes * 365 + o.expiring_bytes * EXPIRING_DAYS) for o in ops)
    storage_gb = (users * per_user_bytes + grown) / 1e9
    month = 30.4
    costs = {
        "DynamoDB requests": (rru * PRICE["rru"] + wru * PRICE["wru"]) * month,
        "DynamoDB storage + PITR (after a year)": storage_gb * (PRICE["storage_gb_month"] + PRICE["pitr_gb_month"]),
        "Lambda": (requests + users * ADOPTING / 100) * month * PRICE["lambda_request"]
        + gb_s * month * PRICE["lambda_gb_s"],
        "API Gateway": api_cost(requests * month),
        "CloudWatch Logs": requests * LOG_BYTES_PER_REQUEST / 1e9 * month * PRICE["log_gb"],
    }
    costs = {k: v * price_factor for k, v in costs.items()}
    return {
        "users": users, "daily_active": users * DAILY_ACTIVE, "requests_per_day": requests, "mean_rps": mean_rps,
        "peak_rps": mean_rps * PEAK_HOUR, "burst_rps": mean_rps * PEAK_HOUR * BURST,
        "rru_per_day": rru, "wru_per_day": wru, "peak_rru_s": rru / 86400 * PEAK_HOUR * BURST,
        "peak_wru_s": wru / 86400 * PEAK_HOUR * BURST,
        "items_per_year": sum(o.per_day * o.items_written for o in ops) * 365, "storage_gb_year": storage_gb,
        "mean_ms": mean_ms, "concurrency_peak": mean_rps * PEAK_HOUR * BURST * mean_ms / 1000,
        "costs": costs, "cost_month": sum(costs.values()), "operations": ops,
    }


def per_million(op: Operation, price_factor: float = 1.0) -> float:
    """USD per million of one operation: DynamoDB + Lambda + API Gateway (first tier)."""
    dynamo = op.read_units * PRICE["rru"] + op.write_units * PRICE["wru"]
    lam = PRICE["lambda_request"] + op.duration_ms / 1000 * MEMORY_GB * PRICE["lambda_gb_s"]
    api = 0 if op.name in BACKGROUND else PRICE["api_tiers"][0][1]
    return (dynamo + lam + api) * 1e6 * price_factor


def markdown(rows: list[dict], scales: list[float], price_factor: float = 1.0) -> str:
    plans = [plan(rows, users, price_factor) for users in scales]
    heads = " | ".join(f"{p['users'] / 1e6:g} M users" for p in plans)
    lines = [f"| | {heads} |", "|---|" + "---:|" * len(plans)]

    def row(label: str, key: str, fmt: str) -> None:
        lines.append(f"| {label} | " + " | ".join(format(p[key], fmt) for p in plans) + " |")

    row("daily active users", "daily_active", ",.0f")
    row("API requests a day", "requests_per_day", ",.0f")
    lines.append("| mean / busiest hour / burst requests per s | " + " | ".join(
        f"{p['mean_rps']:,.0f} / {p['peak_rps']:,.0f} / {p['burst_rps']:,.0f}" for p in plans) + " |")
    row("read request units a day", "rru_per_day", ",.0f")
    row("write request units a day", "wru_per_day", ",.0f")
    lines.append("| burst RRU/s / WRU/s (all tables) | " + " | ".join(
        f"{p['peak_rru_s']:,.0f} / {p['peak_wru_s']:,.0f}" for p in plans) + " |")
    row("item writes a year", "items_per_year", ",.0f")
    row("storage after a year, GB", "storage_gb_year", ",.0f")
    row("mean Lambda duration, ms", "mean_ms", ".0f")
    row("Lambda concurrency at the burst", "concurrency_peak", ",.0f")
    for name in plans[0]["costs"]:
        lines.append(f"| {name}, USD/month | " + " | ".join(f"{p['costs'][name]:,.0f}" for p in plans) + " |")
    row("**total, USD/month**", "cost_month", ",.0f")
    lines.append("| per registered user, USD/month | " + " | ".join(
        f"{p['cost_month'] / p['users']:.4f}" for p in plans) + " |")
    ops = plans[0]["operations"]
    lines += ["", "| operation | DynamoDB calls | RRU | WRU | items written | Lambda ms | USD per million |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for op in sorted(ops, key=lambda o: o.name):
        calls = ", ".join(f"{n} {k}" for k, n in sorted(op.operations.items())) or "none (cached)"
        lines.append(f"| {op.name}{' (est.)' if op.estimated else ''} | {calls} | {op.read_units:g} | "
                     f"{op.write_units:g} | {op.items_written:g} | {op.duration_ms:.0f} | "
                     f"{per_million(op, price_factor):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.capacity", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=float, nargs="+", default=[1e6, 1e7, 4e7])
    parser.add_argument("--price-factor", type=float, default=1.0)
    parser.add_argument("--measured", help="a JSON file written by `python -m infra.aws.journey` (else measure now)")
    args = parser.parse_args(argv)
    if args.measured:
        with open(args.measured, encoding="utf-8") as f:
            rows = json.load(f)
    else:
        import uuid

        from .journey import as_rows, run
        from .local_stack import measuring_stack

        with measuring_stack() as (client, app, grant):
            rows = as_rows(run(client, app, "o-capacity-" + uuid.uuid4().hex[:8], grant))
    print(markdown(rows, args.users, args.price_factor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
