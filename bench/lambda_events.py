"""API Gateway (REST, proxy) events and a Lambda context, to call `app.app(event, context)` as Lambda does."""
from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl


class LambdaContext:
    function_name = "greensprout-bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:000000000000:function:greensprout-bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 25_000


def event(method: str, resource: str, path_params: dict | None = None, body: dict | None = None,
          token: str | None = None, query: str = "") -> dict:
    """A proxy event for `resource` (e.g. "/v1/trees/{id}/adopt") with its path parameters filled in."""
    path = resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", value)
    headers = {"Content-Type": "application/json", "Host": "api.example.com"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    params = dict(parse_qsl(query)) or None
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": {k: [v] for k, v in params.items()} if params else None,
        "pathParameters": path_params or None, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": "/v1" + path,
                           "stage": "v1", "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"}},
        "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
    }


def invoke(app, evt: dict) -> tuple[int, dict]:
    response = app(evt, LambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}
