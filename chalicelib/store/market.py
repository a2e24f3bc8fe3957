"""PynamoDB models of the marketplace: redemptions, their codes, per-user claims, merchants' verifications,
member codes and failed-attempt windows.

Every invariant is a condition inside the write that could break it: a code is put with
`attribute_not_exists` in the redemption's transaction (unique), a redemption leaves `issued` only with
`status = issued` (used once, refunded once), a claim counter grows only while `count < limit`. Stock
lives in store/stock.py. Nothing here is read by a scan: users list by the `by_user` index, merchants by
their day's partition, the expiry job by the sparse, sharded `due` index.
"""
from __future__ import annotations

import secrets
from datetime import date

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain import shards
from ..domain.platforms import DEFAULT, scoped
from ..errors import ServiceUnavailableError
from .access import access, on
from .models import Account, table_meta
from .tx import connection

EXPIRY_SHARDS = shards.REDEMPTIONS_DUE  # issued redemptions over 8 index partitions: a flash sale never heats one
TOTALS_SK = "~totals"  # sorts after every "v#..." row, so a newest-first Query returns it first
TOTALS_SHARDS = 8  # "~totals#{0..7}", one chosen by each scan: no single item takes a busy merchant's day


class RedemptionsByUser(GlobalSecondaryIndex):
    """GSI `by_user` — pk `user_id`, sk `redemption_id` (time-sortable): a user's redemptions, newest first."""

    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    redemption_id = UnicodeAttribute(range_key=True)


