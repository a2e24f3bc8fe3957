"""The merge template (infra/aws/build_template.py) is the models: every table of ALL_MODELS with its keys,
indexes, TTL and stream, nothing else; prod keeps its data; API Gateway answers in the contract's shape."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pynamodb.attributes import TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex, Index, LocalSecondaryIndex

from chalicelib.store import models  # its TABLE_PREFIX is read on first use, once the stack is up
from chalicelib.store.tables import ALL_MODELS
from infra.aws.build_template import (
    ACCESS_LOG_FIELDS,
    STAGE_SETTINGS,
    build,
    cfn_name,
    function_name,
    gateway_responses,
    parameter_path,
)
from infra.aws.models import table_prefix
from infra.local.devserver import gateway_body

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def templates():
    return {stage: build(stage) for stage in ("dev", "prod")}


def tables_of(template: dict) -> dict[str, dict]:
    return {r["Properties"]["TableName"]: r for r in template["Resources"].values()
            if r.get("Type") == "AWS::DynamoDB::Table"}


def keys(model_or_index) -> dict[str, str]:
    """{"HASH": name, "RANGE": name} read from the attributes themselves, not from PynamoDB's schema."""
    attributes = model_or_index.Meta.attributes if isinstance(model_or_index, Index) \
        else model_or_index.get_attributes()
    found = {}
    for attribute in attributes.values():
        if attribute.is_hash_key:
            found["HASH"] = attribute.attr_name
        if attribute.is_range_key:
            found["RANGE"] = attribute.attr_name
    return found


def indexes(model) -> dict[str, Index]:
    return {index.Meta.index_name: index for name in dir(model) if isinstance(index := getattr(model, name), Index)}


