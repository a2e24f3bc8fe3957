"""The test stack: an in-memory DynamoDB Local on a free port and the fake partners (WeChat, the bus
company, the bank) over HTTP.

Started once per test process before the app is imported (PynamoDB reads its endpoint and table
names when the models are defined), and stopped at the end of the session.
"""
from __future__ import annotations

import os
import secrets

from infra.local.dynamodb_local import DynamoDBLocal
from infra.local.fake_bank import FakeBank
from infra.local.fake_transit import FakeTransit
from infra.local.fake_wechat import FakeWeChat

APPID = "wx-test-appid"
WECHAT_SECRET = "test-wechat-secret"
# The demo catalog's second platform (admin/demo_catalog.json) and its mini program, served by the same fake.
DEMO_PLATFORM, DEMO_PLATFORM_APPID, DEMO_PLATFORM_SECRET = "company-demo", "wx-demo-company", "test-company-secret"
TRANSIT_APP_ID, TRANSIT_SECRET = "gs-test", "test-transit-secret"
BANK_CLIENT_ID, BANK_CLIENT_SECRET, BANK_WEBHOOK_SECRET = "gs-test", "test-bank-secret", "test-bank-webhook-secret"


class Stack:
    def __init__(self) -> None:
        self.dynamodb = DynamoDBLocal()
        self.wechat = FakeWeChat(APPID, WECHAT_SECRET, apps={DEMO_PLATFORM_APPID: DEMO_PLATFORM_SECRET})
        self.transit = FakeTransit(TRANSIT_APP_ID, TRANSIT_SECRET)
        self.bank = FakeBank(BANK_CLIENT_ID, BANK_CLIENT_SECRET, BANK_WEBHOOK_SECRET)

    def start(self) -> Stack:
        self.dynamodb.start()
        self.wechat.start()
        self.transit.start()
        self.bank.start()
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
            "WECHAT_API_BASE": self.wechat.base_url, "WECHAT_APPID": APPID, "WECHAT_SECRET": WECHAT_SECRET,
            "WECHAT_SECRET__COMPANY_DEMO": DEMO_PLATFORM_SECRET,
            "PARTNER_TIMEOUT_SECONDS": "1",
            # The suite logs in thousands of users from one address (127.0.0.1) and syncs or exports one user
            # many times a minute; tests/reliability/test_client_limits.py runs these limits at their defaults.
            "LOGIN_RATE_PER_MINUTE": "1000000", "EXPORTS_PER_HOUR": "1000000", "PARTNER_SYNC_INTERVAL_SECONDS": "0",
            "TRANSIT_API_BASE": self.transit.base_url, "TRANSIT_APP_ID": TRANSIT_APP_ID,
            "TRANSIT_SECRET": TRANSIT_SECRET,
            "BANK_API_BASE": self.bank.base_url, "BANK_CLIENT_ID": BANK_CLIENT_ID,
            "BANK_CLIENT_SECRET": BANK_CLIENT_SECRET, "BANK_WEBHOOK_SECRET": BANK_WEBHOOK_SECRET,
        }

    def stop(self) -> None:
        self.bank.stop()
        self.transit.stop()
        self.wechat.stop()
        self.dynamodb.stop()
