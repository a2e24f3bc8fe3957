"""PynamoDB models of the partner integrations: consents, partner-account links, seen events, monthly readings,
replay guards and the shared partner access token.

Every invariant is a condition on one of these items: a partner account links to one person, by one user
per platform (`PartnerLink`, claimed while free or the binder's person's), an event counts once (`SeenEvent`, put
with `attribute_not_exists` in the transaction of its ledger entry), a webhook delivery is accepted
once (`ReplayGuard`), a month's reading is credited once per revision (`PartnerReading`), and only one container
at a time asks the bank for a token (`PartnerToken.lease_until`).
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from .models import table_meta


class PendingRevocations(GlobalSecondaryIndex):
    """GSI `pending_revocations` — pk `revocation_pending` (the partner id), sk `user_id`. Sparse: only
    consents revoked here whose revocation the partner has not confirmed yet carry the attribute."""

    class Meta:
        index_name = "pending_revocations"
        projection = AllProjection()

    revocation_pending = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class ReadingsByAccount(GlobalSecondaryIndex):
    """GSI `readings_by_account` — pk `account` ("{partner}#{user_ref}"), sk `key`: the months recorded for one
    partner account, a partition of that account alone (keys only)."""

    class Meta:
        index_name = "readings_by_account"
        projection = KeysOnlyProjection()

    account = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)


class Consent(Model):
    """consents — pk `user_id`, sk `partner` ("transit" | "bank").

    `status` is "bound" or "revoked". `periods` lists [bound_at, revoked_at | null]: partner data
    counts only when its own time falls inside one of them and the consent is bound now. `history`
    keeps every change (bound, revoked, revoked_at_partner) for the user's export. The phone number
    is never stored: only the partner's reference (`partner_ref`: transit user_ref, bank customer_ref)
    and its authorization id. `cursor` is where the next pull starts. Every change is a read-modify-write
    conditioned on `version`.
    """

    Meta = table_meta("consents")
    user_id = UnicodeAttribute(hash_key=True)
    partner = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute(default="revoked")
    partner_ref = UnicodeAttribute(null=True)
    authorization_id = UnicodeAttribute(null=True)
    bound_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)
    cursor = UnicodeAttribute(null=True)
    periods = JSONAttribute(default=list)
    history = JSONAttribute(default=list)
    revocation_pending = UnicodeAttribute(null=True)
    pending_authorization_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    next_sync_at = NumberAttribute(null=True)  # epoch ms before which POST .../sync is refused (services/quotas.py)
    pending_revocations = PendingRevocations()


class PartnerLink(Model):
    """partner_links — pk `key` = "{partner}#{partner_ref}": the person holding that partner account, and their
    users holding it, one per platform (shared/contract/platforms.md rule 2: one person may bind it on several).

    `user_id` is the `default` user holding it (the only holder a link of before platforms names); each other
    platform's holder is an element `"{platform}#{user_id}"` of the string set `platform_users`; `person_id` is
    the person of the last bind. Held = `user_id` or `platform_users` present. A bind claims it, in the transaction
    that binds the consent, on the condition that it is free, or that `person_id` is the binder's person, or that
    `user_id` is the binder's person's `default` user (a link of before persons names no `person_id`): another
    person is refused, however they race. A set, not a map: ADD and DELETE of one element need no read of the
    link and create or drop the set, so a bind and a revocation stay one blind transaction as before; and a
    webhook finds every platform's user of a partner account in the one BatchGetItem of the links it did before.
    Revoking removes this platform's holder (`user_id`, or its element).
    """

    Meta = table_meta("partner_links")
    key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(null=True)
    person_id = UnicodeAttribute(null=True)
    platform_users = UnicodeSetAttribute(null=True)
    bound_at = UnicodeAttribute(null=True)
    released_at = UnicodeAttribute(null=True)

    def holders(self) -> dict[str, str]:
        """{platform: user id} of the users holding it now."""
        held = {"default": self.user_id} if self.user_id else {}
        for element in self.platform_users or ():
            platform, _, user_id = element.partition("#")
            held[platform] = user_id
        return held


class SeenEvent(Model):
    """partner_events — pk `key` = "{partner}#{event_id}" (a ride_id or a bank event_id).

    Put with `attribute_not_exists(key)` in the same transaction as the event's ledger entry, so an
    event pulled and pushed, or pushed twice, counts once. Expires by TTL `SEEN_TTL` (30 days) after it
    was written: by then its event is far past the 7-day limit, which ingestion checks before it looks
    for the seen item (services/ingest.py), so an event whose item is gone is still refused.
    """

    Meta = table_meta("partner_events")
    key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    day = UnicodeAttribute()
    at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)  # items written before the TTL existed have none: they stay
    # One item per event for every platform (docs/platforms.md, "Each reduction counted once"): the platforms
    # that imported it and the one whose entry holds its carbon (`via`). An item without them (before platforms,
    # or `default` first) is `default`'s, holding its carbon.
    platforms = UnicodeSetAttribute(null=True)
    via = UnicodeAttribute(null=True)


class PartnerReading(Model):
    """partner_readings — pk `key` = "{partner}#{user_ref}#{month}": a month's usage an open-protocol partner sent
    under a `same_month_last_year` mapping (domain/readings.py), kept for good (no TTL: it is the next year's
    baseline).

    `event_id` and `revision` name the reading it holds; `user_id` the user it was credited to; `usage`, `baseline`
    (the year-earlier month's usage when this month was first recorded; absent: none), `saved` (3-decimal strings)
    and `carbon_mg`, `points` (what it credited in all, net of corrections; `worth`: the points before caps, absent
    as `points`). These are the holder's: `via` names the platform holding the month's carbon (absent: `default`).
    `shares` (JSON, absent: none) holds each other platform's `[user_id, revision, points, worth]` by platform id
    (docs/platforms.md rule 2). `account` = "{partner}#{user_ref}" finds a partner account's months (GSI
    `readings_by_account`, keys only: erasure, services/reading_erasure.py).

    Put with `attribute_not_exists(key)` when first recorded; the holder's correction updates its fields on
    `revision = :recorded`; another platform updates `shares` on the shares read and the holder read; each in the
    transaction of its ledger entry: two revisions or two platforms racing cannot both credit.
    """

    Meta = table_meta("partner_readings")
    key = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    revision = NumberAttribute()
    usage = UnicodeAttribute()
    baseline = UnicodeAttribute(null=True)
    saved = UnicodeAttribute()
    carbon_mg = NumberAttribute()
    points = NumberAttribute()
    day = UnicodeAttribute()
    at = UnicodeAttribute()
    via = UnicodeAttribute(null=True)
    worth = NumberAttribute(null=True)
    shares = JSONAttribute(null=True)
    account = UnicodeAttribute(null=True)
    readings_by_account = ReadingsByAccount()


class ReplayGuard(Model):
    """replay_guards — pk `key` = "transit#nonce#{nonce}" | "bank#sig#{signature}".

    Put with `attribute_not_exists(key) OR expires_at < :now OR claim = :mine` (TTL deletion can lag by
    days): a webhook delivery seen within the window is a replay. `claim` is the claiming request's own id,
    so botocore resending the same put after a lost response finds its own claim, not a replay.
    Expires by TTL.
    """

    Meta = table_meta("replay_guards")
    key = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute()
    claim = UnicodeAttribute(null=True)


class PartnerToken(Model):
    """partner_tokens — pk `partner`. A partner access token shared by every container (the bank allows
    10 token requests a minute for all our Lambdas together), sealed with DATA_KEY.

    `version` grows with each new token; `lease_until` (epoch seconds) is taken by a conditional update
    by the one container that refreshes, so the others wait for its token instead of asking too.
    """

    Meta = table_meta("partner_tokens")
    partner = UnicodeAttribute(hash_key=True)
    token_sealed = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    lease_until = NumberAttribute(default=0)


PARTNER_MODELS: tuple[type[Model], ...] = (Consent, PartnerLink, SeenEvent, PartnerReading, ReplayGuard, PartnerToken)
