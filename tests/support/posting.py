"""Entries of any kind for a test's own account (a late ride, a year of accruals), written as every posting
is: the unit of work's one transaction (store/unit_of_work.py), with no request record. The planner form is
the one services/posting.post had, kept here for the tests that build their entries from the account read."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.posting import LedgerLine, Posting
from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork

__all__ = ["Plan", "Posting", "post"]


@dataclass
class Plan:
    postings: list[Posting]
    respond: Callable[[list[dict], Any], Any] | None = None  # ignored: the staged lines are returned


def post(user_id: str, planner: Callable[[Any], Plan], request_id: str | None = None) -> list[LedgerLine]:
    with DynamoPostingUnitOfWork().posting(user_id, request_id=request_id) as posting:
        for account in posting.attempts():
            staged = posting.stage(planner(account).postings)
            posting.commit(staged.lines)
    return posting.result
