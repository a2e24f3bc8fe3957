"""The fold (issue 19): inbox items folded a second by one shard's worker, and DynamoDB calls per item.

People check in through the real entry point (several behaviours each, so pages mix people, days and periods
as they do in steady state); the ledger's stream files their inbox items (`admin/streams.drain`, what AWS's
event source mapping does). Then every shard is folded the way its one worker folds it (`services/fold.
fold_slice`, page after page until its inbox is empty), and only that is timed. Shards are folded one after the
other, so items over seconds is what one shard's worker folds a second; the capacity plan's aggregation
catch-up models the same work (`bench/capacity.py`, "per item, ms (modelled)").

`python -m bench.fold` runs it on its own stack; `python -m bench` runs it with the rest.
"""
from __future__ import annotations

import sys
import time
import uuid

PEOPLE = 60
# each person's, in order: behaviours without a photo (the demo catalog's clean_plate takes one)
CHECKINS = ("green_parking", "no_cutlery", "bench_unlimited", "bench_unlimited")
EXTRA = {"green_parking": {"quantity": 1, "evidence": {"odometer_km": 12345}}}  # a first reading: it earns


def measure_fold() -> dict:
    """{"items", "seconds", "items_per_s", "ddb_calls_per_item", "shards"}."""
    import app as app_module
    from admin import streams
    from bench import calls
    from bench.lambda_events import event, invoke
    from chalicelib.domain import clock
    from chalicelib.domain.ranking import SHARDS
    from chalicelib.services import fold

    app = app_module.app
    streams.drain()  # what earlier measurements left in the inboxes is folded first, untimed
    for shard in range(SHARDS):
        fold.fold_slice(shard, clock.now())
    for n in range(PEOPLE):
        status, body = invoke(app, event("POST", "/v1/auth/login",
                                         body={"code": f"wx:bench-fold-{n}:{uuid.uuid4().hex}"}))
        assert status == 200, body
        token = body["token"]
        for behavior in CHECKINS:
            status, body = invoke(app, event("POST", "/v1/checkins", token=token,
                                             body={"request_id": f"fold_{uuid.uuid4().hex[:12]}",
                                                   "behavior": behavior, **EXTRA.get(behavior, {})}))
            assert status == 201, body
    streams.drain()  # the inbox items, filed as the stream handler files them: not timed
    counter = calls.CallCounter(calls.app_clients())
    folded, busy, seconds = 0, 0, 0.0
    for shard in range(SHARDS):
        started = time.perf_counter()
        result = fold.fold_slice(shard, clock.now())
        seconds += time.perf_counter() - started
        folded += result.get("folded", 0)
        busy += result.get("busy", 0)
    ddb_calls = counter.take()
    assert busy == 0 and folded >= PEOPLE * len(CHECKINS), (folded, busy)  # an entry each, and the logins
    return {"items": folded, "seconds": round(seconds, 3), "items_per_s": round(folded / seconds, 1),
            "ddb_calls_per_item": round(ddb_calls / folded, 2), "shards": SHARDS}


def print_row(row: dict) -> None:
    print(f"fold: {row['items']} inbox items over {row['shards']} shards, one worker a shard: "
          f"{row['items_per_s']} items/s per shard, {row['ddb_calls_per_item']} DynamoDB calls an item")


def main() -> int:
    from bench.__main__ import on_own_stack

    print_row(on_own_stack(lambda _: measure_fold()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
