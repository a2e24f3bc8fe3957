"""The app refuses to serve without its secret, and its cold start imports only what Lambda needs.

Importing app.py reads no setting (tests/unit/test_configuration.py): the settings are read and checked by a
container's first invocation, which then serves nothing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# A container's first invocation: the process fails (as Lambda's would) unless it is served.
FIRST_REQUEST = """
import sys
import app
from chalice.test import Client
with Client(app.app, stage_name="local") as client:
    response = client.http.get("/v1/health")
sys.exit(0 if response.status_code == 200 else f"first request answered {response.status_code}: {response.body}")
"""


def _run(code: str, env: dict, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("secret", [None, "", "too-short-secret"])
def test_app_refuses_to_start_without_a_strong_jwt_secret(secret):
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    if secret is not None:
        env["JWT_SECRET"] = secret
    result = _run(FIRST_REQUEST, env)
    assert result.returncode != 0
    assert "JWT_SECRET must be set to at least 32 bytes" in result.stdout + result.stderr  # the log line


def test_a_malformed_data_key_is_refused():
    result = _run(FIRST_REQUEST, {**os.environ, "DATA_KEY": "bm90LTMyLWJ5dGVz"})
    assert result.returncode != 0
    assert "DATA_KEY must be base64" in result.stdout + result.stderr


def test_a_valid_environment_serves_the_first_request():
    result = _run(FIRST_REQUEST, dict(os.environ))
    assert result.returncode == 0, result.stderr


def test_cold_import_of_the_app_loads_nothing_admin_test_or_fake():
    result = _run("import app", dict(os.environ), "-X", "importtime")
    assert result.returncode == 0, result.stderr
    modules = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
               if line.startswith("import time:")}
    assert "chalicelib" in modules and "chalice" in modules
    # PIL: the evidence photos' hash imports Pillow when a photo is hashed (chalicelib/domain/photo_hash.py)
    forbidden = {"admin", "infra", "tests", "miniprogram_api", "pytest", "matplotlib", "boto3", "PIL"}
    assert not modules & forbidden, modules & forbidden


def test_cold_import_of_the_app_leaves_the_jobs_services_to_the_jobs():
    """app.py registers every job, so the API's Lambda imports chalicelib/jobs.py on each cold start: a job's
    service is imported inside the job's own function, and importing the app loads none of the job-only ones
    (they and their models would be paid by every API container that never runs a job)."""
    code = "import sys, app; print(' '.join(sorted(m for m in sys.modules if m.startswith('chalicelib.'))))"
    result = _run(code, dict(os.environ))
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "chalicelib.api.checkins" in loaded and "chalicelib.services.checkins" in loaded  # routes import plainly
    job_only = {"chalicelib.services.accrual", "chalicelib.services.fold", "chalicelib.services.aggregate"}
    assert not loaded & job_only, loaded & job_only
