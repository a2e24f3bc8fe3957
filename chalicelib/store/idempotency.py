"""Idempotency records (api.md): a success is remembered with its status and body, written in the
same transaction as its effect; a failure wrote nothing, so it is not remembered.

One mechanism for every write that awards or spends: check-ins, partner syncs, redemptions,
adoptions, operator credits. The scope is the caller (a user, or the staff member who credits).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from ..domain import clock
from ..errors import IdempotencyConflictError, ValidationError
from .models import IdempotencyRecord

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REMEMBER_FOR = timedelta(hours=48)


def parse_request_id(raw: object) -> str:
    if not isinstance(raw, str) or not REQUEST_ID.fullmatch(raw):
        raise ValidationError("request_id 须为 8 到 64 位字母、数字、下划线或连字符", field="request_id")
    return raw


@dataclass(frozen=True)
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

    def token(self, version: int) -> str:
        """ClientRequestToken for the transaction made from account version `version` (36 chars at most)."""
        return hashlib.sha256(f"{self.key}|{version}".encode()).hexdigest()[:36]

    def values(self, status: int, body: dict) -> dict:
        """The IdempotencyRecord's attribute values remembering this first response (store/items.py)."""
        now = clock.now()
        return {"key": self.key, "route": self.route, "fingerprint": self.fingerprint, "status": status,
                "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                "created_at": clock.iso(now), "expires_at": now + REMEMBER_FOR}

    def replay(self, record: IdempotencyRecord) -> tuple[int, dict]:
        """The first response, or 409 when the request_id was used for another route or payload."""
        if record.route != self.route or record.fingerprint != self.fingerprint:
            raise IdempotencyConflictError(request_id=self.request_id)
        return int(record.status), json.loads(record.body)

    def replay_raw(self, raw_item: dict) -> tuple[int, dict]:
        return self.replay(IdempotencyRecord.from_raw_data(raw_item))

    def find(self) -> tuple[int, dict] | None:
        """The remembered response, if this request already succeeded (one consistent read)."""
        try:
            record = IdempotencyRecord.get(self.key, consistent_read=True)
        except IdempotencyRecord.DoesNotExist:
            return None
        return self.replay(record)
