"""Transitional: `post`, the planner-callback form of the posting unit of work, for the services not yet
migrated (points expiry, the forfeit of an erased account ...). New code and migrated use cases use
store/unit_of_work.py directly (services/checkins.py, collection.py, redeem.py, trees.py, accrual.py, ingest.py,
werun.py show how); this module goes away with its last caller.

`post` reads the account once (consistently), lets the planner decide its ledger entries from what it
read, and writes the entries, the new balance, the day's counters and the idempotency record in one
transaction conditioned on the account's version; the loop, the staging and the replay are the unit of
work's. The idempotency record keeps the planner's (status, body) as before (store/results.Response).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..api.shapes import carbon_g
from ..api.shapes import entry_json as line_json
from ..domain.guards import GuardFailed
from ..domain.posting import EARNING_KINDS, KEEP_DAYS, LedgerLine, Posting, day_count  # noqa: F401 - re-exported
from ..errors import AppError
from ..store.dynamo_uow import DynamoPostingUnitOfWork
from ..store.idempotency import IdempotencyKey
from ..store.models import Account, LedgerEntry
from ..store.repositories import Accounts
from ..store.results import Response
from ..store.tx import Tx
from ..store.unit_of_work import TransitionalActions

__all__ = ["Plan", "Posting", "carbon_g", "day_count", "entry_json", "load_account", "post", "values_json"]


@dataclass
class Plan:
    """What a use case wants written, how to answer, and which extra conditions mean what."""

    postings: list[Posting]
    respond: Callable[[list[dict], Account], tuple[int, dict]]
    extra: Callable[[Tx], None] | None = None
    refusals: dict[str, AppError] = field(default_factory=dict)
    account_sets: dict = field(default_factory=dict)  # more values SET on the account (points expiry's year)


def values_json(values: dict) -> dict:
    """The API's JSON of a ledger entry from its attribute values (api/shapes.py writes it)."""
    return line_json(LedgerLine(**{name: values.get(name) for name in LedgerLine.__dataclass_fields__}))


def entry_json(entry: LedgerEntry) -> dict:
    return values_json(entry.attribute_values)


def load_account(user_id: str) -> Account:
    """The account, read consistently (store/repositories.Accounts.get)."""
    return Accounts().get(user_id)


def post(user_id: str, planner: Callable[[Account], Plan], idem: IdempotencyKey | None = None,
         request_id: str | None = None, account: Account | None = None) -> tuple[int, dict]:
    """Plans and writes atomically; returns (status, body) of the first success for this request.

    `account`, when given, is a consistent read the caller already made (a batch read for a webhook),
    used for the first attempt instead of reading again.
    """
    try:
        with DynamoPostingUnitOfWork().posting(user_id, idem, request_id, account) as posting:
            for current in posting.attempts():
                plan = planner(current)
                staged = posting.stage(plan.postings, plan.account_sets)
                after = Account(user_id, version=staged.account["version"], points=staged.points,
                                carbon_mg=staged.carbon_mg, points_earned=staged.account["points_earned"],
                                points_spent=staged.account["points_spent"])
                status, body = plan.respond([line_json(line) for line in staged.lines], after)
                posting.guard(TransitionalActions(plan.extra, plan.refusals))
                posting.commit(Response(status, body))
    except GuardFailed as failed:
        raise failed.guard.refusals[failed.label] from None
    return posting.result.status, posting.result.body
