"""`make run`: the whole backend on this machine, with no AWS account and no WeChat.

    python -m infra.local.stack

Starts DynamoDB Local (data kept in .local/dynamodb), the fake partners, creates the tables and the demo
catalog (`python -m admin init-db`, `seed-demo`), then serves the API with `chalice local` on
http://127.0.0.1:8000 and keeps `python -m admin run-jobs` running (what AWS runs on schedules and streams).
Development secrets are generated once into .local/dev.env and reused. While it runs, .local/stack.env holds
the settings its children got, so `python -m admin` run from the repo in another terminal finds the local
stack by itself (admin/local_stack.py). Ctrl-C or SIGTERM stops everything it started, and it exits 0.

GREENSPROUT_API_PORT (default 8000; the other servers take the ports 1, 10, 20, 30, 40 and 50 above it, or free
ones when those are busy) and GREENSPROUT_LOCAL_DIR (default .local) run a second stack beside the first (the tests do).
"""

from __future__ import annotations

import json
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

from admin import local_stack
from infra.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, free_port
from infra.local.fakes import LocalFakes, start_fakes
from infra.local.shutdown import sigterm_as_keyboard_interrupt

ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = local_stack.local_dir()
DEV_ENV_FILE = LOCAL_DIR / "dev.env"
STACK_ENV_FILE = LOCAL_DIR / local_stack.FILE_NAME
API_HOST, API_PORT = "127.0.0.1", int(os.environ.get("GREENSPROUT_API_PORT") or 8000)
DEMO_CATALOG = ROOT / "admin" / "demo_catalog.json"
# The other servers' ports follow the API's (8001, 8010, 8020, 8030 beside 8000), or any free one when busy.
DYNAMODB_PORT, WECHAT_PORT = API_PORT + 1, API_PORT + 10
TRANSIT_PORT, BANK_PORT, OPEN_PARTNER_PORT = API_PORT + 20, API_PORT + 30, API_PORT + 40
S3_PORT = API_PORT + 50  # the fake S3 of the evidence photos (infra/local/fake_s3.py)
WECHAT_APPID = "wx-local-demo"
# The demo catalog's second platform (admin/demo_catalog.json: its id and its mini program's appid); its AppSecret
# is a development secret of .local/dev.env, as the default platform's.
DEMO_PLATFORM = "company-demo"
DEMO_PLATFORM_SECRET = "WECHAT_SECRET__COMPANY_DEMO"
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
    wanted = {"JWT_SECRET": lambda: secrets.token_urlsafe(48), "WECHAT_SECRET": lambda: secrets.token_hex(16),
              DEMO_PLATFORM_SECRET: lambda: secrets.token_hex(16)}
    wanted.update({name: lambda: secrets.token_hex(16)
                   for name in ("TRANSIT_SECRET", "BANK_CLIENT_SECRET", "BANK_WEBHOOK_SECRET")})
    wanted["OPEN_PARTNER_SECRET"] = lambda: secrets.token_hex(24)  # the open protocol wants 32 bytes or more
    missing = {name: make() for name, make in wanted.items() if not values.get(name)}
    if missing:
        values.update(missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["# Development-only secrets for `make run`, generated once. Never use them anywhere else."]
        path.write_text("\n".join(lines + [f"{name}={value}" for name, value in values.items()]) + "\n")
        path.chmod(0o600)
    return values


def stack_settings(dynamodb_endpoint: str, fakes: LocalFakes, dev_env: dict[str, str]) -> dict[str, str]:
    """The app's settings (chalicelib/settings.py), pointed at this machine; also what .local/stack.env holds."""
    region = "ap-northeast-1"
    return {
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
        DEMO_PLATFORM_SECRET: dev_env[DEMO_PLATFORM_SECRET],
        **fakes.env(),
        "GREENSPROUT_API_URL": f"http://{API_HOST}:{API_PORT}",  # for the console's demo commands
    }


def stack_env(settings: dict[str, str]) -> dict[str, str]:
    """Every child's environment: this process's, with the stack's settings."""
    return {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}


def run_admin(command: str, env: dict[str, str], *args: str) -> None:
    """`python -m admin COMMAND ARGS` to completion; StackError when it fails."""
    print(f"==> python -m admin {' '.join((command, *args))}", flush=True)
    argv = [sys.executable, "-m", "admin", command, *args]
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


def demo_staff() -> tuple[dict, dict]:
    """The demo catalog's first merchant with staff, and its first collection point."""
    merchants = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["merchants"]
    staffed = [m for m in merchants if m.get("staff_openids")]
    return (next(m for m in staffed if not m.get("collection_point")),
            next(m for m in staffed if m.get("collection_point")))


def demo_platform_appid() -> str:
    """The mini program of the demo catalog's second platform."""
    return _demo_platform()["wechat_appid"]


def demo_platform_staff() -> tuple[dict, str]:
    """The second platform's first merchant with staff, and the name its staff member logs in with at the fake
    WeChat (`wx:<name>:...` is the openid `<name>@<appid>` on a mini program other than the first)."""
    merchant = next(m for m in _demo_platform()["merchants"] if m.get("staff_openids"))
    return merchant, merchant["staff_openids"][0].split("@")[0]


def _demo_platform() -> dict:
    platforms = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["platforms"]
    return next(p for p in platforms if p["id"] == DEMO_PLATFORM)


def try_it(api: str) -> list[str]:
    """Commands to paste in order into bash from the repo (tests/infra/test_local_stack.py runs them)."""
    merchant, collection = demo_staff()
    demo_merchant, demo_staff_name = demo_platform_staff()
    auth, as_json = '-H "Authorization: Bearer ${}"', "-H 'Content-Type: application/json'"
    field = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{}\"])'"
    unique = "'$RANDOM$RANDOM'"  # a login code works once, and each write takes a new request_id
    return [
        f"login() {{ curl -s -X POST {api}/v1/auth/login {as_json} -d '{{\"code\":\"wx:'\"$1\"':{unique}\"}}' "
        f"| {field.format('token')}; }}",
        "TOKEN=$(login o-demo)   # the demo user (any openid after wx: is a user)",
        f"curl -s -w '\\n' {api}/v1/me {auth.format('TOKEN')}",
        "# check in a clean plate: its evidence is a photo (a JPEG or PNG of at most 5 MB; here one drawn for the "
        "demo), uploaded as the mini program does: POST /v1/uploads answers a presigned POST to the object storage",
        "PHOTO=${TMPDIR:-/tmp}/greensprout-plate.jpg; .venv/bin/python -c 'import os, sys; from PIL import Image; "
        "Image.frombytes(\"RGB\", (12, 12), os.urandom(432)).resize((480, 480)).save(sys.argv[1])' $PHOTO",
        f"UPLOAD_ID=$(curl -s -X POST {api}/v1/uploads {auth.format('TOKEN')} {as_json} -d '{{\"purpose\":"
        "\"checkin_evidence\",\"content_type\":\"image/jpeg\",\"size\":'$(wc -c < $PHOTO)'}' | .venv/bin/python "
        "-c 'import json, sys, requests; u = json.load(sys.stdin); requests.post(u[\"url\"], data=u[\"fields\"], "
        "files={\"file\": (\"plate.jpg\", open(sys.argv[1], \"rb\"), \"image/jpeg\")}, timeout=10)"
        ".raise_for_status(); print(u[\"upload_id\"])' $PHOTO); echo \"upload_id: $UPLOAD_ID\"",
        "# then the check-in names the upload; request_id: 8 to 64 letters, digits, _ or -, new for each write "
        "(sent again, the first answer comes back and nothing is applied twice)",
        f"curl -s -w '\\n' -X POST {api}/v1/checkins {auth.format('TOKEN')} {as_json} "
        f"-d '{{\"behavior\":\"clean_plate\",\"request_id\":\"checkin-{unique}\","
        "\"evidence\":{\"upload_id\":\"'$UPLOAD_ID'\"}}'",
        "# 6 bus rides boarded now, pushed by the fake bus company's signed webhook (10 points each)",
        ".venv/bin/python -m admin demo rides o-demo",
        "# 3 shared-bike rides of 2.4 km: the fake open-protocol partner links the user by a link code, then pushes",
        ".venv/bin/python -m admin demo bikes o-demo",
        f"# merchant staff of {merchant['name']} ({merchant['id']}): scan codes (POST /v1/merchant/verify), "
        "see what was verified",
        f"STAFF=$(login {merchant['staff_openids'][0]})",
        f"curl -s -w '\\n' {api}/v1/merchant/redemptions {auth.format('STAFF')}",
        f"# collection point {collection['name']} ({collection['id']}): credit 2.5 kg of old clothes to the demo "
        "user's member code",
        f"COLLECTOR=$(login {collection['staff_openids'][0]})",
        f"MEMBER_CODE=$(curl -s {api}/v1/me/member-code {auth.format('TOKEN')} | {field.format('member_code')})",
        f"curl -s -w '\\n' -X POST {api}/v1/operator/credit {auth.format('COLLECTOR')} {as_json} -d '{{\"member_code\":"
        f"\"'$MEMBER_CODE'\",\"behavior\":\"old_clothes\",\"quantity\":2.5,\"request_id\":\"credit-{unique}\"}}'",
        "# WeChat subscribe messages: what wx.requestSubscribeMessage reported as accepted becomes one allowance a "
        "topic; the jobs send a receipt after each scan and reminders when coupons or points are about to expire "
        "(a line `==> WeChat message ...` here; `.venv/bin/python -m admin nudges stats`)",
        f"curl -s -w '\\n' -X POST {api}/v1/me/subscriptions {auth.format('TOKEN')} {as_json} "
        f"-d '{{\"accepted\":[\"redemption_used\",\"coupon_expiring\"],\"request_id\":\"subscribe-{unique}\"}}'",
        f"# the console finds this stack by itself ({STACK_ENV_FILE.name} in {LOCAL_DIR}): the ledger sums to "
        "every balance",
        ".venv/bin/python -m admin reconcile",
        f"# the second platform, {DEMO_PLATFORM} (its own mini program): the same WeChat user logs in there as "
        "another user; the mini program draws itself from GET /v1/platform",
        f"DEMO_TOKEN=$(curl -s -X POST {api}/v1/auth/login {as_json} -d '{{\"code\":\"wx:o-demo:{unique}\","
        f"\"platform\":\"{DEMO_PLATFORM}\"}}' | {field.format('token')})",
        f"curl -s -w '\\n' {api}/v1/platform {auth.format('DEMO_TOKEN')}",
        f"curl -s -w '\\n' {api}/v1/me {auth.format('DEMO_TOKEN')}",
        f"# {DEMO_PLATFORM}'s own shop: its goods and stock; its staff ({demo_merchant['name']}) log in on its mini "
        "program and verify its codes only",
        f"curl -s -w '\\n' {api}/v1/market/goods {auth.format('DEMO_TOKEN')}",
        f"DEMO_STAFF=$(curl -s -X POST {api}/v1/auth/login {as_json} -d '{{\"code\":\"wx:{demo_staff_name}:{unique}\","
        f"\"platform\":\"{DEMO_PLATFORM}\"}}' | {field.format('token')})",
        f"curl -s -w '\\n' {api}/v1/merchant/redemptions {auth.format('DEMO_STAFF')}",
    ]


def print_welcome(api: str, dynamodb: DynamoDBLocal, fakes: LocalFakes) -> None:
    """The URLs, and commands a newcomer can paste."""
    commands = "\n".join(f"  {line}" for line in try_it(api))
    print(
        f"""
GreenSprout API   {api}   (health: {api}/v1/health)
API docs          {api}/docs   (the OpenAPI document: {api}/openapi.yaml)
DynamoDB Local    {dynamodb.endpoint}   (data in {dynamodb.db_path}, log {dynamodb.log_path})
{fakes.describe()}
Dev secrets       {DEV_ENV_FILE}
Console settings  {STACK_ENV_FILE}   (`python -m admin` uses them while this runs)

Try it: paste these lines in order into bash, from the repo:
{commands}

Ctrl-C stops everything; from a script or CI: kill -TERM {os.getppid() if _under_make() else os.getpid()} \
(kill -INT does nothing to a background job).""",
        flush=True,
    )


def print_messages(fakes: LocalFakes, shown: int) -> int:
    """One line per subscribe message the fake WeChat accepted since the `shown` first (docs/nudges.md)."""
    messages = fakes.wechat.messages()
    for message in messages[shown:]:
        values = ", ".join(f"{v.get('value')}" for v in (message.get("data") or {}).values() if isinstance(v, dict))
        print(f"==> WeChat message sent to {message.get('touser')}: {message.get('template_id')} "
              f"({message.get('page')}): {values}", flush=True)
    return len(messages)


def _under_make() -> bool:
    return bool(os.environ.get("MAKELEVEL"))


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
                            {**PARTNER_IDS, **dev_env}, port_or_free(TRANSIT_PORT), port_or_free(BANK_PORT),
                            apps={demo_platform_appid(): dev_env[DEMO_PLATFORM_SECRET]},
                            open_port=port_or_free(OPEN_PARTNER_PORT), s3_port=port_or_free(S3_PORT))
        settings = stack_settings(dynamodb.endpoint, fakes, dev_env)
        env = stack_env(settings)
        run_admin("init-db", env)
        run_admin("seed-demo", env)
        # the demo's open-protocol partner, with the fake's revoke_url (its port is known only now)
        overlay = LOCAL_DIR / "open-partners.json"
        overlay.write_text(json.dumps(fakes.open_partners_catalog(json.loads(DEMO_CATALOG.read_text("utf-8"))),
                                      ensure_ascii=False), encoding="utf-8")
        run_admin("load", env, str(overlay))
        # The console's settings, written before the API answers: a script that waits for it can use the console.
        local_stack.write(STACK_ENV_FILE, settings)
        # Chalice's local server (what `chalice local --no-autoreload` runs) answering unknown routes as our
        # API Gateway does (infra/gateway_responses.json): see infra/local/devserver.py.
        api_server = [sys.executable, "-m", "infra.local.devserver", "--stage", "local"]
        children.start("api", [*api_server, "--host", API_HOST, "--port", str(API_PORT)], env)
        children.start("jobs", [sys.executable, "-m", "admin", "run-jobs"], env)
        api = f"http://{API_HOST}:{API_PORT}"
        wait_for_health(f"{api}/v1/health", children)
        print_welcome(api, dynamodb, fakes)
        shown = 0
        while not (message := children.exited()):
            shown = print_messages(fakes, shown)
            time.sleep(0.5)
        raise StackError(message)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        print("==> stopping", flush=True)
        STACK_ENV_FILE.unlink(missing_ok=True)
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
