"""The windows of failed attempts (services/attempts.py decides keys and limits): counters in `counters`."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from .access import access, on
from .failures import Unavailable
from .market import LimitCounter
from .tx import Tx


@access(on(LimitCounter, "UpdateItem"))
def count_failure(window_key: str, limit: int, purge_at: datetime) -> bool:
    """One more failure in the window, provided it holds fewer than `limit`; False when it is full."""
    try:
        LimitCounter(window_key).update(actions=[LimitCounter.count.add(1), LimitCounter.purge_at.set(purge_at)],
                                        condition=LimitCounter.count.does_not_exist() | (LimitCounter.count < limit))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise Unavailable() from exc
    return True


@access(on(LimitCounter, "ConditionCheckItem"))
def stage_window_open(tx: Tx, label: str, window_key: str, limit: int) -> None:
    """Adds "the window holds fewer than `limit` failures" to a transaction."""
    tx.check(label, LimitCounter, window_key, None,
             condition=LimitCounter.key.does_not_exist() | (LimitCounter.count < limit))


ACCESS = (count_failure, stage_window_open)  # store/access.py
