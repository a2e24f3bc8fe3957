"""make soak: ten minutes of mixed load from several processes through the real server, with DynamoDB faults.

    python -m bench.soak            # SOAK_SECONDS (600), SOAK_WORKERS (4), SOAK_USERS (6 per worker)

Starts its own DynamoDB Local and fake partners, a fault-injecting proxy in front of DynamoDB (dropped
connections, responses lost after the write, delays) and the API as a real server (`infra.local.devserver`)
behind it. Worker processes check in, redeem, scan codes, cancel, read, log in and push signed webhook
batches, retrying a failed write with the same request_id as a client would. At the end, with the faults
off, it checks the invariants and exits 1 if any fails:

- no answer was a 500 (a 503 is allowed: the client retries);
- every account's ledger sums to its balance (`python -m admin reconcile`);
- every check-in that answered 201 is in the ledger once, and nothing else is;
- the goods' stock taken equals the codes outstanding (issued or used), no code was used twice, and
  every verification row is a used redemption;
- every ride pushed counts once, however often its batch was retried;
- the server's memory is stable: its RSS at the end is within 20 % (plus 16 MB) of what it was once warm.

Not part of `make test`. Prints one line of figures per worker and the invariants.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

from .soak_worker import GOODS, MERCHANT, PLATE, work

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
USERS = int(os.environ.get("SOAK_USERS", "6"))


# --- the parent ----------------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _prepare(stack) -> dict:
    """The catalog, the users of each worker (with points), the merchant's staff and one rider per worker."""
    import tempfile

    from chalice.test import Client as TestClient

    from admin.__main__ import main as admin
    from tests.support.api import login
    from tests.support.partners import bind

    assert admin(["init-db"]) == 0 and admin(["seed-demo"]) == 0
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"behaviors": [PLATE], "merchants": [MERCHANT], "goods": [GOODS]}, handle)
    assert admin(["load", handle.name]) == 0
    import logging

    import app

    logging.getLogger("greensprout").setLevel(logging.WARNING)  # the set-up's own request lines are noise here
    with TestClient(app.app, stage_name="local") as client:
        users = [[login(client, f"o-soak-{w}-{n}-{uuid.uuid4().hex[:6]}") for n in range(USERS)]
                 for w in range(WORKERS)]
        for user in (u for group in users for u in group):
            assert admin(["points", "adjust", user["id"], "100000", "--reason", "soak"]) == 0
        riders = [login(client, f"o-soak-rider-{w}-{uuid.uuid4().hex[:6]}") for w in range(WORKERS)]
        refs = [bind(client, stack, rider, "transit") for rider in riders]
        staff = login(client, MERCHANT["staff_openids"][0])
    return {"users": users, "riders": riders, "refs": refs, "staff": staff}


