"""WeChat Sports (services/werun.sync_steps) over the in-memory unit of work: no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local and the fake WeChat: tests/integration/test_werun.py.
"""
from __future__ import annotations

import base64
import json
import os
import time
from datetime import datetime

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chalicelib.domain import clock
from chalicelib.domain.commands_partners import SyncWeRun
from chalicelib.errors import AccountFrozenError, SessionExpiredError
from chalicelib.services.werun import sync_steps
from chalicelib.settings import get_settings
from tests.unit.fakes_partners import FakePartnerAccount, InMemoryPartnerUnitOfWork

APPID = "wx_unit_test"
SESSION_KEY = base64.b64encode(b"k" * 16).decode()


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.setenv("JWT_SECRET", "x" * 32)
    monkeypatch.delenv("SSM_PARAMETER_PATH", raising=False)
    get_settings.cache_clear()  # read with this appid, not with whatever an earlier test of the run read
    yield
    get_settings.cache_clear()  # and read again, with the run's own environment, once monkeypatch restores it


@pytest.fixture
def uow() -> InMemoryPartnerUnitOfWork:
    uow = InMemoryPartnerUnitOfWork()
    uow.accounts.add(FakePartnerAccount("u_1", identity_key="wx#o_1"))
    uow.session_keys.keys["wx#o_1"] = SESSION_KEY
    return uow


def command(steps: int, key: str = SESSION_KEY) -> SyncWeRun:
    """What wx.getWeRunData hands the mini program for today's `steps`, decoded by the route."""
    today = clock.business_day(clock.now())
    start = int(datetime(today.year, today.month, today.day, tzinfo=clock.SHANGHAI).timestamp())
    data = {"stepInfoList": [{"timestamp": start, "step": steps}],
            "watermark": {"appid": APPID, "timestamp": int(time.time())}}
    padder = padding.PKCS7(128).padder()
    padded = padder.update(json.dumps(data).encode()) + padder.finalize()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(base64.b64decode(key)), modes.CBC(iv)).encryptor()
    return SyncWeRun("u_1", encryptor.update(padded) + encryptor.finalize(), iv)


def test_a_day_earns_what_its_total_adds_beyond_what_it_already_earned(uow):
    first = sync_steps(command(12345), uow)
    assert (first.points, first.carbon_mg) == (20, 202_458)
    assert (first.days[0].steps, first.days[0].earned.points) == (12345, 20)
    second = sync_steps(command(15000), uow)
    assert (second.points, second.carbon_mg, second.days[0].earned.carbon_mg) == (0, 43_542, 246_000)
    assert (uow.accounts.items["u_1"].points, uow.commits, len(uow.ledger)) == (20, 2, 2)


def test_the_same_total_again_writes_nothing_and_reads_the_account_once(uow):
    sync_steps(command(8000), uow)
    reads = uow.accounts.reads
    again = sync_steps(command(8000), uow)
    assert (again.points, again.carbon_mg, again.days[0].earned.points) == (0, 0, 16)
    assert (uow.commits, uow.accounts.reads - reads) == (1, 1)


def test_a_frozen_account_or_an_undecryptable_payload_earns_nothing(uow):
    with pytest.raises(SessionExpiredError):
        sync_steps(command(8000, key=base64.b64encode(b"o" * 16).decode()), uow)
    uow.accounts.items["u_1"].frozen = True
    with pytest.raises(AccountFrozenError):
        sync_steps(command(8000), uow)
    del uow.session_keys.keys["wx#o_1"]
    with pytest.raises(SessionExpiredError):
        sync_steps(command(8000), uow)
    assert (uow.commits, uow.ledger) == (0, [])


def test_a_freeze_landing_before_the_write_lets_nothing_land(uow):
    def freeze():
        uow.accounts.items["u_1"].frozen = True
        uow.accounts.items["u_1"].version += 1

    uow.before_write = freeze
    with pytest.raises(AccountFrozenError):
        sync_steps(command(8000), uow)
    assert (uow.commits, uow.ledger, uow.accounts.items["u_1"].points) == (0, [], 0)
