"""`python -m admin backfill-persons`: the person of every account made before persons (docs/platforms.md).

Sharded over `account_shards` (each shard one Query, `--shard N` for one; the accounts read 100 at a time): an
account whose identity holds a unionid gets the union item naming its person (put only where none exists:
a person that logged in on another platform first is joined, as a login joins it) and its `person_id`
(set only where it has none). An account without a unionid keeps none: its person is the derived one
(domain/persons.py). Idempotent: a second run writes nothing. Run it before another platform goes live, so that
everything a person already did is theirs before they can appear on a second platform.
"""
from __future__ import annotations

import argparse

from .console import Output

SHARDS = 64  # chalicelib/store/privacy.SHARDS (the console's parsers import nothing of the app)
JOIN_ATTEMPTS = 3


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    backfill = sub.add_parser("backfill-persons", parents=[writes], help="give accounts made before persons theirs",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    backfill.add_argument("--shard", type=int, choices=range(SHARDS), metavar="N", help="one shard (default all)")


def backfill_shard(shard: int, dry_run: bool = False) -> dict:
    from chalicelib.store.models import Account  # imported when run: the local stack's settings are in place
    from chalicelib.store.privacy import AccountShard

    counts = {"accounts": 0, "joined": 0, "persons": 0}
    user_ids = [row.user_id for row in AccountShard.query(shard, AccountShard.user_id.startswith("u_"))]
    for start in range(0, len(user_ids), 100):
        accounts = Account.batch_get(user_ids[start:start + 100], consistent_read=True)
        for account in accounts:
            counts["accounts"] += 1
            if account.person_id or account.deleted_at or not account.identity_key:
                continue
            unionid = _unionid(account.identity_key)
            if unionid is None:
                continue
            counts["persons"] += 1
            if not dry_run and _give_person(account, unionid):
                counts["joined"] += 1
    return counts


def _unionid(identity_key: str) -> str | None:
    from chalicelib.sealing import unseal
    from chalicelib.store.models import Identity

    try:
        identity = Identity.get(identity_key, consistent_read=True)
    except Identity.DoesNotExist:
        return None
    return unseal(identity.unionid_sealed, identity.key) if identity.unionid_sealed else None


def _give_person(account, unionid: str) -> bool:
    """The union item (new: naming the account's derived person and the account as its user) and the account's
    `person_id`; True when the unionid already named a person (who logged in on another platform first) and the
    account joined it: then, as a login's join, the person's users gain it and its accounts are marked shared
    (store/persons.stage_join)."""
    from chalicelib.domain import clock
    from chalicelib.domain.persons import derived_person_id
    from chalicelib.domain.platforms import platform_of
    from chalicelib.store import persons
    from chalicelib.store.failures import ConditionFailed
    from chalicelib.store.models import Account, Identity
    from chalicelib.store.single_writes import written
    from chalicelib.store.tx import Tx

    key, person, platform = persons.union_key(unionid), derived_person_id(account.user_id), platform_of(account)
    tx = Tx()
    tx.put_new("union", Identity, {"key": key, "person_id": person, "created_at": clock.iso(clock.now()),
                                   "users": persons.users_json({platform: account.user_id})}, return_old=True)
    try:
        tx.commit()
        union = None
    except ConditionFailed as refused:
        union = refused.failed.get("union")
        person = persons.person_in(union) or person
    written(lambda: account.update(actions=[Account.person_id.set(person)],
                                   condition=Account.person_id.does_not_exist()))
    if union is None:
        return False
    users = persons.users_in(union)
    for _ in range(JOIN_ATTEMPTS):
        join = Tx()
        persons.stage_join(join, key, person, users, platform, account.user_id,
                           persons.accounts_of({**users, platform: account.user_id}), clock.business_day(clock.now()))
        try:
            join.commit()
            return True
        except ConditionFailed as refused:
            users = persons.users_in(refused.failed["union"]) if "union" in refused.failed else users
    raise RuntimeError(f"could not join account {account.user_id} to its person: try the shard again")


def backfill(args, out: Output) -> None:
    from .console import audit

    shards = [args.shard] if args.shard is not None else range(SHARDS)
    totals = {"accounts": 0, "joined": 0, "persons": 0}
    for shard in shards:
        for name, count in backfill_shard(shard, args.dry_run).items():
            totals[name] += count
    if totals["persons"] and not args.dry_run:
        audit("backfill-persons", {"shard": args.shard}, outcome=totals)
    out.result({**totals, "dry_run": args.dry_run},
               f"{totals['accounts']} accounts read; {totals['persons']} given their person "
               f"({totals['joined']} joined one of another platform)" + (" (dry run)" if args.dry_run else ""))


HANDLERS = {("backfill-persons", None): backfill}
