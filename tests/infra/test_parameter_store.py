"""A deployed stage reads its secrets from SSM Parameter Store (docs/deploy.md), through the real botocore
client talking to a fake Parameter Store over HTTP; local runs and tests never reach for it."""
from __future__ import annotations

import base64

import pytest

from chalicelib.settings import SECRET_NAMES, SettingsError, from_environ, with_parameter_store
from infra.local.dynamodb_local import free_port
from tests.infra.fake_ssm import FakeSSM

PATH = "/greensprout/prod/"
DATA_KEY = base64.b64encode(b"k" * 32).decode()
STORED = {"JWT_SECRET": "s" * 48, "DATA_KEY": DATA_KEY, "WECHAT_SECRET": "wx-secret", "TRANSIT_SECRET": "bus-secret",
          "BANK_CLIENT_SECRET": "bank-secret", "BANK_WEBHOOK_SECRET": "bank-hook-secret"}


@pytest.fixture
def ssm():
    fake = FakeSSM(page_size=4).start()
    for name, value in STORED.items():
        fake.put(PATH + name, value)
    fake.put("/greensprout/dev/JWT_SECRET", "d" * 48)  # another stage's
    fake.put(PATH + "TABLE_PREFIX", "evil-", kind="String")  # not a secret: never taken from the store
    yield fake
    fake.stop()


def stage_env(ssm: FakeSSM, **extra: str) -> dict:
    return {"SSM_PARAMETER_PATH": PATH, "AWS_ENDPOINT_URL_SSM": ssm.base_url, "AWS_REGION": "ap-east-1",
            "TABLE_PREFIX": "greensprout-prod-", **extra}


def test_a_deployed_stage_reads_every_secret_from_its_parameter_path(ssm):
    settings = from_environ(with_parameter_store(stage_env(ssm)))
    assert settings.jwt_secret == STORED["JWT_SECRET"].encode()
    assert settings.data_key == b"k" * 32
    assert (settings.wechat_secret, settings.transit_secret) == ("wx-secret", "bus-secret")
    assert (settings.bank_client_secret, settings.bank_webhook_secret) == ("bank-secret", "bank-hook-secret")
    assert settings.table_prefix == "greensprout-prod-"
    assert len(ssm.requests) == 2  # 7 parameters under the path, 4 a page: pagination followed
    assert all(r["target"] == "AmazonSSM.GetParametersByPath" and r["signed"] for r in ssm.requests)
    assert all(r["body"]["Path"] == PATH and r["body"]["WithDecryption"] is True for r in ssm.requests)


def test_a_secret_set_in_the_environment_wins_over_the_store(ssm):
    env = with_parameter_store(stage_env(ssm, JWT_SECRET="e" * 40))
    assert env["JWT_SECRET"] == "e" * 40 and env["WECHAT_SECRET"] == "wx-secret"


def test_only_secrets_come_from_the_store(ssm):
    env = with_parameter_store(stage_env(ssm, TABLE_PREFIX=""))
    assert "TABLE_PREFIX" not in env or env["TABLE_PREFIX"] != "evil-"
    assert from_environ(env).table_prefix == "greensprout-dev-"  # the default, not the stored value


def test_nothing_is_fetched_without_a_path(ssm):
    env = {"AWS_ENDPOINT_URL_SSM": ssm.base_url, "JWT_SECRET": "x" * 40}
    assert with_parameter_store(env) is env
    assert ssm.requests == []


def test_nothing_is_fetched_when_every_secret_is_in_the_environment(ssm):
    env = stage_env(ssm, **STORED)
    assert with_parameter_store(env) is env
    assert ssm.requests == []


def test_a_store_the_function_may_not_read_stops_the_app_with_a_message():
    fake = FakeSSM(deny=True).start()
    try:
        with pytest.raises(SettingsError, match="cannot read the secrets under /greensprout/prod/.*AccessDenied"):
            with_parameter_store(stage_env(fake))
    finally:
        fake.stop()


def test_an_unreachable_store_stops_the_app_with_a_message():
    env = {"SSM_PARAMETER_PATH": PATH, "AWS_ENDPOINT_URL_SSM": f"http://127.0.0.1:{free_port()}",
           "AWS_REGION": "ap-east-1"}
    with pytest.raises(SettingsError, match="cannot read the secrets"):
        with_parameter_store(env)


def test_the_secret_names_are_the_contract_s_secrets():
    assert set(SECRET_NAMES) == {"JWT_SECRET", "DATA_KEY", "WECHAT_SECRET", "TRANSIT_SECRET", "BANK_CLIENT_SECRET",
                                 "BANK_WEBHOOK_SECRET"}


def test_the_rotation_secrets_come_from_the_store_too(ssm):
    new_key = base64.b64encode(b"n" * 32).decode()
    ssm.put(PATH + "DATA_KEYS", f"{new_key},{DATA_KEY}")
    ssm.put(PATH + "JWT_SECRET_PREVIOUS", "p" * 48)
    settings = from_environ(with_parameter_store(stage_env(ssm)))
    assert [key for _, key in settings.data_keys] == [b"n" * 32, b"k" * 32] and settings.data_key == b"n" * 32
    assert settings.jwt_secret_previous == b"p" * 48


def test_a_stage_whose_store_has_no_data_key_refuses_to_start(ssm):
    del ssm.parameters[PATH + "DATA_KEY"]
    with pytest.raises(SettingsError, match="DATA_KEY must be set in a deployed stage .*/greensprout/prod/"):
        from_environ(with_parameter_store(stage_env(ssm)))


def test_each_platforms_wechat_secret_comes_from_the_store_too(ssm):
    """Onboarding a platform is a catalog load plus its secret, WECHAT_SECRET__<ID> (docs/platforms.md)."""
    ssm.put(PATH + "WECHAT_SECRET__COMPANY_DEMO", "company-secret")
    settings = from_environ(with_parameter_store(stage_env(ssm)))
    assert settings.wechat_secret_of("company-demo") == "company-secret"
    assert settings.wechat_secret_of("default") == settings.wechat_secret == "wx-secret"
    assert settings.wechat_secret_of("other-platform") is None
