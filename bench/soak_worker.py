"""make soak's worker processes (bench/soak.py starts them): each checks in, redeems, scans codes, cancels, reads,
logs in and pushes signed webhook batches through the real server, in the proportions of MIX, retrying a failed
write with the same request_id as a client would, and reports its figures when its deadline passes."""
from __future__ import annotations

import json
import os
import random
import secrets
import time
import uuid
from collections import Counter

import requests

PLATE = {"code": "soak_plate", "name": "压测打卡", "category": "test", "unit": "event",
         "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 100000,
         "channels": ["checkin"], "methodology": {"id": "SOAK", "version": "1", "source": "soak only"}}
MERCHANT = {"id": "m-soak", "name": "压测商户", "staff_openids": ["o-soak-staff"]}
GOODS = {"id": "g-soak", "name": "压测券", "kind": "coupon", "category": "test", "merchant_id": "m-soak",
         "points_price": 10, "stock": 300, "per_user_limit": 1000, "valid_days": 30, "cancellable": True,
         "refund_on_expiry": False}
MIX = [("checkin", 30), ("read", 20), ("redeem", 10), ("verify", 8), ("cancel", 3), ("webhook", 4), ("login", 3)]


class Client:
    def __init__(self, base: str) -> None:
        self.base, self.statuses = base, Counter()

    def send(self, method: str, path: str, body=None, token=None, headers=None, raw: bytes | None = None):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = requests.request(method, self.base + path, data=raw if raw is not None else
                                        (json.dumps(body) if body is not None else None), headers=sent, timeout=30)
        except requests.RequestException:
            self.statuses["no answer"] += 1
            return 0, None
        self.statuses[response.status_code] += 1
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def until_done(self, method: str, path: str, body=None, token=None, make=None, also: tuple = ()):
        """The same request again while the answer is a 503, no answer, RATE_LIMITED (after a pause), or one
        of the error codes in `also`."""
        for _ in range(40):
            headers, raw = make() if make else (None, None)
            status, answer = self.send(method, path, body, token, headers, raw)
            code = (answer or {}).get("error", {}).get("code") if isinstance(answer, dict) else None
            if status == 429 and code == "RATE_LIMITED":
                time.sleep(1.0)
                continue
            if code in also:
                continue
            if status not in (0, 503):
                return status, answer
        return None, None


def _signed_rides(rides: list[dict]):
    from chalicelib.partners.signing import transit_signature

    def make():
        body = json.dumps({"events": rides}).encode()
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = transit_signature(os.environ["TRANSIT_SECRET"], "POST", "/v1/webhooks/transit", "", stamp, nonce,
                                      body)
        return {"X-App-Id": os.environ["TRANSIT_APP_ID"], "X-Timestamp": stamp, "X-Nonce": nonce,
                "X-Signature": signature}, body
    return make


class Worker:
    """One process's share of the load: its users, the codes it holds, and what the server confirmed."""

    def __init__(self, number: int, base: str, users: list[dict], staff_token: str, rider_ref: str) -> None:
        self.number, self.users, self.staff_token, self.rider_ref = number, users, staff_token, rider_ref
        self.rng, self.client, self.issued = random.Random(number), Client(base), []
        self.done = {"checkins": {u["id"]: [] for u in users}, "redemptions": [], "cancelled": [], "rides": [],
                     "verified": 0, "logins": 0}

    def checkin(self, user: dict) -> None:
        body = {"request_id": f"soak_{uuid.uuid4().hex}", "behavior": PLATE["code"]}
        if self.client.until_done("POST", "/v1/checkins", body, user["token"])[0] == 201:
            self.done["checkins"][user["id"]].append(body["request_id"])
            if self.rng.random() < 0.1:  # a client retrying what already succeeded changes nothing
                self.client.until_done("POST", "/v1/checkins", body, user["token"])

    def read(self, user: dict) -> None:
        path = self.rng.choice(["/v1/me", "/v1/me/ledger?limit=20", "/v1/me/redemptions"])
        self.client.send("GET", path, token=user["token"])

    def redeem(self, user: dict) -> None:
        status, answer = self.client.until_done("POST", f"/v1/market/goods/{GOODS['id']}/redeem",
                                                {"request_id": f"soak_{uuid.uuid4().hex}"}, user["token"])
        if status == 201:
            self.issued.append({**answer["redemption"], "token": user["token"]})
            self.done["redemptions"].append(answer["redemption"]["id"])

    def verify(self, user: dict) -> None:
        if self.issued:
            code = self.issued.pop(self.rng.randrange(len(self.issued)))["code"]
            status, _ = self.client.until_done("POST", "/v1/merchant/verify", {"code": code}, self.staff_token)
            self.done["verified"] += status == 200

    def cancel(self, user: dict) -> None:
        if self.issued:
            redemption = self.issued.pop(self.rng.randrange(len(self.issued)))
            status, _ = self.client.until_done("POST", f"/v1/me/redemptions/{redemption['id']}/cancel",
                                               token=redemption["token"])
            if status == 200:
                self.done["cancelled"].append(redemption["id"])

    def webhook(self, user: dict) -> None:
        from datetime import datetime, timedelta, timezone

        now = datetime.now(timezone(timedelta(hours=8)))
        rides = [{"ride_id": f"soak_{uuid.uuid4().hex}", "user_ref": self.rider_ref, "mode": "bus", "line": "12",
                  "boarded_at": now.replace(microsecond=0).isoformat(), "alighted_at": now.isoformat(),
                  "distance_m": 3000, "fare_cents": 200} for _ in range(5)]
        # The bus company resends, signed afresh, on anything but a 2xx (a REPLAYED is seen when the replay
        # guard's write was applied and only its answer lost).
        status, _ = self.client.until_done("POST", "/v1/webhooks/transit", make=_signed_rides(rides),
                                           also=("REPLAYED",))
        if status == 200:
            self.done["rides"].extend(r["ride_id"] for r in rides)

    def login(self, user: dict) -> None:
        code = f"wx:o-soak-login-{self.number}-{self.rng.randrange(50)}:{uuid.uuid4().hex}"
        self.done["logins"] += self.client.until_done("POST", "/v1/auth/login", {"code": code})[0] == 200


def work(number: int, base: str, users: list[dict], staff_token: str, rider_ref: str, deadline: float, out) -> None:
    worker = Worker(number, base, users, staff_token, rider_ref)
    ops, weights = zip(*MIX, strict=True)
    while time.time() < deadline:
        getattr(worker, worker.rng.choices(ops, weights)[0])(worker.rng.choice(users))
    out.put((number, {str(k): v for k, v in worker.client.statuses.items()}, worker.done))
