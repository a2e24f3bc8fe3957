"""PynamoDB models: one table per aggregate, every key chosen so requests never scan and no item is hot.

Table names carry TABLE_PREFIX so several environments can share one DynamoDB. Everything a
request path touches is keyed by the caller (user id, openid, request id) or by one catalog
partition that Lambda containers cache.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..settings import get_settings
from .day_counters import DayCountersAttribute

# botocore's "standard" retry mode (PynamoDB's default): 1 + DB_RETRIES attempts with jittered back-off, each
# bounded by the timeouts, so the worst case (3 x 4 s + back-off) stays well inside API Gateway's 29 s.
# botocore resends a retried TransactWriteItems with its ClientRequestToken, so DynamoDB applies it once (store/tx.py).
DB_CONNECT_TIMEOUT = 1
DB_READ_TIMEOUT = 3
DB_RETRIES = 2


class _Table(type):
    """The type of every model's Meta: the table's name, endpoint and region come from the settings when
    PynamoDB first asks for them (a model's first request), not when the model is defined, so importing
    the store reads nothing and a process may set TABLE_PREFIX any time before its first request.

    PynamoDB 6.1 fills Meta's missing `host` and `region` when a model class is defined (which would read
    the settings at import) and reads `Meta.table_name` first each time it gets a model's connection, then
    `host` and `region` when it creates it (`Model._get_connection`). So `table_name` is the one lazy read:
    its first use binds `host` and `region` on the shared base. tests/unit/test_store_configuration.py
    fails if PynamoDB stops reading them in that order."""

    @property
    def table_name(cls) -> str:
        settings = get_settings()
        if not _Meta.bound:
            _Meta.host, _Meta.region, _Meta.bound = settings.dynamodb_endpoint, settings.aws_region, True
        return settings.table_prefix + cls.table


class _Meta(metaclass=_Table):
    table = ""  # the table's name without TABLE_PREFIX
    host: str | None = None  # bound from the settings by the first `table_name` read (above)
    region: str | None = None
    bound = False
    billing_mode = "PAY_PER_REQUEST"
    connect_timeout_seconds = DB_CONNECT_TIMEOUT
    read_timeout_seconds = DB_READ_TIMEOUT
    max_retry_attempts = DB_RETRIES


def table_meta(name: str, **extra: object) -> type:
    """The Meta of a model whose table is `{TABLE_PREFIX}{name}`; feature modules use it too."""
    return _Table("Meta", (_Meta,), {"table": name, **extra})


def __getattr__(name: str) -> str:
    """`TABLE_PREFIX`, read from the settings when first asked for (tools and tests), not at import."""
    if name == "TABLE_PREFIX":
        return get_settings().table_prefix
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Account(Model):
    """accounts — pk `user_id`.

    The balance, lifetime carbon and the per-day counters of the last days live on this one item,
    so one consistent read gives everything a write needs, and every write conditions on `version`
    (bumped by each write, freezing included): `balance_after` is exact and no update is lost.
    `daily` is {"YYYY-MM-DD": {behaviour: [events, points, quantity_milli, carbon_mg(, days kept)]}}, only
    the counters a cap reads, for the days they can be read (domain/caps.py), stored as a short string
    (store/day_counters.py).
    """

    Meta = table_meta("accounts")
    user_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0)
    points = NumberAttribute(default=0)
    carbon_mg = NumberAttribute(default=0)
    points_earned = NumberAttribute(default=0)
    points_spent = NumberAttribute(default=0)
    daily = DayCountersAttribute(default=dict)
    frozen = BooleanAttribute(default=False)
    frozen_reason = UnicodeAttribute(null=True)
    nickname = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True)
    identity_key = UnicodeAttribute(null=True)
    orgs = JSONAttribute(default=list)
    joined_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    # Privacy and points expiry (services/nicknames.py, erasure.py, points_expiry.py; domain/lots.py):
    lots = JSONAttribute(null=True)  # {"2026": points that came in that year}, kept by posting.post
    expired_through = NumberAttribute(null=True)  # the last lot year the yearly expiry applied
    nickname_pending = UnicodeAttribute(null=True)  # waiting for WeChat's content check: never shown to others
    nickname_check = UnicodeAttribute(null=True)  # "unchecked" | "review" | "rejected"
    minor_orgs = JSONAttribute(null=True)  # ids of the school orgs that marked the member as a minor
    deleted_at = UnicodeAttribute(null=True)  # account deleted: personal data gone, tokens refused
    # The latest odometer reading of a parked-car check-in, {"odometer_km": "12034.5", "day": "2026-11-23"}
    # (domain/odometer.py): set by services/checkins.py in the check-in's own transaction; erasure removes it.
    odometer = JSONAttribute(null=True)
    platform = UnicodeAttribute(null=True)  # the platform of a user of another platform than `default` (absent)
    # The person this user is (docs/platforms.md "Persons"), set at creation; absent on accounts made before
    # persons until `admin backfill-persons`: read as the derived one (domain/persons.person_of).
    person_id = UnicodeAttribute(null=True)
    # A person on several platforms (docs/platforms.md "Persons"): the person's users on the other platforms,
    # {platform: user id}, set by the login that joined a platform (store/persons.stage_join), and the person's
    # carbon across all of them, ADDed by every posting that changes the carbon of any of them. Absent: a person
    # of this platform alone, whose carbon is `carbon_mg`.
    peers = JSONAttribute(null=True)
    person_carbon_mg = NumberAttribute(null=True)
    # Review (domain/review.py, docs/risk.md "Review"): present while the account is under review, with its reasons
    # [{"rule", "reason", "at"}]; what its credits meanwhile hold (`held` entries, waiting for release or void); the
    # latest appeal {"id", "status", "at", "text"(, "closed_at")} and the open one's id (one open at a time).
    review_since = UnicodeAttribute(null=True)
    review_rules = JSONAttribute(null=True)
    points_held = NumberAttribute(null=True)
    carbon_held_mg = NumberAttribute(null=True)
    appeal = JSONAttribute(null=True)
    appeal_open = UnicodeAttribute(null=True)
    # When the last review ended (a release or a void): the rules judge only what happened after it, so a person a
    # reviewer cleared is not put under review again for the same days (domain/risk.py).
    review_cleared_at = UnicodeAttribute(null=True)
    # The times of the latest self-reported check-ins (seconds since the epoch, oldest first, at most the catalog's
    # `risk.timing_checkins`): rule 2, machine timing, judged in the check-in's own write (domain/risk.py).
    checkin_times = JSONAttribute(null=True)
    # Check-ins refused for a reused evidence photo within the last 30 days, [[ISO time, request_id], ...]
    # (domain/evidence.py, services/checkins.py; contract rule 3 photo_reuse): written by the refusal alone.
    photo_refusals = JSONAttribute(null=True)
    # The public record's pseudonym of this user (docs/transparency.md), random, given by the roots job the first
    # time it roots one of the user's entries (store/transparency.py); erasure removes it (services/erasure.py).
    pseudonym = UnicodeAttribute(null=True)


class Identity(Model):
    """identities — pk `key` = "wx#{openid}" (`default`'s mini program) or "wx#{platform}#{openid}" (another
    platform's, store/logins.py). Maps a WeChat account to one user, created by a
    conditional put so two simultaneous first logins make one user. Holds the latest WeChat
    session_key, sealed with DATA_KEY.

    A person's union item shares the table: pk "un#{digest}" (store/persons.py), `person_id`, `users` and
    `created_at` only, no `user_id` (every login identity has one)."""

    Meta = table_meta("identities", stream_view_type="NEW_IMAGE")  # logins counted from its stream
    key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(null=True)  # every "wx#..." identity has one; a union item none
    session_key_sealed = UnicodeAttribute(null=True)
    unionid_sealed = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_login_at = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)  # set for another platform than `default`, as the key says
    person_id = UnicodeAttribute(null=True)  # a union item's person ("un#..." keys only)
    users = UnicodeAttribute(null=True)  # a union item's users, {platform: user id} as canonical JSON


class LedgerByKind(GlobalSecondaryIndex):
    """GSI `by_kind` — pk `user_kind` = "{user_id}#{kind}", sk `entry_id`: one user's entries of one kind."""

    class Meta:
        index_name = "by_kind"
        projection = AllProjection()

    user_kind = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class LedgerByRoot(GlobalSecondaryIndex):
    """GSI `by_root` — pk `root_key` = "{platform}#{day}#{shard:03d}", sk `entry_id`: the entries of one shard of
    one platform's day (domain/transparency.py), what the daily roots job reads (store/transparency.py). 256
    partitions a day per platform, so no key is hot; it projects only what a leaf needs."""

    class Meta:
        index_name = "by_root"
        projection = IncludeProjection(["day", "kind", "points", "carbon_mg", "source", "behavior", "methodology_id",
                                        "methodology_version", "inputs", "counted_via"])

    root_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class LedgerEntry(Model):
    """ledger — pk `user_id`, sk `entry_id` (time-sortable, so a Query reads newest first).

    Immutable: written once, with `attribute_not_exists`, in the same transaction as the balance it
    changes. `methodology_*` and `inputs` let anyone recompute `carbon_mg`. `root_key` (absent on entries
    written before the transparency roots) puts the entry on the sparse GSI `by_root`.
    """

    Meta = table_meta("ledger", stream_view_type="NEW_IMAGE")  # aggregated from its stream (services/aggregate.py)
    user_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    user_kind = UnicodeAttribute()
    at = UnicodeAttribute()
    day = UnicodeAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    carbon_mg = NumberAttribute()
    balance_after = NumberAttribute()
    source = UnicodeAttribute()
    behavior = UnicodeAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    methodology_id = UnicodeAttribute(null=True)
    methodology_version = UnicodeAttribute(null=True)
    inputs = JSONAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    counted_via = UnicodeAttribute(null=True)  # the platform holding this reduction's carbon (carbon_mg is 0 here)
    root_key = UnicodeAttribute(null=True)
    by_kind = LedgerByKind()
    by_root = LedgerByRoot()


class IdempotencyRecord(Model):
    """idempotency — pk `key` = "{scope}#{request_id}". Written in the transaction it guards; keeps the
    first result for replays; expires by TTL after 48 hours. `format` names how `body` reads
    (store/results.py: "checkin/1" ... a use case's result); without it (records of the services not yet
    on the unit of work, and every record written before it existed) `body` is the HTTP body and
    `status` its status."""

    Meta = table_meta("idempotency")
    key = UnicodeAttribute(hash_key=True)
    route = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    status = NumberAttribute(null=True)
    body = UnicodeAttribute()
    format = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    expires_at = TTLAttribute()


class CatalogItem(Model):
    """catalog — pk `kind` ("behavior", "methodology#{code}", "merchant", "staff", ...), sk `id`.

    Small, read-mostly partitions that containers cache; methodology versions are immutable.
    """

    Meta = table_meta("catalog")
    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    data = JSONAttribute()
    updated_at = UnicodeAttribute(null=True)


class AuditRecord(Model):
    """audit — pk `month` ("2026-11"), sk `record_id` (time-sortable). Who changed what, when, why, and the
    platform the command concerned (`platform`; records written before platforms have none: `default`)."""

    Meta = table_meta("audit")
    month = UnicodeAttribute(hash_key=True)
    record_id = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    operator = UnicodeAttribute()
    command = UnicodeAttribute()
    arguments = JSONAttribute()
    reason = UnicodeAttribute(null=True)
    outcome = JSONAttribute(null=True)
    platform = UnicodeAttribute(null=True)  # absent on records written before platforms: read as `default`




class BehaviorMonth(Model):
    """summaries — pk `user_id`, sk `period` = "{YYYY-MM}#{behaviour}". What one person earned with one
    behaviour in one month, kept by ADD in the same transaction as the entries, so a personal
    summary for a month, a year or all time is one Query, whatever the length of the ledger."""

    Meta = table_meta("summaries")
    user_id = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)
    events = NumberAttribute(default=0)
    carbon_mg = NumberAttribute(default=0)
    points = NumberAttribute(default=0)

