"""Helpers of the partner tests: bind a user through the real consent flow, push signed webhooks."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from tests.support.api import call
from tests.support.reconcile import reconciled

CHINA = timezone(timedelta(hours=8))


def phone() -> str:
    """A mainland mobile number no other test uses."""
    return "139" + "".join(random.choices("0123456789", k=8))


def phone_code(stack, number: str) -> str:
    """What the mini program's phone-number button hands over for `number` (single use)."""
    code = "pc_" + uuid.uuid4().hex
    stack.wechat.add_phone_code(code, number)
    return code


def bind(client, stack, user, partner: str, number: str | None = None) -> str:
    """Gives the user an account at the partner and binds it; returns the partner's reference."""
    number = number or phone()
    ref = stack.transit.add_rider(number) if partner == "transit" else stack.bank.add_customer(number)
    status, body = call(client, "PUT", f"/v1/partners/{partner}/consent", {"phone_code": phone_code(stack, number)},
                        token=user["token"])
    assert (status, body["status"]) == (200, "bound"), body
    return ref


def sync(client, user, partner: str):
    return call(client, "POST", f"/v1/partners/{partner}/sync", token=user["token"])


def push(client, fake, events, **forge):
    """A webhook delivery signed by the fake partner, sent to the app."""
    path, headers, body = fake.webhook_request(events, **forge)
    return call(client, "POST", path, body, headers=headers)


def me(client, user) -> dict:
    return call(client, "GET", "/v1/me", token=user["token"])[1]


def ledger(client, user) -> list[dict]:
    return call(client, "GET", "/v1/me/ledger?limit=100", token=user["token"])[1]["items"]


def now() -> datetime:
    return datetime.now(CHINA)


def reconcile_clean(*people: dict | str) -> tuple[bool, list]:
    """(clean, mismatches) of the accounts a test touched (tests/support/reconcile.py)."""
    result = reconciled(*people)
    return bool(result["clean"]), result["mismatches"]

