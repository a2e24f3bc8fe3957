"""A signed webhook batch of 500 bus rides through the real Lambda entry point: time and DynamoDB calls.

`measure_webhook(stack)` needs the bench's stack (DynamoDB Local, the fake WeChat and the fake bus company)
with the tables and demo catalog in place; `python -m bench.webhook` runs it on its own.
"""
from __future__ import annotations

import json
import time
import uuid

BATCH = 500
USERS = (1, 10, 100)  # the batch's rides spread over this many riders


def _bind(app, stack, n: int) -> str:
    from bench.lambda_events import event, invoke

    status, body = invoke(app, event("POST", "/v1/auth/login", body={"code": f"wx:bench-rider-{uuid.uuid4().hex}"}))
    assert status == 200, body
    phone = f"138{n:08d}"
    ref, code = stack.transit.add_rider(phone), f"bench-phone-{uuid.uuid4().hex}"
    stack.wechat.add_phone_code(code, phone)
    status, answer = invoke(app, event("PUT", "/v1/partners/{partner_id}/consent", {"partner_id": "transit"},
                                       body={"phone_code": code}, token=body["token"]))
    assert status == 200, answer
    return ref


def _delivery(stack, refs: list[str]) -> dict:
    from bench.lambda_events import event
    from chalicelib.domain import clock

    boarded = clock.now().replace(microsecond=0).isoformat()
    rides = [{"ride_id": f"r_bench_{uuid.uuid4().hex}", "user_ref": refs[i % len(refs)], "mode": "bus",
              "line": "泸州 12 路", "boarded_at": boarded, "distance_m": 6400, "fare_cents": 200}
             for i in range(BATCH)]
    _, headers, body = stack.transit.webhook_request(rides)
    evt = event("POST", "/v1/webhooks/{partner_id}", {"partner_id": "transit"})
    evt.update(headers=headers, multiValueHeaders={k: [v] for k, v in headers.items()}, body=body.decode())
    return evt


def measure_webhook(stack) -> dict:
    import app as app_module
    from bench import calls
    from bench.lambda_events import invoke

    app, counter = app_module.app, calls.CallCounter(calls.app_clients())
    results = {}
    for users in USERS:
        refs = [_bind(app, stack, users * 1000 + n) for n in range(users)]
        evt = _delivery(stack, refs)
        counter.take()
        start = time.perf_counter()
        status, body = invoke(app, evt)
        elapsed = time.perf_counter() - start
        assert status == 200 and body["accepted"] == BATCH, body
        results[f"{users}_users"] = {"ms": round(elapsed * 1000, 1), "ddb_calls": counter.take(),
                                     "rides_per_s": round(BATCH / elapsed, 1)}
    return results


def measure_webhook_500(stack, riders: int = 50, rounds: int = 3) -> dict:
    """The issue's figure: one signed batch of 500 rides for 50 riders against the raw writes it needs
    (bench/raw.py: Raw.webhook), alternated `rounds` times; medians."""
    import statistics

    import app as app_module
    from bench import calls
    from bench.lambda_events import event, invoke
    from bench.raw import Raw

    app, raw = app_module.app, Raw()
    counter = calls.CallCounter(calls.app_clients())
    refs = [_bind(app, stack, 50_000 + n) for n in range(riders)]
    raw_users = []
    for _ in range(riders):
        status, body = invoke(app, event("POST", "/v1/auth/login", body={"code": f"wx:bench-raw-{uuid.uuid4().hex}"}))
        assert status == 200, body
        raw_users.append(body["user"]["id"])
    ours, theirs, ddb = [], [], []
    for _ in range(rounds):
        evt = _delivery(stack, refs)
        counter.take()
        start = time.perf_counter()
        status, body = invoke(app, evt)
        ours.append(time.perf_counter() - start)
        ddb.append(counter.take())
        assert status == 200 and body["accepted"] == BATCH, body
        start = time.perf_counter()
        raw_calls = raw.webhook(raw_users, BATCH // riders)
        theirs.append(time.perf_counter() - start)
    seconds, raw_seconds = statistics.median(ours), statistics.median(theirs)
    return {"seconds": round(seconds, 3), "ddb_calls": int(statistics.median(ddb)),
            "raw_seconds": round(raw_seconds, 3), "raw_ddb_calls": raw_calls,
            "ratio": round(raw_seconds / seconds, 3), "riders": riders, "rides": BATCH}


def _link(app, stack) -> str:
    """A new user linked to the open-protocol partner `bikeshare` (the demo catalog's), by a link code."""
    from bench.lambda_events import event, invoke

    status, body = invoke(app, event("POST", "/v1/auth/login", body={"code": f"wx:bench-biker-{uuid.uuid4().hex}"}))
    assert status == 200, body
    status, issued = invoke(app, event("POST", "/v1/partners/{partner_id}/link-code", {"partner_id": "bikeshare"},
                                       token=body["token"]))
    assert status == 201, issued
    user_ref = f"bench-bike-{uuid.uuid4().hex[:12]}"
    _, headers, raw = stack.open_partner.link_request(issued["link_code"], user_ref)
    evt = event("POST", "/v1/open/links")
    evt.update(headers=headers, multiValueHeaders={k: [v] for k, v in headers.items()}, body=raw.decode())
    status, answer = invoke(app, evt)
    assert status == 200, answer
    return user_ref


def measure_open_webhook(stack, users: int = 50) -> dict:
    """A signed batch of 500 bike rides of the open protocol's `bikeshare` over `users` linked users: time and
    DynamoDB calls, as the transit batch (it must stay batched: no call per event)."""
    import app as app_module
    from bench import calls
    from bench.lambda_events import event, invoke

    app, counter = app_module.app, calls.CallCounter(calls.app_clients())
    refs = [_link(app, stack) for _ in range(users)]
    fake = stack.open_partner
    _, headers, body = fake.webhook_request([fake.event(refs[i % users], quantity=2.5) for i in range(BATCH)])
    evt = event("POST", "/v1/webhooks/{partner_id}", {"partner_id": "bikeshare"})
    evt.update(headers=headers, multiValueHeaders={k: [v] for k, v in headers.items()}, body=body.decode())
    counter.take()
    start = time.perf_counter()
    status, answer = invoke(app, evt)
    elapsed = time.perf_counter() - start
    assert status == 200 and answer["accepted"] == BATCH, answer
    return {"users": users, "events": BATCH, "ms": round(elapsed * 1000, 1), "ddb_calls": counter.take(),
            "events_per_s": round(BATCH / elapsed, 1)}


def main() -> int:
    from bench.__main__ import on_own_stack

    print(json.dumps(on_own_stack(lambda stack: {"webhook_500_rides": measure_webhook(stack),
                                                 "open_webhook_500": measure_open_webhook(stack)}), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
