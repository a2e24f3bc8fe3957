"""A throwaway stack to measure on: in-memory DynamoDB Local, the fake WeChat, the tables and demo catalog.

Used by `python -m infra.aws.journey` and `python -m infra.aws.capacity`; the tests use their own session
stack (tests/conftest.py) and call infra.aws.journey.run directly.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator

from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.fake_wechat import FakeWeChat

APPID, WECHAT_SECRET = "wx-capacity", "capacity-wechat-secret"


@contextlib.contextmanager
def measuring_stack() -> Iterator[tuple]:
    """(chalice.test.Client, the Chalice app, grant_points(user_id)); everything stops on exit."""
    dynamodb, wechat = DynamoDBLocal().start(), FakeWeChat(APPID, WECHAT_SECRET).start()
    try:
        os.environ.update({
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.endpoint, "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "ap-northeast-1",
            "AWS_EC2_METADATA_DISABLED": "true", "TABLE_PREFIX": "gs-capacity-",
            "JWT_SECRET": secrets.token_urlsafe(48), "WECHAT_API_BASE": wechat.base_url, "WECHAT_APPID": APPID,
            "WECHAT_SECRET": WECHAT_SECRET, "PARTNER_TIMEOUT_SECONDS": "1",
        })
        from chalice.test import Client

        import app
        from admin.__main__ import main as admin

        with contextlib.redirect_stdout(sys.stderr):
            if admin(["init-db"]) != 0 or admin(["seed-demo"]) != 0:
                raise RuntimeError("init-db or seed-demo failed")

        def grant_points(user_id: str) -> None:
            with contextlib.redirect_stdout(sys.stderr):
                admin(["points", "adjust", user_id, "1000", "--reason", "capacity measurement"])

        with Client(app.app, stage_name="local") as client:
            yield client, app.app, grant_points
    finally:
        wechat.stop()
        dynamodb.stop()
