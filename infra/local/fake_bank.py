"""A fake of the partner bank's green-finance open API (shared/partners/bank.md) for `make run` and the tests.

OAuth client credentials with expiring tokens (at most 10 token requests a minute, then 429), Bearer
checks on every call (401 `invalid_token`), customers, consents, green events in `event_id` order paged
with `after`, at most 20 requests a second, and signed webhook pushes. Faults (500s, 429s, slow answers),
malformed events and token invalidation are switched through the control API under `/__fake__/` (or the
same methods in-process); `token_requests()` counts how often we asked for a token.

CLI: `python -m infra.local.fake_bank --port 8030` (BANK_CLIENT_ID, BANK_CLIENT_SECRET, BANK_WEBHOOK_SECRET).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

import requests

from infra.local.fake_faults import Faults, RateLimit
from infra.local.fake_http import BadJsonError, FakeHTTPServer, Request, Response
from infra.local.shutdown import block_until_interrupted

CHINA = timezone(timedelta(hours=8))
OK = Response({"ok": True})
TYPES = ("e_statement", "online_utility_payment", "e_card_application")


def error(status: int, code: str, **extra: Any) -> Response:
    return Response({"error": code, **extra}, status=status)


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """As the bank signs its pushes, written from the document."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class FakeBank(FakeHTTPServer):
    name = "fake-bank"

    def __init__(self, client_id: str, client_secret: str, webhook_secret: str, port: int = 0,
                 token_ttl: int = 1800, token_limit: int = 10, rate_limit: int = 20) -> None:
        super().__init__(port)
        self.client_id, self.client_secret, self.webhook_secret = client_id, client_secret, webhook_secret
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self.faults = Faults()
        self.token_rate = RateLimit(token_limit, 60.0)
        self.rate = RateLimit(rate_limit, 1.0)
        self.reset()
        self.routes = {
            ("POST", "/oauth/token"): self._token,
            ("POST", "/v1/consents"): self._consent,
            ("GET", "/v1/green-events"): self._green_events,
            ("POST", "/__fake__/customers"): lambda r: Response({"customer_ref": self.add_customer(
                _field(r, "phone"), r.json().get("customer_ref"), r.json().get("consent_id"))}),
            ("POST", "/__fake__/events"): self._post_event,
            ("POST", "/__fake__/faults"): lambda r: (self.faults.add_from(r.json()), OK)[1],
            ("POST", "/__fake__/faults/clear"): lambda _: (self.faults.clear(), OK)[1],
            ("POST", "/__fake__/invalidate_tokens"): lambda _: (self.invalidate_tokens(), OK)[1],
            ("GET", "/__fake__/calls"): lambda _: Response({**self.calls(), "token_requests": self.token_requests()}),
            ("GET", "/__fake__/consents"): lambda _: Response({"consents": self.consents()}),
            ("POST", "/__fake__/push"): self._post_push,
            ("POST", "/__fake__/reset"): lambda _: (self.reset(), OK)[1],
        }

    # ----- the control API, also callable in-process -------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._customers: dict[str, str] = {}  # phone -> customer_ref
            self._consents: dict[str, dict[str, Any]] = {}  # consent_id -> {customer_ref, active}
            self._events: list[tuple[str, Any]] = []  # (customer_ref, event) in event_id order
            self._tokens: dict[str, float] = {}  # token -> expiry
            self._token_requests = 0
            self._calls: Counter[str] = Counter()
            self._serial = 0
            self._next_consent_ids: dict[str, str] = {}  # customer_ref -> the id its next consent gets
        self.faults.clear()
        self.rate.reset()
        self.token_rate.reset()

    def add_customer(self, phone: str, customer_ref: str | None = None, consent_id: str | None = None) -> str:
        """A bank customer for `phone` (the same one when it exists); its customer_ref. `customer_ref` and
        `consent_id` (of the customer's next consent) replace the ids the fake would make up: a partner may
        send any text as an id (a very long one, one with "/" or "?" in it)."""
        with self._lock:
            if phone not in self._customers:
                self._customers[phone] = customer_ref or "bc_" + secrets.token_hex(8)
            if consent_id:
                self._next_consent_ids[self._customers[phone]] = consent_id
            return self._customers[phone]

    def add_event(self, customer_ref: str, type: str = "e_statement", occurred_at: datetime | str | None = None,  # noqa: A002
                  amount_fen: int | None = None) -> dict[str, Any]:
        moment = occurred_at if isinstance(occurred_at, datetime) else (
            datetime.fromisoformat(occurred_at) if occurred_at else datetime.now(CHINA))
        event = {"event_id": self._next_id(), "customer_ref": customer_ref, "type": type,
                 "occurred_at": moment.astimezone(CHINA).replace(microsecond=0).isoformat(), "amount_fen": amount_fen}
        return self.add_raw_event(customer_ref, event)

    def add_raw_event(self, customer_ref: str, event: Any) -> Any:
        """Appends anything to the customer's events as it is, malformed events included."""
        with self._lock:
            self._events.append((customer_ref, event))
        return event

    def invalidate_tokens(self) -> None:
        """Every token issued so far answers 401 invalid_token from now on."""
        with self._lock:
            self._tokens.clear()

    def issued_tokens(self) -> list[str]:
        """The access tokens still valid."""
        with self._lock:
            return [t for t, expiry in self._tokens.items() if time.time() < expiry]

    def events_of(self, customer_ref: str) -> list[Any]:
        with self._lock:
            return [e for owner, e in self._events if owner == customer_ref]

    def token_requests(self) -> int:
        with self._lock:
            return self._token_requests

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def consents(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"consent_id": k, **v} for k, v in self._consents.items()]

    def webhook_request(self, events: list[Any], timestamp: int | None = None,
                        secret: str | None = None) -> tuple[str, dict, bytes]:
        """(path, headers, body) of a push signed as the bank signs it (override to forge one)."""
        body = json.dumps({"events": events}, ensure_ascii=False).encode()
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        headers = {"Content-Type": "application/json", "X-Bank-Timestamp": stamp,
                   "X-Bank-Signature": webhook_signature(secret or self.webhook_secret, stamp, body)}
        return "/v1/webhooks/bank", headers, body

    def push(self, base_url: str, events: list[Any], **forge: Any) -> tuple[int, Any]:
        path, headers, body = self.webhook_request(events, **forge)
        response = requests.post(base_url.rstrip("/") + path, data=body, headers=headers, timeout=30)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def _next_id(self) -> str:
        with self._lock:
            self._serial += 1
            return f"ge_{int(time.time() * 1000):013d}_{self._serial:06d}"

    # ----- the bank API --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/__fake__/"):
            return super().handle(request)
        with self._lock:
            self._calls[request.path] += 1
        if not self.rate.allow():
            return Response({"error": "rate_limited"}, status=429, headers={"Retry-After": "1"})
        if faulty := self.faults.check(request):
            return faulty
        if request.path != "/oauth/token" and not self._authorized(request):
            return error(401, "invalid_token")
        if request.method == "DELETE" and request.path.startswith("/v1/consents/"):
            return self._revoke(unquote(request.path.rsplit("/", 1)[1]))
        return super().handle(request)

    def _authorized(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            return time.time() < self._tokens.get(token, 0)

    def _token(self, request: Request) -> Response:
        with self._lock:
            self._token_requests += 1
        if not self.token_rate.allow():
            return Response({"error": "rate_limited"}, status=429, headers={"Retry-After": "60"})
        form = {k: v[0] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return error(400, "unsupported_grant_type")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return error(401, "invalid_client")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        return Response({"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl})

    def _consent(self, request: Request) -> Response:
        body = request.json()
        if body.get("scopes") != ["green_events"] or not isinstance(body.get("phone"), str):
            return error(400, "invalid_request")
        with self._lock:
            customer_ref = self._customers.get(body["phone"])
            if customer_ref is None:
                return error(404, "no_customer")
            for consent_id, consent in self._consents.items():
                if consent["customer_ref"] == customer_ref and consent["active"]:
                    return error(409, "consent_exists", consent_id=consent_id, customer_ref=customer_ref)
            consent_id = self._next_consent_ids.pop(customer_ref, None) or "cs_" + secrets.token_hex(8)
            self._consents[consent_id] = {"customer_ref": customer_ref, "active": True}
        return Response({"consent_id": consent_id, "customer_ref": customer_ref}, status=201)

    def _revoke(self, consent_id: str) -> Response:
        with self._lock:
            consent = self._consents.get(consent_id)
            if consent is None or not consent["active"]:
                return error(404, "no_consent")
            consent["active"] = False
        return Response(b"", status=204)

    def _green_events(self, request: Request) -> Response:
        customer_ref, after = request.query.get("customer_ref", ""), request.query.get("after", "")
        limit = min(max(int(request.query.get("limit", "200") or 200), 1), 200)
        with self._lock:
            positions = [i for i, (_, e) in enumerate(self._events) if after and _event_id(e) == after]
            if after and not positions:
                return error(400, "invalid_after")
            start = positions[0] + 1 if positions else 0
            mine = [e for owner, e in self._events[start:] if owner == customer_ref]
        return Response({"events": mine[:limit], "has_more": len(mine) > limit})

    # ----- the control API over HTTP -------------------------------------------------------------------
    def _post_event(self, request: Request) -> Response:
        body = request.json()
        customer_ref = _field(request, "customer_ref")
        if "raw" in body:
            return Response(self.add_raw_event(customer_ref, body["raw"]))
        fields = {k: body[k] for k in ("type", "occurred_at", "amount_fen") if k in body}
        return Response(self.add_event(customer_ref, **fields))

    def _post_push(self, request: Request) -> Response:
        body = request.json()
        status, answer = self.push(_field(request, "url"), body.get("events") or [])
        return Response({"status": status, "body": answer})


def _event_id(event: Any) -> Any:
    return event.get("event_id") if isinstance(event, dict) else None


def _field(request: Request, name: str) -> Any:
    value = request.json().get(name)
    if value in (None, ""):
        raise BadJsonError(f"missing field {name!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake bank green-finance API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8030)
    args = parser.parse_args(argv)
    names = ("BANK_CLIENT_ID", "BANK_CLIENT_SECRET", "BANK_WEBHOOK_SECRET")
    if missing := [n for n in names if not os.environ.get(n)]:
        parser.error(f"set {', '.join(missing)} in the environment")
    with FakeBank(*(os.environ[n] for n in names), port=args.port) as fake:
        print(f"fake bank API at {fake.base_url}; Ctrl-C to stop", flush=True)
        block_until_interrupted()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
