"""The API's docs page for `make run`: Swagger UI at /docs, the OpenAPI document at /openapi.yaml.

Swagger UI is the npm package swagger-ui-dist, pinned in infra/local/package.json and installed by
`make bootstrap` (npm ci) into infra/local/node_modules; the page loads it from this server, never from a CDN,
and it reads miniprogram_api/openapi.yaml as it is on disk (an edit shows on reload). Only the local server
(infra/local/devserver.py) serves these paths: the deployed API (app.py, chalicelib/) has no docs page.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "miniprogram_api" / "openapi.yaml"
SWAGGER_UI = ROOT / "infra" / "local" / "node_modules" / "swagger-ui-dist"
JS, CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"
ASSETS = {  # /docs/NAME -> (file in swagger-ui-dist, Content-Type); nothing else of the package is served
    "swagger-ui-bundle.js": JS, "swagger-ui-bundle.js.map": "application/json",
    "swagger-ui.css": CSS, "swagger-ui.css.map": "application/json", "favicon-32x32.png": "image/png",
}

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>GreenSprout API (绿芽)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <style>body { margin: 0; } .swagger-ui .topbar { display: none; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.yaml",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      displayRequestDuration: true,
      validatorUrl: null,
    });
  </script>
</body>
</html>
"""


def _response(status: int, content_type: str, body: bytes) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": content_type, "Cache-Control": "no-cache"},
            "multiValueHeaders": {}, "body": body}


def _missing(what: Path) -> dict:
    message = (f"The API docs page needs {what.relative_to(ROOT)}: run `make bootstrap` (npm ci in infra/local, "
               "which installs swagger-ui-dist).\n")
    return _response(503, "text/plain; charset=utf-8", message.encode())


def response(method: str, path: str) -> dict | None:
    """The local server's answer to GET /docs, its assets and /openapi.yaml; None for every other request."""
    if method != "GET":
        return None
    path = urlsplit(path).path
    if path in ("/docs", "/docs/"):
        if not (SWAGGER_UI / "swagger-ui-bundle.js").is_file():
            return _missing(SWAGGER_UI)
        return _response(200, "text/html; charset=utf-8", PAGE.encode())
    if path == "/openapi.yaml":
        return _response(200, "application/yaml; charset=utf-8", OPENAPI.read_bytes())
    name = path.removeprefix("/docs/")
    if name != path and name in ASSETS:
        file = SWAGGER_UI / name
        return _response(200, ASSETS[name], file.read_bytes()) if file.is_file() else _missing(file)
    return None
