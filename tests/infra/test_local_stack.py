"""`make run` as a newcomer, an operator and a CI script meet it.

One `make run` for the module, started by the README's lines "From a script or CI" (on its own API port and
`.local` directory, so it runs beside a developer's): the banner's commands work pasted in order, the console
finds the running stack by itself (and never when the environment names a deployment), and SIGTERM to
`make run` leaves no process and no busy port behind. The last test stops the stack: keep it last.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from admin import local_stack
from infra.local.stack import port_is_free

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 240
BANNER_END = "Ctrl-C stops everything"


def readme_script_lines() -> list[str]:
    """The shell lines of the README's "From a script or CI"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("### From a script or CI"):]
    start = block.index("```sh\n") + 6
    return block[start:block.index("\n```", start)].splitlines()


class MakeRun:
    """`make run` started by the README's lines for scripts, on the test's port; its output collected."""

    def __init__(self, env: dict[str, str], local_dir: Path, port: int) -> None:
        self.env, self.local_dir, self.port = env, local_dir, port
        self.log = Path(env["TMPDIR"]) / "greensprout-run.log"
        *start, stop = readme_script_lines()
        assert stop.startswith("kill -TERM $stack; wait $stack"), stop
        script = [line.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for line in start]
        script += ['echo "::ready $stack::"', "wait $stack", 'echo "::stopped $?::"']  # the README's stop, the
        # signal sent by the test (SIGTERM to $stack)
        self.shell = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.shell_lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.pid: int | None = None

    def _read(self) -> None:
        for line in self.shell.stdout:
            self.shell_lines.append(line.rstrip("\n"))

    @property
    def shell_output(self) -> str:
        return "\n".join(self.shell_lines)

    @property
    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_banner(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not (ready := re.search(r"::ready (\d+)::", self.shell_output)) or BANNER_END not in self.output:
            assert self.shell.poll() is None, f"exited {self.shell.returncode}:\n{self.shell_output}\n{self.output}"
            assert time.monotonic() < deadline, f"not ready after {START_TIMEOUT_SECONDS} s:\n{self.output}"
            time.sleep(0.5)
        self.pid = int(ready.group(1))

    def banner_commands(self) -> list[str]:
        """The indented lines under "Try it", as printed."""
        lines = self.lines[next(i for i, line in enumerate(self.lines) if line.startswith("Try it")) + 1:]
        return [line[2:] for line in lines[:lines.index("")]]

    def ports(self) -> set[int]:
        """Every port the banner names (the API, DynamoDB Local, the fakes)."""
        banner = self.output[self.output.index("GreenSprout API"):]
        return {int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", banner)}

    def processes(self) -> list[int]:
        """Every process whose environment came from this `make run` (make, the stack, Java, the API, the jobs)."""
        marker = f"GREENSPROUT_LOCAL_DIR={self.local_dir}".encode()
        found = []
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if marker in environ.read_bytes().split(b"\0"):
                    found.append(int(environ.parent.name))
            except OSError:  # gone meanwhile, or not ours
                continue
        return found

    def stop(self) -> None:
        if self.shell.poll() is None:
            if self.pid:
                os.kill(self.pid, signal.SIGTERM)
            else:
                self.shell.terminate()
            self.shell.wait(timeout=60)


def _free_port_block() -> int:
    """A port P with P, P+1, P+10, P+20, P+30 and P+40 free (the API and the ports the stack prefers beside it)."""
    for _ in range(200):
        port = random.randrange(20000, 30000)
        if all(port_is_free(port + offset) for offset in (0, 1, 10, 20, 30, 40)):
            return port
    raise AssertionError("no free block of ports")


def _clean_env(stack) -> dict[str, str]:
    """A developer's shell: none of the test stack's settings, no deployment, not inside another make."""
    drop = {*stack.environment(), *local_stack.DEPLOYMENT_SETTINGS, "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    return {name: value for name, value in os.environ.items() if name not in drop}


@pytest.fixture(scope="module")
def make_run(stack, tmp_path_factory):
    local_dir = tmp_path_factory.mktemp("local")
    port = _free_port_block()
    env = {**_clean_env(stack), "GREENSPROUT_LOCAL_DIR": str(local_dir), "GREENSPROUT_API_PORT": str(port),
           "TMPDIR": str(local_dir)}
    running = MakeRun(env, local_dir, port)
    try:
        running.wait_for_banner()
        yield running
    finally:
        running.stop()


def _run_pasted(commands: list[str], env: dict[str, str]) -> list[tuple[str, int, str]]:
    """Runs the lines in one bash, as pasted in order; (command, exit status, output) for each non-comment."""
    script = []
    for n, command in enumerate(commands):
        script.append(command)
        if not command.startswith("#"):
            script.append(f'echo "::done {n} $?::"')
    result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    outcomes, rest = [], result.stdout
    for n, command in enumerate(commands):
        if command.startswith("#"):
            continue
        found = re.search(rf"::done {n} (\d+)::\n", rest)
        assert found, f"{command!r} never finished:\n{result.stdout}"
        outcomes.append((command, int(found.group(1)), rest[:found.start()]))
        rest = rest[found.end():]
    return outcomes


def _answers(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_the_readmes_script_lines_start_the_stack_and_use_the_console(make_run):
    assert "accounts checked: 0; mismatches: 0" in make_run.shell_output, make_run.shell_output


def test_the_banners_commands_work_pasted_in_order(make_run):
    commands = make_run.banner_commands()
    assert any("login o-staff" in c for c in commands) and any("/v1/operator/credit" in c for c in commands)
    outcomes = _run_pasted(commands, make_run.env)
    for command, status, output in outcomes:
        assert status == 0, f"{command}\n{output}"
        assert all("error" not in answer for answer in _answers(output)), f"{command}\n{output}"
    by_route = {route: output for route in ("/v1/me ", "/v1/checkins", "demo rides", "/v1/merchant/redemptions",
                                            "/v1/operator/credit", "admin reconcile")
                for command, _, output in outcomes if route in command}
    assert _answers(by_route["/v1/me "])[0]["id"].startswith("u_")
    checkin = _answers(by_route["/v1/checkins"])[0]
    assert (checkin["entry"]["behavior"], checkin["entry"]["points"]) == ("clean_plate", 5)
    assert "6 rides pushed by the fake bus company's signed webhook (6 accepted" in by_route["demo rides"]
    bikes = next(output for command, _, output in outcomes if "demo bikes" in command)
    assert "3 bike rides pushed by the fake open-protocol partner's signed webhook (3 accepted" in bikes
    assert "points 5 -> 65" in by_route["demo rides"]  # credited through the webhook: 10 points a ride
    assert _answers(by_route["/v1/merchant/redemptions"])[0]["items"] == []
    credit = _answers(by_route["/v1/operator/credit"])[0]
    assert (credit["entry"]["behavior"], credit["entry"]["source"]) == ("old_clothes", "operator")
    assert "mismatches: 0" in by_route["admin reconcile"]
    platform = next(_answers(output)[0] for command, _, output in outcomes if "/v1/platform" in command)
    assert (platform["id"], platform["partners"]) == ("company-demo", ["transit"])  # the second demo platform


def _admin(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "admin", *argv], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


def test_the_console_finds_the_running_stack_by_itself_and_says_so_in_one_line(make_run):
    shown = _admin(make_run.env, "user", "show", "o-demo", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"].startswith("u_")
    assert shown.stderr.splitlines() == [f"python -m admin: using the local stack of `make run` "
                                         f"({make_run.local_dir / 'stack.env'}; API http://127.0.0.1:{make_run.port})"]


@pytest.mark.parametrize("deployment", [{"SSM_PARAMETER_PATH": "/greensprout/prod/"}, {"AWS_PROFILE": "prod"},
                                        {"TABLE_PREFIX": "greensprout-prod-"}])
def test_the_console_never_uses_the_local_stack_when_the_environment_names_a_deployment(make_run, deployment):
    # A closed local port for SSM: nothing can reach AWS whatever this machine's credentials are.
    env = {**make_run.env, **deployment, "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9"}
    shown = _admin(env, "user", "show", "o-demo")
    assert shown.returncode == 1
    assert "local stack" not in shown.stderr and "u_" not in shown.stdout, shown.stderr


def test_sigterm_to_make_run_stops_everything_and_frees_every_port(make_run):
    """What a script or CI does: `make run &`, then `kill -TERM $!` (README, "From a script or CI")."""
    ports, before = make_run.ports(), make_run.processes()
    assert len(ports) == 7 and not any(port_is_free(port) for port in ports), ports  # API, DynamoDB, 5 fakes
    assert make_run.pid in before and len(before) >= 6, before  # bash, make, the stack, Java, the API, the jobs
    started = time.monotonic()
    os.kill(make_run.pid, signal.SIGTERM)
    make_run.shell.wait(timeout=60)
    assert time.monotonic() - started < 30
    make_run.reader.join(timeout=10)
    assert "::stopped 143::" in make_run.shell_output  # make ends by the signal, as the README says
    assert "==> stopped" in make_run.output
    assert make_run.processes() == []
    assert [port for port in ports if not port_is_free(port)] == []
    assert not (make_run.local_dir / "stack.env").exists()  # the console no longer finds a stack


# --- the settings file alone --------------------------------------------------------------------------


def _settings_file(tmp_path: Path, endpoint: str, pid: int) -> dict[str, str]:
    (tmp_path / "stack.env").write_text(f"# make run\n{local_stack.PID}={pid}\nJWT_SECRET={'s' * 40}\n"
                                        f"AWS_ENDPOINT_URL_DYNAMODB={endpoint}\n")
    return {"GREENSPROUT_LOCAL_DIR": str(tmp_path)}


def test_a_settings_file_left_by_a_dead_make_run_is_not_used(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    environ = _settings_file(tmp_path, "http://127.0.0.1:8001", dead.pid)
    assert "no longer running" in local_stack.use_if_no_deployment(environ)
    assert "JWT_SECRET" not in environ


def test_a_settings_file_pointing_off_this_machine_is_not_used(tmp_path):
    environ = _settings_file(tmp_path, "https://dynamodb.ap-northeast-1.amazonaws.com", os.getpid())
    assert "not on this machine" in local_stack.use_if_no_deployment(environ)
    assert "JWT_SECRET" not in environ
    environ = _settings_file(tmp_path, "http://127.0.0.1:8001", os.getpid())
    assert local_stack.use_if_no_deployment(environ).startswith("using the local stack")
    assert environ["JWT_SECRET"] == "s" * 40
