"""The throwaway stack of the tests, the bench and the console's risk simulator: an in-memory DynamoDB Local
on a free port and the fake partners (WeChat, the bus company, the bank, the open-protocol partner) over HTTP,
started by the same `start_fakes` as `make run` (infra/local/stack.py, fakes.py), with test secrets.

The tests start it once per process (tests/conftest.py: `stack`, then `database` makes the tables and the
demo catalog); the bench, the capacity plan and `python -m admin risk simulate` use `running()`, which does
both. It lives here, not in tests/, so that admin/ and bench/ do not depend on the tests.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator

from .dynamodb_local import DynamoDBLocal
from .fakes import start_fakes
from .shutdown import sigterm_as_keyboard_interrupt

APPID = "wx-test-appid"
WECHAT_SECRET = "test-wechat-secret"
# The demo catalog's second platform (admin/demo_catalog.json) and its mini program, served by the same fake.
DEMO_PLATFORM, DEMO_PLATFORM_APPID, DEMO_PLATFORM_SECRET = "company-demo", "wx-demo-company", "test-company-secret"
TRANSIT_APP_ID, TRANSIT_SECRET = "gs-test", "test-transit-secret"
BANK_CLIENT_ID, BANK_CLIENT_SECRET, BANK_WEBHOOK_SECRET = "gs-test", "test-bank-secret", "test-bank-webhook-secret"
OPEN_PARTNER_SECRET = "test-open-partner-secret-of-32-bytes-or-more"  # the demo catalog's bikeshare's


class Stack:
    def __init__(self) -> None:
        self.dynamodb = DynamoDBLocal()
        self.fakes = None

    def start(self) -> Stack:
        """Starts DynamoDB Local and the fakes. A script's SIGTERM (a bench run stopped by `kill`) then raises
        KeyboardInterrupt, as `make run`'s does, so the `finally` that stops them runs: by default it would end
        the process at once and leave DynamoDB Local, a process of its own, running."""
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            sigterm_as_keyboard_interrupt()
        self.dynamodb.start()
        self.fakes = start_fakes(0, APPID, WECHAT_SECRET, {
            "TRANSIT_APP_ID": TRANSIT_APP_ID, "TRANSIT_SECRET": TRANSIT_SECRET, "BANK_CLIENT_ID": BANK_CLIENT_ID,
            "BANK_CLIENT_SECRET": BANK_CLIENT_SECRET, "BANK_WEBHOOK_SECRET": BANK_WEBHOOK_SECRET,
            "OPEN_PARTNER_SECRET": OPEN_PARTNER_SECRET},
            apps={DEMO_PLATFORM_APPID: DEMO_PLATFORM_SECRET})
        self.wechat, self.transit, self.bank = self.fakes.wechat, self.fakes.transit, self.fakes.bank
        self.open_partner = self.fakes.open_partner
        os.environ.update(self.environment())
        return self

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb.endpoint,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "ap-northeast-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "TABLE_PREFIX": "gs-test-",
            "JWT_SECRET": os.environ.get("JWT_SECRET") or secrets.token_urlsafe(48),
            "WECHAT_APPID": APPID, "WECHAT_SECRET": WECHAT_SECRET, **self.fakes.env(),
            "WECHAT_SECRET__COMPANY_DEMO": DEMO_PLATFORM_SECRET,
            "PARTNER_TIMEOUT_SECONDS": "1",
            # The suite logs in thousands of users from one address (127.0.0.1) and syncs or exports one user
            # many times a minute; tests/reliability/test_client_limits.py runs these limits at their defaults.
            "LOGIN_RATE_PER_MINUTE": "1000000", "EXPORTS_PER_HOUR": "1000000", "PARTNER_SYNC_INTERVAL_SECONDS": "0",
        }

    def load_open_partners(self) -> bool:
        """After `seed-demo`: the demo catalog's open-protocol partners with the fake's revoke_url (its port is
        known only now), loaded by the console as an operator would."""
        import json
        import tempfile

        from admin.__main__ import main as admin
        from admin.catalog_load import DEMO_CATALOG

        overlay = self.fakes.open_partners_catalog(json.loads(DEMO_CATALOG.read_text(encoding="utf-8")))
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as file:
            json.dump(overlay, file, ensure_ascii=False)
        try:
            return admin(["load", file.name]) == 0
        finally:
            os.unlink(file.name)

    def stop(self) -> None:
        if self.fakes is not None:
            self.fakes.stop()
        self.dynamodb.stop()


@contextlib.contextmanager
def running(**settings: str) -> Iterator[Stack]:
    """The stack with the tables and the demo catalog made by the console (as tests/conftest.py's `database`),
    `settings` added to the environment; everything stops on exit. The console's output goes to stderr."""
    stack = Stack().start()
    os.environ.update(settings)
    try:
        from admin.__main__ import main as admin
        from chalicelib.settings import get_settings

        get_settings.cache_clear()
        with contextlib.redirect_stdout(sys.stderr):
            if admin(["init-db"]) != 0 or admin(["seed-demo"]) != 0 or not stack.load_open_partners():
                raise RuntimeError("init-db, seed-demo or loading the open partners failed")
        yield stack
    finally:
        stack.stop()
