"""The Lambda IAM policy allows exactly what the code does: the DynamoDB actions it calls, on the stage's
tables of ALL_MODELS and their indexes and streams, and nothing else; the committed files are up to date."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.store import models  # its TABLE_PREFIX is read on first use, once the stack is up
from chalicelib.store.tables import ALL_MODELS
from infra.aws.models import table_specs
from infra.aws.policy import PolicyError, policy, policy_file, render, stale_files
from infra.aws.usage import dynamodb_uses, scan_source, used_actions

ROOT = Path(__file__).resolve().parents[2]


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_the_committed_policy_files_are_what_the_code_needs_now():
    stale = [str(p.relative_to(ROOT)) for p in stale_files()]
    assert not stale, f"{stale} out of date: run `make policy` and commit the result"
    for stage in ("dev", "prod"):
        assert json.loads(policy_file(stage).read_text(encoding="utf-8")) == json.loads(render(stage))


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_policy_covers_every_table_and_index_and_nothing_else(stage):
    found = statements(policy(stage))
    expected = {f"arn:*:dynamodb:*:*:table/greensprout-{stage}-{m.Meta.table_name.removeprefix(models.TABLE_PREFIX)}"
                for m in ALL_MODELS}
    assert set(found["Tables"]["Resource"]) == expected
    indexes = {f"{arn}/index/{name}" for spec in table_specs() for name in spec.index_names
               for arn in [f"arn:*:dynamodb:*:*:table/{spec.table_name(stage)}"]}
    assert set(found.get("Indexes", {}).get("Resource", [])) == indexes
    assert found.get("Indexes", {"Action": ["dynamodb:Query"]})["Action"] == ["dynamodb:Query"]
    streamed = {f"arn:*:dynamodb:*:*:table/{s.table_name(stage)}/stream/*" for s in table_specs() if s.stream_view_type}
    assert set(found.get("Streams", {}).get("Resource", [])) == streamed
    for statement in found.values():
        assert statement["Effect"] == "Allow"
        assert not any(a.endswith("*") for a in statement["Action"]), statement  # no wildcard actions
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert statement["Sid"] == "ListStreams" or "*" not in resources
        assert all(f"greensprout-{stage}" in r or f"/greensprout/{stage}" in r for r in resources if r != "*")


def test_the_policy_allows_exactly_the_actions_the_code_calls():
    actions = used_actions()
    assert statements(policy("prod"))["Tables"]["Action"] == [f"dynamodb:{a}" for a in actions]
    assert "Scan" not in actions, [u for u in dynamodb_uses() if u.action == "Scan"]  # no request path scans
    assert {"GetItem", "PutItem", "UpdateItem", "Query"} <= set(actions)  # ledger posting and login at least


def test_the_secrets_and_logs_are_the_stage_s_own():
    found = statements(policy("dev"))
    assert found["Secrets"]["Action"] == ["ssm:GetParametersByPath"]
    assert found["Secrets"]["Resource"] == ["arn:*:ssm:*:*:parameter/greensprout/dev",
                                            "arn:*:ssm:*:*:parameter/greensprout/dev/*"]
    assert all(":log-group:/aws/lambda/greensprout-dev" in r for r in found["Logs"]["Resource"])


def test_a_lambda_that_would_create_tables_is_refused():
    with pytest.raises(PolicyError, match="CreateTable"):
        policy("dev", ["GetItem", "CreateTable"])


SAMPLE = '''
def f(tx, client, session, d, routes, acct):
    Account.get("u")                       # GetItem
    Ledger.by_kind.query("u#earn")         # Query (index)
    Ledger.query("u")                      # Query
    Account.batch_get(["a"])               # BatchGetItem
    with Board.batch_write() as batch:     # BatchWriteItem
        batch.save(Board("x"))             # PutItem
    acct.update(actions=[Account.points.set(1)])  # UpdateItem
    acct.delete()                          # DeleteItem
    tx.put("l", acct, condition=None)      # PutItem
    tx.check("l", Account, "u", None, condition=None)  # ConditionCheckItem
    client.batch_get_item(RequestItems={}) # BatchGetItem
    Account.user_id.exists()               # a condition, not a call
    d.get("k"); d.update({"a": 1})         # dicts
    routes.query()                         # not a model
    session.delete("https://example")      # an HTTP call
'''


def test_the_scan_finds_pynamodb_calls_and_ignores_look_alikes(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE, encoding="utf-8")
    found = scan_source(path, {"Account": set(), "Ledger": {"by_kind"}, "Board": set()})
    expected = {ln.split("#")[-1].strip().split(" ")[0] for ln in SAMPLE.splitlines()
                if "#" in ln and ln.split("#")[-1].strip()[0].isupper()}
    assert {u.action for u in found} == expected
    lines = {int(u.where.rsplit(":", 1)[1]) for u in found}
    for number, line in enumerate(SAMPLE.splitlines(), 1):
        if "a condition" in line or "dicts" in line or "not a model" in line or "HTTP call" in line:
            assert number not in lines, line


def test_a_job_may_invoke_its_own_workers_and_no_other_function():
    from infra.aws.functions import stage_functions
    from infra.aws.usage import lambda_invocations

    found = statements(policy("prod"))
    workers = stage_functions("prod").pure
    if not (workers and lambda_invocations()):
        assert "InvokeWorkers" not in found
        return
    assert found["InvokeWorkers"]["Action"] == ["lambda:InvokeFunction"]
    assert found["InvokeWorkers"]["Resource"] == [f"arn:*:lambda:*:*:function:greensprout-prod-{w}" for w in workers]
