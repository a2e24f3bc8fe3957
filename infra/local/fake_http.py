"""The little HTTP server every fake partner (WeChat, later the bus company and the bank) is built on.

A fake subclasses `FakeHTTPServer`, fills `self.routes` with `(method, path) -> handler` and gets real HTTP on
127.0.0.1 from a `ThreadingHTTPServer` in a daemon thread: `start()`, `stop()`, `base_url`, `with fake: ...`.
Handlers take a `Request` and return a `Response`; they run on many threads at once, so a fake guards its
state with a lock.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


class BadJsonError(ValueError):
    """The request body is not a JSON object."""


@dataclass(frozen=True)
class Request:
    """One HTTP request as a handler sees it: query values are the first of each name."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    raw_query: str = ""  # the query as sent (the fake S3 signs it, blank values included)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, or BadJsonError."""
        try:
            value = json.loads(self.body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadJsonError(str(exc)) from exc
        if not isinstance(value, dict):
            raise BadJsonError("the body is not a JSON object")
        return value


@dataclass(frozen=True)
class Response:
    """What a handler answers: a dict is sent as JSON, str/bytes as they are."""

    body: dict[str, Any] | str | bytes
    status: int = 200
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        """The body's bytes and its content type."""
        if isinstance(self.body, dict):
            return json.dumps(self.body, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        data = self.body.encode() if isinstance(self.body, str) else self.body
        return data, self.content_type or "text/plain; charset=utf-8"


Handler = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeHTTPServer) -> None:
        super().__init__(address, _RequestHandler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the client stopped waiting (a slow-response fault did its job): nothing to report
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802 - the headers a GET would send, no body (the fake S3's HeadObject)
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=url.path,
            query={name: values[0] for name, values in parse_qs(url.query).items()},
            body=self.rfile.read(length) if length else b"",
            headers={name.lower(): value for name, value in self.headers.items()},
            raw_query=url.query,
        )
        response = self.server.fake.handle(request)
        data, content_type = response.encode()
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", response.headers.get("Content-Length") or str(len(data)))
        for name, value in response.headers.items():
            if name != "Content-Length":
                self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep the terminal quiet
        return


class FakeHTTPServer:
    """Base class of the fake partners: routes requests to handlers, serves on 127.0.0.1 in a thread."""

    name = "fake"

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.routes: dict[tuple[str, str], Handler] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """"http://127.0.0.1:PORT" (the real port once started, also when 0 was asked for)."""
        return f"http://127.0.0.1:{self.port}"

    def handle(self, request: Request) -> Response:
        """Answer one request from the route table (404 / 405 otherwise)."""
        handler = self.routes.get((request.method, request.path))
        if handler is not None:
            try:
                return handler(request)
            except BadJsonError as exc:
                return Response({"error": f"bad JSON body: {exc}"}, status=400)
            except Exception as exc:  # a bug in the fake: say so instead of dropping the connection
                return Response({"error": f"{self.name} failed: {exc!r}"}, status=500)
        if any(path == request.path for _, path in self.routes):
            return Response({"error": f"method {request.method} not allowed"}, status=405)
        return Response({"error": f"no such path: {request.path}"}, status=404)

    def start(self) -> Self:
        """Bind 127.0.0.1:port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"{self.name} is already started")
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (requests still sleeping are abandoned)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
