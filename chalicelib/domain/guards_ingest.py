"""The guards of ingesting partner events (services/ingest.py): each event counts once, and only while the
consent the events were checked against is still the bound one.

Both are lost races, not answers: a refused one makes the unit of work read again (`refuses = False`),
and the use case then finds the event seen, or the consent revoked, and counts it so.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from .guards import Guard
from .readings import Recorded
from .values import immutable


@immutable
class EventUnseen(Guard):
    """The partner event `key` ("{partner}#{event_id}") is new on `platform`; the same transaction marks it seen
    there. Its seen item is one for every platform (each reduction is counted once, docs/platforms.md): where no
    platform has seen it (`holder` None) the item is created naming this platform as the holder of its carbon;
    where platform `holder` holds it, the item must still name that holder, and gains this platform (the entry
    here records 0 carbon, `counted_via` the holder)."""

    key: str
    user_id: str
    day: date
    platform: str = "default"
    holder: str | None = None
    refuses: ClassVar[bool] = False


@immutable
class ConsentStillBound(Guard):
    """The user's consent to `partner` is still bound under `authorization_id` (not revoked, not bound anew)."""

    user_id: str
    partner: str
    authorization_id: str | None
    refuses: ClassVar[bool] = False


@immutable
class ReadingRecorded(Guard):
    """A month's reading `key` ("{partner}#{user_ref}#{month}") is recorded as `recorded` by `platform`, provided
    the item still holds what it was computed from (`before`, None: not recorded yet): a first reading creates it;
    the holder's correction replaces exactly the revision it was computed from; another platform's import or
    correction changes only its share, while the item still names the same holder and the shares read
    (domain/readings.py)."""

    key: str
    recorded: Recorded
    day: date
    platform: str = "default"
    before: Recorded | None = None
    refuses: ClassVar[bool] = False
