"""Cold start: import time of the app against that of the libraries it stands on, and the first request."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPS = "import chalice, pynamodb.models, requests, jwt, boto3"


def _importtime_ms(code: str) -> float:
    """Sum of the cumulative import times of the top-level imports `code` makes, from -X importtime."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True, env=os.environ.copy())
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        # A top-level import's name follows the bar after one space; nested ones are indented further.
        if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
            total += int(cumulative)
    return total / 1000


def cold_import(runs: int = 7) -> dict:
    app_ms = statistics.median(_importtime_ms("import app") for _ in range(runs))
    deps_ms = statistics.median(_importtime_ms(DEPS) for _ in range(runs))
    return {"app_ms": round(app_ms, 1), "deps_ms": round(deps_ms, 1), "ratio": round(app_ms / deps_ms, 3)}


FIRST_REQUEST = """
import json, time, os
import app
from bench.lambda_events import event, invoke
start = time.perf_counter()
status, _ = invoke(app.app, event("GET", "/v1/me", token=os.environ["BENCH_TOKEN"]))
print(json.dumps({"status": status, "ms": (time.perf_counter() - start) * 1000}))
"""


def first_request_ms(token: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", FIRST_REQUEST], cwd=ROOT, capture_output=True, text=True,
                                check=True, env={**os.environ, "BENCH_TOKEN": token})
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["status"] == 200, outcome
        times.append(outcome["ms"])
    return round(statistics.median(times), 1)
