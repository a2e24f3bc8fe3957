"""Models of the aggregation: what leaderboards, organizations and the public stats are read from.

Nothing here is written by a request that awards or spends. Ledger entries (and logins) reach these
tables from DynamoDB Streams: the stream handler files each record once into the inbox, and the fold
applies inbox items shard by shard. Every item below has one writer, the fold of its shard (org member
counts excepted: a join adds them), so the fold may read an item and write it back on a condition.
"""
from __future__ import annotations

import json
import uuid

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain.platforms import DEFAULT
from ..domain.ranking import rebuild_shard
from .models import table_meta


class CompactJSONAttribute(JSONAttribute):
    """JSON without the spaces of json.dumps' default separators (items are billed by the byte); reads either."""

    def serialize(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class PendingIndex(GlobalSecondaryIndex):
    """GSI `pending` — pk `pending` = "s07" (the user's shard), sk `key`: inbox items not yet folded.
    Sparse: the fold removes `pending` in the transaction that applies the item."""

    class Meta:
        index_name = "pending"
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)


class InboxItem(Model):
    """agg_inbox — pk `key`: "e#{user_id}#{entry_id}" (a ledger entry), "l#{user_id}#{day}" (a login that
    day), "r#{user_id}" (a first login). Put with attribute_not_exists(key), so a stream record delivered
    twice is filed once. A pending item never expires; once folded it is kept 3 days (streams keep records
    24 hours), so a late re-delivery still finds it, then `expires_at` (TTL) removes it."""

    Meta = table_meta("agg_inbox")
    key = UnicodeAttribute(hash_key=True)
    pending = UnicodeAttribute(null=True)
    what = UnicodeAttribute()  # "entry" | "login" | "register"
    user_id = UnicodeAttribute()
    at = UnicodeAttribute()
    day = UnicodeAttribute()
    kind = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    points = NumberAttribute(default=0)
    carbon_mg = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)
    by_shard = PendingIndex()


class RankingIndex(GlobalSecondaryIndex):
    """GSI `ranking` — pk `board_shard` = "{board}#{period}#{shard}", sk `value`: one shard of one board,
    highest first. SHARDS partitions per board and period, so no index partition takes every write."""

    class Meta:
        index_name = "ranking"
        projection = KeysOnlyProjection()

    board_shard = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(range_key=True)


class Total(Model):
    """agg_totals — pk `owner`, sk `period` ("w2026-W48", "m2026-11", "all", "live" or "members"); `value` is the
    number.

    - "u#{user_id}", "live"  the person's tally (domain/tallies.py): `week`, `month` (the period keys it holds) and
                            `boards` {board: [week mg, month mg, all-time mg]} on "users" and each "org-{id}" they
                            count on (a user of platform P: "P#users", "P#org-{id}"); not in the ranking index (a
                            board's top comes from its shards' leaders, ShardedCounter "hist#..."). Rewritten by the
                            fold on `rev`.
    - "u#{user_id}", "w2026-W47" (a past week or month) the tally's archive of that period: `boards` {board: mg},
                            `value` the users board's ("users" or "P#users"); written when the tally rolls over
                            and by late entries
    - legacy, before the tally (read while a person has no tally yet, and for past periods; never written now):
      "u#{user_id}", period  a person's carbon (mg) in a period            board_shard "users#{period}#{s}"
      "m#{org_id}#{user_id}", period a member's carbon counted for the org board_shard "org-{org_id}#{period}#{s % 4}"
    - "o#{org_id}#{p:02d}"  part p (shard % PARTS) of an org's carbon in a period board_shard "orgparts#{period}#{p}"
    - "o#{org_id}#{p:02d}", "members": part p of the org's member count    board_shard "orgmembers#{p}"
    - "org#{org_id}"        an org's carbon in a period, summed by the orgs board    board_shard "orgrows#{period}#{q}"
                            job (on "all" also `members`); "members": its member count, "orgrowmembers#{q}"
                            (q: stable_shard(org_id, PARTS))
    `rev` counts the fold's writes of an item; the fold writes on `rev` being what it read.
    """

    Meta = table_meta("agg_totals")
    owner = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)
    board_shard = UnicodeAttribute(null=True)
    rev = NumberAttribute(default=0)
    members = NumberAttribute(null=True)
    week = UnicodeAttribute(null=True)
    month = UnicodeAttribute(null=True)
    boards = CompactJSONAttribute(null=True)
    ranking = RankingIndex()


