"""Reading the caller's ledger and summary: each one DynamoDB Query."""
from __future__ import annotations

from ..domain import clock, numbers
from ..domain.equivalents import equivalents
from ..errors import ValidationError
from ..store import cursor as cursors
from ..store.models import BehaviorMonth, LedgerEntry
from . import catalog
from .posting import carbon_g
from .tokens import Caller

KINDS = ("earn", "spend", "refund", "adjust", "accrual", "expire")
PERIODS = ("month", "year", "all")
NAMES = {"tree_uptake": "认养树木固碳"}  # summary codes that are not catalog behaviours (services/accrual.py)


def parse_limit(raw: str | None) -> int:
    """`?limit=`: 1..100 in ASCII digits (domain/numbers.py: no '²', '３', sign, space or 5,000 nines)."""
    if raw is None:
        return 20
    limit = numbers.ascii_int(raw, 3)
    if limit is None or not 1 <= limit <= 100:
        raise ValidationError("limit 须为 1 到 100 的整数", field="limit", reason="range", minimum=1, maximum=100,
                              rule="limit: a whole number from 1 to 100 in ASCII digits (default 20)")
    return limit


def page(caller: Caller, query: dict) -> dict:
    """GET /v1/me/ledger: newest first, `kind` filter served by the by_kind index."""
    limit = parse_limit(query.get("limit"))
    kind = query.get("kind")
    if kind is not None and kind not in KINDS:
        raise ValidationError("kind 取值无效", field="kind", allowed=list(KINDS))
    context = f"ledger|{caller.user_id}|{kind or ''}"
    start = cursors.decode(query.get("cursor"), context)
    # The page is read as raw items with botocore and shaped straight into JSON: building a PynamoDB model per
    # entry cost a third of the route's time (docs/performance.md). Still one Query, newest first.
    request = {"TableName": LedgerEntry.Meta.table_name, "KeyConditionExpression": "#k = :k",
               "ExpressionAttributeNames": {"#k": "user_kind" if kind else "user_id"},
               "ExpressionAttributeValues": {":k": {"S": f"{caller.user_id}#{kind}" if kind else caller.user_id}},
               "ScanIndexForward": False, "Limit": limit}
    if kind:
        request["IndexName"] = LedgerEntry.by_kind.Meta.index_name
    if start:
        request["ExclusiveStartKey"] = start
    page = LedgerEntry._get_connection().connection.client.query(**request)
    items = [raw_entry_json(item) for item in page.get("Items", ())]
    return {"items": items, "next_cursor": cursors.encode(page.get("LastEvaluatedKey"), context)}


def raw_entry_json(item: dict) -> dict:
    """entry_json (services/posting.py) of a ledger item as DynamoDB returns it."""
    def text(name: str) -> str | None:
        value = item.get(name)
        return value.get("S") if value else None

    methodology_id = text("methodology_id")
    return {
        "id": text("entry_id"), "at": text("at"), "kind": text("kind"), "points": int(item["points"]["N"]),
        "carbon_g": carbon_g(int(item["carbon_mg"]["N"])), "behavior": text("behavior"), "source": text("source"),
        "ref": text("ref"),
        "methodology": {"id": methodology_id, "version": text("methodology_version")} if methodology_id else None,
        "balance_after": int(item["balance_after"]["N"]),
    }


def summary(caller: Caller, period: str | None) -> dict:
    """GET /v1/me/summary: by behaviour, by month, and equivalents a person understands."""
    period = period or "month"
    if period not in PERIODS:
        raise ValidationError("period 须为 month、year 或 all", field="period")
    today = clock.business_day(clock.now()).isoformat()
    prefix = {"month": today[:7], "year": today[:4], "all": ""}[period]
    condition = BehaviorMonth.period.startswith(prefix) if prefix else None
    by_behavior: dict[str, list[int]] = {}
    by_month: dict[str, list[int]] = {}
    for row in BehaviorMonth.query(caller.user_id, range_key_condition=condition):
        month, _, code = row.period.partition("#")
        for bucket in (by_behavior.setdefault(code, [0, 0, 0]), by_month.setdefault(month, [0, 0, 0])):
            bucket[0] += int(row.events)
            bucket[1] += int(row.carbon_mg)
            bucket[2] += int(row.points)
    rules = catalog.behaviors()
    total_mg = sum(v[1] for v in by_month.values())
    total_g = carbon_g(total_mg)
    return {
        "period": period,
        "carbon_g": total_g,
        "points": sum(v[2] for v in by_month.values()),
        "by_behavior": [
            {"behavior": code, "name": rules[code].name if code in rules else NAMES.get(code, code), "count": v[0],
             "carbon_g": carbon_g(v[1]), "points": v[2]}
            for code, v in sorted(by_behavior.items(), key=lambda kv: -kv[1][1])],
        "by_month": [{"month": month, "carbon_g": carbon_g(v[1]), "points": v[2]}
                     for month, v in sorted(by_month.items())],
        "equivalents": equivalents(total_mg)._asdict(),
    }
