"""The Lambda functions of a stage, as `chalice package` will see them.

Chalice imports app.py with the stage's `environment_variables` of config.json applied, and what app.py
registers can depend on them (a stream handler exists only when its stream ARN is set). So this imports
the app the same way, in a fresh interpreter per stage, and reports its functions: the API handler, each
scheduled job, each `@app.lambda_function`, each DynamoDB stream handler with the ARN it names.

A stream's ARN is unknown before its table exists. config.json therefore gives each stream variable a
placeholder naming the stage's table (`STREAM_PLACEHOLDER`); the merge template points the stream event
and that variable, in every function, at the table's real `StreamArn` (build_template.py).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .models import STAGES, build_only_secrets, table_prefix

ROOT = Path(__file__).resolve().parents[2]
STREAM_PLACEHOLDER = "set-at-deploy-by-infra-aws"
_STREAM_ARN = re.compile(r":table/(?P<table>[^/]+)/stream/")

_PROBE = """
import inspect, json
import app
from chalice.app import DynamoDBEventConfig
from chalicelib import jobs, scheduling
a = app.app

def at(f):
    while not hasattr(f, "__code__"):  # Chalice's wrappers: EventSourceHandler, PureLambdaWrapper
        f = getattr(f, "func", None) or getattr(f, "_original_func")
    f = inspect.unwrap(f)
    return [f.__code__.co_filename, f.__code__.co_firstlineno]

def handler(h):
    return getattr(app, h.handler_string.split(".", 1)[1])

def middleware(kind):
    return [at(f) for f, k in a.middleware_handlers if k in (kind, "all")]

entries = {"api_handler": [at(e.view_function) for r in a.routes.values() for e in r.values()] + middleware("http")}
for s in a.event_sources:
    stream = isinstance(s, DynamoDBEventConfig)
    entries[s.name] = [at(handler(s))] + middleware("dynamodb" if stream else "scheduled")
    job = None if stream else next((j for j in jobs.JOBS if j.name == s.name), None)
    if job is not None and job.run_slice is None:
        entries[s.name].append(at(job.run))
for f in a.pure_lambda_functions:
    entries[f.name] = [at(handler(f))] + middleware("pure_lambda")
    if f.name == scheduling.WORKER:
        entries[f.name] += [at(j.run_slice) for j in jobs.JOBS if j.run_slice is not None]
print(json.dumps({
    "sources": [s.name for s in a.event_sources],
    "pure": [f.name for f in a.pure_lambda_functions],
    "streams": {s.name: s.stream_arn for s in a.event_sources if isinstance(s, DynamoDBEventConfig)},
    "entries": entries,
}))
"""


@dataclass(frozen=True)
class StageFunctions:
    names: tuple[str, ...]  # Chalice's names: "api_handler", then the others sorted
    pure: tuple[str, ...]  # `@app.lambda_function`s (invoked by other functions)
    streams: dict  # stream handler name -> the table name its ARN names
    stream_variables: dict  # config.json variable -> the table name its placeholder names
    # function name -> [(file, first line)] of the code Lambda enters it by: for the API handler every route
    # and HTTP middleware; for a job its handler, its middleware and its Job's `run` (a sharded job's
    # scheduled function only fans out: chalicelib/jobs.py on_schedule); for the jobs' worker its handler
    # and every sharded job's `run_slice`; for a stream handler its handler. infra/aws/reach.py follows them.
    entries: dict = field(default_factory=dict)


def stage_variables(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return dict(config["stages"][stage].get("environment_variables", {}))


def stream_table(arn: str) -> str | None:
    match = _STREAM_ARN.search(arn or "")
    return match.group("table") if match else None


@lru_cache(maxsize=len(STAGES))
def stage_functions(stage: str) -> StageFunctions:
    variables = stage_variables(stage)
    # not the AWS credentials, nor the partner addresses of a local stack (a deployed stage refuses http://)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.endswith("_API_BASE")}
    env.update({"AWS_ACCESS_KEY_ID": "probe", "AWS_SECRET_ACCESS_KEY": "probe", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true", "PYTHONPATH": str(ROOT)})
    env.update(build_only_secrets())
    env.update(variables)
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"app.py does not import with stage {stage}'s variables:\n{result.stderr[-3000:]}")
    found = json.loads(result.stdout.strip().splitlines()[-1])
    prefix = table_prefix(stage)
    return StageFunctions(
        names=("api_handler", *sorted(set(found["sources"]) | set(found["pure"]))),
        pure=tuple(sorted(found["pure"])),
        streams={name: stream_table(arn) for name, arn in found["streams"].items()},
        stream_variables={name: stream_table(value) for name, value in variables.items()
                          if STREAM_PLACEHOLDER in value and (stream_table(value) or "").startswith(prefix)},
        entries={name: [tuple(place) for place in places] for name, places in found["entries"].items()},
    )
