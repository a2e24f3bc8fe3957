"""Each Lambda function has its own IAM role, and its policy allows exactly what that function's code can do
(the call graph of infra/aws/reach.py from the function's entry points): the DynamoDB actions it calls on the
tables it calls them on, their indexes, its own stream, log group and the stage's secrets. The catalog is
read-only, the ledger and the audit trail append-only, audit and issuances out of reach, whatever an Allow
says. The committed files are up to date, and MATRIX below is the whole grant: a widening fails here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.aws.functions import stage_functions
from infra.aws.models import table_specs
from infra.aws.policy import (
    CONFIG,
    DENIED,
    MAX_POLICY_CHARS,
    PolicyError,
    allows,
    invokers,
    policy,
    policy_file,
    stale_files,
)
from infra.aws.reach import Program, TableUse, function_uses
from infra.aws.usage import scan_source

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
LEDGER = "chalicelib.store.models.LedgerEntry"

# function -> table -> the DynamoDB actions its role allows there ("indexes": the indexes it may Query).
# Generated from the code; a change here is a change of who may do what to which table: review it as such.
MATRIX = {
    # infra/aws/reach.py reaches a class whole: a repository class some route uses brings all its methods'
    # grants (the API's Query of adoptions/accruing, the worker's PutItem on adoptions and redemptions).
    # Reviewed as over-grants; deriving the policy from what store/ declares per use case removes them.
    "api_handler": {
        "account_shards": "PutItem",
        "accounts": "BatchGetItem ConditionCheckItem GetItem PutItem UpdateItem",
        "adoptions": "BatchGetItem PutItem UpdateItem",
        "agg_boards": "BatchGetItem BatchWriteItem GetItem PutItem",
        "agg_counters": "BatchGetItem",
        "agg_totals": "BatchGetItem GetItem Query UpdateItem",
        "catalog": "Query",
        "consents": "BatchGetItem ConditionCheckItem GetItem PutItem Query UpdateItem",
        "counters": "ConditionCheckItem UpdateItem",
        "erasures": "GetItem PutItem UpdateItem",
        "idempotency": "BatchWriteItem GetItem PutItem",
        "identities": "BatchGetItem DeleteItem GetItem PutItem UpdateItem",
        "indexes": "adoptions/index/accruing adoptions/index/by_user ledger/index/by_kind redemptions/index/by_user",
        "ledger": "PutItem Query",
        "member_codes": "GetItem PutItem UpdateItem",
        "moderation": "DeleteItem PutItem",
        "partner_events": "BatchGetItem PutItem",
        "partner_links": "BatchGetItem GetItem UpdateItem",
        "partner_tokens": "GetItem UpdateItem",
        "redemption_codes": "GetItem PutItem",
        "redemptions": "BatchGetItem GetItem PutItem UpdateItem",
        "replay_guards": "DeleteItem PutItem",
        "revocations": "PutItem Query",
        "stock": "BatchGetItem UpdateItem",
        "summaries": "Query UpdateItem",
        "verifications": "PutItem Query UpdateItem",  # the later pages read the totals parts by Query
    },
    # A sharded job's scheduled function only fans out to the worker; its Query of `revocations` comes from
    # app.py's import reaching api/web.Routes, whose caller() reads the revocations (a class is reached whole).
    "accrue-trees": {
        "revocations": "Query",
    },
    "expire-points": {
        "revocations": "Query",
    },
    "expire-redemptions": {
        "revocations": "Query",
    },
    "finish-erasures": {
        "consents": "GetItem PutItem Query UpdateItem",
        "erasures": "UpdateItem",
        "indexes": "erasures/index/waiting",
        "partner_links": "GetItem UpdateItem",
        "partner_tokens": "GetItem UpdateItem",
        "revocations": "Query",
    },
    "fold-aggregates": {
        "revocations": "Query",
    },
    "identity_stream": {
        "agg_inbox": "PutItem",
        "revocations": "Query",
    },
    "jobs_worker": {
        "account_shards": "BatchGetItem PutItem Query",
        "accounts": "BatchGetItem GetItem UpdateItem",
        "adoptions": "BatchGetItem PutItem UpdateItem",
        "agg_boards": "BatchGetItem BatchWriteItem PutItem Query",
        "agg_counters": "BatchGetItem UpdateItem",
        "agg_inbox": "BatchGetItem UpdateItem",
        "agg_totals": "BatchGetItem BatchWriteItem UpdateItem",
        "catalog": "Query",
        "counters": "UpdateItem",
        "idempotency": "GetItem PutItem",
        "indexes": "adoptions/index/accruing adoptions/index/by_user agg_inbox/index/pending "
                   "agg_totals/index/ranking redemptions/index/due",
        "ledger": "PutItem",
        "redemption_codes": "PutItem",
        "redemptions": "PutItem UpdateItem",
        "revocations": "Query",
        "stock": "BatchGetItem UpdateItem",
        "summaries": "UpdateItem",
    },
    "ledger_stream": {
        "agg_inbox": "PutItem",
        "revocations": "Query",
    },
    "materialize-boards": {
        "revocations": "Query",
    },
    "recheck-nicknames": {
        "accounts": "GetItem UpdateItem",
        "moderation": "DeleteItem PutItem Query",
        "revocations": "Query",
    },
    "retry-partner-revocations": {
        "consents": "GetItem UpdateItem",
        "indexes": "consents/index/pending_revocations",
        "partner_links": "GetItem",
        "partner_tokens": "GetItem UpdateItem",
        "revocations": "Query",
    },
}


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def resources(statement: dict) -> list[str]:
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


def granted(stage: str, function: str) -> dict[str, str]:
    """The matrix row of one function, read back from its policy document."""
    row = {}
    for statement in policy(stage, function)["Statement"]:
        if statement["Effect"] == "Allow" and statement["Sid"].endswith("Table"):
            (arn,) = resources(statement)
            row[arn.split(f"greensprout-{stage}-", 1)[1]] = " ".join(a.removeprefix("dynamodb:")
                                                                      for a in statement["Action"])
    indexes = [r.split(f"greensprout-{stage}-", 1)[1] for r in resources(statements(policy(stage, function))
                                                                         .get("Indexes", {"Resource": []}))]
    if indexes:
        row["indexes"] = " ".join(indexes)
    return row


def arn(stage: str, table: str, tail: str = "") -> str:
    return f"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/greensprout-{stage}-{table}{tail}"


def test_the_committed_policy_files_and_config_are_what_the_code_needs_now():
    stale = [str(p.relative_to(ROOT)) for p in stale_files()]
    assert not stale, f"{stale} out of date: run `make policy` and commit the result"


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_has_its_own_role_policy_and_no_stage_wide_one(stage):
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["autogen_policy"] is False
    settings = config["stages"][stage]
    assert "iam_policy_file" not in settings  # no fallback a function could silently share
    names = stage_functions(stage).names
    assert settings["lambda_functions"] == {n: {"iam_policy_file": f"policy-{stage}-{n}.json"} for n in names}
    for name in names:
        assert json.loads(policy_file(stage, name).read_text(encoding="utf-8")) == policy(stage, name)


@pytest.mark.parametrize("stage", STAGES)
def test_the_role_by_table_by_action_matrix_is_exactly_the_reviewed_one(stage):
    """A new DynamoDB call, a job that starts touching another table, a route that starts deleting: each
    changes a row here, and the change is reviewed as the permission it is."""
    found = {name: granted(stage, name) for name in stage_functions(stage).names}
    changed = {name: {table: (MATRIX.get(name, {}).get(table), row.get(table))
                      for table in sorted(set(row) | set(MATRIX.get(name, {})))
                      if MATRIX.get(name, {}).get(table) != row.get(table)}
               for name, row in found.items() if row != MATRIX.get(name)}
    assert found == MATRIX, f"grants changed (function: table: (reviewed, now)): {changed}"


def test_the_api_reads_the_catalog_appends_to_the_ledger_and_never_sees_audit_or_issuances():
    for stage in STAGES:
        document = policy(stage, "api_handler")
        for action in ("GetItem", "Query"):
            assert allows(document, f"dynamodb:{action}", arn(stage, "catalog")) == (action == "Query")
        for action in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLUpdate"):
            assert not allows(document, f"dynamodb:{action}", arn(stage, "catalog")), action
        assert allows(document, "dynamodb:PutItem", arn(stage, "ledger"))
        for action in ("UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLDelete"):
            assert not allows(document, f"dynamodb:{action}", arn(stage, "ledger")), action
        for table in ("audit", "issuances"):
            for action in ("GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "Scan"):
                assert not allows(document, f"dynamodb:{action}", arn(stage, table)), (table, action)


@pytest.mark.parametrize("stage", STAGES)
def test_the_denies_are_explicit_in_every_role(stage):
    """An explicit Deny holds even when someone widens an Allow by hand (or attaches a managed policy)."""
    for name in stage_functions(stage).names:
        found = statements(policy(stage, name))
        ledger_audit = found["LedgerAndAuditAreAppendOnly"]
        assert ledger_audit["Effect"] == "Deny"
        assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= set(ledger_audit["Action"])
        assert set(resources(ledger_audit)) == {arn(stage, "ledger").replace("aws-cn:dynamodb:cn-north-1:123456789012",
                                                                             "*:dynamodb:*:*"),
                                                arn(stage, "audit").replace("aws-cn:dynamodb:cn-north-1:123456789012",
                                                                            "*:dynamodb:*:*")}
        widened = {**found["LedgerTable"], "Action": ["dynamodb:*"]} if "LedgerTable" in found else None
        if widened:
            document = {"Statement": [*found.values(), widened]}
            assert not allows(document, "dynamodb:UpdateItem", arn(stage, "ledger"))
        assert found["CatalogIsReadOnly"]["Effect"] == "Deny"
        assert found["NoAuditNoIssuances"]["Action"] == ["dynamodb:*"]


def test_code_that_would_need_a_denied_action_fails_make_policy():
    bad = [TableUse("UpdateItem", LEDGER, "", "chalicelib/services/x.py:1", "chalicelib.services.x:f")]
    with pytest.raises(PolicyError, match="LedgerAndAuditAreAppendOnly"):
        policy("dev", "api_handler", bad)
    audit = [TableUse("GetItem", "chalicelib.store.models.AuditRecord", "", "x.py:1", "x:f")]
    with pytest.raises(PolicyError, match="NoAuditNoIssuances"):
        policy("dev", "expire-redemptions", audit)
    with pytest.raises(PolicyError, match="CreateTable"):
        policy("dev", "api_handler", [TableUse("CreateTable", LEDGER, "", "x.py:1", "x:f")])


@pytest.mark.parametrize("stage", STAGES)
def test_only_a_stream_handler_reads_a_stream_and_only_its_own(stage):
    found = stage_functions(stage)
    streamed = {s.table_name(stage) for s in table_specs() if s.stream_view_type}
    for name in found.names:
        document = policy(stage, name)
        for table in streamed:
            own = found.streams.get(name) == table
            assert allows(document, "dynamodb:GetRecords", arn(stage, table.split(f"greensprout-{stage}-")[1],
                                                               "/stream/2026-01-01T00:00:00.000")) == own, name
        assert ("ListStreams" in statements(document)) == (name in found.streams)


@pytest.mark.parametrize("stage", STAGES)
def test_logs_secrets_and_invocations_are_each_function_s_own(stage):
    found = stage_functions(stage)
    for name in found.names:
        own = statements(policy(stage, name))
        function = f"greensprout-{stage}" + ("" if name == "api_handler" else f"-{name}")
        assert own["Logs"]["Resource"] == f"arn:*:logs:*:*:log-group:/aws/lambda/{function}:*"
        assert own["Secrets"]["Action"] == ["ssm:GetParametersByPath"]
        assert own["Secrets"]["Resource"] == [f"arn:*:ssm:*:*:parameter/greensprout/{stage}",
                                              f"arn:*:ssm:*:*:parameter/greensprout/{stage}/*"]
        if name in invokers(stage):
            assert own["InvokeWorkers"]["Resource"] == [f"arn:*:lambda:*:*:function:greensprout-{stage}-{w}"
                                                        for w in found.pure]
        else:
            assert "InvokeWorkers" not in own
    from chalicelib.jobs import JOBS

    assert sorted(invokers(stage)) == sorted([j.name for j in JOBS if j.run_slice] + list(found.pure))
    assert "api_handler" not in invokers(stage)


@pytest.mark.parametrize("stage", STAGES)
def test_every_allow_is_narrow_and_every_policy_fits_iam_s_limit(stage):
    for name in stage_functions(stage).names:
        document = policy(stage, name)
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                assert not any(a.endswith("*") for a in statement["Action"]), statement
                assert statement["Sid"] == "ListStreams" or "*" not in resources(statement)
                assert all(f"greensprout-{stage}" in r or f"/greensprout/{stage}" in r
                           for r in resources(statement) if r != "*")
        text = policy_file(stage, name).read_text(encoding="utf-8")
        assert len("".join(text.split())) <= MAX_POLICY_CHARS
        assert set(DENIED) <= set(statements(document))


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



def test_no_function_scans_a_table():
    for stage in STAGES:
        for name in stage_functions(stage).names:
            assert not any("dynamodb:Scan" in s["Action"] for s in policy(stage, name)["Statement"]
                           if s["Effect"] == "Allow"), name


PROGRAM = {
    "app.py": """
