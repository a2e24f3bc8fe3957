"""Pulling a partner's events (POST /v1/partners/{id}/sync) from the consent's stored cursor.

Page by page: the page's events are ingested (each event id counts once, whoever delivered it first),
and only then does the cursor move past the page, conditioned on the consent still being the bound one.
A crash or a partner failure halfway loses nothing (the cursor still points before what was not
stored) and doubles nothing (what was stored is known by its id). A sync stops after a bounded number
of pages or seconds, well inside API Gateway's 29 s, and says `has_more`.
"""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from ..domain.partner_events import PARSERS
from ..domain.refusals import refuse_frozen
from ..store.partners import Consent
from . import quotas
from .ingest import Known, Outcome, ingest_user, seen_keys
from .partners import client, partner
from .posting import load_account
from .tokens import Caller

MAX_PAGES = 20
BUDGET_SECONDS = 12.0  # plus one page call (at most partner_http.BUDGET_SECONDS): inside 29 s


def sync(caller: Caller, partner_id: str) -> dict:
    spec = partner(partner_id)
    # the bound consent, read by the write that claims this sync (one per PARTNER_SYNC_INTERVAL_SECONDS):
    # NOT_BOUND or 429 RATE_LIMITED here, before the partner is asked
    consent = quotas.claim_sync(caller.user_id, spec.id)
    account = load_account(caller.user_id)
    refuse_frozen(account)
    source, parse = client(spec.id), PARSERS[spec.id]
    outcome, cursor, more = Outcome(), consent.cursor, True
    deadline = time.monotonic() + BUDGET_SECONDS
    for _ in range(MAX_PAGES):
        page = source.page(consent.partner_ref, cursor)
        events = [e for e in map(parse, page.events) if e is not None and e.partner_ref == consent.partner_ref]
        outcome.ignored += len(page.events) - len(events)
        result = ingest_user(caller.user_id, spec.id, events, Known(account, consent, seen_keys(e.key for e in events)))
        outcome.add(result)
        more = page.has_more and page.cursor != cursor
        if page.cursor != cursor and not _advance(consent, page.cursor):
            more = False  # revoked (or bound anew) meanwhile: stop here
            break
        cursor = page.cursor
        if not more or time.monotonic() > deadline:
            break
        if result.imported:
            account = load_account(caller.user_id)  # the counters changed
    return {**outcome.sync_json(), "has_more": more}


def _advance(consent: Consent, cursor: str | None) -> bool:
    """Stores the new cursor while the consent is still the bound one read (no version bump: a cursor
    move never conflicts with a bind or a revocation, which set the cursor themselves)."""
    try:
        consent.update(actions=[Consent.cursor.set(cursor)],
                       condition=(Consent.status == "bound") & (Consent.authorization_id == consent.authorization_id))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