def as_keys(schema: list[dict]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def test_every_model_has_its_table_and_there_is_no_other(templates):
    for stage, template in templates.items():
        expected = {table_prefix(stage) + m.Meta.table_name.removeprefix(models.TABLE_PREFIX) for m in ALL_MODELS}
        assert set(tables_of(template)) == expected
        assert all(name.startswith(f"greensprout-{stage}-") for name in expected)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_a_table_has_its_model_s_keys_indexes_ttl_and_stream(templates, model):
    table = tables_of(templates["dev"])["greensprout-dev-" + model.Meta.table_name.removeprefix(models.TABLE_PREFIX)]
    props = table["Properties"]
    assert as_keys(props["KeySchema"]) == keys(model)
    assert props["KeySchema"][0]["KeyType"] == "HASH"
    types = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    attributes = {a.attr_name: a.attr_type for a in model.get_attributes().values()}
    model_indexes = indexes(model)
    key_names = set(keys(model).values()) | {n for i in model_indexes.values() for n in keys(i).values()}
    assert types == {name: attributes.get(name) or _index_attr_type(model_indexes, name) for name in key_names}
    gsis = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    lsis = {i["IndexName"]: i for i in props.get("LocalSecondaryIndexes", [])}
    assert set(gsis) == {n for n, i in model_indexes.items() if isinstance(i, GlobalSecondaryIndex)}
    assert set(lsis) == {n for n, i in model_indexes.items() if isinstance(i, LocalSecondaryIndex)}
    for name, index in {**gsis, **lsis}.items():
        assert as_keys(index["KeySchema"]) == keys(model_indexes[name])
        assert index["Projection"]["ProjectionType"] == model_indexes[name].Meta.projection.projection_type
    ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    assert props.get("TimeToLiveSpecification") == ({"AttributeName": ttl[0], "Enabled": True} if ttl else None)
    stream = getattr(model.Meta, "stream_view_type", None)
    assert props.get("StreamSpecification") == ({"StreamViewType": stream} if stream else None)


def _index_attr_type(model_indexes: dict[str, Index], name: str) -> str:
    return next(a.attr_type for i in model_indexes.values() for a in i.Meta.attributes.values() if a.attr_name == name)


def test_every_table_is_on_demand_encrypted_and_backed_up_and_prod_survives_the_stack(templates):
    for stage, template in templates.items():
        for table in tables_of(template).values():
            props = table["Properties"]
            assert props["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in props
            assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert props["SSESpecification"]["SSEEnabled"] is True
            kept = stage == "prod"
            assert (table["DeletionPolicy"] == "Retain", table["UpdateReplacePolicy"] == "Retain") == (kept, kept)
            assert props["DeletionProtectionEnabled"] is kept


def test_template_tables_are_what_init_db_creates(templates, database):
    """Creates the template's tables in DynamoDB Local and compares them with the tables init-db made
    from the models (a second, independent path): keys, indexes, projections, TTL, streams."""
    client = ALL_MODELS[0]._get_connection().connection.client
    prefix = f"gs-tpl-{uuid.uuid4().hex[:6]}-"
    made = []
    try:
        for table in tables_of(templates["dev"]).values():
            props = table["Properties"]
            name = prefix + props["TableName"].removeprefix("greensprout-dev-")
            client.create_table(**_create_args(props, name))
            made.append((name, models.TABLE_PREFIX + props["TableName"].removeprefix("greensprout-dev-"), props))
        for name, init_db_name, props in made:
            assert _shape(client, name) == _shape(client, init_db_name), init_db_name
            if "TimeToLiveSpecification" in props:
                assert _ttl(client, init_db_name) == props["TimeToLiveSpecification"]["AttributeName"]
    finally:
        for name, _, _ in made:
            client.delete_table(TableName=name)


def _create_args(props: dict, name: str) -> dict:
    args = {"TableName": name, "BillingMode": "PAY_PER_REQUEST", "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"]}
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in props:
            args[key] = props[key]
    if "StreamSpecification" in props:
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return args


def _shape(client, name: str) -> dict:
    table = client.describe_table(TableName=name)["Table"]

    def index(i: dict) -> tuple:
        projection = i["Projection"]
        return (i["IndexName"], json.dumps(sorted(i["KeySchema"], key=lambda k: k["KeyType"])),
                projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", []))))

    return {
        "keys": sorted((k["KeyType"], k["AttributeName"]) for k in table["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
        "gsi": sorted(index(i) for i in table.get("GlobalSecondaryIndexes", [])),
        "lsi": sorted(index(i) for i in table.get("LocalSecondaryIndexes", [])),
        "stream": (table.get("StreamSpecification") or {}).get("StreamViewType"),
    }


def _ttl(client, name: str) -> str | None:
    return client.describe_time_to_live(TableName=name)["TimeToLiveDescription"].get("AttributeName")


def test_config_json_names_the_tables_secrets_and_policy_the_template_uses():
    assert CONFIG["autogen_policy"] is False
    for stage in ("dev", "prod"):
        config = CONFIG["stages"][stage]
        variables = config["environment_variables"]
        assert variables["TABLE_PREFIX"] == table_prefix(stage)
        assert variables["SSM_PARAMETER_PATH"] == parameter_path(stage)
        assert config["lambda_functions"]["api_handler"] == {"iam_policy_file": f"policy-{stage}-api_handler.json"}
        assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "JWT_SECRET", "DATA_KEY"} & set(variables)
        assert not [name for name in variables if name.endswith("SECRET")]


def test_api_gateway_s_own_answers_have_the_contract_s_shape():
    spec = json.loads((ROOT / "infra" / "gateway_responses.json").read_text(encoding="utf-8"))
    responses = {r["Properties"]["ResponseType"]: r["Properties"] for r in gateway_responses().values()}
    assert set(responses) == {kind for kind in spec if not kind.startswith("_")}
    for kind, props in responses.items():
        body = json.loads(props["ResponseTemplates"]["application/json"])
        assert body == json.loads(gateway_body(kind))  # what the local devserver answers
        assert props.get("StatusCode") == (str(spec[kind]["status"]) if spec[kind]["status"] else None)
        assert props["ResponseParameters"]["gatewayresponse.header.Content-Type"].startswith("'application/json")
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"  # an unknown route is a 404
    assert responses["THROTTLED"]["StatusCode"] == "429"


def test_the_api_is_regional_throttled_and_served_on_https_under_a_custom_domain(templates):
    for template in templates.values():
        api = template["Resources"]["RestAPI"]["Properties"]
        assert api["EndpointConfiguration"] == "REGIONAL"
        settings = {(m["ResourcePath"], m["HttpMethod"]): m for m in api["MethodSettings"]}
        assert settings[("/*", "*")]["ThrottlingRateLimit"] == {"Ref": "ThrottleRateLimit"}
        # a stage's method setting names its resource "/~1v1~1auth~1login" (cfn-lint E3723 refuses it without
        # the leading "/", and API Gateway would not apply the login throttle)
        assert settings[("/~1v1~1auth~1login", "POST")]["ThrottlingBurstLimit"] == {"Ref": "LoginBurstLimit"}
        assert not any(m["DataTraceEnabled"] for m in api["MethodSettings"])  # bodies carry codes and tokens
        domain = template["Resources"]["ApiDomainName"]
        assert domain["Condition"] == "HasCustomDomain"
        assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
        assert domain["Properties"]["RegionalCertificateArn"] == {"Ref": "CertificateArn"}
    assert templates["prod"]["Parameters"]["ThrottleRateLimit"]["Default"] > templates["dev"]["Parameters"][
        "ThrottleRateLimit"]["Default"]


def test_every_function_has_a_stage_name_a_size_and_a_log_group_with_retention():
    template = build("dev", functions=["api_handler", "accrue-trees", "jobs_worker"])
    resources = template["Resources"]
    assert resources["APIHandler"]["Properties"]["FunctionName"] == "greensprout-dev"
    assert resources["APIHandler"]["Properties"]["Timeout"] < 29  # inside API Gateway's integration timeout
    assert resources["AccrueTrees"]["Properties"]["FunctionName"] == function_name("dev", "accrue-trees") \
        == "greensprout-dev-accrue-trees"
    assert resources["JobsWorker"]["Properties"]["FunctionName"] == "greensprout-dev-jobs_worker"
    for logical in ("APIHandler", "AccrueTrees", "JobsWorker"):
        group = resources[f"{logical}LogGroup"]
        assert resources[logical]["DependsOn"] == [f"{logical}LogGroup"]
        assert group["Properties"]["LogGroupName"] == "/aws/lambda/" + resources[logical]["Properties"]["FunctionName"]
        assert group["Properties"]["RetentionInDays"] > 0


def test_every_job_of_jobs_py_gets_its_own_scheduled_function(templates):
    from chalicelib.jobs import JOBS

    resources = templates["prod"]["Resources"]
    names = {r["Properties"].get("FunctionName") for r in resources.values() if "Properties" in r}
    for job in JOBS:
        assert function_name("prod", job.name) in names, job.name


def test_stream_handlers_read_their_own_table_s_stream(templates):
    """config.json names each stream by a placeholder (the ARN exists only once the table does); the
    template replaces it, in the stream event and in every function's variables, by the table's StreamArn."""
    from infra.aws.functions import STREAM_PLACEHOLDER, stage_functions

    for stage, template in templates.items():
        found = stage_functions(stage)
        streamed = {s["Properties"]["TableName"]: logical for logical, s in template["Resources"].items()
                    if s.get("Type") == "AWS::DynamoDB::Table" and "StreamSpecification" in s["Properties"]}
        for handler, table in found.streams.items():
            events = template["Resources"][cfn_name(handler)]["Properties"]["Events"]
            (event,) = events.values()
            assert event["Properties"]["Stream"] == {"Fn::GetAtt": [streamed[table], "StreamArn"]}
        for variable, table in found.stream_variables.items():
            assert template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"][variable] == \
                {"Fn::GetAtt": [streamed[table], "StreamArn"]}
        assert STREAM_PLACEHOLDER not in json.dumps(template)


def test_with_a_custom_domain_the_default_execute_api_endpoint_is_off(templates):
    for template in templates.values():
        api = template["Resources"]["RestAPI"]["Properties"]
        assert api["DisableExecuteApiEndpoint"] == {"Fn::If": ["HasCustomDomain", True, False]}
        assert template["Conditions"]["HasCustomDomain"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]}
        assert template["Resources"]["ApiBasePathMapping"]["Condition"] == "HasCustomDomain"


def test_the_access_log_is_one_json_line_without_query_strings_headers_or_bodies(templates):
    for stage, template in templates.items():
        resources = template["Resources"]
        setting = resources["RestAPI"]["Properties"]["AccessLogSetting"]
        assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
        fields = json.loads(setting["Format"])
        assert fields == ACCESS_LOG_FIELDS
        assert {"requestId", "ip", "method", "route", "status", "latencyMs", "waf"} <= set(fields)
        variables = " ".join(fields.values())
        # the raw path holds ids and codes, a query string can hold anything, headers hold the token
        for leak in ("$context.path", "$input", "$method.request", "querystring", "header", "$context.authorizer",
                     "requestOverride", "responseOverride", "$context.identity.user", "caller", "apiKey"):
            assert leak.lower() not in variables.lower(), leak
        assert fields["route"] == "$context.resourcePath"  # "/v1/market/goods/{goods}/redeem", not the ids
        group = resources["ApiAccessLogGroup"]["Properties"]
        assert group["RetentionInDays"] == STAGE_SETTINGS[stage].log_retention_days
        assert resources["ApiAccessLogGroup"]["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")
        # API Gateway needs its account's CloudWatch role before a stage with logs can exist
        assert "ApiGatewayAccount" in resources["RestAPI"]["DependsOn"]
        assert resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"] == \
            {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}
        assert resources["ApiGatewayLogsRole"]["DeletionPolicy"] == "Retain"  # the other stage's logs use it too


def test_every_function_has_reserved_concurrency_and_the_api_keeps_its_share(templates):
    from infra.aws.functions import stage_functions

    reserved_by_default = 0
    for stage, template in templates.items():
        found = stage_functions(stage)
        parameters = template["Parameters"]
        for name in found.names:
            props = template["Resources"][cfn_name(name)]["Properties"]
            parameter = props["ReservedConcurrentExecutions"]["Ref"]
            assert parameters[parameter]["Type"] == "Number" and parameters[parameter]["MinValue"] >= 1
            reserved_by_default += parameters[parameter]["Default"]
        assert template["Resources"]["APIHandler"]["Properties"]["ReservedConcurrentExecutions"] == \
            {"Ref": "ApiReservedConcurrency"}
        assert template["Resources"]["JobsWorker"]["Properties"]["ReservedConcurrentExecutions"] == \
            {"Ref": "WorkerReservedConcurrency"}
        defaults = {name: p["Default"] for name, p in parameters.items() if name.endswith("ReservedConcurrency")}
        assert defaults["ApiReservedConcurrency"] == max(defaults.values())  # the API's share is the largest
        assert defaults["WorkerReservedConcurrency"] >= 64  # tree accrual fans out to 64 shards at once
    # Lambda keeps at least 100 of an account's 1,000 (the default quota) unreserved: both stages fit in one
    assert reserved_by_default <= 900


def _waf_path_matches(statement: dict, path: str) -> bool:
    """What WAF does with a ByteMatchStatement on the URI path: transform, then compare."""
    from urllib.parse import unquote

    match = statement["ByteMatchStatement"]
    for transformation in sorted(match["TextTransformations"], key=lambda t: t["Priority"]):
        path = {"URL_DECODE": unquote, "LOWERCASE": str.lower, "NONE": str}[transformation["Type"]](path)
    assert match["PositionalConstraint"] == "ENDS_WITH"
    return path.endswith(match["SearchString"])


def test_a_waf_rate_rule_limits_logins_and_requests_per_source_ip(templates):
    for stage, template in templates.items():
        resources = template["Resources"]
        acl = resources["ApiWebAcl"]["Properties"]
        assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
        rules = {rule["Name"]: rule for rule in acl["Rules"]}
        login = rules["login-per-ip"]["Statement"]["RateBasedStatement"]
        assert login["AggregateKeyType"] == "IP" and login["Limit"] == {"Ref": "WafLoginsPerIp"}
        path, method = login["ScopeDownStatement"]["AndStatement"]["Statements"]
        assert method["ByteMatchStatement"]["FieldToMatch"] == {"Method": {}}
        assert method["ByteMatchStatement"]["SearchString"] == "POST"
        assert path["ByteMatchStatement"]["FieldToMatch"] == {"UriPath": {}}
        for seen in ("/v1/auth/login", "/v1/v1/auth/login", "/v1/auth/%6Cogin", "/V1/Auth/Login"):
            assert _waf_path_matches(path, seen), seen  # the custom domain's path, the stage's own, encoded
        for other in ("/v1/me", "/v1/auth/login/extra", "/v1/checkins"):
            assert not _waf_path_matches(path, other), other
        everything = rules["requests-per-ip"]["Statement"]["RateBasedStatement"]
        assert everything == {"Limit": {"Ref": "WafRequestsPerIp"}, "AggregateKeyType": "IP"}
        assert rules["login-per-ip"]["Priority"] < rules["requests-per-ip"]["Priority"]
        parameters = template["Parameters"]
        assert parameters["WafLoginsPerIp"]["Default"] == STAGE_SETTINGS[stage].waf_logins_per_ip
        assert parameters["WafLoginsPerIp"]["Default"] < parameters["WafRequestsPerIp"]["Default"]
        # over the limit: 429 in the contract's shape, as API Gateway's own throttling answers
        for rule in rules.values():
            response = rule["Action"]["Block"]["CustomResponse"]
            assert response["ResponseCode"] == 429
            body = json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
            assert body == {"error": {"code": "RATE_LIMITED", "message": "操作太频繁，请稍后再试"}}
        association = resources["ApiWebAclAssociation"]["Properties"]
        assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
        arn = association["ResourceArn"]["Fn::Join"][1]
        assert {"Ref": "RestAPI"} in arn and {"Ref": "RestAPI.Stage"} in arn and "/stages/" in arn
