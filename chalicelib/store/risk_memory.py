"""The risk rules' memory (domain/guards_risk.py; docs/risk.md rules 4 and 5) in the `counters` table, each item
purged by TTL (`purge_at`) once the window it serves has passed:

- "staff-person#{P#}{staff}#{member}": the days a staff member credited one person, one attribute per day
  ("dYYYYMMDD" = "YYYY-MM-DD"), and `rev` (ADDed by every write). Written in the credit's transaction, which
  also removes the days that fell out of the window (the usual write: the window's length of days before it;
  the exact one: those it read), so the item holds about a window of days at most.
- "staff-ceiling#{P#}{staff}": `days`, the string set of the days the staff member's credits were refused at
  the merchant's staff ceiling; one UpdateItem on the refusal path (ADD: a day is kept once, whatever the retries),
  and one more when it finds days that fell out of the window (DELETE them).
- "ring#{P#}{goods}#{staff}": `young`, the list of young accounts' redemptions of the goods the staff member
  verified ({"u", "at", "age", "f"}), and `rev`. Written in the verification's transaction.
`{P#}` is "P#" for platform P's staff and goods (docs/platforms.md), nothing for `default`. The items are the
counters table's (store/market.LimitCounter: the access declared on it), their attributes written as plain values.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from ..domain import clock
from ..domain.guards_risk import RingEntry, RingRemembered, StaffDaysRemembered
from .access import access, on
from .failures import error_code, raise_unavailable
from .market import LimitCounter
from .tx import Tx, connection

_DESERIALIZE = TypeDeserializer().deserialize


def _purge(day: date, days: int) -> int:
    return int(datetime.combine(day + timedelta(days=days + 1), time(), clock.SHANGHAI).timestamp())


def _day_name(day: date) -> str:
    return "d" + day.strftime("%Y%m%d")


@access(on(LimitCounter, "UpdateItem"))
def stage_staff_days(tx: Tx, label: str, guard: StaffDaysRemembered) -> None:
    """The credit's day. Usual shape: on condition that today is kept already or no other day of the window is
    (the rule cannot fire), removing the days of the window before (so the item stays small); exact shape: on the
    `rev` read, removing the days outside the window it read (`stale`)."""
    today = _day_name(guard.day)
    names = {"#s": today, "#p": "purge_at", "#r": "rev"}
    values = {":today": {"S": guard.day.isoformat()}, ":p": {"N": str(_purge(guard.day, guard.window_days))},
              ":one": {"N": "1"}}
    if guard.rev is None:
        others = []
        for back in range(1, guard.window_days):
            names[f"#o{back}"] = _day_name(guard.day - timedelta(days=back))
            others.append(f"attribute_not_exists(#o{back})")
        condition = "attribute_exists(#s) OR (" + " AND ".join(others) + ")"
        stale = [_day_name(guard.day - timedelta(days=back))
                 for back in range(guard.window_days, 2 * guard.window_days)]
    else:
        stale = [_day_name(day) for day in guard.stale]
        if guard.rev:
            condition, values[":rev"] = "#r = :rev", {"N": str(guard.rev)}
        else:
            condition = "attribute_not_exists(#r)"
    names.update({f"#x{n}": name for n, name in enumerate(stale)})
    remove = (" REMOVE " + ", ".join(f"#x{n}" for n in range(len(stale)))) if stale else ""
    tx.raw("Update", label, {"TableName": LimitCounter.Meta.table_name, "Key": {"key": {"S": guard.key}},
                             "UpdateExpression": "SET #s = :today, #p = :p ADD #r :one" + remove,
                             "ConditionExpression": condition, "ExpressionAttributeNames": names,
                             "ExpressionAttributeValues": values})


def _ring_entry(entry: RingEntry) -> dict:
    return {"M": {"u": {"S": entry.user_id}, "at": {"S": clock.iso(entry.redeemed_at)},
                  "age": {"N": str(entry.age_s)}, "f": {"BOOL": entry.flagged}}}


@access(on(LimitCounter, "UpdateItem"))
def stage_ring(tx: Tx, label: str, guard: RingRemembered) -> None:
    """Usual shape: the entry appended while fewer than `room` are kept; exact shape: the list as `kept`."""
    names = {"#y": "young", "#p": "purge_at", "#r": "rev"}
    purge = guard.entry.redeemed_at + timedelta(hours=guard.window_hours, days=1)
    values = {":p": {"N": str(int(purge.timestamp()))}, ":one": {"N": "1"}}
    if guard.kept is None:
        update = "SET #y = list_append(if_not_exists(#y, :empty), :new), #p = :p ADD #r :one"
        values.update({":empty": {"L": []}, ":new": {"L": [_ring_entry(guard.entry)]},
                       ":room": {"N": str(guard.room)}})
        condition = "attribute_not_exists(#y) OR size(#y) < :room"
    else:
        update = "SET #y = :kept, #p = :p ADD #r :one"
        values[":kept"] = {"L": [_ring_entry(entry) for entry in guard.kept]}
        if guard.rev:
            condition, values[":rev"] = "#r = :rev", {"N": str(guard.rev)}
        else:
            condition = "attribute_not_exists(#r)"
    tx.raw("Update", label, {"TableName": LimitCounter.Meta.table_name, "Key": {"key": {"S": guard.key}},
                             "UpdateExpression": update, "ConditionExpression": condition,
                             "ExpressionAttributeNames": names, "ExpressionAttributeValues": values})


def _read(key: str) -> dict:
    try:
        found = connection().client.get_item(TableName=LimitCounter.Meta.table_name, Key={"key": {"S": key}},
                                             ConsistentRead=True)
    except (ClientError, BotoCoreError) as exc:
        raise_unavailable(exc)
    return {name: _DESERIALIZE(value) for name, value in (found.get("Item") or {}).items()}


@access(on(LimitCounter, "GetItem"))
def staff_days(key: str) -> tuple[list[date], int]:
    """The days kept for a staff member and a person, and the item's `rev` (0: none yet). One consistent GetItem."""
    item = _read(key)
    days = [date.fromisoformat(value) for name, value in item.items() if name[:1] == "d" and name[1:].isdigit()]
    # every day kept, the stale ones included: the exact write removes what falls outside the window
    return days, int(item.get("rev") or 0)


