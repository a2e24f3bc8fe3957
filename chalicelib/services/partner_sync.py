"""Pulling a partner's events (POST /v1/partners/{id}/sync) from the consent's stored cursor.

Page by page: the page's events are ingested (each event id counts once, whoever delivered it first),
and only then does the cursor move past the page, conditioned on the consent still being the bound one.
A crash or a partner failure halfway loses nothing (the cursor still points before what was not
stored) and doubles nothing (what was stored is known by its id). A sync stops after a bounded number
of pages or seconds, well inside API Gateway's 29 s, and says `has_more`.
"""
from __future__ import annotations

import time
from typing import Any

from ..domain.partner_events import PARSERS
from ..domain.platforms import DEFAULT
from ..domain.refusals import refuse_frozen
from ..domain.results_ingest import SyncResult
from ..errors import PushOnlyError
from . import quotas
from .ingest import Known, ingest_user
from .partners import client, partner

MAX_PAGES = 20
BUDGET_SECONDS = 12.0  # plus one page call (at most partner_requests.BUDGET_SECONDS): inside 29 s


def pull(user_id: str, partner_id: str, uow: Any, platform: str = DEFAULT) -> SyncResult:
    """The user's events since the consent's cursor; a partner the user's platform does not work with is 404."""
    spec = partner(partner_id, platform)
    if spec.is_open:  # an open-protocol partner pushes its events (open-protocol.md): nothing to pull
        raise PushOnlyError(partner=spec.id)
    # the bound consent, read by the write that claims this sync (one per PARTNER_SYNC_INTERVAL_SECONDS):
    # NOT_BOUND or 429 RATE_LIMITED here, before the partner is asked
    consent = quotas.claim_sync(user_id, spec.id)
    account = uow.accounts.get(user_id)
    refuse_frozen(account)
    source, parse = client(spec.id), PARSERS[spec.id]
    outcome, cursor, more = SyncResult(), consent.cursor, True
    deadline = time.monotonic() + BUDGET_SECONDS
    for _ in range(MAX_PAGES):
        page = source.page(consent.partner_ref, cursor)
        events = [e for e in map(parse, page.events) if e is not None and e.partner_ref == consent.partner_ref]
        outcome.ignored += len(page.events) - len(events)
        result = ingest_user(user_id, spec.id, events, Known(account, consent, uow.seen.seen(e.key for e in events)),
                             uow)
        outcome.add(result)
        more = page.has_more and page.cursor != cursor
        if page.cursor != cursor and not uow.consents.advance(consent, page.cursor):
            more = False  # revoked (or bound anew) meanwhile: stop here
            break
        cursor = page.cursor
        if not more or time.monotonic() > deadline:
            break
        if result.imported:
            account = uow.accounts.get(user_id)  # the counters changed
    outcome.has_more = more
    return outcome
