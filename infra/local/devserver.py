"""`chalice local` with API Gateway's own answers in the contract's shape.

API Gateway answers an unknown route itself ("Missing Authentication Token", 403) before any Lambda
runs; infra/aws replaces that with GatewayResponses from infra/gateway_responses.json. This runs
Chalice's local server (the same one `chalice local --no-autoreload` runs) with a gateway that
answers from the same file, so development sees what production sends. Each request is logged once,
as one short readable line (chalicelib/observability.py's `use_readable_lines`), instead of a JSON line
and an access line.
It also serves the API docs page at /docs and the OpenAPI document at /openapi.yaml
(infra/local/apidocs.py); the deployed API has neither.

    python -m infra.local.devserver [--host 127.0.0.1] [--port 8000] [--stage local]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from chalice import local
from chalice.cli.factory import CLIFactory

from infra.local import apidocs

ROOT = Path(__file__).resolve().parents[2]
RESPONSES = json.loads((ROOT / "infra" / "gateway_responses.json").read_text(encoding="utf-8"))


def gateway_body(kind: str) -> bytes:
    spec = RESPONSES[kind]
    return json.dumps({"error": {"code": spec["code"], "message": spec["message"]}}, ensure_ascii=False).encode()


class RouteNotFound(local.LocalGatewayException):
    CODE = 404


class ContractGateway(local.LocalGateway):
    """Chalice's LocalGateway, answering an unknown route as our API Gateway does."""

    def handle_request(self, method, path, headers, body):  # noqa: ANN001 - Chalice's signature
        if docs := apidocs.response(method, path):  # /docs and /openapi.yaml: local only (infra/local/apidocs.py)
            return docs
        try:
            return super().handle_request(method, path, headers, body)
        except local.ForbiddenError as exc:
            if b"Missing Authentication Token" not in (exc.body or b"") and b"Authorization header" not in (
                    exc.body or b""):
                raise
            raise RouteNotFound({"Content-Type": "application/json; charset=utf-8"},
                                gateway_body("MISSING_AUTHENTICATION_TOKEN")) from None


class QuietRequestHandler(local.ChaliceRequestHandler):
    """Chalice's request handler without the access line: the app's own request line says it all."""

    def log_request(self, code="-", size="-"):  # noqa: ANN001 - BaseHTTPRequestHandler's signature
        pass


def create_server(host: str, port: int, stage: str) -> local.LocalDevServer:
    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name=stage)
    local.LocalGateway = ContractGateway  # ChaliceRequestHandler builds its gateway from this name
    app = config.chalice_app
    if isinstance(app, local.CustomLocalChalice):
        # Chalice swaps the app's class for one deriving from it and cannot do it twice in one process (a test
        # making a second server): give the app its own class back first.
        app.__class__ = local.CustomLocalChalice.__bases__[1]
    # What local.create_local_server does, with our request handler.
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice
    return local.LocalDevServer(app, config, host, port, handler_cls=QuietRequestHandler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    server = create_server(args.host, args.port, args.stage)
    from chalicelib import observability

    observability.use_readable_lines(server.app_object.log)
    try:
        server.serve_forever()  # prints "Serving on http://HOST:PORT"
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
