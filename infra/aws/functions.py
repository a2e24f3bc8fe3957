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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .models import STAGES, build_only_secrets, table_prefix

ROOT = Path(__file__).resolve().parents[2]
STREAM_PLACEHOLDER = "set-at-deploy-by-infra-aws"
_STREAM_ARN = re.compile(r":table/(?P<table>[^/]+)/stream/")

_PROBE = """
import json
import app
from chalice.app import DynamoDBEventConfig
a = app.app

print(json.dumps({
    "sources": [s.name for s in a.event_sources],
    "pure": [f.name for f in a.pure_lambda_functions],
    "streams": {s.name: s.stream_arn for s in a.event_sources if isinstance(s, DynamoDBEventConfig)},
}))
"""


@dataclass(frozen=True)
class StageFunctions:
    names: tuple[str, ...]  # Chalice's names: "api_handler", then the others sorted
    pure: tuple[str, ...]  # `@app.lambda_function`s (invoked by other functions)
    streams: dict  # stream handler name -> the table name its ARN names
    stream_variables: dict  # config.json variable -> the table name its placeholder names


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
    )
