"""The posting unit of work of partner data coming in: store/dynamo_uow.py's, with the partner repositories
and the ingest guards (domain/guards_ingest.py) staged as the conditions they stand for."""
from __future__ import annotations

from typing import Any

from ..domain.guards import Guard, StepDayHeld
from ..domain.guards_ingest import ConsentStillBound, EventUnseen, ReadingRecorded
from . import repositories
from . import repositories_partners as partners
from .dynamo_uow import DynamoPostingUnitOfWork
from .tx import Tx, connection


class DynamoPartnerUnitOfWork(DynamoPostingUnitOfWork):
    ACCESS = (
        partners.PartnerLinks,
        partners.Consents,
        partners.SeenEvents,
        partners.PartnerReadings,
        partners.ReplayGuards,
        partners.SessionKeys,
        partners.BatchAccounts,
        repositories.StepDays,
    )

    # the partner repositories hold no state: one of each serves every unit of work
    links, consents, seen = partners.PartnerLinks(), partners.Consents(), partners.SeenEvents()
    readings = partners.PartnerReadings()
    replay_guards, session_keys = partners.ReplayGuards(), partners.SessionKeys()
    step_days = repositories.StepDays()  # a person's step-days, held by one platform (services/werun.py)

    def __init__(self, catalog: Any = None) -> None:
        super().__init__(catalog)
        self.accounts = partners.BatchAccounts()  # with `many`, the batch read of a webhook's users

    def prepare_threads(self) -> None:
        """Builds the shared clients once, before several threads post (each with its own unit of work)."""
        connection().client  # noqa: B018

    def _stage_guard(self, tx: Tx, label: str, guard: Guard) -> None:
        if isinstance(guard, EventUnseen):
            self.seen.stage_new(tx, label, guard)
        elif isinstance(guard, ReadingRecorded):
            self.readings.stage_record(tx, label, guard)
        elif isinstance(guard, StepDayHeld):
            self.step_days.stage_held(tx, label, guard.person_id, guard.day, guard.platform, guard.holder)
        elif isinstance(guard, ConsentStillBound):
            self.consents.stage_still_bound(tx, label, guard.user_id, guard.partner, guard.authorization_id)
        else:
            super()._stage_guard(tx, label, guard)
