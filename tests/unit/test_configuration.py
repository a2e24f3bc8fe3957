"""Importing the app reads no setting: a process with an empty environment imports app.py and every module of
chalicelib/, and may set its environment (TABLE_PREFIX, the endpoint) any time before its first request.
Both cases run in one fresh interpreter (this process's modules are already imported)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMPTY = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}

IMPORT_EVERYTHING = """
import importlib, pkgutil
import chalicelib
import app
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(module.name)
from chalicelib.settings import get_settings
from chalicelib.store.models import Account
assert get_settings.cache_info().currsize == 0, "the settings were read at import"
assert Account._connection is None and not Account.Meta.__base__.bound
assert app.app.routes and "ledger_stream" not in vars(app)
"""

IMPORTED = "every module imported, no setting read"
SWITCH_BEFORE_FIRST_USE = IMPORT_EVERYTHING + f"print({IMPORTED!r}, flush=True)" + """
import os
os.environ.update({"JWT_SECRET": "s" * 40, "TABLE_PREFIX": "gs-switched-", "AWS_REGION": "eu-west-3",
                   "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"})
from chalicelib.store.tables import ALL_MODELS
from chalicelib.store.market import Redemption
assert Account.Meta.table_name == "gs-switched-accounts", Account.Meta.table_name
assert Redemption.Meta.table_name.startswith("gs-switched-")
assert all(model.Meta.table_name.startswith("gs-switched-") for model in ALL_MODELS)
from chalicelib.store import models
assert models.TABLE_PREFIX == "gs-switched-"
connection = Account._get_connection().connection  # made, not used: no request is sent
assert (connection.host, connection.region) == ("http://127.0.0.1:9", "eu-west-3"), (connection.host, connection.region)
"""


@pytest.fixture(scope="module")
def fresh_process() -> subprocess.CompletedProcess:
    """One fresh interpreter with an empty environment for both cases: it imports everything and checks that
    nothing was read (IMPORT_EVERYTHING, then prints IMPORTED), then switches its environment and checks the
    first use sees it. An interpreter's start and imports cost more than both cases' checks."""
    return subprocess.run([sys.executable, "-c", SWITCH_BEFORE_FIRST_USE], cwd=ROOT, env=EMPTY, capture_output=True,
                          text=True, timeout=60)


def test_app_and_every_module_import_with_an_empty_environment_and_read_no_setting(fresh_process):
    assert fresh_process.stdout.splitlines()[:1] == [IMPORTED], fresh_process.stderr


def test_a_process_may_set_its_table_prefix_and_endpoint_after_import_and_before_first_use(fresh_process):
    assert fresh_process.returncode == 0, fresh_process.stderr


def test_the_api_s_import_loads_no_http_client_nor_cipher_that_a_check_in_does_not_use():
    result = subprocess.run(
        [sys.executable, "-c", "import sys, app; print(sorted({m.split('.')[0] for m in sys.modules} & "
                               "{'requests', 'charset_normalizer', 'idna'}))"
                               "; import chalicelib.sealing, chalicelib.partners.wechat_phone"
                               "; print('cryptography.hazmat.primitives.ciphers.aead' in sys.modules)"],
        cwd=ROOT, env=EMPTY, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "False"]  # they load on the first partner call, login or sealing
