"""The ledger as it is read: a page of one person's entries, their month summaries, and a stored entry as the
domain's LedgerLine (writes are store/repositories.Ledger's, inside a posting). Each read is one Query."""
from __future__ import annotations

from ..domain.platforms import DEFAULT
from ..domain.posting import LedgerLine
from ..domain.results_ledger import LedgerPage, MonthRow
from . import cursor as cursors
from .access import on
from .models import BehaviorMonth, LedgerEntry

_FIELDS = tuple(LedgerLine.__dataclass_fields__)
# A page reads only the attributes the API shows: an entry's `inputs` (the methodology's inputs, often the
# largest attribute) and its index keys cost no read capacity less, but parsing them was most of the route's time
# (docs/performance.md, session 8).
_PAGE_FIELDS = ("entry_id", "at", "kind", "points", "carbon_mg", "balance_after", "source", "behavior", "ref",
                "methodology_id", "methodology_version", "counted_via")  # what raw_line reads
_SHOWN = {f"#f{i}": name for i, name in enumerate(_PAGE_FIELDS)}
_PROJECTION = ", ".join(_SHOWN)


def line(entry: LedgerEntry) -> LedgerLine:
    """A stored entry, read by PynamoDB, as the domain's."""
    values = entry.attribute_values
    return LedgerLine(**{name: values.get(name) for name in _FIELDS})


def raw_line(item: dict) -> LedgerLine:
    """The API's fields of a ledger item as DynamoDB returns it (no PynamoDB model: a third of the route's
    time went to building them, docs/performance.md)."""
    def text(name: str) -> str | None:
        value = item.get(name)
        return value.get("S") if value else None

    return LedgerLine(text("entry_id"), text("at"), text("kind"), int(item["points"]["N"]),
                      int(item["carbon_mg"]["N"]), int(item["balance_after"]["N"]), text("source"),
                      text("behavior"), text("ref"), text("methodology_id"), text("methodology_version"),
                      counted_via=text("counted_via"))


class LedgerReads:
    ACCESS = (on(BehaviorMonth, "Query"), on(LedgerEntry, "Query"), on(LedgerEntry, "Query", index="by_kind"))

    def page(self, user_id: str, kind: str | None, limit: int, cursor: str | None,
             platform: str = DEFAULT) -> LedgerPage:
        """Newest first, one Query (the `by_kind` index for a kind); `cursor`: the opaque one a page of this
        list on `platform` gave (store/cursor.py)."""
        context = f"ledger|{user_id}|{kind or ''}"
        start = cursors.decode(cursor, context, platform)
        request = {"TableName": LedgerEntry.Meta.table_name, "KeyConditionExpression": "#k = :k",
                   "ExpressionAttributeNames": {"#k": "user_kind" if kind else "user_id", **_SHOWN},
                   "ProjectionExpression": _PROJECTION,
                   "ExpressionAttributeValues": {":k": {"S": f"{user_id}#{kind}" if kind else user_id}},
                   "ScanIndexForward": False, "Limit": limit}
        if kind:
            request["IndexName"] = LedgerEntry.by_kind.Meta.index_name
        if start:
            request["ExclusiveStartKey"] = start
        found = LedgerEntry._get_connection().connection.client.query(**request)
        lines = [raw_line(item) for item in found.get("Items", ())]
        return LedgerPage(lines, cursors.encode(found.get("LastEvaluatedKey"), context, platform))

    def months(self, user_id: str, prefix: str) -> list[MonthRow]:
        """The month summaries whose period starts with `prefix` ("2026-05", "2026", "" for all): one Query."""
        condition = BehaviorMonth.period.startswith(prefix) if prefix else None
        rows = []
        for row in BehaviorMonth.query(user_id, range_key_condition=condition):
            month, _, code = row.period.partition("#")
            rows.append(MonthRow(month, code, int(row.events), int(row.carbon_mg), int(row.points)))
        return rows
