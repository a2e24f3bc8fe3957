"""The issuance records of one scope's registry (chalicelib/store/issuance.py): which periods are taken, the claim
of a period (the record, written before any marker), its take-over by a re-run, and its end (totals and files).
The order of the writes is admin/issuance.py's docstring."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from chalicelib.errors import AppError
from chalicelib.store.issuance import HEAD, ISSUED, ISSUING, REGISTRY, IssuanceRecord, issuance_id
from chalicelib.store.single_writes import written
from chalicelib.store.tx import Tx, TxCancelledError

from .console import CommandError

CLAIM_ATTEMPTS = 5


@dataclass(frozen=True)
class Claim:
    """A period held by this run: its record is ISSUING and names `attempt`."""

    registry: str
    period: str
    attempt: str
    resumed: bool

    @property
    def id(self) -> str:
        return issuance_id(self.registry, self.period)


def overlapping(registry: str, first: str, last: str) -> list[IssuanceRecord]:
    """The records of `registry` whose period overlaps [first, last] (one Query of the registry's partition)."""
    return [r for r in IssuanceRecord.query(registry, consistent_read=True)
            if r.period != HEAD and r.first_day <= last and r.last_day >= first]


def before_platforms(first: str, last: str) -> list[IssuanceRecord]:
    """Records written before platforms (no `scope`): each issued every entry of its days and marked none, so no
    scope may issue those days again."""
    return [r for r in overlapping(REGISTRY, first, last) if r.scope is None]


def claim(record: IssuanceRecord) -> Claim:
    """Writes the ISSUING record and bumps the head in one transaction; re-checks overlaps after a lost race (and
    never takes over a record another run wrote meanwhile, even of the same period)."""
    record.state, record.attempt = ISSUING, uuid.uuid4().hex
    for _ in range(CLAIM_ATTEMPTS):
        try:  # the head first: a record written after this read changes the version, and fails our write
            version = IssuanceRecord.get(record.registry, HEAD, consistent_read=True).version
        except IssuanceRecord.DoesNotExist:
            version = None
        clash = [r.period for r in overlapping(record.registry, record.first_day, record.last_day)]
        if clash:
            raise CommandError(f"period {record.period} overlaps issued {', '.join(clash)}: refused, nothing issued")
        tx = Tx()
        tx.put("record", record, condition=IssuanceRecord.period.does_not_exist())
        tx.update("head", IssuanceRecord(record.registry, HEAD),
                  actions=[IssuanceRecord.version.set((version or 0) + 1)],
                  condition=IssuanceRecord.version.does_not_exist() if version is None
                  else IssuanceRecord.version == version)
        try:
            tx.commit()
            return Claim(record.registry, record.period, record.attempt, resumed=False)
        except TxCancelledError:
            continue
        except AppError as exc:
            raise CommandError(f"could not record the issuance ({exc.code}); nothing was issued") from exc
    raise CommandError("could not record the issuance (other issuances kept winning); nothing was issued, try again")


def take_over(record: IssuanceRecord) -> Claim:
    """A re-run of an ISSUING issuance (its console died) holds it from now on: a run still going, or another
    re-run, can no longer end it."""
    attempt = uuid.uuid4().hex
    try:
        taken = written(lambda: record.update(
            actions=[IssuanceRecord.attempt.set(attempt)],
            condition=(IssuanceRecord.state == ISSUING) & (IssuanceRecord.attempt == record.attempt)))
    except AppError as exc:
        raise CommandError(f"could not take over issuance {record.period} of {record.registry} ({exc.code}); "
                           "nothing changed, try again") from exc
    if not taken:
        raise CommandError(f"issuance {record.period} of {record.registry} was taken over or ended meanwhile by "
                           "another run: nothing changed here")
    return Claim(record.registry, record.period, attempt, resumed=True)


def finish(held: Claim, values: dict) -> None:
    """The record becomes ISSUED with its totals and files, if this run still holds it."""
    record = IssuanceRecord(held.registry, held.period)
    actions = [IssuanceRecord.state.set(ISSUED)] + [getattr(IssuanceRecord, k).set(v) for k, v in values.items()]
    if not written(lambda: record.update(
            actions=actions, condition=(IssuanceRecord.state == ISSUING) & (IssuanceRecord.attempt == held.attempt))):
        raise CommandError(f"issuance {held.id} was taken over by another run before it ended; that run ends it")
