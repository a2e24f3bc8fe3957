"""Review status (docs/risk.md "Review"): an account is `clear` or `under_review`; what it earns meanwhile is held.

Pure. The status lives on the account item (store/models.Account `review_since`, `review_rules`, `points_held`,
`carbon_held_mg`, `appeal`, `appeal_open`), so the one consistent read every posting makes already has it, and
domain/posting.stage holds every credit of an account under review in one place:

- an `earn` or `accrual` posting becomes a `held` entry: its points and carbon are what would have been credited,
  the balance and carbon stay (its `balance_after` is the unchanged balance), its day counters still count;
- a `spend` is refused (403 ACCOUNT_UNDER_REVIEW), nothing written;
- a `release` entry credits what one held entry held (`ref` = the held entry's id), a `void` entry credits
  nothing; both take the held amounts off `points_held` / `carbon_held_mg`.

`Flag` is the hook a write's own planner (a rule, or the console's `risk flag`) passes to the posting: the account
goes under review in the same transaction, and that write's own credits are held too.
"""
from __future__ import annotations

from typing import Any, ClassVar

from . import ids
from .guards import Guard
from .values import immutable

CLEAR, UNDER_REVIEW = "clear", "under_review"
HELD, RELEASE, VOID = "held", "release", "void"
HOLDS = ("earn", "accrual")  # the credits held while under review (refunds, operator adjusts and expiry are not)
SPENDS = ("spend",)  # refused while under review (redeem, adopt)
QUEUE_SHARDS = 8  # the review queue's partitions (store: the moderation table's "risk#{n}")
OPERATOR_RULE = "operator"  # the rule id of an operator's `risk flag`


@immutable
class Flag:
    """Puts the account under review in the posting's own transaction: `rule` (a rule id, or "operator") and a
    reason a reviewer reads."""

    rule: str
    reason: str | None = None


@immutable
class StaffStanding(Guard):
    """A collection-point credit's condition on the crediting staff member's own account: under review (the
    credit is then held on the member's account) or not, as the credit assumed. Refused: assume the other."""

    staff_id: str
    under_review: bool


@immutable
class StaffCreditListed(Guard):
    """A credit held because its staff member is under review, listed for that staff member's release or void
    (the review queue's "risk-staff#{staff}" partition), in the credit's own transaction."""

    refuses: ClassVar[bool] = False
    staff_id: str
    member_id: str
    entry_id: str


@immutable
class StaffCreditsSettled(Guard):
    """The listing of a staff member's held credits on one member's account, removed in the transaction that
    settles them."""

    refuses: ClassVar[bool] = False
    staff_id: str
    member_id: str
    entry_ids: tuple[str, ...]


def staff_queue(staff_id: str) -> str:
    return f"risk-staff#{staff_id}"


def under_review(account: Any) -> bool:
    return bool(getattr(account, "review_since", None))


def held_totals(account: Any) -> tuple[int, int]:
    """(points, carbon_mg) held on the account, waiting for release or void."""
    return int(getattr(account, "points_held", None) or 0), int(getattr(account, "carbon_held_mg", None) or 0)


def rules_of(account: Any) -> list[str]:
    """The rule ids that put the account under review, each once, in the order they did."""
    return list(dict.fromkeys(reason["rule"] for reason in (getattr(account, "review_rules", None) or [])))


def holds(kind: str, points: int, carbon_mg: int) -> bool:
    return kind in HOLDS and (points > 0 or carbon_mg > 0)


def flagged_rules(account: Any, flag: Flag, at: str) -> list[dict]:
    """The account's reasons with `flag`'s added."""
    return [*(getattr(account, "review_rules", None) or []), {"rule": flag.rule, "reason": flag.reason, "at": at}]


def queue_of(user_id: str) -> str:
    """The review-queue partition an account under review is listed in (sharded: no key everybody writes)."""
    return f"risk#{ids.stable_shard(user_id, QUEUE_SHARDS)}"


def queues() -> list[str]:
    return [f"risk#{shard}" for shard in range(QUEUE_SHARDS)]
