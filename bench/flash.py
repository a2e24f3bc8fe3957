"""The flash sale: several processes (each a Lambda container of its own) redeem ONE goods at once, through
the real entry point, against the same number of processes making the raw transaction (bench/raw.py).

- `sale`: redemptions a second on one goods whose stock is split over `SHARDS` sub-items, ours and raw
  (the same GetItem and seven-item transaction, on a shard picked at random), alternating in rounds.
- `sold_out`: refusals a second once the goods is sold out, and DynamoDB calls per refusal: ours answer from
  the container's memory (one read of the caller's own idempotency record), raw pays the GetItem and a
  refused transaction each time.
- zero oversell: after the sale, the shards' units sold equal the redemptions issued on the goods.

`python -m bench.flash` runs it on its own stack (DynamoDB Local in memory, the fakes); `python -m bench`
runs it with the rest.
"""
from __future__ import annotations

import json
import multiprocessing
import random
import sys
import tempfile
import time
import uuid

PROCESSES = 4
SHARDS = 8
ROUNDS = 3
PER_ROUND = 40  # redemptions per process and round, each side
SOLD_OUT_TRIES = 40  # per process
GOODS = {"id": "g-bench-flash", "name": "秒杀商品", "kind": "coupon", "category": "bench", "merchant_id": "m-cafe",
         "points_price": 1, "per_user_limit": None, "valid_days": 30, "cancellable": True,
         "refund_on_expiry": False, "stock_shards": SHARDS}


def _load(stock: int, goods_id: str) -> None:
    from admin.__main__ import main as admin

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"goods": [{**GOODS, "id": goods_id, "stock": stock}]}, handle)
    assert admin(["load", handle.name]) == 0


