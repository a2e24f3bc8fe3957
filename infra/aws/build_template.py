"""The template merged into `chalice package` (`--merge-template`): everything Chalice does not make.

    python -m infra.aws.build_template --stage dev|prod OUT.json

- one `AWS::DynamoDB::Table` per model of ALL_MODELS (infra/aws/dynamodb.py);
- API Gateway: a regional endpoint, stage throttling (stage-wide and for login), the GatewayResponses of
  infra/gateway_responses.json (API Gateway's own answers in the contract's error shape), and an
  optional custom domain on HTTPS (TLS 1.2) with an ACM certificate, as a WeChat mini program requires;
- API Gateway's access log (one JSON line per request, no query string, header or body: ACCESS_LOG_FIELDS)
  and, when a custom domain is given, the default execute-api endpoint turned off;
- a WAF WebACL (REGIONAL) on the API's stage: rate-based rules per source IP, one scoped down to
  POST /v1/auth/login, each limit a parameter;
- every Lambda function Chalice makes (the API handler and one per job of chalicelib/jobs.py): a fixed
  name, memory, timeout, reserved concurrency and a log group with a retention period (each function's
  own IAM role and policy: infra/aws/policy.py, .chalice/config.json);
- the evidence photos' bucket, its 180-day lifecycle rule and the API's EVIDENCE_BUCKET
  (infra/aws/evidence_bucket.py);
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

from . import evidence_bucket, stream_failures
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
    # Reserved concurrency: the API keeps its share whatever the jobs do, and a job, the worker or a stream
    # handler cannot take more. Their sum must leave the account's unreserved pool at 100 or more (Lambda's
    # rule): with the default quota of 1,000 per region, dev and prod together reserve at most 900.
    api_concurrency: int
    worker_concurrency: int  # the jobs' worker: one invocation per shard of the widest fan-out (64)
    job_concurrency: int  # each scheduled function: one run at a time is all a schedule needs
    stream_concurrency: int  # each stream handler: one invocation per stream shard
    # WAF: requests per source IP in any 5 minutes (mobile carriers put many users behind one address)
    waf_requests_per_ip: int
    waf_logins_per_ip: int  # POST /v1/auth/login: each one calls WeChat's code2session
    api_memory_mb: int = 512
    api_timeout_s: int = 20  # under API Gateway's 29 s integration timeout
    job_memory_mb: int = 1024
    job_timeout_s: int = 900


STAGE_SETTINGS = {
    "dev": StageSettings(rate_limit=50, burst_limit=100, login_rate_limit=10, login_burst_limit=20,
                         log_retention_days=14, api_concurrency=100, worker_concurrency=64, job_concurrency=1,
                         stream_concurrency=4, waf_requests_per_ip=1000, waf_logins_per_ip=100),
    # 10,000 rps / 5,000 burst is the default API Gateway quota of an account and region: docs/capacity.md
    # says when to ask for more (the stage cannot pass the account's quota).
    # 500 for the API is over three times the ~150 concurrent executions of docs/capacity.md's 40 M-user burst.
    "prod": StageSettings(rate_limit=10000, burst_limit=5000, login_rate_limit=2000, login_burst_limit=1000,
                          log_retention_days=180, api_concurrency=500, worker_concurrency=100, job_concurrency=2,
                          stream_concurrency=40, waf_requests_per_ip=3000, waf_logins_per_ip=300),
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


# One JSON line per request. Only what is safe to keep: no query string ($context.path and the request
# line are left out, and with them any id or code a path or query carries: the route's pattern is
# $context.resourcePath), no header (the token is in Authorization), no body, no caller identity beyond the
# source address (what the WAF's per-IP limits count, kept as long as the stage's logs).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "time": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod",
    "route": "$context.resourcePath",
    "status": "$context.status",
    "bytes": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "error": "$context.error.responseType",
    "waf": "$context.waf.status",
    "domain": "$context.domainName",
    "protocol": "$context.protocol",
}


def access_log_format() -> str:
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def login_resource_path() -> str:
    """A stage's method setting names its resource with each "/" as "~1", after a leading "/"."""
    return "/" + LOGIN_PATH.replace("/", "~1")


