"""Each Lambda function has its own IAM role, and its policy allows exactly what the store pieces it names declare
(chalicelib/store/access.py; the API's and the streams' in bootstrap.py, each job's in jobs.py): the DynamoDB
actions on the tables declared, their indexes, its own stream, log group and the stage's secrets. The catalog is
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
    Use,
    allows,
    invokers,
    policy,
    policy_file,
    stale_files,
)

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
LEDGER = "chalicelib.store.models.LedgerEntry"

# function -> table -> the DynamoDB actions its role allows there ("indexes": the indexes it may Query).
# Generated from the code; a change here is a change of who may do what to which table: review it as such.
MATRIX = {
    # A repository class declares what all its methods touch: naming it brings them all (the API's Query of
    # adoptions/accruing, the worker's PutItem on adoptions and redemptions). Reviewed as over-grants; a
    # repository split by use case (store/repositories_consent.py's way) would remove them.
    "api_handler": {
        "account_shards": "PutItem",
        "accounts": "BatchGetItem ConditionCheckItem GetItem PutItem UpdateItem",
        "adoptions": "BatchGetItem PutItem UpdateItem",
        "agg_boards": "BatchGetItem BatchWriteItem GetItem PutItem",
        "agg_counters": "BatchGetItem",
        "agg_totals": "BatchGetItem GetItem Query UpdateItem",
        "catalog": "Query",
        "consents": "BatchGetItem ConditionCheckItem GetItem PutItem Query UpdateItem",
        # BatchGetItem: which platform holds a step-day; GetItem: rules 4 and 5's memory (store/risk_memory.py)
        "counters": "BatchGetItem ConditionCheckItem GetItem UpdateItem",
        "erasures": "GetItem PutItem UpdateItem",
        "idempotency": "BatchWriteItem GetItem PutItem",
        "identities": "BatchGetItem DeleteItem GetItem PutItem UpdateItem",
        "indexes": "adoptions/index/accruing adoptions/index/by_user ledger/index/by_kind "
                   "partner_readings/index/readings_by_account redemptions/index/by_user",
        "ledger": "GetItem PutItem Query",  # GetItem: a proof's entry (GET /v1/me/ledger/{entry_id}/proof)
        "link_codes": "GetItem PutItem UpdateItem",  # the open protocol's link codes
        "member_codes": "GetItem PutItem UpdateItem",
        "moderation": "DeleteItem PutItem",
        # nudges: allowances (Query, UpdateItem), a verification's queued receipt (PutItem), a deletion (BatchWriteItem)
        "nudges": "BatchWriteItem PutItem Query UpdateItem",
        "partner_events": "BatchGetItem PutItem UpdateItem",  # another platform marks an event seen
        "partner_links": "BatchGetItem GetItem UpdateItem",
        # monthly readings of open partners (domain/readings.py); BatchWriteItem: an erasure deletes an account's
        "partner_readings": "BatchGetItem BatchWriteItem PutItem UpdateItem",
        "partner_tokens": "GetItem UpdateItem",
        # evidence photos: a check-in reads 68 hash buckets with the account, puts its markers, ADDs its hash
        "photo_hashes": "BatchGetItem PutItem UpdateItem",
        "redemption_codes": "GetItem PutItem",
        "redemptions": "BatchGetItem GetItem PutItem UpdateItem",
        "replay_guards": "DeleteItem PutItem",
        "revocations": "PutItem Query",
        "stock": "BatchGetItem UpdateItem",
        "summaries": "Query UpdateItem",
        "transparency_roots": "GetItem Query",  # the public roots and a proof's day (docs/transparency.md)
        "verifications": "PutItem Query UpdateItem",  # the later pages read the totals parts by Query
    },
    # A sharded job's scheduled function only fans out to the worker: no table. No job and no stream handler
    # reads `revocations` (only the API checks tokens, services/revocations.py).
    "accrue-trees": {},
    "expire-points": {},
    "expire-redemptions": {},
    "finish-erasures": {
        "accounts": "GetItem",  # the deleted user's platform: its holder of a partner link to release
        "consents": "GetItem PutItem Query UpdateItem",
        "counters": "UpdateItem",  # a revocation's transaction counts the partner's consents one less
        "erasures": "UpdateItem",
        "indexes": "erasures/index/waiting partner_readings/index/readings_by_account",
        "partner_links": "GetItem UpdateItem",
        "partner_readings": "BatchWriteItem",  # the readings of a partner account nobody holds any more
        "partner_tokens": "GetItem UpdateItem",
    },
    "fold-aggregates": {},
    "identity_stream": {
        "agg_inbox": "PutItem",
    },
    "jobs_worker": {
        "account_shards": "BatchGetItem PutItem Query",
        # ConditionCheckItem: a staff member's standing (store/review_queue.stage_staff, in the posting unit of work)
        "accounts": "BatchGetItem ConditionCheckItem GetItem UpdateItem",
        "adoptions": "BatchGetItem PutItem UpdateItem",
        "agg_boards": "BatchGetItem BatchWriteItem DeleteItem PutItem Query",  # DeleteItem: a marker flag
        "agg_counters": "BatchGetItem UpdateItem",
        "agg_inbox": "BatchGetItem UpdateItem",
        "agg_totals": "BatchGetItem BatchWriteItem PutItem UpdateItem",  # PutItem: a tally's archive
        "catalog": "Query",
        "counters": "UpdateItem",
        "idempotency": "GetItem PutItem",
        "indexes": "adoptions/index/accruing adoptions/index/by_user agg_inbox/index/pending "
                   "agg_totals/index/ranking ledger/index/by_root nudges/index/holders nudges/index/retries "
                   "redemptions/index/due",
        "ledger": "PutItem Query",  # Query: a weekly report's earnings of one user (store/nudge_topics.py)
        "moderation": "DeleteItem PutItem",  # the review queue's item, in a posting's transaction (docs/risk.md)
        # the nudge jobs: allowances and markers (BatchGetItem), claims and outcomes, receipts, stats
        "nudges": "BatchGetItem DeleteItem PutItem Query UpdateItem",
        "redemption_codes": "PutItem",
        "redemptions": "BatchGetItem PutItem UpdateItem",  # BatchGetItem: the redemptions of queued receipts
        "stock": "BatchGetItem UpdateItem",
        "summaries": "UpdateItem",
        # the roots job: shard and day roots written once (PutItem conditioned on absence; never UpdateItem or
        # DeleteItem, denied whatever an Allow says), read back by a retry (GetItem, Query)
        "transparency_roots": "GetItem PutItem Query",
    },
    "ledger_stream": {
        "agg_inbox": "PutItem",
    },
    "materialize-boards": {},
    "recheck-nicknames": {
        "accounts": "GetItem UpdateItem",
        "catalog": "Query",  # another platform's mini program (its appid) for its users' nicknames
        "moderation": "DeleteItem PutItem Query",
    },
    "send-nudges": {},
    "send-receipts": {},
    "transparency-roots": {},
    "retry-partner-revocations": {
        "catalog": "Query",  # the open-protocol partners of the catalog
        "consents": "GetItem UpdateItem",
        "indexes": "consents/index/pending_revocations",
        "partner_links": "GetItem",
        "partner_tokens": "GetItem UpdateItem",
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


def test_a_declaration_that_would_need_a_denied_action_fails_make_policy():
    bad = [Use("UpdateItem", LEDGER, "", "chalicelib.store.x:Ledger")]
    with pytest.raises(PolicyError, match="LedgerAndAuditAreAppendOnly"):
        policy("dev", "api_handler", bad)
    audit = [Use("GetItem", "chalicelib.store.models.AuditRecord", "", "chalicelib.store.x:f")]
    with pytest.raises(PolicyError, match="NoAuditNoIssuances"):
        policy("dev", "expire-redemptions", audit)
    with pytest.raises(PolicyError, match="CreateTable"):
        policy("dev", "api_handler", [Use("CreateTable", LEDGER, "", "chalicelib.store.x:f")])


def test_a_function_naming_nothing_or_a_piece_that_declares_nothing_fails_make_policy(monkeypatch):
    """Nothing is guessed: a stream handler without its list, or a list naming code that declares no ACCESS
    (chalicelib/store/access.py), stops `make policy` instead of granting that function nothing."""
    from chalicelib import bootstrap

    monkeypatch.setattr(bootstrap, "STREAM_TOUCHES", {"ledger_stream": ("chalicelib.store.tx:Tx",)})
    with pytest.raises(PolicyError, match="Tx declares no ACCESS"):
        policy("dev", "ledger_stream")
    monkeypatch.setattr(bootstrap, "STREAM_TOUCHES", {})
    with pytest.raises(PolicyError, match="STREAM_TOUCHES"):
        policy("dev", "ledger_stream")


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


def test_no_function_scans_a_table():
    for stage in STAGES:
        for name in stage_functions(stage).names:
            assert not any("dynamodb:Scan" in s["Action"] for s in policy(stage, name)["Statement"]
                           if s["Effect"] == "Allow"), name
