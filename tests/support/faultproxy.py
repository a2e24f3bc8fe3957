"""A fault-injecting TCP proxy between the app and DynamoDB Local.

Each chunk a client sends (with botocore, one HTTP request) is given a fate drawn from a seeded random
generator: pass, delay, reset before forwarding (the request never reached DynamoDB), or cut the
response after the request was forwarded (DynamoDB applied it, the client never hears). The last is the
case that matters: only idempotency makes the client's retry harmless.

DynamoDB Local never throttles nor cancels a transaction for a conflict: `answer` makes the proxy reply to
chosen requests itself, with the HTTP error DynamoDB would send (`dynamodb_error`), so botocore parses and
retries it as it would AWS's. `seen` lists every request's (time, operation) as it arrived.
"""
from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from infra.local.dynamodb_local import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Faults:
    reset: float = 0.0  # drop the connection before forwarding the request
    cut_response: float = 0.0  # forward the request, then drop the connection instead of the response
    delay: float = 0.0  # forward after `delay_seconds`
    delay_seconds: float = 0.3
    seed: int = 7
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def fate(self) -> str:
        with self._lock:
            roll = self._random.random()
            for name, chance in (("reset", self.reset), ("cut_response", self.cut_response), ("delay", self.delay)):
                if roll < chance:
                    self.counts[name] += 1
                    return name
                roll -= chance
            self.counts["pass"] += 1
            return "pass"


class FaultProxy:
    def __init__(self, upstream_port: int, faults: Faults) -> None:
        self.faults = faults
        self.upstream = ("127.0.0.1", upstream_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stopping = False
        self.enabled = True
        self.answer: Callable[[str, bytes], bytes | None] | None = None  # (operation, request) -> a reply or None
        self.seen: list[tuple[float, str]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self._server.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        try:
            while True:
                request = self._message(client)
                if not request:
                    return
                operation = _operation(request)
                self.seen.append((time.monotonic(), operation))
                reply = self.answer(operation, request) if self.answer else None
                if reply is not None:
                    client.sendall(reply)
                    continue
                fate = self.faults.fate() if self.enabled else "pass"
                if fate == "reset":
                    return
                if fate == "delay":
                    time.sleep(self.faults.delay_seconds)
                upstream.sendall(request)
                response = self._message(upstream)
                if fate == "cut_response":
                    return
                client.sendall(response)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    @staticmethod
    def _message(sock: socket.socket) -> bytes:
        """One whole HTTP message (botocore and DynamoDB both send Content-Length); b"" at a clean close."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                if not data:
                    return b""
                raise OSError("peer closed mid-message")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("upstream closed")
            body += chunk
        return head + b"\r\n\r\n" + body


def _operation(request: bytes) -> str:
    """The DynamoDB operation of a request, from its X-Amz-Target header ("DynamoDB_20120810.GetItem")."""
    for line in request.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-amz-target":
            return value.strip().decode().rpartition(".")[2]
    return ""


def dynamodb_error(code: str, message: str = "injected by the fault proxy", reasons: list[str] | None = None,
                   status: int = 400) -> bytes:
    """An HTTP reply as DynamoDB sends an error: `{"__type": "...#Code", "message": ...}`, with the
    cancellation reasons of a TransactionCanceledException."""
    body: dict = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    if reasons is not None:
        body["CancellationReasons"] = [{"Code": reason, "Message": reason} for reason in reasons]
    raw = json.dumps(body).encode()
    head = (f"HTTP/1.1 {status} Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"x-amzn-RequestId: fault-proxy\r\nContent-Length: {len(raw)}\r\n\r\n")
    return head.encode() + raw


@contextmanager
def api_through(proxy: FaultProxy) -> Iterator[str]:
    """The API as a real server (`infra.local.devserver`, what `make run` serves) on a free port, reaching
    DynamoDB only through `proxy`; yields its base URL once /v1/health answers, and stops it after."""
    port = free_port()
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint}
    server = subprocess.Popen([sys.executable, "-m", "infra.local.devserver", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(base + "/v1/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
