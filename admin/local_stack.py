"""The console against `make run` with nothing to set: the stack's settings file.

`make run` (infra/local/stack.py) writes the settings it gives its children (DynamoDB Local's endpoint, the
table prefix, the development secrets, the fakes' URLs, the API's URL) to `.local/stack.env` while it runs,
and removes the file when it stops. The console uses that file only when the environment names no deployment:
none of DEPLOYMENT_SETTINGS is set. So a shell set up for a deployed stage (SSM_PARAMETER_PATH, AWS credentials
or a profile, a region, a table prefix) never falls back to the local stack, and the local stack's settings
never point the console at AWS: its DynamoDB endpoint must be on this machine.

`GREENSPROUT_LOCAL_DIR` moves `.local` (a second stack, or a test's own); it is not a deployment setting.
"""
from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
FILE_NAME = "stack.env"
PID = "GREENSPROUT_STACK_PID"
DEPLOYMENT_SETTINGS = ("SSM_PARAMETER_PATH", "JWT_SECRET", "DATA_KEY", "TABLE_PREFIX", "AWS_ENDPOINT_URL_DYNAMODB",
                       "AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_REGION",
                       "AWS_DEFAULT_REGION")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def local_dir(environ: MutableMapping[str, str] = os.environ) -> Path:
    """Where `make run` keeps its data and files: `.local` in the repo unless GREENSPROUT_LOCAL_DIR says."""
    return Path(environ.get("GREENSPROUT_LOCAL_DIR") or ROOT / ".local")


def write(path: Path, settings: dict[str, str]) -> None:
    """The stack's settings, readable by this user only (they hold the development secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by `make run` while it runs, for `python -m admin`; removed when it stops. Development only.",
             f"{PID}={os.getpid()}", *(f"{name}={value}" for name, value in settings.items())]
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    temporary.touch(mode=0o600)
    temporary.write_text("\n".join(lines) + "\n")
    temporary.replace(path)


def read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def _running(pid: str | None) -> bool:
    try:
        os.kill(int(pid or ""), 0)
    except PermissionError:
        return True
    except (ValueError, OSError):
        return False
    return True


def use_if_no_deployment(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Fills `environ` from a running `make run`'s settings file when it names no deployment; returns the one
    line to tell the operator (None when the environment is used as it is)."""
    if any(environ.get(name) for name in DEPLOYMENT_SETTINGS):
        return None
    path = local_dir(environ) / FILE_NAME
    if not path.exists():
        return None
    values = read(path)
    if not _running(values.pop(PID, None)):
        return f"not using {path}: the `make run` that wrote it is no longer running"
    host = urlsplit(values.get("AWS_ENDPOINT_URL_DYNAMODB", "")).hostname
    if host not in LOOPBACK:
        return f"not using {path}: its DynamoDB endpoint is not on this machine"
    environ.update(values)
    return f"using the local stack of `make run` ({path}; API {values.get('GREENSPROUT_API_URL', '?')})"


NO_SETTINGS_HINT = ("no deployment settings in the environment and no local stack running: start `make run` in "
                    "another terminal, or set the deployed stage's environment (README, Admin console)")