from chalice import Chalice
from chalicelib import jobs
from chalicelib.api import shop_routes
app = Chalice(app_name="x")
""",
    "chalicelib/__init__.py": "",
    "chalicelib/store/__init__.py": "",
    "chalicelib/store/models.py": """
class Account: ...
class Ledger: ...
class Redemption: ...
class Counter: ...
def marker(user) -> Counter:
    return Counter(user)
""",
    "chalicelib/services/__init__.py": "",
    "chalicelib/services/posting.py": """
from ..store.models import Account, Ledger
def post(user_id, plan):
    account = Account.get(user_id)
    tx = Tx()
    tx.put_new("entry", Ledger, {})
    plan(tx)
""",
    "chalicelib/services/shop.py": """
from ..store.models import Counter, Redemption, marker
from .posting import post
def _mine(model, user):
    return list(model.by_user.query(user))
def buy(user):
    post(user, lambda tx: tx.update("claim", Counter("x"), actions=[]))
    seen = marker(user)
    seen.save()
    return _mine(Redemption, user)
""",
    "chalicelib/services/cleanup.py": """
from ..store.models import Account
def sweep():
    for account in Account.query("x"):
        account.delete()
def unknown(thing):
    thing.save()
""",
    "chalicelib/jobs.py": """
JOBS = []
def _sweep(at):
    from .services import cleanup
    return cleanup.sweep()
