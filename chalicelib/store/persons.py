"""The union item joining a person's users across platforms (docs/platforms.md "Persons"), and the join that
makes a person's users two or more.

identities — pk `key` = "un#{digest}" (domain/persons.union_key: an HMAC of the unionid, so the key names no
unionid): `person_id`, `users` ({platform: user id}, canonical JSON), `created_at`, and no `user_id` (an
`Identity` item of its own kind, store/models.py). Put by the first login that brings its unionid (or by
`python -m admin backfill-persons`), with `attribute_not_exists(key)` returning the item already there, so a login
learns the person it joins without reading first (store/logins.py). Its stream records are skipped by
services/aggregate.accept_identities.

A join (`stage_join`) adds the new user to `users`, on the condition that `users` is still what was read (two
joins of one person at once: one commits, the other reads again), and gives each of the person's accounts its
`peers` (the person's users on the other platforms) and the person's carbon, on the condition of the version read:
a posting on one of them that read it before the join retries and sees its peers. From then on every posting that
changes the carbon of one of them ADDs it to the person's carbon on all of them (store/dynamo_uow.py), and their
check-ins count per person too (services/checkins.py); so that the day's earlier events count, the join ADDs the
day's events of each account that had no peers yet to the person's day counters, and names the platform that
already credited the steps of today or yesterday as the holder of that step-day's carbon (services/werun.py).
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

from ..domain import persons
from ..domain.platforms import platform_of
from ..domain.posting import day_count
from ..settings import get_settings
from .access import access, on
from .failures import Unavailable
from .market import LimitCounter
from .models import Account, Identity
from .repositories import person_day_key, person_day_purge, step_day_key
from .tx import ConditionFailed, Tx

STEPS = "walk_steps"  # services/werun.BEHAVIOR: its step-days are the person's, held by one platform


def union_key(unionid: str) -> str:
    """The union item's key for a unionid. Made with a key derived from the oldest data key still listed
    (DATA_KEYS' last, or DATA_KEY), which a rotation that adds a new current key leaves in place."""
    return persons.union_key(unionid, persons.union_hmac_key(get_settings().data_keys[-1][1]))


def person_in(raw_item: dict | None) -> str | None:
    """The person id of a union item as a cancellation reason returned it (DynamoDB JSON)."""
    return ((raw_item or {}).get("person_id") or {}).get("S")


def users_in(raw_item: dict | None) -> dict[str, str]:
    """The users ({platform: user id}) of a union item as a cancellation reason returned it."""
    text = ((raw_item or {}).get("users") or {}).get("S")
    return json.loads(text) if text else {}


def users_json(users: dict[str, str]) -> str:
    return json.dumps(users, sort_keys=True, separators=(",", ":"))


@access(on(Account, "BatchGetItem"))
def accounts_of(users: dict[str, str]) -> list[Account]:
    """The person's accounts, read consistently (the versions a join conditions on)."""
    return list(Account.batch_get(sorted(set(users.values())), consistent_read=True)) if users else []


@access(on(Identity, "UpdateItem"), on(Account, "UpdateItem"), on(LimitCounter, "UpdateItem"))
def stage_join(tx: Tx, key: str, person_id: str, users_before: dict[str, str], platform: str, user_id: str,
               accounts: list[Account], day: date) -> int:
    """The union item gains `user_id` on `platform` (refused under "union", returning the item, if its users
    changed since read). Each of the person's `accounts` (read consistently) gets the person's other users as its
    `peers` and the person's carbon, the sum of theirs, on the condition of the version read (refused under
    "share:{user}": it moved), and a new version; the day's events of those not shared before are added to the
    person's day counters, and the platform that credited their steps of today or yesterday holds that step-day.
    The person's carbon is returned, for the joining user's own account."""
    before = Identity.users == users_json(users_before) if users_before else Identity.users.does_not_exist()
    users = {**users_before, platform: user_id}
    tx.update("union", Identity(key), [Identity.users.set(users_json(users))],
              condition=(Identity.person_id == person_id) & before, return_old=True)
    live = [account for account in accounts  # a deleted user, or one this platform's new user replaces, is no peer
            if not account.deleted_at and users.get(platform_of(account)) == account.user_id]
    step_days: dict[str, str] = {}  # day -> the platform whose account credited the day's steps (carbon) first
    carbon = sum(int(account.carbon_mg) for account in live)
    counts: Counter = Counter()
    for account in live:
        version = int(account.version)
        peers = {p: u for p, u in users.items() if u != account.user_id}
        tx.update(f"share:{account.user_id}", Account(account.user_id),
                  [Account.peers.set(peers), Account.person_carbon_mg.set(carbon), Account.version.set(version + 1)],
                  condition=Account.version == version)
        if not persons.shared(account):
            for behavior in (account.daily or {}).get(day.isoformat(), {}):
                counts[behavior] += day_count(account, day, behavior).events
            for step_day in (day - timedelta(days=1), day):
                if day_count(account, step_day, STEPS).carbon_mg:
                    step_days.setdefault(step_day.isoformat(), platform_of(account))
    for behavior, events in sorted(counts.items()):
        if events:
            tx.update(f"count:{behavior}", LimitCounter(person_day_key(person_id, day.isoformat(), behavior)),
                      [LimitCounter.count.add(events), LimitCounter.purge_at.set(person_day_purge(day.isoformat()))])
    for step_day, platform_holding in sorted(step_days.items()):  # its carbon stays where it was credited
        item = LimitCounter(step_day_key(person_id, step_day))
        tx.update(f"steps:{step_day}", item, [LimitCounter.via.set(LimitCounter.via | platform_holding),
                                             LimitCounter.purge_at.set(person_day_purge(step_day))])
    return carbon


LEAVE_ATTEMPTS = 5


@access(on(Identity, "GetItem"))
def union_users(key: str) -> dict[str, str] | None:
    """The users ({platform: user id}) the union item at `key` names, read consistently; None when there is none."""
    try:
        item = Identity.get(key, consistent_read=True)
    except Identity.DoesNotExist:
        return None
    return json.loads(item.users) if item.users else {}


def stage_leave(tx: Tx, key: str | None, users_before: dict[str, str] | None, leaving: Account,
                accounts: list[Account]) -> bool:
    """A deleted user leaves its person (services/erasure.py); False when nothing names it any more.
    - The union item at `key` (if it names the user) loses it from `users`, on the condition that `users` is still
      `users_before` (a join racing the deletion: one commits, the other reads again, as two joins do); a union
      item left with no user is deleted on that condition.
    - Each of `accounts` (read consistently: the person's other users) whose `peers` name the user loses it, with
      the user's carbon taken out of the person's carbon it keeps (an ADD: the other peers' postings ADD to it
      without its version), and a new version on the condition of the version read (a posting that read it
      before retries without the peer); one left without peers loses `peers` and `person_carbon_mg` (its own
      `carbon_mg` is the person's again).
    - The user's account loses `peers` and `person_carbon_mg`, on the condition of its version (its carbon is the
      one taken out)."""
    me, carbon, wrote = leaving.user_id, int(leaving.carbon_mg), False
    if key and users_before and me in users_before.values():
        users = {p: u for p, u in users_before.items() if u != me}
        same = Identity.users == users_json(users_before)
        if users:
            tx.update("union", Identity(key), [Identity.users.set(users_json(users))], condition=same)
        else:
            tx.delete("union", Identity(key), condition=same)
        wrote = True
    for account in accounts:
        peers = persons.peers_of(account)
        if account.user_id == me or me not in peers.values():
            continue
        rest, version = {p: u for p, u in peers.items() if u != me}, int(account.version)
        actions = [Account.peers.set(rest), Account.person_carbon_mg.add(-carbon)] if rest else [
            Account.peers.remove(), Account.person_carbon_mg.remove()]
        tx.update(f"peer:{account.user_id}", Account(account.user_id), [*actions, Account.version.set(version + 1)],
                  condition=Account.version == version)
        wrote = True
    if wrote or persons.shared(leaving) or leaving.person_carbon_mg is not None:
        version = int(leaving.version)
        tx.update("leaving", Account(me), [Account.peers.remove(), Account.person_carbon_mg.remove(),
                                           Account.version.set(version + 1)], condition=Account.version == version)
        wrote = True
    return wrote


@access(on(Identity, "GetItem", "UpdateItem", "DeleteItem"), on(Account, "BatchGetItem", "UpdateItem"))
def leave(key: str | None, user_id: str) -> bool:
    """`stage_leave`, read and committed until its conditions hold (a join or a posting of the person in the way:
    read again); True when it wrote, False when the user was no longer part of a person. The user's account must
    exist and be frozen (its carbon no longer changes)."""
    for _ in range(LEAVE_ATTEMPTS):
        users = union_users(key) if key else None
        named = {**(users or {}), "": user_id}
        accounts = {a.user_id: a for a in accounts_of(named)}
        extra = {p: u for p, u in persons.peers_of(accounts[user_id]).items() if u not in accounts}
        accounts.update({a.user_id: a for a in accounts_of(extra)})  # a peer the union item no longer names
        tx = Tx()
        if not stage_leave(tx, key, users, accounts[user_id], list(accounts.values())):
            return False
        try:
            tx.commit()
            return True
        except ConditionFailed:
            continue
    raise Unavailable()


ACCESS = (accounts_of, stage_join, union_users, leave)
