"""user show/freeze/unfreeze, points adjust, reconcile."""
from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from chalicelib.api.shapes import entry_json
from chalicelib.api.shapes_collection import adjustment_json
from chalicelib.domain import ids
from chalicelib.domain.commands_collection import AdjustPoints, SetFrozen
from chalicelib.domain.platforms import DEFAULT, identity_key, platform_of
from chalicelib.errors import AppError
from chalicelib.services import corrections
from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork
from chalicelib.store.models import Account, Identity, LedgerEntry
from chalicelib.store.repositories_collection import Standing
from chalicelib.store.repositories_ledger import line

from .console import CommandError, UsageError, progress


def find_account(user: str, platform: str | None = None) -> Account:
    """USER is a user id or a WeChat openid (of `platform`'s mini program; `default`'s when None).

    With a platform, a user of another platform is refused exactly as a user that does not exist, so an
    operator of one platform neither sees nor changes another's users. None (the commands without
    --platform yet) finds a user id of any platform, as before platforms."""
    missing = CommandError(f"no user with id or openid {user}")
    user_id = user
    if not user.startswith("u_"):
        try:
            user_id = Identity.get(identity_key(platform or DEFAULT, user)).user_id
        except Identity.DoesNotExist:
            raise missing from None
    try:
        account = Account.get(user_id, consistent_read=True)
    except Account.DoesNotExist:
        raise missing from None
    if platform is not None and platform_of(account) != platform:
        raise missing
    return account


def show(user: str, platform: str = DEFAULT) -> dict:
    account = find_account(user, platform)
    recent = [entry_json(line(e)) | _credited_by(e)
              for e in LedgerEntry.query(account.user_id, scan_index_forward=False, limit=10)]
    return {"id": account.user_id, "nickname": account.nickname, "joined_at": account.joined_at,
            "points": int(account.points), "carbon_mg": int(account.carbon_mg),
            "points_earned": int(account.points_earned), "points_spent": int(account.points_spent),
            "frozen": bool(account.frozen), "frozen_reason": account.frozen_reason,
            "version": int(account.version), "platform": platform_of(account), "recent_entries": recent}


def _credited_by(entry: LedgerEntry) -> dict:
    """A collection point's credit names its merchant and the staff member who credited it (operators only)."""
    if entry.source != "operator" or not entry.inputs:
        return {}
    return {"credited_by": {"merchant_id": entry.inputs.get("merchant_id") or entry.ref,
                            "staff_user_id": entry.inputs.get("staff_user_id")}}


def set_frozen(user: str, frozen: bool, reason: str | None, dry_run: bool, platform: str = DEFAULT) -> dict:
    """`user freeze` / `user unfreeze`: services/corrections.set_frozen (the flag, the version, and the
    revocation the staff routes read, in one transaction)."""
    account = find_account(user, platform)
    if account.deleted_at:
        raise CommandError(f"{account.user_id} is deleted: it stays frozen")
    if not dry_run:
        try:
            corrections.set_frozen(SetFrozen(account.user_id, frozen, reason), Standing())
        except corrections.StaysFrozenError:
            raise CommandError(f"{account.user_id} is deleted: it stays frozen") from None
        except AppError as exc:
            raise CommandError(f"could not update {account.user_id}: {exc.code}: {exc.message}") from exc
    return {"id": account.user_id, "frozen": frozen, "reason": reason, "dry_run": dry_run}


def adjust(user: str, delta: int, reason: str, request_id: str | None, dry_run: bool,
           platform: str = DEFAULT) -> dict:
    """`points adjust`: services/corrections.adjust_points, an `adjust` entry with the operator's reason;
    the balance never goes below zero."""
    if delta == 0:
        raise UsageError("DELTA must not be 0")
    account = find_account(user, platform)
    if dry_run:
        after = int(account.points) + delta
        if after < 0:
            raise CommandError(f"balance {account.points} cannot go below zero")
        return {"id": account.user_id, "points_before": int(account.points), "points_after": after, "dry_run": True}
    request_id = request_id or "adm_" + ids.random_code(20)
    try:
        result = corrections.adjust_points(AdjustPoints(account.user_id, request_id, delta, reason),
                                           DynamoPostingUnitOfWork())
    except AppError as exc:
        raise CommandError(f"{exc.code}: {exc.message}") from exc
    return {"id": account.user_id, "request_id": request_id, **adjustment_json(result)}