def _worker(side: str, who: dict, goods_id: str, count: int, barrier, out) -> None:
    """One container: warms up, waits for the others, then makes `count` redemptions one after another."""
    try:
        if side == "ours":
            import app as app_module
            from bench import calls
            from bench.lambda_events import event, invoke

            counter = calls.CallCounter(calls.app_clients())

            def once(i: int) -> int:
                status, _ = invoke(app_module.app, event(
                    "POST", "/v1/market/goods/{goods_id}/redeem", {"goods_id": goods_id}, token=who["token"],
                    body={"request_id": f"flash_{i}_{uuid.uuid4().hex[:12]}"}))
                return status
            invoke(app_module.app, event("GET", "/v1/me", token=who["token"]))  # a warm container
        else:
            from bench.raw import Raw

            raw = Raw()
            counter = _RawCounter(raw)

            def once(i: int) -> int:
                return raw.flash_redeem(who["id"], f"raw_f_{i}_{uuid.uuid4().hex[:12]}", goods_id,
                                        random.randrange(SHARDS))
            raw.client.get_item(TableName=raw.table("accounts"), Key={"user_id": {"S": who["id"]}})  # warm
        counter.take()
        barrier.wait(timeout=120)
        start = time.perf_counter()
        statuses = [once(i) for i in range(count)]
        elapsed = time.perf_counter() - start
        out.put(("ok", side, elapsed, statuses, counter.take()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.put(("error", side, repr(exc), [], 0))


class _RawCounter:
    def __init__(self, raw) -> None:
        from bench.calls import CallCounter

        self._counter = CallCounter([raw.client])

    def take(self) -> int:
        return self._counter.take()


def _run(side: str, people: list[dict], goods_id: str, count: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(len(people)), ctx.Queue()
    processes = [ctx.Process(target=_worker, args=(side, who, goods_id, count, barrier, out)) for who in people]
    for process in processes:
        process.start()
    results = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [r for r in results if r[0] != "ok"]
    assert not errors, errors
    statuses = [s for r in results for s in r[3]]
    wall = max(r[2] for r in results)
    return {"seconds": wall, "statuses": statuses, "calls": sum(r[4] for r in results)}


def _people(app, prefix: str) -> list[dict]:
    from admin.__main__ import main as admin
    from bench.lambda_events import event, invoke

    people = []
    for n in range(PROCESSES):
        code = f"wx:{prefix}-{n}:{uuid.uuid4().hex}"
        status, body = invoke(app, event("POST", "/v1/auth/login", body={"code": code}))
        assert status == 200, body
        assert admin(["points", "adjust", body["user"]["id"], "1000000", "--reason", "bench"]) == 0
        people.append({"id": body["user"]["id"], "token": body["token"]})
    return people


def measure_flash_sale() -> dict:
    """Needs the bench's stack with the tables and demo catalog (bench/__main__.py)."""
    import app as app_module
    from chalicelib.store.stock import read_shards, taken

    ours_people, raw_people = _people(app_module.app, "flash-ours"), _people(app_module.app, "flash-raw")
    ours_goods, raw_goods = GOODS["id"], GOODS["id"] + "-raw"
    big = 10_000_000
    _load(big, ours_goods)
    _load(big, raw_goods)
    sale = {"ours": [], "raw": []}
    for _ in range(ROUNDS):
        for side, people, goods_id in (("ours", ours_people, ours_goods), ("raw", raw_people, raw_goods)):
            run = _run(side, people, goods_id, PER_ROUND)
            assert run["statuses"] == [201] * len(run["statuses"]), run["statuses"][:10]
            sale[side].append(run)
    ours_ops = sum(len(r["statuses"]) for r in sale["ours"]) / sum(r["seconds"] for r in sale["ours"])
    raw_ops = sum(len(r["statuses"]) for r in sale["raw"]) / sum(r["seconds"] for r in sale["raw"])
    ours_calls = sum(r["calls"] for r in sale["ours"]) / sum(len(r["statuses"]) for r in sale["ours"])

    # A sale to the last unit, then a crowd that keeps tapping: sold exactly the stock, refusals from memory.
    small_ours, small_raw = ours_goods + "-last", raw_goods + "-last"
    stock = PROCESSES * 10
    _load(stock, small_ours)
    _load(stock, small_raw)
    last = _run("ours", ours_people, small_ours, 20)
    sold = taken(read_shards(f"goods#{small_ours}", SHARDS))
    issued = last["statuses"].count(201)
    assert issued == stock == sold, (issued, stock, sold)
    refused = {side: _run(side, people, goods_id, SOLD_OUT_TRIES) for side, people, goods_id in
               (("ours", ours_people, small_ours), ("raw", raw_people, _sold_out_raw(small_raw)))}
    for side, run in refused.items():
        assert set(run["statuses"]) == ({409} if side == "ours" else {0}), (side, set(run["statuses"]))
    per_s = {side: len(run["statuses"]) / run["seconds"] for side, run in refused.items()}
    return {
        "processes": PROCESSES, "stock_shards": SHARDS, "samples": sum(len(r["statuses"]) for r in sale["ours"]),
        "ops_per_s": round(ours_ops, 1), "raw_ops_per_s": round(raw_ops, 1), "ratio": round(ours_ops / raw_ops, 3),
        "ddb_calls": round(ours_calls, 2),
        "last_unit": {"stock": stock, "issued": issued, "sold_over_shards": sold},
        "sold_out_per_s": round(per_s["ours"], 1), "raw_sold_out_per_s": round(per_s["raw"], 1),
        "sold_out_ratio": round(per_s["ours"] / per_s["raw"], 3),
        "sold_out_ddb_calls": round(refused["ours"]["calls"] / len(refused["ours"]["statuses"]), 2),
        "raw_sold_out_ddb_calls": round(refused["raw"]["calls"] / len(refused["raw"]["statuses"]), 2),
    }


def _sold_out_raw(goods_id: str) -> str:
    """Empties the raw goods' shards, so every raw attempt is a GetItem and a refused transaction."""
    from chalicelib.store.stock import Stock, shard_keys

    for key in shard_keys(f"goods#{goods_id}", SHARDS):
        Stock(key).update(actions=[Stock.left.set(0)])
    return goods_id


def print_row(row: dict) -> None:
    print(f"flash sale ({row['processes']} processes, one goods over {row['stock_shards']} stock shards): "
          f"{row['ops_per_s']} redemptions/s, raw {row['raw_ops_per_s']}, ratio {row['ratio']}, "
          f"{row['ddb_calls']} DynamoDB calls each; last unit: {row['last_unit']}")
    print(f"flash sale, sold out: {row['sold_out_per_s']} refusals/s in {row['sold_out_ddb_calls']} calls each, "
          f"raw {row['raw_sold_out_per_s']}/s in {row['raw_sold_out_ddb_calls']}")


def main() -> int:
    from bench.__main__ import on_own_stack

    row = on_own_stack(lambda _: measure_flash_sale())
    print(json.dumps(row, indent=2))
    print_row(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