def _api(settings: StageSettings) -> dict:
    throttle = {"ThrottlingRateLimit": {"Ref": "ThrottleRateLimit"},
                "ThrottlingBurstLimit": {"Ref": "ThrottleBurstLimit"}}
    login = {"ThrottlingRateLimit": {"Ref": "LoginRateLimit"}, "ThrottlingBurstLimit": {"Ref": "LoginBurstLimit"}}
    return {
        "RestAPI": {"DependsOn": ["ApiGatewayAccount"], "Properties": {
            "EndpointConfiguration": "REGIONAL",  # edge-optimized APIs do not exist in the China regions
            # With a custom domain, clients reach the API only through it (TLS 1.2, the WAF's stage): the
            # default https://{id}.execute-api... address answers 403.
            "DisableExecuteApiEndpoint": {"Fn::If": ["HasCustomDomain", True, False]},
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]},
                                 "Format": access_log_format()},
            "MethodSettings": [
                {"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True, "DataTraceEnabled": False,
                 **throttle},
                {"ResourcePath": login_resource_path(), "HttpMethod": "POST", "MetricsEnabled": True,
                 "DataTraceEnabled": False, **login},
            ],
        }},
        # API Gateway writes logs through one role per account and region (its account settings). Both
        # stacks set it; the role is retained, so deleting one stack never breaks the other's logging.
        "ApiGatewayLogsRole": {"Type": "AWS::IAM::Role", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                               "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                              "AmazonAPIGatewayPushToCloudWatchLogs"}]}},
        "ApiGatewayAccount": {"Type": "AWS::ApiGateway::Account", "Properties": {
            "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}}},
    }


def _access_logs(stage: str, settings: StageSettings) -> dict:
    policy = "Retain" if stage == "prod" else "Delete"
    return {"ApiAccessLogGroup": {
        "Type": "AWS::Logs::LogGroup", "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
        "Properties": {"LogGroupName": f"/aws/apigateway/{APP_NAME}-{stage}/access",
                       "RetentionInDays": settings.log_retention_days}}}


def _path_ends_with(path: str) -> dict:
    """The URI path ends with `path`, once URL-decoded and lower-cased: "/v1/auth/login" through the custom
    domain, "/v1/v1/auth/login" through the stage's own address."""
    return {"ByteMatchStatement": {"FieldToMatch": {"UriPath": {}}, "PositionalConstraint": "ENDS_WITH",
                                   "SearchString": path.lower(),
                                   "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"},
                                                           {"Priority": 1, "Type": "LOWERCASE"}]}}


def _waf(stage: str) -> dict:
    """A REGIONAL WebACL on the API's stage: per source IP, at most WafLoginsPerIp logins and WafRequestsPerIp
    requests in any 5 minutes; over it, 429 in the contract's shape (the THROTTLED answer of
    infra/gateway_responses.json) until the address slows down."""
    throttled = json.loads(GATEWAY_RESPONSES.read_text(encoding="utf-8"))["THROTTLED"]
    body = json.dumps({"error": {"code": throttled["code"], "message": throttled["message"]}}, ensure_ascii=False,
                      separators=(",", ":"))
    block = {"Block": {"CustomResponse": {"ResponseCode": 429, "CustomResponseBodyKey": "RateLimited",
                                          "ResponseHeaders": [{"Name": "Cache-Control", "Value": "no-store"}]}}}

    def rule(name: str, priority: int, limit: str, scope: dict | None) -> dict:
        statement = {"Limit": {"Ref": limit}, "AggregateKeyType": "IP"}
        if scope:
            statement["ScopeDownStatement"] = scope
        return {"Name": name, "Priority": priority, "Action": block, "Statement": {"RateBasedStatement": statement},
                "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                     "MetricName": f"{APP_NAME}-{stage}-{name}"}}

    login = {"AndStatement": {"Statements": [
        _path_ends_with(LOGIN_PATH),
        {"ByteMatchStatement": {"FieldToMatch": {"Method": {}}, "PositionalConstraint": "EXACTLY",
                                "SearchString": "POST", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
    ]}}
    return {
        "ApiWebAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {
            "Name": f"{APP_NAME}-{stage}-api", "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "CustomResponseBodies": {"RateLimited": {"ContentType": "APPLICATION_JSON", "Content": body}},
            "Rules": [rule("login-per-ip", 0, "WafLoginsPerIp", login),
                      rule("requests-per-ip", 1, "WafRequestsPerIp", None)],
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": f"{APP_NAME}-{stage}-api"}}},
        "ApiWebAclAssociation": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {
            "WebACLArn": {"Fn::GetAtt": ["ApiWebAcl", "Arn"]},
            "ResourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
                                              "::/restapis/", {"Ref": "RestAPI"}, "/stages/",
                                              {"Ref": "RestAPI.Stage"}]]}}},
    }


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


