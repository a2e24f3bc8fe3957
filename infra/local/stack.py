"""`make run`: the whole backend on this machine, with no AWS account and no WeChat.

    python -m infra.local.stack

Starts DynamoDB Local (data kept in .local/dynamodb), the fake partners, creates the tables and the demo
catalog (`python -m admin init-db`, `seed-demo`), then serves the API with `chalice local` on
http://127.0.0.1:8000 and keeps `python -m admin run-jobs` running (what AWS runs on schedules and streams).
Development secrets are generated once into .local/dev.env and reused. Ctrl-C or SIGTERM stops everything it
started, and it exits 0.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from infra.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, free_port
from infra.local.fakes import LocalFakes, start_fakes
from infra.local.shutdown import sigterm_as_keyboard_interrupt

ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = ROOT / ".local"
DEV_ENV_FILE = LOCAL_DIR / "dev.env"
API_HOST, API_PORT = "127.0.0.1", 8000
DYNAMODB_PORT, WECHAT_PORT = 8001, 8010
TRANSIT_PORT, BANK_PORT = 8020, 8030
WECHAT_APPID = "wx-local-demo"
PARTNER_IDS = {"TRANSIT_APP_ID": "gs-local", "BANK_CLIENT_ID": "gs-local"}
HEALTH_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class StackError(RuntimeError):
    """The local stack could not start; the message says why and what to do."""


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now (connections of a previous run in TIME_WAIT
    do not count: servers set SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_or_free(preferred: int) -> int:
    """`preferred` when it is free, else any free port."""
    return preferred if port_is_free(preferred) else free_port()


def load_dev_env(path: Path = DEV_ENV_FILE) -> dict[str, str]:
    """The development secrets in `path` (KEY=VALUE lines), generated on first use and reused afterwards."""
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.lstrip().startswith("#"):
                values[name.strip()] = value.strip()
    wanted = {"JWT_SECRET": lambda: secrets.token_urlsafe(48), "WECHAT_SECRET": lambda: secrets.token_hex(16)}
    wanted.update({name: lambda: secrets.token_hex(16)
                   for name in ("TRANSIT_SECRET", "BANK_CLIENT_SECRET", "BANK_WEBHOOK_SECRET")})
    missing = {name: make() for name, make in wanted.items() if not values.get(name)}
    if missing:
        values.update(missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["# Development-only secrets for `make run`, generated once. Never use them anywhere else."]
        path.write_text("\n".join(lines + [f"{name}={value}" for name, value in values.items()]) + "\n")
        path.chmod(0o600)
    return values


def stack_env(dynamodb_endpoint: str, fakes: LocalFakes, dev_env: dict[str, str]) -> dict[str, str]:
    """Every child's environment: the settings of shared/contract/operations.md, pointed at this machine."""
    region = "ap-northeast-1"
    return {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "TABLE_PREFIX": "greensprout-local-",
        "JWT_SECRET": dev_env["JWT_SECRET"],
        "WECHAT_APPID": WECHAT_APPID,
        "WECHAT_SECRET": dev_env["WECHAT_SECRET"],
        "PYTHONUNBUFFERED": "1",
        **fakes.env(),
    }


def run_admin(command: str, env: dict[str, str]) -> None:
    """`python -m admin COMMAND` to completion; StackError when it fails."""
    print(f"==> python -m admin {command}", flush=True)
    argv = [sys.executable, "-m", "admin", command]
    result = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise StackError(f"`python -m admin {command}` failed (exit status {result.returncode}, see above)")


def venv_tool(name: str) -> str:
    """An executable installed next to the running Python (the project's .venv)."""
    return str(Path(sys.executable).parent / name)