def _check_account(account: Account) -> dict | None:
    """Sums one account's ledger; re-reads once when a write landed between the two reads."""
    for _ in range(2):
        points = carbon = 0
        last_balance = None
        held = [0, 0]  # held entries count apart: what the account holds, less what releases and voids settled
        for entry in LedgerEntry.query(account.user_id, scan_index_forward=False):
            if last_balance is None:
                last_balance = int(entry.balance_after)
            if entry.kind == "held":
                held = [held[0] + int(entry.points), held[1] + int(entry.carbon_mg)]
                continue
            if entry.kind in ("release", "void"):
                settled = (int(entry.points), int(entry.carbon_mg)) if entry.kind == "release" else \
                    (int((entry.inputs or {}).get("points", 0)), int((entry.inputs or {}).get("carbon_mg", 0)))
                held = [held[0] - settled[0], held[1] - settled[1]]
            points += int(entry.points)
            carbon += int(entry.carbon_mg)
        ok = points == int(account.points) and carbon == int(account.carbon_mg) \
            and (last_balance is None or last_balance == int(account.points)) \
            and held == [int(account.points_held or 0), int(account.carbon_held_mg or 0)]
        persons_carbon = _persons_carbon(account)
        if ok and persons_carbon is None:
            return None
        account = Account.get(account.user_id, consistent_read=True)
    problem = {"user_id": account.user_id, "points": int(account.points), "ledger_points": points,
               "carbon_mg": int(account.carbon_mg), "ledger_carbon_mg": carbon, "last_balance_after": last_balance,
               "points_held": int(account.points_held or 0), "ledger_points_held": held[0]}
    if persons_carbon is not None:
        problem.update(person_carbon_mg=int(account.person_carbon_mg or 0), users_carbon_mg=persons_carbon)
    return problem


def _persons_carbon(account: Account) -> int | None:
    """For a person on several platforms: None when the person's carbon the account keeps is the sum of the
    carbon of the person's accounts (its own and its peers', read consistently), else that sum."""
    from chalicelib.domain import persons

    peers = persons.peers_of(account)
    if not peers:
        return None
    users = Account.batch_get(sorted(set(peers.values())), consistent_read=True)
    total = int(account.carbon_mg) + sum(int(user.carbon_mg) for user in users)
    return None if total == persons.person_carbon_mg(account) else total


def reconcile_accounts(user_ids: Iterable[str]) -> dict:
    """`reconcile` for the given accounts only (a test proves it for the accounts it touched): the same check
    of each, read consistently; an account that does not exist is an error, not a clean result."""
    ids = list(dict.fromkeys(user_ids))
    mismatches = [p for p in (_check_account(Account.get(i, consistent_read=True)) for i in ids) if p]
    return {"accounts": len(ids), "mismatches": mismatches, "clean": not mismatches}


def reconcile(segments: int = 4, platform: str | None = None) -> dict:
    """Proves for every account (the deployment's; only `platform`'s users' when given) that its entries sum
    to its balance and lifetime carbon.

    Accounts are read by a parallel scan in segments (an offline job, so a scan is the right tool)
    and each account's ledger is summed by a Query; memory stays constant. A platform filters the accounts the
    same scan reads (`Account.platform`, absent = `default`).
    """
    def segment(number: int) -> tuple[int, list[dict]]:
        checked, bad = 0, []
        for account in Account.scan(segment=number, total_segments=segments):
            if platform is not None and platform_of(account) != platform:
                continue
            checked += 1
            problem = _check_account(account)
            if problem:
                bad.append(problem)
        return checked, bad

    checked, mismatches = 0, []
    with ThreadPoolExecutor(max_workers=segments) as pool:
        for count, bad in progress(pool.map(segment, range(segments)), "segments", segments):
            checked += count
            mismatches += bad
    return {"accounts": checked, "mismatches": mismatches, "clean": not mismatches}