class RedemptionsDue(GlobalSecondaryIndex):
    """GSI `due` — pk `expiry_bucket` = "due#{shard 0..7}" (random at redemption), sk `expires_epoch`.
    Sparse: only `issued` redemptions carry `expiry_bucket`, and every move out of `issued` removes it,
    so the expiry job's eight Queries (`expires_epoch <= now`) read exactly what is due, however late."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    expiry_bucket = UnicodeAttribute(hash_key=True)
    expires_epoch = NumberAttribute(range_key=True)


class Redemption(Model):
    """redemptions — pk `redemption_id` (time-sortable, the id users and merchants see; never the code).

    `status`: issued -> used (a merchant's scan) | cancelled (the user, refunded) | expired (the job,
    refunded when `refund_on_expiry`). The goods' terms (price, cancellable, refund_on_expiry, validity)
    are copied at redemption: what the user agreed to stays true when the catalog changes. A physical
    item's address is sealed with DATA_KEY (bound to the redemption id); users see it masked only.
    """

    Meta = table_meta("redemptions")
    redemption_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    goods_id = UnicodeAttribute()
    goods_name = UnicodeAttribute()
    kind = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    code = UnicodeAttribute()
    status = UnicodeAttribute()
    points_spent = NumberAttribute()
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    expires_epoch = NumberAttribute()
    expiry_bucket = UnicodeAttribute(null=True)
    cancellable = BooleanAttribute(default=False)
    refund_on_expiry = BooleanAttribute(default=False)
    used_at = UnicodeAttribute(null=True)
    used_by = UnicodeAttribute(null=True)
    cancelled_at = UnicodeAttribute(null=True)
    expired_at = UnicodeAttribute(null=True)
    refunded = BooleanAttribute(default=False)
    per_user_limit = NumberAttribute(null=True)  # set when the redemption counted against a claim counter
    address_sealed = UnicodeAttribute(null=True)
    address_masked = JSONAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    stock_shard = NumberAttribute(null=True)  # the stock sub-item the unit came from (store/stock.py), if several
    platform = UnicodeAttribute(null=True)  # the platform whose goods it is (absent: `default`'s): its stock, code
    by_user = RedemptionsByUser()
    due = RedemptionsDue()


class RedemptionCode(Model):
    """redemption_codes — pk `code`: the code itself for `default`'s goods, "P#{code}" for platform P's
    (`code_key`: a staff member's token's platform builds the key of a scan, so another platform's code is a
    miss). Immutable pointer from a code to its redemption, with what a scan checks before its transaction
    (merchant, expiry). Put with `attribute_not_exists(code)` in the redemption's transaction, so no two
    redemptions of a platform ever share a code."""

    Meta = table_meta("redemption_codes")
    code = UnicodeAttribute(hash_key=True)
    redemption_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    goods_id = UnicodeAttribute()
    goods_name = UnicodeAttribute()
    points_spent = NumberAttribute()
    expires_epoch = NumberAttribute()
    # Rule 5 (services/staff_rules.py): the redeemer, the redemption's time and the account's `joined_at`.
    user_id = UnicodeAttribute(null=True)
    redeemed_at = UnicodeAttribute(null=True)
    joined_at = UnicodeAttribute(null=True)


class LimitCounter(Model):
    """counters — pk `key`. What one person, staff member or merchant has used of a limit, ADDed in the write
    that uses it, on the condition that the limit holds:
    "claim#{user_id}#{goods_id}" (codes a user holds of one goods, `< per_user_limit`) and
    "verify-failures#{staff user id}#{window}" (failed scans in a 10-minute window, purged by TTL), and
    "credited#staff#{staff user id}#{behaviour}#{day}" / "credited#merchant#{merchant id}#{behaviour}#{day}"
    (thousandths of the quantity a collection point's staff member / the merchant credited that business day,
    `<= ceiling` in the credit's transaction, purged by TTL), and "quota#{kind}#{subject}#{window}" (a user's
    exports in a fixed window, services/quotas.py, purged by TTL), and "person-day#{person}#{day}#{behaviour}"
    (a person's self-reported events of a day on every platform, `< daily_limit`), and
    "steps#{person}#{day}" (the platform `via` that holds a person's step-day carbon, store/persons.py), and the
    risk rules' memory "staff-person#...", "staff-ceiling#...", "ring#..." (store/risk_memory.py, purged by TTL)."""

    Meta = table_meta("counters")
    key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    purge_at = TTLAttribute(null=True)
    via = UnicodeAttribute(null=True)  # "steps#...": the platform holding the step-day's carbon




class Verification(Model):
    """verifications — pk `merchant_day` = "{merchant_id}#{YYYY-MM-DD}" (the business day of the scan; for a
    merchant of platform P, "P#{merchant_id}#{YYYY-MM-DD}"),
    sk `sk` = "v#{time-sortable id}" for each verified redemption, or "~totals#{shard}" for a part of the
    day's count and points (ADDed in the scan's transaction to a shard it picks, of TOTALS_SHARDS; days
    written before the shards hold one "~totals", still counted). All totals sort after every row: a
    newest-first Query returns them first. Append-only: the merchant's reconciliation."""

    Meta = table_meta("verifications")
    merchant_day = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    redemption_id = UnicodeAttribute(null=True)
    goods_id = UnicodeAttribute(null=True)
    goods_name = UnicodeAttribute(null=True)
    used_at = UnicodeAttribute(null=True)
    staff_user_id = UnicodeAttribute(null=True)
    count = NumberAttribute(default=0)
    points = NumberAttribute(default=0)


class MemberCode(Model):
    """member_codes — pk `code`: the code of a `default` user, "P#{code}" of platform P's user (`code_key`, built
    from the staff token's platform when scanned). A user's short-lived code shown at a collection point: valid
    until `expires_epoch`, consumed once by `used_at` set with a condition in the credit's transaction;
    purged by TTL a day later."""

    Meta = table_meta("member_codes")
    code = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_epoch = NumberAttribute()
    used_at = UnicodeAttribute(null=True)
    used_by = UnicodeAttribute(null=True)
    purge_at = TTLAttribute(null=True)


MARKET_MODELS: tuple[type[Model], ...] = (Redemption, RedemptionCode, LimitCounter, Verification, MemberCode)


def code_key(platform: str | None, code: str) -> str:
    """The key of a redemption code's pointer or of a member code: the code on `default` (None), "P#{code}" on P."""
    return scoped(platform or DEFAULT, code)


def claim_key(user_id: str, goods_id: str) -> str:
    return f"claim#{user_id}#{goods_id}"


def credited_key(cap: str, owner_id: str, behavior: str, day: date) -> str:
    """The day's operator credits of one behaviour by a staff member (`cap` "staff", a user id: already one
    platform's) or a merchant ("merchant": its id, "P#{id}" for platform P's, domain/platforms.scoped)."""
    return f"credited#{cap}#{owner_id}#{behavior}#{day.isoformat()}"


def merchant_day(merchant_id: str, day: date, platform: str | None = DEFAULT) -> str:
    """A merchant's verifications of a business day: "{merchant}#{day}", "P#{merchant}#{day}" for P's merchant."""
    return scoped(platform or DEFAULT, f"{merchant_id}#{day.isoformat()}")


def expiry_bucket(shard: int | None = None) -> str:
    return f"due#{secrets.randbelow(EXPIRY_SHARDS) if shard is None else shard}"


@access(on(Account, "BatchGetItem"), on(Redemption, "BatchGetItem"))
def account_and_redemption(user_id: str, redemption_id: str) -> tuple[Account | None, Redemption | None]:
    """Both items by one consistent BatchGetItem: a cancel costs one read and one transaction."""
    pending = {
        Account.Meta.table_name: {"Keys": [{"user_id": {"S": user_id}}], "ConsistentRead": True},
        Redemption.Meta.table_name: {"Keys": [{"redemption_id": {"S": redemption_id}}], "ConsistentRead": True},
    }
    found: dict[str, dict] = {}
    for _ in range(5):
        answer = connection().client.batch_get_item(RequestItems=pending)
        for table, items in answer.get("Responses", {}).items():
            if items:
                found[table] = items[0]  # one key per table
        pending = answer.get("UnprocessedKeys") or {}
        if not pending:
            break
    else:
        raise ServiceUnavailableError()
    account, redemption = found.get(Account.Meta.table_name), found.get(Redemption.Meta.table_name)
    return (Account.from_raw_data(account) if account else None,
            Redemption.from_raw_data(redemption) if redemption else None)
