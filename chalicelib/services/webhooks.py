"""Partner pushes (POST /v1/webhooks/{id}): verify, refuse replays, ingest the batch idempotently.

The signature is checked in constant time before anything is read from the body. A delivery is then
claimed once by its transit or open-protocol nonce or its bank signature (a `ReplayGuard` item put if absent or expired,
kept by TTL); if ingesting fails the claim is released, since the partner retries on any non-2xx.
Events of unknown, revoked or frozen users, of unknown types or of a malformed shape are `ignored`.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from functools import partial
from typing import Any

from ..domain.open_partners import parse_event
from ..domain.partner_events import PARSERS
from ..domain.results_ingest import Outcome
from ..errors import (
    AppError,
    BadSignatureError,
    InvalidJSONError,
    ReplayedError,
    ServiceUnavailableError,
    UnknownPartnerError,
    ValidationError,
)
from ..partners.signing import SignatureError, sorted_query, verify_bank, verify_open, verify_transit
from ..settings import get_settings
from .ingest import ingest_batch
from .partners import Partner, mappings, partner

log = logging.getLogger(__name__)
MAX_EVENTS = 500
NONCE_WINDOW = timedelta(minutes=10)  # transit: a nonce is never reused within 10 minutes
SIGNATURE_WINDOW = timedelta(minutes=10)  # bank: 300 s of replays, plus 300 s of clock skew


def push(partner_id: str, headers: dict[str, str], query: dict[str, str], body: bytes, new_uow: Any,
         tallies: Any = None) -> Outcome:
    """A signed delivery, claimed once, its events ingested; `new_uow()` builds a unit of work (one per
    user written in parallel). `tallies` (store/partner_tallies.py) counts the partner's deliveries: the
    outcome of each, or a refusal (a bad signature, a replay, a malformed body) of a known partner."""
    headers = {name.lower(): value for name, value in headers.items()}
    try:
        spec = partner(partner_id)
    except UnknownPartnerError:
        if "x-gs-partner" in headers:  # open-protocol.md: an unknown partner, or one without a usable secret
            raise BadSignatureError() from None
        raise
    try:
        outcome = _push(spec, headers, query, body, new_uow)
    except AppError as refused:
        if tallies is not None and refused.status < 500:
            tallies.delivered(spec.id, {"refused": 1})
        raise
    if tallies is not None:
        tallies.delivered(spec.id, {"accepted": outcome.imported, "duplicates": outcome.duplicates,
                                    "ignored": outcome.ignored})
    return outcome


def _push(spec: Partner, headers: dict[str, str], query: dict[str, str], body: bytes, new_uow: Any) -> Outcome:
    guard, window = _verify(spec, headers, query, body)
    raw_events = _events(body)
    replay_guards = new_uow().replay_guards
    if not replay_guards.claim(guard, window):
        raise ReplayedError()
    try:
        parse = partial(parse_event, mappings(spec)) if spec.is_open else PARSERS[spec.id]
        events = [e for e in map(parse, raw_events) if e is not None]
        outcome = ingest_batch(spec.id, events, new_uow)
    except Exception:
        _release(replay_guards, guard)  # the partner retries this delivery: let it through then
        raise
    outcome.ignored += len(raw_events) - len(events)
    return outcome


def _verify(spec: Partner, headers: dict[str, str], query: dict[str, str], body: bytes) -> tuple[str, timedelta]:
    """The replay-guard key of a correctly signed delivery; BAD_SIGNATURE or REPLAYED otherwise."""
    settings, now, partner_id = get_settings(), time.time(), spec.id
    try:
        if spec.is_open:
            nonce = verify_open(headers, partner_id, settings.partner_secret_of(partner_id), "POST",
                                f"/v1/webhooks/{partner_id}", body, now)
            return open_guard(partner_id, nonce), NONCE_WINDOW
        if partner_id == "transit":
            if not (settings.transit_app_id and settings.transit_secret):
                raise ServiceUnavailableError()
            nonce = verify_transit(headers, settings.transit_app_id, settings.transit_secret, "POST",
                                   f"/v1/webhooks/{partner_id}", sorted_query(query), body, now)
            return f"transit#nonce#{nonce}", NONCE_WINDOW
        if not settings.bank_webhook_secret:
            raise ServiceUnavailableError()
        signature = verify_bank(headers, settings.bank_webhook_secret, body, now)
        return f"bank#sig#{signature}", SIGNATURE_WINDOW
    except SignatureError as exc:
        log.warning("%s webhook refused: %s", partner_id, exc)
        raise (ReplayedError() if exc.replay else BadSignatureError()) from None


def open_guard(partner_id: str, nonce: str) -> str:
    """The replay guard of an open-protocol partner's nonce (its pushes and its links share it)."""
    return f"{partner_id}#nonce#{nonce}"


def _events(body: bytes) -> list:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past Python's limit
        raise InvalidJSONError() from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise ValidationError(f"events 须为至多 {MAX_EVENTS} 个事件的数组", field="events")
    return events


def _release(replay_guards: Any, key: str) -> None:
    try:
        replay_guards.release(key)
    except Exception:  # noqa: BLE001 - best effort: the guard expires anyway
        log.warning("could not release replay guard")
