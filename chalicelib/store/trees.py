"""adoptions — pk `adoption_id` = the certificate number ("GS-2026-7K3M9QX2").

The number a person quotes is the key: it is random (never a counter every adoption would write), and
its uniqueness is the `attribute_not_exists` of the adoption's own put, in the adoption's transaction.
An adoption copies what its certificate shows and what its accrual needs (species, location, annual
uptake, methodology) from the catalog at adoption time, so a later catalog change never alters a
year already promised.

Accrual state: `accrued_through` is the last business day credited (the adoption day until day 1 is
credited) and `accrued_mg` the running total. Each accrual transaction is conditioned on the
`accrued_through` it read, so a day run twice, or by two workers at once, is credited once.

`platform`: the adopter's platform (the tree's), absent for `default`'s: `accrue-trees --platform` credits by it.

GSI `by_user` — pk `user_id`, sk `adopted_at`, all attributes: GET /v1/me/trees is one Query.
GSI `accruing` — pk `accrual_shard` (0..SHARDS-1), sk `adopted_day`, keys only. Sparse: the shard is
set at adoption and removed by the transaction that credits day 365, so the index holds exactly the
adoptions still accruing, and a daily run reads one shard with one paged Query (never a scan). Its
entries are written twice per adoption (added, removed), never by the daily updates, so the few shard
keys never become hot.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import shards
from ..domain.ids import stable_shard
from .models import table_meta

SHARDS = shards.ADOPTIONS  # never lower it: adoptions keep the shard they were given


def shard_of(user_id: str) -> int:
    """A user's adoptions share one shard, so one worker credits them all (no two workers race on
    the same account); user ids are random, so shards fill evenly."""
    return stable_shard(user_id, SHARDS)


class AdoptionsByUser(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    adopted_at = UnicodeAttribute(range_key=True)


class AdoptionsAccruing(GlobalSecondaryIndex):
    class Meta:
        index_name = "accruing"
        projection = KeysOnlyProjection()

    accrual_shard = NumberAttribute(hash_key=True)
    adopted_day = UnicodeAttribute(range_key=True)


class Adoption(Model):
    Meta = table_meta("adoptions")
    adoption_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    tree_id = UnicodeAttribute()
    species = UnicodeAttribute()
    location = UnicodeAttribute()
    adopter_name = UnicodeAttribute()
    points_price = NumberAttribute()
    annual_uptake_mg = NumberAttribute()
    methodology_id = UnicodeAttribute()
    methodology_version = UnicodeAttribute()
    adopted_at = UnicodeAttribute()
    adopted_day = UnicodeAttribute()
    accrued_through = UnicodeAttribute()
    accrued_mg = NumberAttribute(default=0)
    accrual_shard = NumberAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    platform = UnicodeAttribute(null=True)  # the adopter's platform; absent for `default`'s
    by_user = AdoptionsByUser()
    accruing = AdoptionsAccruing()