JOBS.append(Job("sweep", run=_sweep))
""",
    "chalicelib/api/__init__.py": "",
    "chalicelib/services/hooks.py": """
from ..store.models import Ledger
HANDLERS = {}
def _on_refund(user):
    return Ledger.get(user)
HANDLERS.update(refund=_on_refund)
""",
    "chalicelib/api/shop_routes.py": """
from ..services import shop
from ..services.hooks import HANDLERS

def buy_route():
    return shop.buy("u"), HANDLERS["refund"]("u")
""",
}


def test_each_function_reaches_its_own_calls_with_their_tables_and_no_other(tmp_path):
    for name, text in PROGRAM.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    m = "chalicelib.store.models."
    program = Program(tmp_path, {m + "Account": {}, m + "Ledger": {}, m + "Redemption": {"by_user": "by-user"},
                                 m + "Counter": {}})
    job_line = next(i for i, line in enumerate(PROGRAM["chalicelib/jobs.py"].splitlines(), 1) if "def _sweep" in line)
    entries = {"api_handler": [(str(tmp_path / "chalicelib/api/shop_routes.py"), 5)],
               "sweep": [(str(tmp_path / "chalicelib/jobs.py"), job_line)]}
    per_function, unresolved = function_uses(entries, program)

    def row(name):
        return sorted((u.action, u.model.removeprefix(m), u.index) for u in per_function[name])

    assert row("api_handler") == [("GetItem", "Account", ""),
                                  ("GetItem", "Ledger", ""),  # a handler filled into a module's dict at import
                                  ("PutItem", "Counter", ""),  # marker(user) -> Counter
                                  ("PutItem", "Ledger", ""), ("Query", "Redemption", "by_user"),  # via _mine(model)
                                  ("UpdateItem", "Counter", "")]  # the callback the route hands to post()
    assert row("sweep") == [("DeleteItem", "Account", ""), ("Query", "Account", "")]  # not the shop's calls
    assert [(u.action, u.where) for u in unresolved] == [("PutItem", "chalicelib/services/cleanup.py:7")]


def test_a_models_alias_touches_the_models_table(tmp_path):
    """`Counter = LimitCounter` (a renamed model whose old name another module still imports): the alias's calls
    are the model's, never an unresolved call that fails the build."""
    program_files = {
        "app.py": "from chalicelib.api import routes\n",
        "chalicelib/__init__.py": "", "chalicelib/store/__init__.py": "", "chalicelib/api/__init__.py": "",
        "chalicelib/store/models.py": "class LimitCounter: ...\nCounter = LimitCounter\n",
        "chalicelib/api/routes.py": ("from ..store.models import Counter\n"
                                     "def count():\n    Counter('k').update(actions=[])\n"),
    }
    for name, text in program_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    m = "chalicelib.store.models."
    program = Program(tmp_path, {m + "LimitCounter": {}})
    per_function, unresolved = function_uses({"api": [(str(tmp_path / "chalicelib/api/routes.py"), 3)]}, program)
    assert [(u.action, u.model) for u in per_function["api"]] == [("UpdateItem", m + "LimitCounter")]
    assert unresolved == []
