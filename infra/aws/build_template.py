"""The template merged into `chalice package` (`--merge-template`): everything Chalice does not make.

    python -m infra.aws.build_template --stage dev|prod OUT.json

- one `AWS::DynamoDB::Table` per model of ALL_MODELS (infra/aws/dynamodb.py);
- API Gateway: a regional endpoint, stage throttling (stage-wide and for login), the GatewayResponses of
  infra/gateway_responses.json (API Gateway's own answers in the contract's error shape), and an
  optional custom domain on HTTPS (TLS 1.2) with an ACM certificate, as a WeChat mini program requires;
- every Lambda function Chalice makes (the API handler and one per job of chalicelib/jobs.py): a fixed
  name, memory, timeout and a log group with a retention period;
- the stream handlers' failure handling: bounded retries, a bisected batch, a maximum record age, and the
  batches given up on described in an SQS queue with an alarm (infra/aws/stream_failures.py).

Chalice deep-merges this file into its own template, so the function and API entries only add properties
to resources Chalice generates (APIHandler, RestAPI, one per scheduled job).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from . import stream_failures
from .dynamodb import table_resource
from .functions import StageFunctions, stage_functions
from .models import APP_NAME, STAGES, TableSpec, table_specs

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_RESPONSES = ROOT / "infra" / "gateway_responses.json"
API_STAGE = "v1"
LOGIN_PATH = "/v1/auth/login"


@dataclass(frozen=True)
class StageSettings:
    """Defaults per stage; the throttles are template parameters an operator can raise at deploy time."""

    rate_limit: int  # requests per second, stage-wide (steady)
    burst_limit: int
    login_rate_limit: int  # POST /v1/auth/login also calls WeChat's code2session
    login_burst_limit: int
    log_retention_days: int
    api_memory_mb: int = 512
    api_timeout_s: int = 20  # under API Gateway's 29 s integration timeout
    job_memory_mb: int = 1024
    job_timeout_s: int = 900


STAGE_SETTINGS = {
    "dev": StageSettings(rate_limit=50, burst_limit=100, login_rate_limit=10, login_burst_limit=20,
                         log_retention_days=14),
    # 10,000 rps / 5,000 burst is the default API Gateway quota of an account and region: docs/capacity.md
    # says when to ask for more (the stage cannot pass the account's quota).
    "prod": StageSettings(rate_limit=10000, burst_limit=5000, login_rate_limit=2000, login_burst_limit=1000,
                          log_retention_days=180),
}


def function_name(stage: str, chalice_name: str) -> str:
    """What `chalice deploy` would call it: the API handler is "greensprout-dev", a job "greensprout-dev-NAME"."""
    return f"{APP_NAME}-{stage}" if chalice_name == "api_handler" else f"{APP_NAME}-{stage}-{chalice_name}"


def parameter_path(stage: str) -> str:
    """Where the stage's secrets live in SSM Parameter Store (SSM_PARAMETER_PATH in config.json)."""
    return f"/{APP_NAME}/{stage}/"


