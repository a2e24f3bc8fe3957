"""The throwaway stack of the bench, the capacity plan and the risk simulator (infra/local/ephemeral.py): a script
using it that is stopped with SIGTERM (`kill`, a CI timeout) stops its DynamoDB Local too, which is a process of its
own and would otherwise keep running, and its port, after the script is gone."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infra.local.stack import port_is_free

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import time
from infra.local.ephemeral import Stack
stack = Stack().start()
try:
    print(stack.dynamodb.process.pid, stack.dynamodb.port, flush=True)
    time.sleep(600)
finally:
    stack.stop()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_sigterm_to_a_script_stops_its_dynamodb_local():
    script = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")})
    java = None
    try:
        java, port = (int(x) for x in script.stdout.readline().split())
        assert _alive(java) and not port_is_free(port)
        script.send_signal(signal.SIGTERM)
        assert script.wait(timeout=60) != 0  # interrupted, not finished
        deadline = time.monotonic() + 15
        while (_alive(java) or not port_is_free(port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(java) and port_is_free(port)
    finally:
        if script.poll() is None:
            script.kill()
        if java is not None and _alive(java):
            os.kill(java, signal.SIGKILL)  # what the stack failed to stop