def _invariants(prepared: dict, results: list, rss: list[float]) -> list[tuple[str, bool, str]]:
    from admin.accounts import reconcile
    from chalicelib.store.market import Redemption, Verification
    from chalicelib.store.models import LedgerEntry
    from chalicelib.store.stock import Stock
    from tests.support.aggregates import drain

    drain()
    statuses = Counter()
    for _, counts, _ in results:
        statuses.update(counts)
    checks = [("no 500 answers", statuses.get("500", 0) == 0, f"statuses {dict(statuses)}")]
    recon = reconcile()
    checks.append(("ledger sums to every balance", bool(recon["clean"]), f"{len(recon['mismatches'])} mismatches"))
    wrong = []
    for _, _, done in results:
        for user_id, request_ids in done["checkins"].items():
            stored = [e.request_id for e in LedgerEntry.query(user_id) if e.source == "checkin"]
            if sorted(stored) != sorted(request_ids):
                wrong.append(user_id)
    checks.append(("each check-in answered 201 is in the ledger once", not wrong, f"{len(wrong)} users differ"))
    users = [u["id"] for group in prepared["users"] for u in group]
    stored = [r for user_id in users for r in Redemption.by_user.query(user_id) if r.goods_id == GOODS["id"]]
    stock = Stock.get(f"goods#{GOODS['id']}", consistent_read=True)
    outstanding = [r for r in stored if r.status in ("issued", "used", "expired")]
    taken = int(stock.total) - int(stock.left)
    checks.append(("stock taken equals codes outstanding", taken == len(outstanding),
                   f"taken {taken}, issued or used {len(outstanding)}, cancelled "
                   f"{sum(r.status == 'cancelled' for r in stored)}"))
    answered = {rid for _, _, done in results for rid in done["redemptions"]}
    checks.append(("every redemption answered 201 exists, and no other", answered == {r.redemption_id for r in stored},
                   f"answered {len(answered)}, stored {len(stored)}"))
    rows = [row for row in Verification.scan() if row.merchant_day.startswith(MERCHANT["id"] + "#")
            and row.sk.startswith("v#")]  # the soak's own throwaway tables: a scan is fine here
    used = {r.redemption_id for r in stored if r.status == "used"}
    scanned = [row.redemption_id for row in rows]
    checks.append(("no code used twice", len(scanned) == len(set(scanned)) and set(scanned) == used,
                   f"{len(scanned)} scans, {len(used)} used"))
    ride_wrong = 0
    for rider, (_, _, done) in zip(prepared["riders"], sorted(results), strict=True):
        entries = [e for e in LedgerEntry.query(rider["id"]) if e.source == "transit"]
        ride_wrong += len(entries) != len(done["rides"])
    checks.append(("every ride pushed counts once", ride_wrong == 0, f"{ride_wrong} riders differ"))
    warm, end = rss[max(1, len(rss) // 5)] if len(rss) > 1 else rss[0], rss[-1]
    checks.append(("server memory stable", end <= warm * 1.2 + 16,
                   f"RSS warm {warm:.0f} MB, end {end:.0f} MB, peak {max(rss):.0f} MB"))
    return checks


def main() -> int:
    from infra.local.dynamodb_local import free_port
    from infra.local.ephemeral import Stack
    from tests.support.faultproxy import FaultProxy, Faults

    stack = Stack().start()
    server = proxy = None
    try:
        prepared = _prepare(stack)
        proxy = FaultProxy(stack.dynamodb.port, Faults(reset=0.02, cut_response=0.03, delay=0.02, seed=5)).start()
        port = free_port()
        env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint, "WRITE_RATE_PER_MINUTE": "120"}
        server = subprocess.Popen([sys.executable, "-m", "infra.local.devserver", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(base + "/v1/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        deadline = time.time() + SECONDS
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        workers = [ctx.Process(target=work, args=(n, base, prepared["users"][n], prepared["staff"]["token"],
                                                   prepared["refs"][n], deadline, out)) for n in range(WORKERS)]
        for worker in workers:
            worker.start()
        print(f"soak: {WORKERS} workers x {USERS} users for {SECONDS:.0f} s against {base} (faults on)", flush=True)
        rss = []
        while time.time() < deadline:
            rss.append(rss_mb(server.pid))
            time.sleep(min(10.0, max(0.5, deadline - time.time())))
        rss.append(rss_mb(server.pid))
        results = sorted(out.get(timeout=300) for _ in workers)
        for worker in workers:
            worker.join(timeout=30)
        proxy.enabled = False
        for number, statuses, done in results:
            print(f"worker {number}: {sum(statuses.values())} requests {statuses}, "
                  f"{sum(len(v) for v in done['checkins'].values())} check-ins, {len(done['redemptions'])} "
                  f"redemptions, {done['verified']} scans, {len(done['cancelled'])} cancels, "
                  f"{len(done['rides'])} rides, {done['logins']} logins")
        print(f"faults injected: {dict(proxy.faults.counts)}")
        checks = _invariants(prepared, results, rss)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=15)
        if proxy:
            proxy.stop()
        stack.stop()
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
