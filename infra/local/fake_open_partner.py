"""A fake partner of GreenSprout's open protocol (shared/partners/open-protocol.md) for `make run` and the tests.

It plays a partner's side, written from the document (it shares no code with the app): it signs its calls to
GreenSprout with its secret (X-GS-Partner, X-GS-Timestamp, X-GS-Nonce, X-GS-Signature over METHOD, PATH,
TIMESTAMP, NONCE and the body's SHA-256), links its users with the link codes the mini program hands it
(`link`), pushes event batches (`push`, or `webhook_request` for an in-process client), and serves the
`revoke_url` GreenSprout calls when a user revokes (`POST /revoke`, its signature checked the same way; the
user_refs told are kept, `revocations()`). Faults on /revoke (500s, slow answers) go through the control API
under `/__fake__/` or `faults.add(...)`.

One fake can play several partner ids (`ids`), each with the same secret: a bike-share company and a charging
network in one process.

CLI: `python -m infra.local.fake_open_partner --port 8040` (OPEN_PARTNER_SECRET, OPEN_PARTNER_IDS=a,b).
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
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from infra.local.fake_faults import Faults
from infra.local.fake_http import FakeHTTPServer, Request, Response
from infra.local.shutdown import block_until_interrupted

CHINA = timezone(timedelta(hours=8))
OK = Response({"ok": True})


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """As the protocol signs, written from the document."""
    message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class FakeOpenPartner(FakeHTTPServer):
    name = "fake-open-partner"

    def __init__(self, secret: str, ids: tuple[str, ...] = ("bikeshare",), port: int = 0) -> None:
        super().__init__(port)
        self.secret, self.ids = secret, ids
        self._lock = threading.Lock()
        self.faults = Faults()
        self.reset()
        self.routes = {
            ("POST", "/revoke"): self._revoke,
            ("POST", "/__fake__/link"): lambda r: self._control_link(r.json()),
            ("POST", "/__fake__/push"): lambda r: self._control_push(r.json()),
            ("GET", "/__fake__/revocations"): lambda _: Response({"revocations": self.revocations()}),
            ("POST", "/__fake__/faults"): lambda r: (self.faults.add_from(r.json()), OK)[1],
            ("POST", "/__fake__/faults/clear"): lambda _: (self.faults.clear(), OK)[1],
            ("POST", "/__fake__/reset"): lambda _: (self.reset(), OK)[1],
        }

    @property
    def revoke_url(self) -> str:
        return self.base_url + "/revoke"

    # ----- the control API, also callable in-process -------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._revoked: list[dict[str, Any]] = []  # {"partner", "user_ref", "at"}
            self._serial = 0
        self.faults.clear()

    def revocations(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._revoked)

    def signed(self, method: str, path: str, body: bytes, partner: str | None = None, timestamp: int | None = None,
               nonce: str | None = None, secret: str | None = None) -> dict[str, str]:
        """The four headers of one call (override a field to forge a bad, stale or replayed one)."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_urlsafe(18)
        return {"Content-Type": "application/json", "X-GS-Partner": partner or self.ids[0], "X-GS-Timestamp": stamp,
                "X-GS-Nonce": nonce,
                "X-GS-Signature": signature(secret or self.secret, method, path, stamp, nonce, body)}

    def event(self, user_ref: str, type: str = "bike_ride", quantity: float | int | None = 3.2,  # noqa: A002
              field: str = "distance_km", occurred_at: datetime | None = None,
              event_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """One event as the partner would send it."""
        with self._lock:
            self._serial += 1
            serial = self._serial
        moment = (occurred_at or datetime.now(CHINA)).astimezone(CHINA).replace(microsecond=0)
        event = {"event_id": event_id or f"ev_{int(time.time() * 1000)}_{serial:06d}_{secrets.token_hex(3)}",
                 "user_ref": user_ref, "type": type, "occurred_at": moment.isoformat(), **extra}
        if quantity is not None:
            event[field] = quantity
        return event

    def webhook_request(self, events: list[Any], partner: str | None = None,
                        **forge: Any) -> tuple[str, dict[str, str], bytes]:
        """(path, headers, body) of a signed push of `events` for `partner` (the first id by default)."""
        path = f"/v1/webhooks/{partner or self.ids[0]}"
        body = json.dumps({"events": events}, ensure_ascii=False).encode()
        return path, self.signed("POST", path, body, partner, **forge), body

    def link_request(self, link_code: str, user_ref: str, partner: str | None = None,
                     **forge: Any) -> tuple[str, dict[str, str], bytes]:
        """(path, headers, body) of a signed POST /v1/open/links."""
        body = json.dumps({"link_code": link_code, "user_ref": user_ref}, ensure_ascii=False).encode()
        return "/v1/open/links", self.signed("POST", "/v1/open/links", body, partner, **forge), body

    def push(self, base_url: str, events: list[Any], partner: str | None = None, **forge: Any) -> tuple[int, Any]:
        return _post(base_url, *self.webhook_request(events, partner, **forge))

    def link(self, base_url: str, link_code: str, user_ref: str, partner: str | None = None,
             **forge: Any) -> tuple[int, Any]:
        """The partner's side of linking, once its user agreed: POST /v1/open/links."""
        return _post(base_url, *self.link_request(link_code, user_ref, partner, **forge))

    # ----- the partner's own API: the revoke_url -------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not request.path.startswith("/__fake__/") and (faulty := self.faults.check(request)):
            return faulty
        return super().handle(request)

    def _revoke(self, request: Request) -> Response:
        headers = request.headers
        partner, stamp = headers.get("x-gs-partner", ""), headers.get("x-gs-timestamp", "")
        nonce, given = headers.get("x-gs-nonce", ""), headers.get("x-gs-signature", "")
        expected = signature(self.secret, "POST", request.path, stamp, nonce, request.body)
        if partner not in self.ids or not hmac.compare_digest(given, expected):
            return Response({"error": "bad_signature"}, status=401)
        if not stamp.isascii() or not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return Response({"error": "stale"}, status=401)
        user_ref = request.json().get("user_ref")
        if not isinstance(user_ref, str):
            return Response({"error": "user_ref required"}, status=400)
        with self._lock:
            self._revoked.append({"partner": partner, "user_ref": user_ref, "at": int(time.time())})
        return OK

    def _control_link(self, body: dict[str, Any]) -> Response:
        status, answer = self.link(body["url"], body["link_code"], body["user_ref"], body.get("partner"))
        return Response({"status": status, "body": answer})

    def _control_push(self, body: dict[str, Any]) -> Response:
        events = body.get("events") or [self.event(body["user_ref"], **body.get("event", {}))]
        status, answer = self.push(body["url"], events, body.get("partner"))
        return Response({"status": status, "body": answer})


def _post(base_url: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    response = requests.post(base_url.rstrip("/") + path, data=body, headers=headers, timeout=30)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake open-protocol partner on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8040)
    args = parser.parse_args(argv)
    if not os.environ.get("OPEN_PARTNER_SECRET"):
        parser.error("set OPEN_PARTNER_SECRET in the environment")
    ids = tuple((os.environ.get("OPEN_PARTNER_IDS") or "bikeshare").split(","))
    with FakeOpenPartner(os.environ["OPEN_PARTNER_SECRET"], ids, port=args.port) as fake:
        print(f"fake open-protocol partner {', '.join(ids)} at {fake.base_url}; Ctrl-C to stop", flush=True)
        block_until_interrupted()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
