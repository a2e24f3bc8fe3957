"""The Lambda functions' IAM policy, per stage, generated from the models and the code's DynamoDB calls.

    python -m infra.aws.policy            # writes .chalice/policy-dev.json and policy-prod.json
    python -m infra.aws.policy --check    # exit 1 when a committed file differs from what the code needs

config.json sets `autogen_policy: false` and points each stage at its file (Chalice cannot see PynamoDB
calls). The policy allows exactly the DynamoDB actions the deployed code calls (infra/aws/usage.py) on
exactly the stage's tables of ALL_MODELS (their indexes for Query, their streams where a model has one),
its own log groups, and reading the stage's secrets from SSM Parameter Store. ARNs leave partition,
region and account as `*` (as Chalice's own policies do), so one file serves `aws` and `aws-cn`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .build_template import function_name, parameter_path
from .functions import stage_functions
from .models import APP_NAME, STAGES, table_specs
from .usage import lambda_invocations, used_actions

ROOT = Path(__file__).resolve().parents[2]
CHALICE_DIR = ROOT / ".chalice"
INDEX_ACTIONS = {"Query", "Scan"}
STREAM_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
NEVER_FROM_LAMBDA = {"CreateTable", "DeleteTable", "UpdateTable"}


class PolicyError(RuntimeError):
    """The deployed code asks for something a Lambda function must not do."""


def table_arn(table_name: str) -> str:
    return f"arn:*:dynamodb:*:*:table/{table_name}"


def policy_file(stage: str) -> Path:
    return CHALICE_DIR / f"policy-{stage}.json"


def policy(stage: str, actions: list[str] | None = None) -> dict:
    """The policy document of one stage."""
    actions = used_actions() if actions is None else actions
    forbidden = NEVER_FROM_LAMBDA.intersection(actions)
    if forbidden:
        raise PolicyError(f"the deployed code calls {', '.join(sorted(forbidden))}: tables are made by CloudFormation "
                          "(infra/aws), never by Lambda; move that call to admin/")
    specs = table_specs()
    statements = [{
        "Sid": "Tables",
        "Effect": "Allow",
        "Action": [f"dynamodb:{a}" for a in sorted(actions)],
        "Resource": [table_arn(spec.table_name(stage)) for spec in specs],
    }]
    index_actions = sorted(INDEX_ACTIONS.intersection(actions))
    indexed = [(spec, name) for spec in specs for name in spec.index_names]
    if index_actions and indexed:
        statements.append({
            "Sid": "Indexes",
            "Effect": "Allow",
            "Action": [f"dynamodb:{a}" for a in index_actions],
            "Resource": [f"{table_arn(spec.table_name(stage))}/index/{name}" for spec, name in indexed],
        })
    streamed = [spec for spec in specs if spec.stream_view_type]
    if streamed:
        statements.append({"Sid": "Streams", "Effect": "Allow", "Action": list(STREAM_ACTIONS),
                           "Resource": [f"{table_arn(spec.table_name(stage))}/stream/*" for spec in streamed]})
        statements.append({"Sid": "ListStreams", "Effect": "Allow", "Action": ["dynamodb:ListStreams"],
                           "Resource": "*"})
    prefix = function_name(stage, "api_handler")
    statements.append({
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [f"arn:*:logs:*:*:log-group:/aws/lambda/{prefix}:*",
                     f"arn:*:logs:*:*:log-group:/aws/lambda/{prefix}-*:*"],
    })
    invoked = [function_name(stage, name) for name in stage_functions(stage).pure]
    if invoked and lambda_invocations():
        statements.append({"Sid": "InvokeWorkers", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                           "Resource": [f"arn:*:lambda:*:*:function:{name}" for name in invoked]})
    path = parameter_path(stage).rstrip("/")
    statements.append({
        "Sid": "Secrets",
        "Effect": "Allow",
        "Action": ["ssm:GetParametersByPath"],
        "Resource": [f"arn:*:ssm:*:*:parameter{path}", f"arn:*:ssm:*:*:parameter{path}/*"],
    })
    return {"Version": "2012-10-17", "Statement": statements}


def render(stage: str, actions: list[str] | None = None) -> str:
    return json.dumps(policy(stage, actions), indent=2) + "\n"


def stale_files(actions: list[str] | None = None) -> list[Path]:
    """The committed policy files that differ from what the code needs now."""
    actions = used_actions() if actions is None else actions
    stale = []
    for stage in STAGES:
        path = policy_file(stage)
        if not path.exists() or path.read_text(encoding="utf-8") != render(stage, actions):
            stale.append(path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.policy", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    actions = used_actions()
    stale = stale_files(actions)
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date with the code's DynamoDB calls or ALL_MODELS: "
                  f"run `make policy` (python -m infra.aws.policy) and commit it", file=sys.stderr)
        return 1 if stale else 0
    for stage in STAGES:
        policy_file(stage).write_text(render(stage, actions), encoding="utf-8")
    print(f"{APP_NAME}: wrote {', '.join(str(policy_file(s).relative_to(ROOT)) for s in STAGES)} "
          f"({len(actions)} DynamoDB actions: {', '.join(actions)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
