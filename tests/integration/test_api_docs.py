"""`make run` documents the API at /docs: Swagger UI, served by the local server itself, renders openapi.yaml.

The page is opened in a real headless Chromium (installed by `make test`) that may reach no host but the local
server, and the test reads the DOM after the page's JavaScript ran: every route of the OpenAPI document must be
on the page, which a page that only served its HTML, or that needed a CDN, would not show.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape

import pytest
import requests
import yaml

from infra.local import apidocs

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
METHODS = ("get", "put", "post", "delete", "patch")


def spec() -> dict:
    return yaml.safe_load(apidocs.OPENAPI.read_text(encoding="utf-8"))


def headless(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Chromium, headless, with its own profile, allowed to resolve no host but 127.0.0.1."""
    if BROWSER is None:
        pytest.skip("chromium is not installed (`make test` installs it: apt-get install chromium)")
    argv = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)


def test_openapi_yaml_is_the_document_as_on_disk(base_url):
    response = requests.get(base_url + "/openapi.yaml", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert response.content == apidocs.OPENAPI.read_bytes()


def test_docs_page_and_its_assets_come_from_this_server(base_url):
    page = requests.get(base_url + "/docs", timeout=5)
    assert page.status_code == 200, page.text  # 503 says what to install
    assert page.headers["Content-Type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(src.startswith("/docs/") for src in sources), sources
    for src in sources:
        asset = requests.get(base_url + src, timeout=5)
        assert asset.status_code == 200, src
    for other in ("/docs/package.json", "/docs/index.html", "/docs/swagger-ui-dist/swagger-ui.css"):
        assert requests.get(base_url + other, timeout=5).status_code == 404, other  # only the page's own files


def test_docs_page_renders_every_route_in_a_browser(base_url, tmp_path):
    result = headless(tmp_path, "--dump-dom", base_url + "/docs")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    rendered = {(method.lower(), unescape(path)) for method, path in re.findall(
        r'opblock-summary-method">(\w+)<.*?data-path="([^"]+)"', dom, flags=re.S)}
    routes = {(method, path) for path, item in spec()["paths"].items() for method in item if method in METHODS}
    assert len(routes) >= 30  # the document parsed: an empty set would match an empty page
    assert rendered == routes, f"missing {sorted(routes - rendered)[:10]}, extra {sorted(rendered - routes)[:10]}"
    assert 'data-path="/v1/checkins"' in dom
    assert spec()["info"]["title"] in unescape(dom)