class ShardedCounter(Model):
    """agg_counters — pk `name`, sk `part`: what the fold keeps per shard. The counters and histograms are kept in
    parts, one per shard, summed on read with one BatchGetItem; the per-shard bookkeeping lives beside them. Each
    kind is read and written through a named operation of store/fold_store.py or store/repositories_boards.py
    (the stream positions: admin/streams.py, the local stream reader):

    - "stats", "s07"                 registered, points_issued, carbon_mg, adoptions of shard 7's users of `default`
                                     (and union_users, unions: the persons count, below)
    - "active#2026-11-23", "s07"     `value`: shard 7's distinct active users of `default` that day
    - "P#stats", "s07"; "P#active#2026-11-23", "s07"  the same of platform P's users (`stats_name`, `active_name`);
                                     `union_users`, `unions`: users of P in a union item, union items filed under a
                                     user of P (persons of the deployment = sum of registered - union_users + unions)
    - "hist#{board}#{period}", "s07" `counts`: {bucket: users} of shard 7's totals on that board ("users", "org-{id}",
                                     P's "P#users", "P#org-{id}"); `top`: {user_id: mg}, the shard's leaders there
                                     (its TOP highest totals: domain/tallies.promote)
    - "days#{user_id}", "active"     `days`: the person's active days among the last three (the per-day marker)
    - "stream#{stream_arn}", shard id  `position`, `done`: how far `python -m admin run-jobs` read a local stream
    - "lease#fold", "s07"            `owner`, `lease_until`: the fold worker that holds shard 7 (store/fold_store.Lease)
    """

    Meta = table_meta("agg_counters")
    name = UnicodeAttribute(hash_key=True)
    part = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)
    registered = NumberAttribute(default=0)
    points_issued = NumberAttribute(default=0)
    carbon_mg = NumberAttribute(default=0)
    adoptions = NumberAttribute(default=0)
    union_users = NumberAttribute(null=True)
    unions = NumberAttribute(null=True)
    counts = CompactJSONAttribute(null=True)
    top = CompactJSONAttribute(null=True)
    days = CompactJSONAttribute(null=True)
    rev = NumberAttribute(default=0)
    position = UnicodeAttribute(null=True)
    done = BooleanAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)


class Board(Model):
    """agg_boards — pk `board` ("users", "orgs", "org-{id}"; a platform P's "P#users", "P#orgs", "P#org-{id}"), sk
    `period`: one materialized board, read with one GetItem: `data` = {"items": [[rank, id, name, mg]...],
    "histogram": {bucket: n}, "totals": ...}.
    pk "dirty#{r:02d}#{s:02d}", sk "{board}|{period}|{mark}": a marker, written when fold shard `s`'s run (or a
    join or a new name of a user of that shard) changed a board of rebuild shard r (ranking.rebuild_shard) since it
    was last built; each run writes markers of a mark of its own, so a marker is never written again and the
    rebuild deletes exactly those it read. One partition per (rebuild shard, fold shard): written by one fold
    worker once a run.
    pk "dirty#{r:02d}", sk "s{s:02d}": the flag of partition "dirty#{r:02d}#{s:02d}", put after markers were
    written there, `marked` a fresh token each put; the rebuild worker of shard r reads its flags (one Query) and
    the flagged partitions (store/board_marks.py: the order of the writes and the reads, and why no marker is
    missed)."""

    Meta = table_meta("agg_boards")
    board = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)
    data = JSONAttribute(null=True)
    built_at = UnicodeAttribute(null=True)
    marked = UnicodeAttribute(null=True)


def stats_name(platform: str) -> str:
    """The pk of a platform's counters: "stats" for `default` (as before platforms), "P#stats" for P."""
    return "stats" if platform == DEFAULT else f"{platform}#stats"


def active_name(platform: str, day: str) -> str:
    """The pk of a platform's distinct active users of a day: "active#{day}" for `default`, "P#active#{day}"."""
    return f"active#{day}" if platform == DEFAULT else f"{platform}#active#{day}"


def dirty_partition(board: str, period: str, shard: int) -> str:
    """The marker partition of a board of a period marked by fold shard `shard` (Board: pk "dirty#03#07")."""
    return marker_partition(rebuild_shard(board, period), shard)


def marker_partition(rebuild: int, shard: int) -> str:
    """The markers fold shard `shard` wrote for the boards of rebuild shard `rebuild`."""
    return f"dirty#{rebuild:02d}#{shard:02d}"


def flag_partition(rebuild: int) -> str:
    """The flags of rebuild shard `rebuild`'s marker partitions, one per fold shard that wrote markers there."""
    return f"dirty#{rebuild:02d}"


def flag(rebuild: int, shard: int) -> Board:
    """The flag of fold shard `shard`'s marker partition of rebuild shard `rebuild`, with a fresh token."""
    return Board(flag_partition(rebuild), f"s{shard:02d}", marked=uuid.uuid4().hex)


def marker(shard: int, board: str, period: str, mark: str) -> Board:
    """A marker of a board of a period, written by (the fold of, a join of a person of) fold shard `shard`; `mark`
    names the run that wrote it (a fresh one each run)."""
    return Board(dirty_partition(board, period, shard), f"{board}|{period}|{mark}", marked=mark)


AGGREGATE_MODELS = (InboxItem, Total, ShardedCounter, Board)