@access(on(LimitCounter, "GetItem"))
def ring_entries(key: str) -> tuple[list[RingEntry], int]:
    """The kept redemptions of a goods verified by a staff member, and `rev`. One consistent GetItem."""
    item = _read(key)
    kept = [RingEntry(e["u"], clock.parse_iso(e["at"]), int(e["age"]), bool(e.get("f"))) for e in item.get("young", [])]
    return kept, int(item.get("rev") or 0)


@access(on(LimitCounter, "UpdateItem"))
def remember_ceiling_refusal(key: str, day: date, window_days: int) -> list[date]:
    """The refusal's day added to the staff member's (once per day: ADD to a set); the days kept, after it."""
    try:
        found = connection().client.update_item(
            TableName=LimitCounter.Meta.table_name, Key={"key": {"S": key}},
            UpdateExpression="ADD #d :day SET #p = :p", ExpressionAttributeNames={"#d": "days", "#p": "purge_at"},
            ExpressionAttributeValues={":day": {"SS": [day.isoformat()]}, ":p": {"N": str(_purge(day, window_days))}},
            ReturnValues="ALL_NEW")
    except (ClientError, BotoCoreError) as exc:
        raise_unavailable(exc)
    return sorted(date.fromisoformat(d) for d in _DESERIALIZE(found["Attributes"]["days"]))


@access(on(LimitCounter, "UpdateItem"))
def mark_ring(key: str, rev: int, kept: tuple[RingEntry, ...]) -> bool:
    """The ring's list with its flagged accounts marked, if the item is still at `rev`; False when not."""
    try:
        connection().client.update_item(
            TableName=LimitCounter.Meta.table_name, Key={"key": {"S": key}},
            UpdateExpression="SET #y = :kept ADD #r :one", ConditionExpression="#r = :rev",
            ExpressionAttributeNames={"#y": "young", "#r": "rev"},
            ExpressionAttributeValues={":kept": {"L": [_ring_entry(e) for e in kept]}, ":one": {"N": "1"},
                                       ":rev": {"N": str(rev)}})
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise_unavailable(exc)
    except BotoCoreError as exc:
        raise_unavailable(exc)
    return True


@access(on(LimitCounter, "UpdateItem"))
def forget_ceiling_days(key: str, stale: list[date]) -> None:
    """The refusal days that fell out of the window, deleted from the set (only when the refusal found some)."""
    try:
        connection().client.update_item(
            TableName=LimitCounter.Meta.table_name, Key={"key": {"S": key}}, UpdateExpression="DELETE #d :stale",
            ExpressionAttributeNames={"#d": "days"}, ExpressionAttributeValues={":stale": {"SS": [
                day.isoformat() for day in stale]}})
    except (ClientError, BotoCoreError) as exc:
        raise_unavailable(exc)


class RiskMemory:
    """What the use cases read and write of the memory outside a transaction (tests/unit/fakes_collection.py)."""

    ACCESS = (staff_days, ring_entries, mark_ring, remember_ceiling_refusal, forget_ceiling_days)
    staff_days = staticmethod(staff_days)
    ring_entries = staticmethod(ring_entries)
    mark_ring = staticmethod(mark_ring)
    remember_ceiling_refusal = staticmethod(remember_ceiling_refusal)
    forget_ceiling_days = staticmethod(forget_ceiling_days)
