"""Idempotency records (api.md): a success is remembered with its status and body, written in the
same transaction as its effect; a failure wrote nothing, so it is not remembered.

One mechanism for every write that awards or spends: check-ins, partner syncs, redemptions,
adoptions, operator credits. The scope is the caller (a user, or the staff member who credits).
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import TYPE_CHECKING

from ..domain import clock
from ..domain.ids import REQUEST_ID, parse_request_id  # noqa: F401 - where the services import it from
from ..domain.values import immutable
from ..errors import IdempotencyConflictError

if TYPE_CHECKING:
    from .models import IdempotencyRecord

REMEMBER_FOR = timedelta(hours=48)


@immutable
class IdempotencyKey:
    """Who asked (scope), under which request_id, for which route and payload."""

    scope: str
    request_id: str
    route: str
    payload: dict

    @property
    def key(self) -> str:
        return f"{self.scope}#{self.request_id}"

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def values(self, status: int, body: dict) -> dict:
        """The IdempotencyRecord's attribute values remembering this first response (store/items.py)."""
        return self.record_values(status, json.dumps(body, ensure_ascii=False, separators=(",", ":")))

    def record_values(self, status: int | None, body: str, format: str | None = None) -> dict:  # noqa: A002
        """The record's values, `body` already serialised (store/results.py says how, by `format`)."""
        now = clock.now()
        return {"key": self.key, "route": self.route, "fingerprint": self.fingerprint, "status": status,
                "body": body, "format": format, "created_at": clock.iso(now), "expires_at": now + REMEMBER_FOR}

    def check(self, record: IdempotencyRecord) -> None:
        """409 when the request_id was used for another route or payload."""
        if record.route != self.route or record.fingerprint != self.fingerprint:
            raise IdempotencyConflictError(request_id=self.request_id)
