"""python -m bench: each operation through the real Lambda entry point against its raw DynamoDB baseline.

Starts its own DynamoDB Local and fake partners, prints a table and writes .bench/latest.json.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

from infra.local.ephemeral import Stack

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".bench" / "latest.json"
BENCH_BEHAVIOR = {"code": "bench_unlimited", "name": "基准测试", "category": "bench", "unit": "event",
                  "carbon": {"mg": 144000, "per": 1}, "points": {"points": 5, "per": 1}, "channels": ["checkin"],
                  "methodology": {"id": "BENCH", "version": "1", "source": "bench only"}}
BENCH_GOODS = {"id": "g-bench", "name": "基准商品", "kind": "coupon", "category": "bench", "merchant_id": "m-cafe",
               "points_price": 1, "stock": 10_000_000, "per_user_limit": 1000, "valid_days": 30,
               "cancellable": True, "refund_on_expiry": False}


def _setup() -> None:
    from admin.__main__ import main as admin

    assert admin(["init-db"]) == 0 and admin(["seed-demo"]) == 0
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"behaviors": [BENCH_BEHAVIOR], "goods": [BENCH_GOODS]}, handle)
    assert admin(["load", handle.name]) == 0


def on_own_stack(measure):
    """`measure(stack)` on a stack of its own (DynamoDB Local in memory, the fakes), set up as `make bench`'s,
    for a bench module run alone (`python -m bench.fold`, ...): what it returned."""
    stack = Stack().start()
    os.environ.setdefault("WRITE_RATE_PER_MINUTE", "1000000")  # measures speed, not the per-user limit
    try:
        _setup()
        return measure(stack)
    finally:
        stack.stop()


def _login(app, openid: str) -> dict:
    from bench.lambda_events import event, invoke

    status, body = invoke(app, event("POST", "/v1/auth/login", body={"code": f"wx:{openid}:{uuid.uuid4().hex}"}))
    assert status == 200, body
    return body


def measure_requests(results: dict) -> str:
    import app as app_module
    from bench import calls
    from bench.lambda_events import event, invoke
    from bench.raw import Raw
    from bench.timing import interleaved

    app, raw = app_module.app, Raw()
    counter = calls.CallCounter(calls.app_clients() + [raw.client])
    ours_user, raw_user = _login(app, "bench-ours"), _login(app, "bench-raw")
    token, ours_id, raw_id = ours_user["token"], ours_user["user"]["id"], raw_user["user"]["id"]

    def checkin(i: int) -> None:
        status, body = invoke(app, event("POST", "/v1/checkins", token=token,
                                         body={"request_id": f"bench_{i}_{uuid.uuid4().hex[:8]}",
                                               "behavior": "bench_unlimited"}))
        assert status == 201, body

    results["checkin"] = interleaved(checkin, lambda i: raw.checkin(raw_id, f"raw_{i}_{uuid.uuid4().hex[:8]}"),
                                     counter)

    from admin.__main__ import main as admin

    for user_id in (ours_id, raw_id):
        assert admin(["points", "adjust", user_id, "100000", "--reason", "bench"]) == 0

    def redeem(i: int) -> None:
        status, body = invoke(app, event("POST", "/v1/market/goods/{goods_id}/redeem", {"goods_id": "g-bench"},
                                         token=token, body={"request_id": f"bench_r_{i}_{uuid.uuid4().hex[:8]}"}))
        assert status == 201, body

    results["redeem"] = interleaved(redeem, lambda i: raw.redeem(raw_id, f"raw_r_{i}_{uuid.uuid4().hex[:8]}",
                                                               "g-bench", 1), counter)

    def ledger_page(_: int) -> None:
        status, body = invoke(app, event("GET", "/v1/me/ledger", token=token, query="limit=20"))
        assert status == 200 and len(body["items"]) == 20, body

    results["ledger_page"] = interleaved(ledger_page, lambda _: raw.ledger_page(ours_id), counter)

    def login(i: int) -> None:
        status, _ = invoke(app, event("POST", "/v1/auth/login", body={"code": f"wx:bench-ours:{i}-{uuid.uuid4()}"}))
        assert status == 200

    results["login"] = interleaved(login, lambda i: raw.login("bench-raw", f"wx:bench-raw:{i}-{uuid.uuid4()}",
                                                             raw_id), counter, rounds=25)
    return token


def package_size() -> dict:
    zip_path = ROOT / "build" / "package-dev" / "deployment.zip"
    if not zip_path.exists():
        return {"package_mb": None, "note": "no build/package-dev/deployment.zip: run `make package`"}
    return {"package_mb": round(zip_path.stat().st_size / 2**20, 2)}


def print_table(results: dict) -> None:
    print(f"{'operation':<12} {'ops/s':>8} {'raw ops/s':>10} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'ddb':>4}")
    for name in ("checkin", "redeem", "ledger_page", "login"):
        row = results.get(name)
        if row:
            print(f"{name:<12} {row['ops_per_s']:>8} {row['raw_ops_per_s']:>10} {row['ratio']:>6} {row['p50_ms']:>7} "
                  f"{row['p99_ms']:>7} {row['ddb_calls']:>4}")
    for users, row in results.get("webhook_500_rides", {}).items():
        print(f"webhook of 500 rides over {users.split('_')[0]} rider(s): {row['ms']} ms, "
              f"{row['ddb_calls']} DynamoDB calls")
    if "open_webhook_500" in results:
        row = results["open_webhook_500"]
        print(f"open-protocol webhook of 500 bike rides over {row['users']} users: {row['ms']} ms, "
              f"{row['ddb_calls']} DynamoDB calls")
    if "flash_sale" in results:
        from bench.flash import print_row

        print_row(results["flash_sale"])
    if "fold" in results:
        from bench.fold import print_row as print_fold

        print_fold(results["fold"])
    hook = results["webhook_500"]
    print(f"webhook_500 ({hook['riders']} riders): {hook['seconds']} s, {hook['ddb_calls']} DynamoDB calls, raw "
          f"{hook['raw_seconds']} s in {hook['raw_ddb_calls']} calls, ratio {hook['ratio']}")
    cold = results["cold_import"]
    print(f"cold import: app {cold['app_ms']} ms, deps {cold['deps_ms']} ms, ratio {cold['ratio']}, "
          f"first request {cold['first_request_ms']} ms")
    print(f"cold start (fresh process: import + first request): GET /v1/me {cold['cold_start_me_ms']} ms, "
          f"check-in {cold['cold_start_checkin_ms']} ms (ratio to the deps' import {cold['checkin_ratio']}); "
          f"the floor, the same check-in with no code of ours, {cold['cold_start_floor_ms']} ms "
          f"(ratio {cold['floor_ratio']})")
    print(f"package: {results['package_mb']} MB")


def main() -> int:
    stack = Stack().start()
    os.environ.setdefault("WRITE_RATE_PER_MINUTE", "1000000")  # measures speed, not the per-user limit
    try:
        _setup()
        results: dict = {}
        token = measure_requests(results)
        from bench.webhook import measure_open_webhook, measure_webhook, measure_webhook_500

        results["webhook_500"] = measure_webhook_500(stack)
        results["webhook_500_rides"] = measure_webhook(stack)
        results["open_webhook_500"] = measure_open_webhook(stack)
        from bench.flash import measure_flash_sale

        results["flash_sale"] = measure_flash_sale()
        from bench.fold import measure_fold

        results["fold"] = measure_fold()
        from bench.cold import cold_import, first_request, floor_checkin

        me, checkin, floor = first_request(token, "me"), first_request(token, "checkin"), floor_checkin(token)
        imports = cold_import()
        results["cold_import"] = {**imports, "first_request_ms": me["first_request_ms"],
                                  "cold_start_me_ms": me["total_ms"], "cold_start_checkin_ms": checkin["total_ms"],
                                  "cold_start_floor_ms": floor["total_ms"],
                                  "checkin_ratio": round(checkin["total_ms"] / imports["deps_ms"], 3),
                                  "floor_ratio": round(floor["total_ms"] / imports["deps_ms"], 3)}
        results.update(package_size())
    finally:
        stack.stop()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print_table(results)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
