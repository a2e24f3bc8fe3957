"""Rotating DATA_KEY and JWT_SECRET as docs/deploy.md's runbook says, through the real app and console against
DynamoDB Local: seal under key 1, rotate, read, reseal, drop key 1, read. Also: each stage's own issuer and
audience, and a deployed stage that refuses to start without a real DATA_KEY.

A rotation here is what a redeploy does to a container: new variables, the settings read again.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from admin.__main__ import main as admin
from chalicelib import settings as settings_module
from chalicelib.sealing import unseal
from chalicelib.services import tokens
from chalicelib.services.tokens import key_id
from chalicelib.settings import SettingsError, data_key_id, from_environ, get_settings
from chalicelib.store.market import Redemption
from chalicelib.store.models import Identity
from chalicelib.store.shared_token import SharedToken
from tests.integration.test_werun import werun
from tests.support.api import call, login
from tests.support.market import give_points, new_goods, redeem

NAMES = ("DATA_KEY", "DATA_KEYS", "JWT_SECRET", "JWT_SECRET_PREVIOUS", "JWT_ISSUER", "JWT_AUDIENCE")
ADDRESS = {"name": "李四", "phone": "13912345678", "region": "四川省泸州市江阳区", "detail": "滨江路二段9号"}


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def kid(key_b64: str) -> str:
    return data_key_id(base64.b64decode(key_b64))


def legacy_seal(plaintext: str, context: str, key: bytes) -> str:
    """A value as it was sealed before key ids (the code this change replaced)."""
    nonce = os.urandom(12)
    return "v1:" + base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())).decode()


@pytest.fixture
def rotate():
    """rotate(NAME=value or None, ...): the stage's secrets as a redeploy would change them. Afterwards every
    sealed value of the session is resealed under the key this test session started with, so the other tests
    read what this one rewrote."""
    original = {name: os.environ.get(name) for name in NAMES}
    started_on = base64.b64encode(get_settings().data_key).decode()
    used = []

    def apply(**values: str | None) -> None:
        for name in NAMES:
            value = values.get(name, original[name])
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        used.extend(k for k in (values.get("DATA_KEYS") or values.get("DATA_KEY") or "").split(",") if k)
        settings_module.get_settings.cache_clear()

    yield apply
    apply(DATA_KEYS=",".join(dict.fromkeys([started_on, *used])))
    from admin.reseal import reseal

    assert not any(counts["unreadable"] for counts in reseal(dry_run=False).tables.values())
    for name, value in original.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    settings_module.get_settings.cache_clear()


def _console(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    status = admin([*argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def _opens(client, stack, user, steps: int) -> bool:
    """POST /v1/werun/sync decrypts with the sealed session key: 200 only if it opened."""
    return werun(client, stack, user, {0: steps})[0] == 200


def _me(client, user) -> int:
    return call(client, "GET", "/v1/me", token=user["token"])[0]


def test_seal_under_key_1_rotate_read_reseal_drop_key_1_read(client, stack, rotate, capsys):
    secret1, secret2 = os.environ["JWT_SECRET"], secrets.token_urlsafe(48)
    derived = base64.b64encode(get_settings().data_key).decode()  # the session runs on the JWT_SECRET-derived key
    k1, k2 = new_key(), new_key()

    # A stage on key 1, with values sealed before key ids existed: under DATA_KEY, and (a stage that ran
    # without DATA_KEY) under the key derived from JWT_SECRET.
    rotate(DATA_KEY=k1)
    a, b, c = (login(client, "o-rot-" + uuid.uuid4().hex[:12]) for _ in range(3))
    assert jwt.get_unverified_header(a["token"])["kid"] == key_id(secret1.encode())
    for user, key in ((b, base64.b64decode(k1)), (c, base64.b64decode(derived))):
        ident = f"wx#{user['openid']}"
        Identity(ident).update(actions=[
            Identity.session_key_sealed.set(legacy_seal(stack.wechat.session_key(user["openid"]), ident, key)),
            Identity.unionid_sealed.set(legacy_seal("un-" + user["openid"], ident, key))])
    give_points(a, 100)
    status, body = redeem(client, a, new_goods(kind="physical", category="daily")["id"], address=ADDRESS)
    assert status == 201, body
    redemption_id = body["redemption"]["id"]
    partner = "test-rotation-" + uuid.uuid4().hex[:8]
    fetched = []
    assert SharedToken(partner, lambda: fetched.append(1) or ("partner-token-1", 3600)).get() == "partner-token-1"
    sealed_under_k1 = Identity.get(f"wx#{a['openid']}").session_key_sealed
    assert sealed_under_k1.startswith(f"v2:{kid(k1)}:")
    assert all(_opens(client, stack, user, 1000) for user in (a, b, c))

    # Rotate: key 2 in front of DATA_KEYS, key 1 and the derived key behind it; JWT secret 2, secret 1 previous.
    rotate(DATA_KEY=k1, DATA_KEYS=f"{k2},{k1},{derived}", JWT_SECRET=secret2, JWT_SECRET_PREVIOUS=secret1)
    assert _me(client, a) == 200  # a token signed with the previous secret runs out its lifetime
    no_kid = {"token": jwt.encode(jwt.decode(a["token"], options={"verify_signature": False}), secret1)}
    assert _me(client, no_kid) == 200  # so does one from before kids, signed with it
    d = login(client, "o-rot-" + uuid.uuid4().hex[:12])
    assert jwt.get_unverified_header(d["token"])["kid"] == key_id(secret2.encode())
    assert Identity.get(f"wx#{d['openid']}").session_key_sealed.startswith(f"v2:{kid(k2)}:")
    assert all(_opens(client, stack, user, 2000) for user in (a, b, c, d))
    assert _console(capsys, "redemption", "show", redemption_id, "--reveal-address", "--reason", "test")[1][
        "address"] == ADDRESS
    assert SharedToken(partner, lambda: fetched.append(1) or ("partner-token-2", 3600)).get() == "partner-token-1"

    # Reseal: a dry run writes nothing; then two runs, the second resuming where --pages stopped the first.
    status, preview = _console(capsys, "reseal", "--dry-run")
    assert status == 0 and preview["dry_run"] and preview["key_id"] == kid(k2)
    assert preview["tables"]["identities"]["resealed"] >= 5  # a's session key and b's, c's both values
    assert preview["tables"]["redemptions"]["resealed"] >= 1 and preview["tables"]["partner_tokens"]["resealed"] >= 1
    assert Identity.get(f"wx#{a['openid']}").session_key_sealed == sealed_under_k1
    status, first = _console(capsys, "reseal", "--yes", "--pages", "1", "--page-size", "1")
    assert status == 0 and first["next"] and first["next"].startswith("identities:")
    status, rest = _console(capsys, "reseal", "--yes", "--from", first["next"])
    assert status == 0 and rest["next"] is None
    assert sum(t["unreadable"] + t["changed_meanwhile"] for t in rest["tables"].values()) == 0
    assert sum(t["resealed"] for run in (first, rest) for t in run["tables"].values()) >= 8
    for user in (a, b, c, d):
        identity = Identity.get(f"wx#{user['openid']}")
        assert identity.session_key_sealed.startswith(f"v2:{kid(k2)}:")
        assert unseal(identity.unionid_sealed, identity.key) == "un-" + user["openid"]
    assert Redemption.get(redemption_id).address_sealed.startswith(f"v2:{kid(k2)}:")
    status, again = _console(capsys, "reseal", "--yes")
    assert status == 0 and sum(t["resealed"] for t in again["tables"].values()) == 0  # idempotent
    assert again["tables"]["identities"]["current"] >= 8

    # Drop key 1 (and the derived key) and the previous JWT secret: everything still reads.
    rotate(DATA_KEY=k2, DATA_KEYS=None, JWT_SECRET=secret2, JWT_SECRET_PREVIOUS=None)
    renewed = [{**user, "token": tokens.issue(user["id"], ("user",))[0]} for user in (a, b, c)]  # not a login:
    assert all(_opens(client, stack, user, 3000) for user in (*renewed, d))  # that would seal a new session key
    assert _console(capsys, "redemption", "show", redemption_id, "--reveal-address", "--reason", "test")[1][
        "address"] == ADDRESS
    assert SharedToken(partner, lambda: fetched.append(1) or ("partner-token-3", 3600)).get() == "partner-token-1"
    assert fetched == [1]
    with pytest.raises(ValueError):
        unseal(sealed_under_k1, f"wx#{a['openid']}")  # what reseal rewrote would no longer open
    assert (_me(client, a), _me(client, no_kid), _me(client, d)) == (401, 401, 200)  # the old secret's end with it


def test_a_token_with_an_unknown_kid_or_of_another_stage_is_refused(client, rotate):
    rotate(JWT_ISSUER="greensprout/dev", JWT_AUDIENCE="greensprout-miniprogram/dev")
    dev = login(client, "o-rot-" + uuid.uuid4().hex[:12])
    assert _me(client, dev) == 200
    claims = jwt.decode(dev["token"], options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == ("greensprout/dev", "greensprout-miniprogram/dev")
    unknown = jwt.encode(claims, os.environ["JWT_SECRET"], algorithm="HS256", headers={"kid": "not-our-key"})
    assert _me(client, {"token": unknown}) == 401
    rotate(JWT_ISSUER="greensprout/prod", JWT_AUDIENCE="greensprout-miniprogram/prod")  # same secret, other stage
    assert _me(client, dev) == 401
    assert _me(client, login(client, dev["openid"])) == 200


def test_a_deployed_stage_refuses_to_start_without_a_real_data_key():
    stage = {"JWT_SECRET": "s" * 48, "SSM_PARAMETER_PATH": "/greensprout/prod/"}
    with pytest.raises(SettingsError, match="DATA_KEY must be set in a deployed stage"):
        from_environ(stage)
    settings = from_environ({**stage, "DATA_KEY": new_key()})
    assert (settings.jwt_issuer, settings.jwt_audience) == ("greensprout/prod", "greensprout-miniprogram/prod")
    local = from_environ({"JWT_SECRET": "s" * 48})
    assert (local.jwt_issuer, local.jwt_audience) == ("greensprout", "greensprout-miniprogram")


K, L = new_key(), new_key()


@pytest.mark.parametrize("env, message", [
    ({"DATA_KEYS": "bm90LTMyLWJ5dGVz"}, "every key of DATA_KEYS must be base64 of exactly 32 bytes"),
    ({"DATA_KEYS": " , "}, "DATA_KEYS must list base64 keys"),
    ({"DATA_KEYS": f"{K},{K}"}, "DATA_KEYS lists a key twice"),
    ({"DATA_KEYS": K, "DATA_KEY": L}, "DATA_KEY is not one of DATA_KEYS"),
    ({"JWT_SECRET_PREVIOUS": "short"}, "JWT_SECRET_PREVIOUS, when set, must be at least 32 bytes"),
])
def test_key_settings_an_operator_got_wrong_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        from_environ({"JWT_SECRET": "s" * 48, **env})


def test_data_keys_seal_under_the_first_and_data_key_alone_is_one_key():
    k1, k2 = new_key(), new_key()
    both = from_environ({"JWT_SECRET": "s" * 48, "DATA_KEYS": f"{k2}, {k1}", "DATA_KEY": k1})
    assert [i for i, _ in both.data_keys] == [kid(k2), kid(k1)] and both.data_key == base64.b64decode(k2)
    single = from_environ({"JWT_SECRET": "s" * 48, "DATA_KEY": k1})
    assert single.data_keys == ((kid(k1), base64.b64decode(k1)),)


def test_reseal_never_overwrites_a_value_changed_while_it_ran(client, stack, rotate, capsys):
    from tests.support.api import hooked

    derived, k1, k2 = base64.b64encode(get_settings().data_key).decode(), new_key(), new_key()
    rotate(DATA_KEYS=f"{k1},{derived}")
    user = login(client, "o-rot-" + uuid.uuid4().hex[:12])
    ident = f"wx#{user['openid']}"
    rotate(DATA_KEYS=f"{k2},{k1},{derived}")
    logged_in = []

    def login_meanwhile(params, **_):  # the user logs in between reseal's read of the item and its rewrite
        if params.get("Key", {}).get("key", {}).get("S") == ident and not logged_in:
            logged_in.append("started")  # the login's own UpdateItem passes here too
            logged_in.append(login(client, user["openid"]))

    with hooked("provide-client-params.dynamodb.UpdateItem", login_meanwhile):
        status, report = _console(capsys, "reseal", "--yes")
    assert status == 0 and logged_in and report["tables"]["identities"]["changed_meanwhile"] >= 1
    identity = Identity.get(ident)
    assert unseal(identity.session_key_sealed, ident) == stack.wechat.session_key(user["openid"])  # the login's
    assert identity.session_key_sealed.startswith(f"v2:{kid(k2)}:")
    assert identity.unionid_sealed.startswith(f"v2:{kid(k1)}:")  # its rewrite lost with the session key's
    status, again = _console(capsys, "reseal", "--yes")  # as the report says: run it again
    assert status == 0 and again["tables"]["identities"]["changed_meanwhile"] == 0
    assert Identity.get(ident).unionid_sealed.startswith(f"v2:{kid(k2)}:")
    status, last = _console(capsys, "reseal", "--yes")
    assert status == 0 and sum(t["resealed"] + t["changed_meanwhile"] for t in last["tables"].values()) == 0
