"""tests/unit is a tier of its own: it passes in a process that has no Java on PATH, no DynamoDB endpoint,
no secret and no fake partner, so a pure test that starts needing the stack fails here, in `make test`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_unit_tier_passes_with_no_java_no_endpoint_and_no_setting():
    bare = {"PATH": str(Path(sys.executable).parent), "HOME": str(ROOT / ".venv"), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/unit", "-p", "no:cacheprovider"],
                            cwd=ROOT, env=bare, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " skipped" not in result.stdout, result.stdout[-500:]
