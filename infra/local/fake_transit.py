"""A fake of the bus company's open API (shared/partners/transit.md) for `make run` and the tests.

It checks every request as the partner does (app id, HMAC signature, 300 s clock window, nonces never
reused within 10 minutes), keeps riders, authorizations and each rider's ride log, pages rides with
opaque cursors from the beginning of an authorization, limits us to 50 requests a second, and pushes
signed ride batches to our webhook. Faults (500s, 429s, slow answers) and malformed rides are switched
on through the control API under `/__fake__/` (or the same methods in-process).

CLI: `python -m infra.local.fake_transit --port 8020 --app-id A --secret S`.
"""

from __future__ import annotations

import argparse
import base64
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
from urllib.parse import unquote, urlencode

import requests

from infra.local.fake_faults import Faults, RateLimit
from infra.local.fake_http import BadJsonError, FakeHTTPServer, Request, Response
from infra.local.shutdown import block_until_interrupted

CHINA = timezone(timedelta(hours=8))
WINDOW_SECONDS = 300
NONCE_SECONDS = 600
OK = Response({"ok": True})


def error(status: int, code: str, **extra: Any) -> Response:
    return Response({"code": code, **extra}, status=status)


def sign(secret: str, method: str, path: str, query: dict[str, str], timestamp: str, nonce: str,
         body: bytes) -> str:
    """The partner's signature, written from the document (not shared with the app's code on purpose)."""
    canonical = "\n".join([method, path, urlencode(sorted(query.items())), timestamp, nonce,
                           hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


class FakeTransit(FakeHTTPServer):
    """The bus company's API for one client app (app id, secret), with thread-safe in-memory state."""

    name = "fake-transit"

    def __init__(self, app_id: str, secret: str, port: int = 0, rate_limit: int = 50) -> None:
        super().__init__(port)
        self.app_id, self.secret = app_id, secret
        self._lock = threading.Lock()
        self.faults = Faults()
        self.rate = RateLimit(rate_limit, 1.0)
        self.reset()
        self.routes = {
            ("POST", "/v1/authorizations"): self._authorize,
            ("GET", "/v1/rides"): self._rides,
            ("POST", "/__fake__/riders"): lambda r: Response({"user_ref": self.add_rider(
                _field(r, "phone"), r.json().get("user_ref"), r.json().get("authorization_id"))}),
            ("POST", "/__fake__/rides"): self._post_ride,
            ("POST", "/__fake__/faults"): lambda r: (self.faults.add_from(r.json()), OK)[1],
            ("POST", "/__fake__/faults/clear"): lambda _: (self.faults.clear(), OK)[1],
            ("GET", "/__fake__/calls"): lambda _: Response(self.calls()),
            ("GET", "/__fake__/authorizations"): lambda _: Response({"authorizations": self.authorizations()}),
            ("POST", "/__fake__/push"): self._post_push,
            ("POST", "/__fake__/reset"): lambda _: (self.reset(), OK)[1],
        }

    # ----- the control API, also callable in-process -------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._riders: dict[str, str] = {}  # phone -> user_ref
            self._logs: dict[str, list[dict[str, Any]]] = {}  # user_ref -> rides, in recording order
            self._auths: dict[str, dict[str, Any]] = {}  # authorization_id -> {user_ref, active, start}
            self._nonces: dict[str, float] = {}
            self._next_auth_ids: dict[str, str] = {}  # user_ref -> the id its next authorization gets
            self._calls: Counter[str] = Counter()
        self.faults.clear()
        self.rate.reset()

    def add_rider(self, phone: str, user_ref: str | None = None, authorization_id: str | None = None) -> str:
        """A transit account for `phone` (the same one when it exists); its user_ref. `user_ref` and
        `authorization_id` (of the rider's next authorization) replace the ids the fake would make up: a
        partner may send any text as an id (a very long one, one with "/" or "?" in it)."""
        with self._lock:
            if phone not in self._riders:
                user_ref = user_ref or "tu_" + secrets.token_hex(8)
                self._riders[phone], self._logs[user_ref] = user_ref, []
            if authorization_id:
                self._next_auth_ids[self._riders[phone]] = authorization_id
            return self._riders[phone]

    def add_ride(self, user_ref: str, boarded_at: datetime | str | None = None, mode: str = "bus",
                 distance_m: int = 6400, line: str = "泸州 12 路", ride_id: str | None = None) -> dict[str, Any]:
        """Records a ride (boarded now unless told otherwise) in the rider's log; returns it as the API shows it."""
        boarded = boarded_at if isinstance(boarded_at, datetime) else (
            datetime.fromisoformat(boarded_at) if boarded_at else datetime.now(CHINA))
        boarded = boarded.astimezone(CHINA).replace(microsecond=0)
        ride = {"ride_id": ride_id or f"r_{boarded:%Y%m%d}_{secrets.token_hex(6)}", "user_ref": user_ref,
                "mode": mode, "line": line, "boarded_at": boarded.isoformat(),
                "alighted_at": (boarded + timedelta(minutes=23)).isoformat(), "distance_m": distance_m,
                "fare_cents": 200}
        return self.add_raw_ride(user_ref, ride)

    def add_raw_ride(self, user_ref: str, ride: Any) -> Any:
        """Appends anything, malformed rides included, to the rider's log as it is."""
        with self._lock:
            if user_ref not in self._logs:
                raise BadJsonError(f"no rider {user_ref}")
            self._logs[user_ref].append(ride)
        return ride

    def calls(self) -> dict[str, int]:
        """Partner API requests answered so far, by path (the control API is not counted)."""
        with self._lock:
            return dict(self._calls)

    def authorizations(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"authorization_id": k, **v} for k, v in self._auths.items()]

    def webhook_request(self, events: list[Any], nonce: str | None = None, timestamp: int | None = None,
                        secret: str | None = None, path: str = "/v1/webhooks/transit") -> tuple[str, dict, bytes]:
        """(path, headers, body) of a ride push signed as the partner signs it (override to forge one)."""
        body = json.dumps({"events": events}, ensure_ascii=False).encode()
        stamp, nonce = str(timestamp if timestamp is not None else int(time.time())), nonce or secrets.token_hex(16)
        headers = {"Content-Type": "application/json", "X-App-Id": self.app_id, "X-Timestamp": stamp,
                   "X-Nonce": nonce, "X-Signature": sign(secret or self.secret, "POST", path, {}, stamp, nonce, body)}
        return path, headers, body

    def push(self, base_url: str, events: list[Any], **forge: Any) -> tuple[int, Any]:
        """POSTs a signed batch to our app over HTTP; (status, JSON body)."""
        path, headers, body = self.webhook_request(events, **forge)
        response = requests.post(base_url.rstrip("/") + path, data=body, headers=headers, timeout=30)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def rides_of(self, user_ref: str) -> list[Any]:
        with self._lock:
            return list(self._logs.get(user_ref, []))

    # ----- the partner API -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/__fake__/"):
            return super().handle(request)
        with self._lock:
            self._calls[request.path] += 1
        if not self.rate.allow():
            return Response({"code": "RATE_LIMITED"}, status=429, headers={"Retry-After": "1"})
        if faulty := self.faults.check(request):
            return faulty
        if refused := self._refuse(request):
            return refused
        if request.method == "DELETE" and request.path.startswith("/v1/authorizations/"):
            return self._revoke(unquote(request.path.rsplit("/", 1)[1]))
        return super().handle(request)

    def _refuse(self, request: Request) -> Response | None:
        """BAD_SIGNATURE or REPLAYED as the document says, else None (and the nonce is remembered)."""
        h = request.headers
        stamp, nonce = h.get("x-timestamp", ""), h.get("x-nonce", "")
        if h.get("x-app-id") != self.app_id or not stamp.isdigit() or not 16 <= len(nonce) <= 64:
            return error(401, "BAD_SIGNATURE")
        expected = sign(self.secret, request.method, request.path, request.query, stamp, nonce, request.body)
        if not hmac.compare_digest(h.get("x-signature", "").encode(), expected.encode()):
            return error(401, "BAD_SIGNATURE")
        now = time.time()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t < NONCE_SECONDS}
            if abs(now - int(stamp)) > WINDOW_SECONDS or nonce in self._nonces:
                return error(401, "REPLAYED")
            self._nonces[nonce] = now
        return None

    def _authorize(self, request: Request) -> Response:
        body = request.json()
        if body.get("scope") != "rides" or not isinstance(body.get("phone"), str):
            return error(400, "BAD_REQUEST")
        with self._lock:
            user_ref = self._riders.get(body["phone"])
            if user_ref is None:
                return error(404, "NO_SUCH_RIDER")
            for auth_id, auth in self._auths.items():
                if auth["user_ref"] == user_ref and auth["active"]:
                    return error(409, "ALREADY_AUTHORIZED", authorization_id=auth_id, user_ref=user_ref)
            auth_id = self._next_auth_ids.pop(user_ref, None) or "au_" + secrets.token_hex(8)
            self._auths[auth_id] = {"user_ref": user_ref, "active": True, "start": len(self._logs[user_ref])}
        return Response({"authorization_id": auth_id, "user_ref": user_ref}, status=201)

    def _revoke(self, auth_id: str) -> Response:
        with self._lock:
            auth = self._auths.get(auth_id)
            if auth is None or not auth["active"]:
                return error(404, "NO_SUCH_AUTHORIZATION")
            auth["active"] = False
        return Response(b"", status=204)

    def _rides(self, request: Request) -> Response:
        user_ref, cursor = request.query.get("user_ref", ""), request.query.get("cursor")
        limit = min(max(int(request.query.get("limit", "100") or 100), 1), 100)
        with self._lock:
            active = [(k, a) for k, a in self._auths.items() if a["user_ref"] == user_ref and a["active"]]
            if not active:
                return error(403, "NOT_AUTHORIZED")
            auth_id, auth = active[0]
            start = auth["start"] if cursor is None else _index(cursor, auth_id)
            if start is None:
                return error(400, "BAD_CURSOR")
            log = self._logs[user_ref]
            rides = log[start:start + limit]
        end = start + len(rides)
        return Response({"rides": rides, "next_cursor": _cursor(auth_id, end), "has_more": end < len(log)})

    # ----- the control API over HTTP -------------------------------------------------------------------
    def _post_ride(self, request: Request) -> Response:
        body = request.json()
        user_ref = _field(request, "user_ref")
        if "raw" in body:
            return Response(self.add_raw_ride(user_ref, body["raw"]))
        fields = {k: body[k] for k in ("boarded_at", "mode", "distance_m", "line", "ride_id") if k in body}
        return Response(self.add_ride(user_ref, **fields))

    def _post_push(self, request: Request) -> Response:
        body = request.json()
        events = body.get("events")
        if events is None:
            events = self.rides_of(_field(request, "user_ref"))
        status, answer = self.push(_field(request, "url"), events)
        return Response({"status": status, "body": answer})


def _field(request: Request, name: str) -> Any:
    value = request.json().get(name)
    if value in (None, ""):
        raise BadJsonError(f"missing field {name!r}")
    return value


def _cursor(auth_id: str, index: int) -> str:
    return "c_" + base64.urlsafe_b64encode(f"{auth_id}:{index}".encode()).decode().rstrip("=")


def _index(cursor: str, auth_id: str) -> int | None:
    try:
        raw = cursor.removeprefix("c_")
        owner, _, index = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().partition(":")
        return int(index) if owner == auth_id and int(index) >= 0 else None
    except ValueError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake bus company open API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--app-id", default=os.environ.get("TRANSIT_APP_ID", "gs-local"))
    parser.add_argument("--secret", default=os.environ.get("TRANSIT_SECRET"),
                        required="TRANSIT_SECRET" not in os.environ)
    args = parser.parse_args(argv)
    with FakeTransit(args.app_id, args.secret, port=args.port) as fake:
        print(f"fake transit API at {fake.base_url} (app id {fake.app_id}); Ctrl-C to stop", flush=True)
        block_until_interrupted()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
