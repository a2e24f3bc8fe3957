"""The IAM policy of each Lambda function, per stage, composed from what the store declares each function touches.

    python -m infra.aws.policy            # writes .chalice/policy-STAGE-FUNCTION.json and config.json's
                                          # lambda_functions (which file each function's role gets)
    python -m infra.aws.policy --check    # exit 1 when a committed file differs from what the code needs

Every function has its own role (Chalice makes one per function when autogen_policy is off), and its own
policy allows exactly what the store pieces it names declare (chalicelib/store/access.py: each repository,
unit of work or store function declares the tables, indexes and actions it uses, as data beside its code).
Which pieces each function names is said where it is wired: the API's and the stream handlers' in
chalicelib/bootstrap.py (`API_TOUCHES`, `STREAM_TOUCHES`), each job's in chalicelib/jobs.py (`Job.touches`;
the worker runs the sharded jobs' slices, so it gets theirs, and a sharded job's scheduled function, which
only fans out, none). No code is parsed: tests/infra/test_roles_in_use.py runs the flows and fails on a call
the declarations do not cover. So a function gets:
- each DynamoDB action declared on each table, and Query on the indexes declared;
- a stream handler: reading its own table's stream, nothing else of streams;
- the API function: the evidence photos' objects under `evidence/` (infra/aws/evidence_bucket.py);
- its own log group; reading the stage's secrets from SSM Parameter Store (every function imports app.py,
  which reads them);
- a sharded job's scheduled function and the jobs' worker: invoking the worker (chalicelib/scheduling.py).

On top, explicit denies that hold whatever an Allow says (`DENIED`): the catalog is read-only, the ledger and
the audit trail are append-only, and the audit trail and the issuance register are no Lambda's at all (admin/
writes them, with an operator's credentials). A declaration that would need one of those fails `make policy`.

ARNs leave partition, region and account as `*` (as Chalice's own policies do), so one file serves `aws`
and `aws-cn`.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from . import evidence_bucket
from .build_template import function_name, parameter_path
from .functions import stage_functions
from .models import APP_NAME, STAGES, TableSpec, load_models, table_specs

ROOT = Path(__file__).resolve().parents[2]
CHALICE_DIR = ROOT / ".chalice"
CONFIG = CHALICE_DIR / "config.json"
STREAM_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
NEVER_FROM_LAMBDA = {"CreateTable", "DeleteTable", "UpdateTable"}
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLInsert", "PartiQLUpdate",
          "PartiQLDelete")
# Sid -> (tables, actions): denied to every Lambda function, whatever it is allowed.
DENIED = {
    "CatalogIsReadOnly": (("catalog",), WRITES),
    "LedgerAndAuditAreAppendOnly": (("ledger", "audit"), ("UpdateItem", "DeleteItem", "BatchWriteItem",
                                                           "PartiQLUpdate", "PartiQLDelete")),
    "NoAuditNoIssuances": (("audit", "issuances"), ("*",)),
    # the transparency roots are written once (PutItem conditioned on absence, store/transparency.py), never changed
    "RootsAreWriteOnce": (("transparency_roots",), ("UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLUpdate",
                                                    "PartiQLDelete")),
}
MAX_POLICY_CHARS = 10240  # IAM's limit for a role's inline policies, whitespace not counted


class PolicyError(RuntimeError):
    """The deployed code asks for something a Lambda function must not do."""


def table_arn(table_name: str) -> str:
    return f"arn:*:dynamodb:*:*:table/{table_name}"


def policy_file(stage: str, function: str) -> Path:
    return CHALICE_DIR / f"policy-{stage}-{function}.json"


def _sid(spec: TableSpec) -> str:
    return spec.logical_id


def denied(actions: set[str], table: str) -> list[str]:
    """The statements of DENIED an action on a table (its name without prefix) falls under."""
    return [sid for sid, (tables, verbs) in DENIED.items()
            if table in tables and ("*" in verbs or actions.intersection(verbs))]


@dataclass(frozen=True, order=True)
class Use:
    """One (table, action, index) a function is granted, and the declared piece that asks for it."""

    action: str  # IAM action without "dynamodb:"
    model: str  # "chalicelib.store.models.LedgerEntry"
    index: str  # the model's index attribute for a Query on it ("by_user"), else ""
    where: str  # the piece the function names: "chalicelib.store.repositories_erasure:finish"


def check_uses(function: str, uses: list[Use], specs: list[TableSpec]) -> None:
    by_model = {f"{s.model.__module__}.{s.model.__name__}": s for s in specs}
    for use in uses:
        if use.action in NEVER_FROM_LAMBDA:
            raise PolicyError(f"{use.where} declares {use.action}: tables are made by CloudFormation (infra/aws), "
                              "never by Lambda; move that call to admin/")
        if use.model not in by_model:
            raise PolicyError(f"{use.where} declares {use.action} on {use.model}, which is not in ALL_MODELS")
        spec = by_model[use.model]
        refused = denied({use.action}, spec.name)
        if refused:
            raise PolicyError(f"{function} names {use.where}, which declares {use.action} on {spec.name}: the "
                              f"{', '.join(refused)} deny of infra/aws/policy.py refuses every Lambda function")


def policy(stage: str, function: str, uses: list[Use] | None = None) -> dict:
    """The policy document of one function of one stage."""
    found = stage_functions(stage)
    if uses is None:
        uses = function_uses(stage, function)
    specs = table_specs()
    check_uses(function, uses, specs)
    by_model = {f"{s.model.__module__}.{s.model.__name__}": s for s in specs}
    tables: dict[str, set[str]] = {}
    indexes: set[str] = set()
    for use in uses:
        spec = by_model[use.model]
        if not use.index:  # a Query on an index is allowed on the index alone
            tables.setdefault(spec.name, set()).add(use.action)
        else:
            index = getattr(spec.model, use.index).Meta.index_name
            indexes.add(f"{table_arn(spec.table_name(stage))}/index/{index}")
    statements = []
    for spec in specs:
        if spec.name in tables:
            statements.append({"Sid": _sid(spec), "Effect": "Allow",
                               "Action": [f"dynamodb:{a}" for a in sorted(tables[spec.name])],
                               "Resource": table_arn(spec.table_name(stage))})
    if indexes:
        statements.append({"Sid": "Indexes", "Effect": "Allow", "Action": ["dynamodb:Query"],
                           "Resource": sorted(indexes)})
    streamed = {spec.table_name(stage): spec for spec in specs if spec.stream_view_type}
    if function in found.streams:
        table = found.streams[function]
        statements.append({"Sid": "Stream", "Effect": "Allow", "Action": list(STREAM_ACTIONS),
                           "Resource": f"{table_arn(streamed[table].table_name(stage))}/stream/*"})
        statements.append({"Sid": "ListStreams", "Effect": "Allow", "Action": ["dynamodb:ListStreams"],
                           "Resource": "*"})
    # the evidence photos (the API), the transparency leaves files (the API, the jobs' worker): evidence_bucket.py
    statements.extend(evidence_bucket.statements(stage, function))
    statements.append({
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:*:logs:*:*:log-group:/aws/lambda/{function_name(stage, function)}:*",
    })
    if function in invokers(stage):
        statements.append({"Sid": "InvokeWorkers", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                           "Resource": [f"arn:*:lambda:*:*:function:{function_name(stage, name)}"
                                        for name in found.pure]})
    path = parameter_path(stage).rstrip("/")
    statements.append({
        "Sid": "Secrets",
        "Effect": "Allow",
        "Action": ["ssm:GetParametersByPath"],
        "Resource": [f"arn:*:ssm:*:*:parameter{path}", f"arn:*:ssm:*:*:parameter{path}/*"],
    })
    by_name = {spec.name: spec for spec in specs}
    for sid, (names, verbs) in DENIED.items():
        arns = []
        for name in names:
            arn = table_arn(by_name[name].table_name(stage))
            arns += [arn, f"{arn}/index/*", f"{arn}/stream/*"] if "*" in verbs else [arn]
        statements.append({"Sid": sid, "Effect": "Deny", "Action": [f"dynamodb:{v}" for v in verbs],
                           "Resource": arns})
    return {"Version": "2012-10-17", "Statement": statements}


def invokers(stage: str) -> list[str]:
    """The functions that invoke the jobs' worker: the scheduled function of each sharded job (it fans out,
    chalicelib/jobs.py on_schedule) and the worker itself (a slice out of time continues in a new invocation)."""
    from chalicelib import jobs

    found = stage_functions(stage)
    sharded = {job.name for job in jobs.JOBS if job.run_slice is not None}
    return [name for name in found.names if name in sharded or name in found.pure]


def allows(document: dict, action: str, resource: str) -> bool:
    """IAM's answer for one request under one policy: an explicit Deny wins, else some Allow must match
    (wildcards as IAM reads them; `arn:*:` stands for any partition)."""
    from fnmatch import fnmatchcase

    def matches(statement: dict) -> bool:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        return any(fnmatchcase(action, a) for a in actions) and any(fnmatchcase(resource, r) for r in resources)

    statements = document["Statement"]
    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


def declared_pieces(stage: str, function: str) -> tuple[str, ...]:
    """The store pieces a function names where it is wired (chalicelib/bootstrap.py, chalicelib/jobs.py)."""
    from chalicelib import bootstrap, jobs

    found = stage_functions(stage)
    if function == "api_handler":
        return bootstrap.API_TOUCHES
    if function in found.streams:
        if function not in bootstrap.STREAM_TOUCHES:
            raise PolicyError(f"stream handler {function} names nothing it touches: add it to "
                              "chalicelib/bootstrap.py's STREAM_TOUCHES")
        return bootstrap.STREAM_TOUCHES[function]
    sharded = [job for job in jobs.JOBS if job.run_slice is not None]
    if function in found.pure:  # the jobs' worker runs every sharded job's slices
        return tuple(piece for job in sharded for piece in job.touches)
    job = next((job for job in jobs.JOBS if job.name == function), None)
    if job is None:
        raise PolicyError(f"{function} is neither the API, a stream handler, the worker nor a job of "
                          "chalicelib/jobs.py: say what it touches where it is wired")
    return () if job.run_slice is not None else job.touches  # a sharded job's function only fans out


def function_uses(stage: str, function: str) -> list[Use]:
    """What the pieces a function names declare (chalicelib/store/access.py), each with the piece it came from."""
    load_models()  # the settings a model's import needs, before the pieces import them
    from chalicelib.store.access import touches

    try:
        return sorted({Use(t.action, t.model, t.index, piece) for piece in declared_pieces(stage, function)
                       for t in touches(piece)})
    except (ImportError, AttributeError, TypeError) as exc:
        raise PolicyError(f"{function}: {exc}") from exc


def render(stage: str, function: str, uses: list[Use] | None = None) -> str:
    return json.dumps(policy(stage, function, uses), indent=2) + "\n"


def rendered_config() -> str:
    """config.json with each stage's `lambda_functions` naming every function's own policy file."""
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    for stage in STAGES:
        settings = config["stages"][stage]
        settings.pop("iam_policy_file", None)
        settings["lambda_functions"] = {name: {"iam_policy_file": policy_file(stage, name).name}
                                        for name in stage_functions(stage).names}
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def wanted() -> dict[Path, str]:
    """Every generated file and what it must hold."""
    files = {policy_file(stage, name): render(stage, name) for stage in STAGES for name in stage_functions(stage).names}
    for path, text in files.items():
        size = len("".join(text.split()))
        if size > MAX_POLICY_CHARS:
            raise PolicyError(f"{path.name}: {size} characters, over IAM's {MAX_POLICY_CHARS} for a role's policies")
    files[CONFIG] = rendered_config()
    return files


def stale_files() -> list[Path]:
    """The committed files that differ from what the code needs now (or are left over from a function gone)."""
    files = wanted()
    stale = [path for path, text in files.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    return stale + sorted(p for p in CHALICE_DIR.glob("policy-*.json") if p not in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.policy", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date with the store's declarations, the functions or "
                  f"ALL_MODELS: run `make policy` (python -m infra.aws.policy) and commit it", file=sys.stderr)
        return 1 if stale else 0
    files = wanted()
    for path in CHALICE_DIR.glob("policy-*.json"):
        if path not in files:
            path.unlink()
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"{APP_NAME}: wrote {len(files) - 1} policies (.chalice/policy-STAGE-FUNCTION.json) and the "
          f"lambda_functions of .chalice/config.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
