"""A fake SSM Parameter Store that speaks the real wire protocol (AWS JSON 1.1 over HTTP), so the app's
secret loader is tested through the real botocore client: signing, pagination, errors.

Implements GetParametersByPath (non-recursive, `MaxResults` pages with `NextToken`) and PutParameter.
"""
from __future__ import annotations

import threading

from infra.local.fake_http import FakeHTTPServer, Request, Response

PAGE = 10  # SSM's own maximum for GetParametersByPath


class FakeSSM(FakeHTTPServer):
    name = "fake SSM"

    def __init__(self, page_size: int = PAGE, deny: bool = False) -> None:
        super().__init__()
        self.page_size = page_size
        self.deny = deny  # answer AccessDeniedException, as IAM would without ssm:GetParametersByPath
        self.parameters: dict[str, tuple[str, str]] = {}  # name -> (type, value)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self.routes[("POST", "/")] = self._dispatch

    def put(self, name: str, value: str, kind: str = "SecureString") -> None:
        with self._lock:
            self.parameters[name] = (kind, value)

    def _dispatch(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        body = request.json()
        with self._lock:
            self.requests.append({"target": target, "body": body, "signed": "Credential=" in
                                  request.headers.get("authorization", "")})
        if self.deny:
            return _error(400, "AccessDeniedException", "not authorized to perform ssm:GetParametersByPath")
        if target == "AmazonSSM.GetParametersByPath":
            return self._by_path(body)
        if target == "AmazonSSM.PutParameter":
            self.put(body["Name"], body["Value"], body.get("Type", "String"))
            return _json({"Version": 1, "Tier": "Standard"})
        return _error(400, "InvalidAction", target)

    def _by_path(self, body: dict) -> Response:
        path = body["Path"].rstrip("/") + "/"
        with self._lock:
            names = sorted(n for n in self.parameters if n.startswith(path) and "/" not in n[len(path):])
            start = int(body.get("NextToken") or 0)
            size = min(int(body.get("MaxResults") or self.page_size), self.page_size)
            page = names[start:start + size]
            found = [{"Name": n, "Type": self.parameters[n][0], "Version": 1,
                      "Value": self.parameters[n][1] if body.get("WithDecryption") or
                      self.parameters[n][0] != "SecureString" else "(encrypted)"} for n in page]
        answer: dict = {"Parameters": found}
        if start + size < len(names):
            answer["NextToken"] = str(start + size)
        return _json(answer)


def _json(body: dict) -> Response:
    return Response(body, headers={"x-amzn-RequestId": "fake"})


def _error(status: int, code: str, message: str) -> Response:
    return Response({"__type": code, "message": message}, status=status)