class Children:
    """The long-running child processes, each in its own process group so they are stopped in order."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        """Start `argv` from the repo root; its output goes to this terminal."""
        print(f"==> {name}: {' '.join(argv)}", flush=True)
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def exited(self) -> str | None:
        """A message naming a child that has exited, or None while all run."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return f"{name} exited unexpectedly with status {process.returncode}"
        return None

    def stop_all(self) -> None:
        """SIGTERM every child's process group, wait, and SIGKILL what is still there after 10 s."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def wait_for_health(url: str, children: Children) -> None:
    """Poll GET `url` until it answers 200; StackError when a child dies or 60 s pass."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while True:
        if message := children.exited():
            raise StackError(message)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise StackError(f"{url} did not answer 200 within {HEALTH_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.2)


def print_welcome(api: str, dynamodb: DynamoDBLocal, fakes: LocalFakes) -> None:
    """The URLs, and a login a newcomer can paste."""
    login = f"curl -s -X POST {api}/v1/auth/login -H 'Content-Type: application/json'"
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])'"
    print(
        f"""
GreenSprout API   {api}   (health: {api}/v1/health)
API docs          {api}/docs   (the OpenAPI document: {api}/openapi.yaml)
DynamoDB Local    {dynamodb.endpoint}   (data in {dynamodb.db_path}, log {dynamodb.log_path})
{fakes.describe()}
Dev secrets       {DEV_ENV_FILE}

Log in as the demo user (a login code works once: change the number after o-demo: to log in again):
  {login} -d '{{"code":"wx:o-demo:1"}}'
Keep the token and call the API with it:
  TOKEN=$({login} -d '{{"code":"wx:o-demo:2"}}' | {extract})
  curl -s {api}/v1/me -H "Authorization: Bearer $TOKEN"

Ctrl-C stops everything.""",
        flush=True,
    )


def run() -> None:
    """Start everything, then wait for Ctrl-C / SIGTERM (KeyboardInterrupt) or a child's death."""
    if not port_is_free(API_PORT):
        raise StackError(
            f"port {API_PORT} is busy: is `make run` already running in another terminal? "
            f"Stop it (Ctrl-C there), or see what holds the port: ss -ltnp 'sport = :{API_PORT}'"
        )
    dev_env = load_dev_env()
    dynamodb = DynamoDBLocal(port=port_or_free(DYNAMODB_PORT), db_path=str(LOCAL_DIR / "dynamodb"))
    fakes: LocalFakes | None = None
    children = Children()
    try:
        print(f"==> DynamoDB Local on port {dynamodb.port}", flush=True)
        dynamodb.start()
        fakes = start_fakes(port_or_free(WECHAT_PORT), WECHAT_APPID, dev_env["WECHAT_SECRET"],
                            {**PARTNER_IDS, **dev_env}, port_or_free(TRANSIT_PORT), port_or_free(BANK_PORT))
        env = stack_env(dynamodb.endpoint, fakes, dev_env)
        run_admin("init-db", env)
        run_admin("seed-demo", env)
        # Chalice's local server (what `chalice local --no-autoreload` runs) answering unknown routes as our
        # API Gateway does (infra/gateway_responses.json): see infra/local/devserver.py.
        api_server = [sys.executable, "-m", "infra.local.devserver", "--stage", "local"]
        children.start("api", [*api_server, "--host", API_HOST, "--port", str(API_PORT)], env)
        children.start("jobs", [sys.executable, "-m", "admin", "run-jobs"], env)
        api = f"http://{API_HOST}:{API_PORT}"
        wait_for_health(f"{api}/v1/health", children)
        print_welcome(api, dynamodb, fakes)
        while not (message := children.exited()):
            time.sleep(0.5)
        raise StackError(message)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        print("==> stopping", flush=True)
        children.stop_all()
        if fakes is not None:
            fakes.stop()
        dynamodb.stop()


def main() -> int:
    """Run the stack; 0 after Ctrl-C or SIGTERM, 1 with a message when something failed."""
    sigterm_as_keyboard_interrupt()
    try:
        run()
    except KeyboardInterrupt:
        print("==> stopped", flush=True)
        return 0
    except (StackError, DynamoDBLocalError) as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