def cfn_name(chalice_name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if chalice_name == "api_handler" else to_cfn_resource_name(chalice_name)


def gateway_responses() -> dict:
    """API Gateway's own answers (unknown route, throttling, timeout ...) in the contract's shape."""
    spec = json.loads(GATEWAY_RESPONSES.read_text(encoding="utf-8"))
    resources = {}
    for kind, answer in sorted(spec.items()):
        if kind.startswith("_"):
            continue
        body = {"error": {"code": answer["code"], "message": answer["message"]}}
        properties = {
            "RestApiId": {"Ref": "RestAPI"},
            "ResponseType": kind,
            "ResponseParameters": {"gatewayresponse.header.Content-Type": "'application/json; charset=utf-8'",
                                   "gatewayresponse.header.Cache-Control": "'no-store'"},
            "ResponseTemplates": {"application/json": json.dumps(body, ensure_ascii=False, separators=(",", ":"))},
        }
        if answer.get("status"):
            properties["StatusCode"] = str(answer["status"])
        logical = "GatewayResponse" + "".join(p.capitalize() for p in kind.split("_"))
        resources[logical] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": properties}
    return resources


def _api(settings: StageSettings) -> dict:
    throttle = {"ThrottlingRateLimit": {"Ref": "ThrottleRateLimit"},
                "ThrottlingBurstLimit": {"Ref": "ThrottleBurstLimit"}}
    login = {"ThrottlingRateLimit": {"Ref": "LoginRateLimit"}, "ThrottlingBurstLimit": {"Ref": "LoginBurstLimit"}}
    return {"RestAPI": {"Properties": {
        "EndpointConfiguration": "REGIONAL",  # edge-optimized APIs do not exist in the China regions
        "MethodSettings": [
            {"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True, "DataTraceEnabled": False, **throttle},
            {"ResourcePath": LOGIN_PATH.replace("/", "~1"), "HttpMethod": "POST", "MetricsEnabled": True,
             "DataTraceEnabled": False, **login},
        ],
    }}}


def _domain() -> dict:
    """A custom domain, made only when DomainName is given: WeChat accepts only HTTPS on a filed domain."""
    return {
        "ApiDomainName": {"Type": "AWS::ApiGateway::DomainName", "Condition": "HasCustomDomain", "Properties": {
            "DomainName": {"Ref": "DomainName"}, "RegionalCertificateArn": {"Ref": "CertificateArn"},
            "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"}},
        "ApiBasePathMapping": {"Type": "AWS::ApiGateway::BasePathMapping", "Condition": "HasCustomDomain",
                               "Properties": {"DomainName": {"Ref": "ApiDomainName"}, "RestApiId": {"Ref": "RestAPI"},
                                              "Stage": {"Ref": "RestAPI.Stage"}}},
    }


def stream_patches(stage: str, specs: list[TableSpec], functions: StageFunctions) -> dict:
    """Each stream handler reads its table's real stream, and each stream variable of config.json (a
    placeholder naming the table) becomes the table's `StreamArn` in every function."""
    from chalice.utils import to_cfn_resource_name

    streamed = {spec.table_name(stage): spec for spec in specs if spec.stream_view_type}
    patches: dict[str, dict] = {cfn_name(name): {} for name in functions.names}
    for name, table in {**functions.streams, **functions.stream_variables}.items():
        if table not in streamed:
            raise ValueError(f"{name}: {table!r} is not a table of ALL_MODELS with Meta.stream_view_type in {stage}")
    for handler, table in functions.streams.items():
        event = to_cfn_resource_name(f"{handler}-dynamodb-event-source")
        stream = {"Fn::GetAtt": [streamed[table].logical_id, "StreamArn"]}
        patches[cfn_name(handler)]["Events"] = {event: {"Properties": {
            "Stream": stream, **stream_failures.event_properties()}}}
    variables = {var: {"Fn::GetAtt": [streamed[table].logical_id, "StreamArn"]}
                 for var, table in functions.stream_variables.items()}
    if variables:
        for patch in patches.values():
            patch["Environment"] = {"Variables": dict(variables)}
    return patches


def _functions(stage: str, settings: StageSettings, names: list[str], streams: dict,
               stream_handlers: list[str]) -> dict:
    resources = {}
    policy = "Retain" if stage == "prod" else "Delete"
    for name in names:
        api = name == "api_handler"
        function, logical = function_name(stage, name), cfn_name(name)
        resources[f"{logical}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
            "Properties": {"LogGroupName": f"/aws/lambda/{function}", "RetentionInDays": settings.log_retention_days}}
        # Lambda refuses an event source mapping whose on-failure destination the role cannot send to: the
        # mapping follows its function, so the function follows the permission.
        after = [stream_failures.SEND_POLICY] if name in stream_handlers else []
        resources[logical] = {"DependsOn": [f"{logical}LogGroup", *after], "Properties": {
            "FunctionName": function,
            "MemorySize": settings.api_memory_mb if api else settings.job_memory_mb,
            "Timeout": settings.api_timeout_s if api else settings.job_timeout_s,
            **streams.get(logical, {})}}
    return resources


def _parameters(settings: StageSettings) -> dict:
    def number(default: int, text: str) -> dict:
        return {"Type": "Number", "Default": default, "MinValue": 1, "Description": text}

    return {
        "DomainName": {"Type": "String", "Default": "", "Description": "API domain (ICP-filed for mainland users); "
                       "empty: no custom domain"},
        "CertificateArn": {"Type": "String", "Default": "", "Description": "ACM certificate of DomainName, "
                           "in the stack's region"},
        "ThrottleRateLimit": number(settings.rate_limit, "steady requests per second, whole API"),
        "ThrottleBurstLimit": number(settings.burst_limit, "burst, whole API"),
        "LoginRateLimit": number(settings.login_rate_limit, "steady requests per second, POST /v1/auth/login"),
        "LoginBurstLimit": number(settings.login_burst_limit, "burst, POST /v1/auth/login"),
        **stream_failures.parameters(),
    }


def build(stage: str, functions: list[str] | None = None) -> dict:
    """The merge template of one stage."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    settings = STAGE_SETTINGS[stage]
    specs = table_specs()
    resources = {spec.logical_id: table_resource(spec, stage) for spec in specs}
    resources.update(gateway_responses())
    resources.update(_api(settings))
    resources.update(_domain())
    if functions is None:
        found = stage_functions(stage)
        functions, streams, handlers = list(found.names), stream_patches(stage, specs, found), sorted(found.streams)
    else:
        streams, handlers = {}, []
    resources.update(_functions(stage, settings, functions, streams, handlers))
    resources.update(stream_failures.resources(stage, handlers))
    outputs = {f"{spec.logical_id}Name": {"Value": {"Ref": spec.logical_id}} for spec in specs}
    outputs["SecretsParameterPath"] = {"Value": parameter_path(stage)}
    outputs["ApiDomainTarget"] = {"Condition": "HasCustomDomain", "Description": "CNAME the API domain to this",
                                  "Value": {"Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]}}
    outputs.update(stream_failures.outputs(handlers))
    return {
        "Parameters": _parameters(settings),
        "Conditions": {"HasCustomDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]},
                       **stream_failures.conditions()},
        "Resources": resources,
        "Outputs": outputs,
    }


def write(stage: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(stage), indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.aws.build_template", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("out", type=Path, help="the JSON file to write")
    args = parser.parse_args(argv)
    print(write(args.stage, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
