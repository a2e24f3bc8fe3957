"""Review use cases (docs/risk.md "Review"): put an account under review, release or void what it holds, list
the queue. The console calls these (admin/risk.py); a rule puts an account under review through the same hook,
`posting.stage(..., flag=Flag(rule))` in its own write (domain/review.py).

    flag    -> one posting with no entry: the account's reasons and `since`, its queue item (one transaction)
    settle  -> batches of `release` (or `void`) entries, each with `ref` = its held entry's id, each batch one
               transaction conditioned on the account's version; the last one also clears the review, closes
               the open appeal and deletes the queue item

Exactly once: every batch is a posting, conditioned on the account's `version`, and decided on a consistent read
of the account and then of its held entries (store/review_queue.unsettled: a held entry is open until a release
or void names it). Two reviewers racing (or a release racing a void, or a retry) cannot both settle an entry: the
second's transaction is refused, it reads again and finds the entry settled. A crash between batches leaves the
account under review with fewer held entries: running the command again finishes it.

A staff member under review: the credits they gave meanwhile are held on the members' accounts and listed under
them (store/review_queue.py); their release or void settles those first (a posting on each member's account, which
also removes the listing), then their own account, then once more what a credit listed while the first pass ran.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain import review as review_rules
from ..domain.posting import Posting
from ..domain.review import RELEASE, VOID, Flag, StaffCreditsSettled
from ..errors import NotUnderReviewError

BATCH = 45  # held entries a transaction settles: the account, an entry and a month summary each, the queue item
STAFF_BATCH = 30  # a staff member's held credits on one member's account a transaction settles (and unlists)


@dataclass
class Settled:
    user_id: str
    outcome: str  # "release" | "void"
    entries: list[dict] = field(default_factory=list)  # {"held", "points", "carbon_mg"} of each entry settled
    points: int = 0  # credited (a release)
    carbon_mg: int = 0
    cleared: bool = False  # this run cleared the review (a racing run that found it clear settled nothing)
    dry_run: bool = False


def flag(user_id: str, reason: str | None, uow: Any, rule: str = review_rules.OPERATOR_RULE) -> dict:
    """Puts the account under review (a write with no entry): `since` kept if it already is, the reason added."""
    with uow.posting(user_id) as posting:
        for _ in posting.attempts():
            staged = posting.stage([], flag=Flag(rule, reason))
            posting.commit({"user_id": user_id, "since": staged.account["review_since"],
                            "rules": [r["rule"] for r in staged.account["review_rules"]]})
    return posting.result


def flag_once(user_id: str, rule: str, reason: str, uow: Any,
              still: Callable[[Any], bool] | None = None) -> bool:
    """A rule's flag (rules 4 and 5, fired outside the posting they judge): the account goes under review with
    `reason`, unless it is under review for `rule` already (one reason per rule, not one per further write), or
    `still` (the rule judged again on the account read, with what its last review cleared) says it no longer
    fires. True when this call put it under review or added the reason."""
    with uow.posting(user_id) as posting:
        for account in posting.attempts():
            if (review_rules.under_review(account) and rule in review_rules.rules_of(account)) or (
                    still is not None and not still(account)):
                posting.answer(False)
                break
            posting.stage([], flag=Flag(rule, reason))
            posting.commit(True)
    return bool(posting.result)


def settle(user_id: str, outcome: str, reason: str, uow: Any, queue: Any, dry_run: bool = False) -> Settled:
    """Releases (credits) or voids every open held entry of the account, then clears it. NOT_UNDER_REVIEW when it
    is clear before anything is done (a run racing with another that cleared it returns what it settled)."""
    assert outcome in (RELEASE, VOID)
    done = Settled(user_id, outcome, dry_run=dry_run)
    account = uow.accounts.get(user_id)
    if not review_rules.under_review(account):
        raise NotUnderReviewError()
    if dry_run:
        for entry in queue.unsettled(user_id, account.review_since):
            _count(done, entry)
        for member, entry_ids in queue.staff_held(user_id).items():
            for entry in queue.unsettled_of(member, entry_ids):
                _count(done, entry)
        return done
    _settle_staff_credits(user_id, outcome, reason, uow, queue, done)
    _settle_own(user_id, outcome, reason, uow, queue, done)
    _settle_staff_credits(user_id, outcome, reason, uow, queue, done)  # any listed while the above ran
    return done


def _settle_staff_credits(staff_id: str, outcome: str, reason: str, uow: Any, queue: Any, done: Settled) -> None:
    """The credits held on members' accounts because `staff_id` is under review, member by member."""
    for member, entry_ids in sorted(queue.staff_held(staff_id).items()):
        ordered = sorted(entry_ids)
        for start in range(0, len(ordered), STAFF_BATCH):
            batch = tuple(ordered[start:start + STAFF_BATCH])
            with uow.posting(member) as posting:
                for _ in posting.attempts():
                    open_entries = queue.unsettled_of(member, list(batch))
                    posting.stage([_settling(entry, outcome, reason) for entry in open_entries])
                    posting.guard(StaffCreditsSettled(staff_id, member, batch))
                    posting.commit(open_entries)
            for entry in posting.result:
                _count(done, entry)


def _settle_own(user_id: str, outcome: str, reason: str, uow: Any, queue: Any, done: Settled) -> None:
    while not done.cleared:
        batch: list = []
        with uow.posting(user_id) as posting:
            for account in posting.attempts():
                if not review_rules.under_review(account):
                    posting.answer("clear")  # another run cleared it meanwhile
                    break
                open_entries = queue.unsettled(user_id, account.review_since)
                batch, last = open_entries[:BATCH], len(open_entries) <= BATCH
                posting.stage([_settling(entry, outcome, reason) for entry in batch], clear=last)
                posting.commit("cleared" if last else "batch")
        if posting.result == "clear":
            return
        for entry in batch:
            _count(done, entry)
        done.cleared = posting.result == "cleared"


def _count(done: Settled, entry: Any) -> None:
    points, carbon = int(entry.points), int(entry.carbon_mg)
    done.entries.append({"held": entry.entry_id, "points": points, "carbon_mg": carbon})
    if done.outcome == RELEASE:
        done.points, done.carbon_mg = done.points + points, done.carbon_mg + carbon


def _settling(entry: Any, outcome: str, reason: str) -> Posting:
    """The release (what the held entry held, credited, as it would have been) or the void (nothing credited,
    what was held kept in its inputs) of one held entry."""
    held = (int(entry.points), int(entry.carbon_mg))
    if outcome == RELEASE:
        return Posting(RELEASE, held[0], held[1], entry.source, behavior=entry.behavior, ref=entry.entry_id,
                       reason=reason, inputs=entry.inputs, counted_via=entry.counted_via, settles=held,
                       methodology=(entry.methodology_id, entry.methodology_version))
    return Posting(VOID, 0, 0, entry.source, behavior=entry.behavior, ref=entry.entry_id, reason=reason,
                   inputs={"points": held[0], "carbon_mg": held[1]}, settles=held)


def queued(accounts: Any, queue: Any, rule: str | None = None) -> list[Any]:
    """The accounts under review, oldest first (`rule`: only those it flagged), as stored."""
    listed = queue.listed()
    found = {account.user_id: account for account in accounts(sorted({user for user, _ in listed}))}
    out = []
    for user_id, _ in listed:
        account = found.get(user_id)
        if account is None or not review_rules.under_review(account):
            continue  # a stale item cannot outlive its account's review (same transaction); skipped all the same
        if rule is None or rule in review_rules.rules_of(account):
            out.append(account)
    return out
