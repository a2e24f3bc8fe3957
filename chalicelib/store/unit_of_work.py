"""The posting unit of work: one consistent read of the account, then one transaction, retried on a lost race.

A use case reads top to bottom; nothing here calls back into it:

    with uow.posting(user_id, once=IdempotencyKeyFree(...), request_id=...) as posting:
        for account in posting.attempts():        # a fresh consistent read each attempt
            staged = posting.stage([Posting(...)])  # entries and balance after (domain/posting.py)
            posting.guard(StockAvailable(...))      # more conditions of the same transaction
            posting.commit(SomeResult(...))         # one TransactWriteItems with the idempotency record
    return posting.result

- The account's `version` conditions the transaction: a concurrent posting makes it fail, and `attempts`
  reads again after a jittered pause that doubles each time, at most MAX_ATTEMPTS times (then Unavailable,
  503). A throttled transaction (botocore already retried it) is tried once more after a longer pause, then
  503; a transaction refused for a reason no retry changes (store/failures.WriteRejected) is not retried.
- A refused guard raises `GuardFailed(guard)`; the use case says what it means to the user.
- A retried request finds its first result: the idempotency record's condition returns it (no extra read);
  a domain refusal raised while deciding (a cap reached by the first try itself ...) looks for it once.
`DynamoPostingUnitOfWork` writes to DynamoDB; tests/unit/fakes.py has the in-memory one for use-case tests.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from .. import observability
from ..domain import clock
from ..domain import posting as posting_rules
from ..domain.guards import Guard, GuardFailed, IdempotencyKeyFree, RedemptionIssued
from ..domain.posting import Posting, Staged
from ..domain.review import Flag
from ..errors import AppError
from .failures import THROTTLED_ATTEMPTS, ConditionFailed, Throttled, Unavailable, conflict_pause, throttled_pause
from .idempotency import IdempotencyKey

MAX_ATTEMPTS = 12
IDEMPOTENCY = "idempotency"
MAX_ACTIONS = 100  # DynamoDB's limit of one TransactWriteItems


class PostingUnitOfWork:
    """The loop, the staging and the replay; a subclass reads, writes and finds records (`accounts`,
    `idempotency`, `_write`). `catalog` gives the rules the use cases look up (behaviours, goods)."""

    accounts: Any
    idempotency: Any
    catalog: Any

    def posting(self, user_id: str, once: IdempotencyKeyFree | IdempotencyKey | None = None,
                request_id: str | None = None, account: Any = None) -> PostingUnitOfWork:
        """Starts a posting on `user_id`'s account. `account`: a consistent read the caller already made
        (a batch read), used by the first attempt instead of reading again. `once` may be the store's own
        IdempotencyKey."""
        self.user_id, self.request_id, self._first = user_id, request_id, account
        if isinstance(once, IdempotencyKeyFree):
            once = IdempotencyKey(once.scope, once.request_id, once.operation, once.payload)
        self.key = once
        self.result: Any = None
        self._deciding = False
        self._throttled = 0
        return self

    def remembered(self, once: IdempotencyKeyFree) -> Any:
        """The first result of `once`'s request if it already succeeded, else None (one consistent read):
        for a refusal decided before any posting (a used member code) that a retry must not get."""
        return self.idempotency.find(IdempotencyKey(once.scope, once.request_id, once.operation, once.payload))

    def __enter__(self) -> PostingUnitOfWork:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: Any) -> bool:
        """A refusal raised while deciding is the answer, unless this very request already succeeded."""
        if self._deciding and self.key and isinstance(error, AppError):
            remembered = self.idempotency.find(self.key)
            if remembered is not None:
                self.result = remembered
                return True
        return False

    def attempts(self) -> Iterator[Any]:
        """The account, read consistently, once per attempt until one commits or replays."""
        for attempt in range(MAX_ATTEMPTS):
            account = self._first if attempt == 0 and self._first is not None else self.accounts.get(self.user_id)
            self.account, self.staged, self.guards = account, None, []
            self._pause = conflict_pause(attempt)
            self._deciding = True
            yield account
            self._deciding = False
            if self.result is not None:
                return
            time.sleep(self._pause)
        raise Unavailable()

    def stage(self, postings: list[Posting], set_on_account: dict | None = None, flag: Flag | None = None,
              clear: bool = False) -> Staged:
        """The entries and the balance after them (InsufficientPointsError below zero); `set_on_account`:
        more values the same write sets on the account (an odometer reading ...). `flag`: the hook a rule uses
        to put the account under review in this same transaction (this write's credits are then held too);
        `clear`: a review's last release or void ends it (domain/review.py)."""
        self.staged = posting_rules.stage(self.account, postings, self.request_id, flag=flag, clear=clear)
        self.postings = self.staged.postings
        self.staged.account.update(set_on_account or {})
        return self.staged

    def guard(self, guard: Guard) -> None:
        self.guards.append(guard)

    def again(self) -> None:
        """Drops what this attempt staged, to stage it anew on the same read of the account: after a refused
        guard the use case can satisfy otherwise (an empty stock shard: services/redeem.py tries another)."""
        self.staged, self.guards = None, []

    def answer(self, result: Any) -> None:
        """Ends the posting with `result` and writes nothing (what was read leaves nothing to post)."""
        self._deciding = False
        self.result = result

    def fits(self, postings: list[Posting], guards: list[Guard], once: bool = False, peers: int = 0,
             review: bool = False) -> bool:
        """Whether one transaction holds these postings and guards: the account, an entry each, a month
        summary per (month, behaviour) earned, the guards' actions, the idempotency record if `once`, the
        person's carbon on each of `peers` other accounts, and the review queue's item if `review` (a flag or
        a clearing; store/dynamo_uow.py)."""
        today = clock.business_day(clock.now())
        months = {((p.day or today).year, (p.day or today).month, p.behavior) for p in postings
                  if p.behavior and p.kind in posting_rules.SUMMARISED_KINDS}  # domain/posting.py's summaries
        actions = 1 + int(once) + len(postings) + len(months) + len(guards) + peers + int(review)
        return actions + sum(1 for guard in guards if isinstance(guard, RedemptionIssued)) <= MAX_ACTIONS

    def commit(self, result: Any) -> None:
        """Writes the staged posting, the guards and `result`'s idempotency record as one transaction.
        `self.result` is then `result`, or the first result of a retried request; still None after a
        lost race (the next attempt reads again). GuardFailed when a refusing guard failed."""
        self._deciding = False
        try:
            self._write(result)
        except Throttled:
            self._throttled += 1
            if self._throttled >= THROTTLED_ATTEMPTS:
                raise
            self._pause = throttled_pause()  # once more, after a longer pause (attempts)
            return
        except ConditionFailed as refused:
            if self.key and refused.refused(IDEMPOTENCY):
                raw = refused.failed[IDEMPOTENCY]
                self.result = self.idempotency.replay(self.key, raw) if raw else self.idempotency.find(self.key)
                if self.result is None:
                    raise Unavailable() from None
                return
            for label, guard in self.labelled_guards():
                if guard.refuses and refused.refused(label):
                    raise GuardFailed(guard, label) from None
            return  # the account moved, a concurrent transaction, or a fresh id collided: try again
        self.result = result
        observability.record_postings(self.postings)

    def labelled_guards(self) -> list[tuple[str, Guard]]:
        return [(f"guard:{index}", guard) for index, guard in enumerate(self.guards)]

    def _write(self, result: Any) -> None:
        raise NotImplementedError

