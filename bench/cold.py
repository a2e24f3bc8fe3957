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


def compile_deployed() -> None:
    """The app's bytecode, as the package ships it (infra/aws/package.py add_bytecode), so its cold start is
    measured the way Lambda runs it, and the way the libraries it is compared with import (pip compiled them
    when it installed them). Without this step the app's side depended on the shell: a process started with
    PYTHONDONTWRITEBYTECODE compiled every app module from source on every run (~130 modules), unless
    something had written __pycache__ before. Timestamp-based .pyc in the tree: a changed source recompiles."""
    import compileall

    compileall.compile_file(ROOT / "app.py", quiet=1)
    compileall.compile_dir(ROOT / "chalicelib", quiet=1)


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
    compile_deployed()
    app_ms = statistics.median(_importtime_ms("import app") for _ in range(runs))
    deps_ms = statistics.median(_importtime_ms(DEPS) for _ in range(runs))
    return {"app_ms": round(app_ms, 1), "deps_ms": round(deps_ms, 1), "ratio": round(app_ms / deps_ms, 3)}


FIRST_REQUEST = """
import json, time, os, uuid
started = time.perf_counter()
import app
from bench.lambda_events import event, invoke
imported = time.perf_counter()
if os.environ["BENCH_ROUTE"] == "checkin":
    evt = event("POST", "/v1/checkins", token=os.environ["BENCH_TOKEN"],
                body={"request_id": "cold_" + uuid.uuid4().hex[:12], "behavior": "bench_unlimited"})
else:
    evt = event("GET", "/v1/me", token=os.environ["BENCH_TOKEN"])
status, _ = invoke(app.app, evt)
done = time.perf_counter()
print(json.dumps({"status": status, "import_ms": (imported - started) * 1000, "ms": (done - imported) * 1000}))
"""


def first_request(token: str, route: str, runs: int = 5) -> dict:
    """A fresh process's import of the app and its first request (`me`: GET /v1/me, `checkin`: a check-in):
    medians of `runs` processes. The whole cold start is their sum, whatever the import deferred."""
    return _fresh_processes(FIRST_REQUEST, token, route, runs)


def _fresh_processes(code: str, token: str, route: str, runs: int) -> dict:
    compile_deployed()
    imports, requests_ = [], []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                check=True, env={**os.environ, "BENCH_TOKEN": token, "BENCH_ROUTE": route})
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["status"] in (200, 201), outcome
        imports.append(outcome["import_ms"])
        requests_.append(outcome["ms"])
    first, imported = statistics.median(requests_), statistics.median(imports)
    return {"import_ms": round(imported, 1), "first_request_ms": round(first, 1),
            "total_ms": round(imported + first, 1)}


# The same check-in with no code of ours around it: a Chalice app of one route that checks the token with PyJWT,
# makes the three reads a fresh container must make before its first check-in (the revoked accounts, and the
# catalog's behaviours and policy, which ours then caches for a minute: services/revocations.py, catalog.py),
# then raw's two DynamoDB requests (bench/raw_checkin.py), through a botocore client. The client comes from the
# app's own session (store/pynamodb_session.py: botocore's data cut down to DynamoDB), the cheapest way this stack
# has to make one, so the floor is the least a check-in's cold start can cost on these libraries.
FLOOR = """
import json, os, time, uuid
started = time.perf_counter()
from chalice import Chalice
import jwt
from chalicelib.store.pynamodb_session import shared_session
from bench.raw_checkin import checkin
from bench.lambda_events import event, invoke
app = Chalice(app_name="floor")


@app.route("/v1/checkins", methods=["POST"])
def create():
    token = app.current_request.headers["authorization"].split(" ", 1)[1]
    claims = jwt.decode(token, os.environ["JWT_SECRET"], algorithms=["HS256"],
                        options={"verify_aud": False, "verify_iss": False})
    client = shared_session().create_client("dynamodb", region_name=os.environ["AWS_REGION"],
                                            endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    prefix = os.environ.get("TABLE_PREFIX", "")
    for table, key, value in (("revocations", "shard", {"N": "0"}), ("catalog", "kind", {"S": "behavior"}),
                              ("catalog", "kind", {"S": "policy"})):
        client.query(TableName=prefix + table, KeyConditionExpression="#k = :v", ExpressionAttributeNames={"#k": key},
                     ExpressionAttributeValues={":v": value})
    checkin(client, prefix, claims["sub"], "floor_" + uuid.uuid4().hex[:12])
    return {}


imported = time.perf_counter()
status, _ = invoke(app, event("POST", "/v1/checkins", token=os.environ["BENCH_TOKEN"], body={}))
done = time.perf_counter()
print(json.dumps({"status": status, "import_ms": (imported - started) * 1000, "ms": (done - imported) * 1000}))
"""


def floor_checkin(token: str, runs: int = 5) -> dict:
    """FLOOR's cold start: a fresh process's imports and its one check-in, medians of `runs` processes."""
    return _fresh_processes(FLOOR, token, "floor", runs)