def concurrency_parameter(name: str, workers: list[str] | tuple[str, ...], stream_handlers: list[str]) -> str:
    """The template parameter holding a function's reserved concurrency."""
    if name == "api_handler":
        return "ApiReservedConcurrency"
    if name in workers:
        return "WorkerReservedConcurrency"
    return "StreamReservedConcurrency" if name in stream_handlers else "JobReservedConcurrency"


def _functions(stage: str, settings: StageSettings, names: list[str], streams: dict,
               stream_handlers: list[str], workers: tuple[str, ...] = ()) -> dict:
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
            "ReservedConcurrentExecutions": {"Ref": concurrency_parameter(name, workers, stream_handlers)},
            **_with_evidence_bucket(streams.get(logical, {}), stage, name in evidence_bucket.BUCKET_USERS)}}
    return resources


def _with_evidence_bucket(patch: dict, stage: str, uses: bool) -> dict:
    """The function's stream patch, and for the API and the jobs' worker (the transparency leaves files) its
    EVIDENCE_BUCKET among the variables it sets."""
    if not uses:
        return patch
    variables = {**patch.get("Environment", {}).get("Variables", {}), **evidence_bucket.api_environment(stage)}
    return {**patch, "Environment": {"Variables": variables}}


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
        "ApiReservedConcurrency": number(settings.api_concurrency, "reserved concurrent executions, API handler"),
        "WorkerReservedConcurrency": number(settings.worker_concurrency, "reserved concurrent executions, jobs' "
                                            "worker"),
        "JobReservedConcurrency": number(settings.job_concurrency, "reserved concurrent executions, each "
                                         "scheduled job"),
        "StreamReservedConcurrency": number(settings.stream_concurrency, "reserved concurrent executions, each "
                                            "stream handler"),
        "WafRequestsPerIp": {**number(settings.waf_requests_per_ip, "WAF: requests per source IP in 5 minutes, "
                                      "then 429"), "MinValue": 100},
        "WafLoginsPerIp": {**number(settings.waf_logins_per_ip, "WAF: POST /v1/auth/login per source IP in 5 "
                                    "minutes, then 429"), "MinValue": 100},
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
    resources.update(_access_logs(stage, settings))
    resources.update(_waf(stage))
    resources.update(_domain())
    resources.update(evidence_bucket.resources(stage))
    if functions is None:
        found = stage_functions(stage)
        functions, streams, handlers = list(found.names), stream_patches(stage, specs, found), sorted(found.streams)
        workers = found.pure
    else:
        from chalicelib.scheduling import WORKER

        streams, handlers, workers = {}, [], tuple(n for n in functions if n == WORKER)
    resources.update(_functions(stage, settings, functions, streams, handlers, workers))
    resources.update(stream_failures.resources(stage, handlers))
    outputs = {f"{spec.logical_id}Name": {"Value": {"Ref": spec.logical_id}} for spec in specs}
    outputs["SecretsParameterPath"] = {"Value": parameter_path(stage)}
    outputs["EvidenceBucketName"] = {"Value": {"Ref": evidence_bucket.LOGICAL_ID}}
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
