"""python -m admin per platform (docs/platforms.md, "The console per platform"): `--platform ID` on the commands
about one user refuses another platform's user exactly as a missing one and writes nothing; `reconcile
--platform` checks only that platform's accounts; audit records carry the platform."""
from __future__ import annotations

import json
import uuid

import pytest

from admin import accounts
from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.models import Account, AuditRecord
from infra.local.ephemeral import DEMO_PLATFORM, DEMO_PLATFORM_APPID
from tests.support.api import call
from tests.support.persons import login_on

COMMANDS = {  # each command about one user, as an operator types it (USER substituted)
    "user show": ["user", "show", "USER"],
    "user freeze": ["user", "freeze", "USER", "--reason", "fraud check"],
    "user unfreeze": ["user", "unfreeze", "USER", "--reason", "cleared"],
    "user delete": ["user", "delete", "USER", "--reason", "ticket-1", "--yes"],
    "points adjust": ["points", "adjust", "USER", "5", "--reason", "apology"],
    "user minor": ["user", "minor", "USER", "--org", "o-any-school", "--reason", "roster"],
    "nickname approve": ["nickname", "approve", "USER", "--reason", "fine"],
    "nickname reject": ["nickname", "reject", "USER", "--reason", "no"],
}


@pytest.fixture
def demo_user(client):
    """A user of the demo platform only (a person of its own: no `default` account), with the openid the demo
    mini program knows it by (the fake WeChat's `<name>@<appid>`)."""
    demo = login_on(client, "o-demo-" + uuid.uuid4().hex[:10])
    return {**demo, "openid": f"{demo['openid']}@{DEMO_PLATFORM_APPID}"}


def _run(command: str, user: str, *platform: str) -> list[str]:
    return [user if word == "USER" else word for word in COMMANDS[command]] + list(platform)


def _state(user_id: str) -> dict:
    account = Account.get(user_id, consistent_read=True)
    return {"version": int(account.version), "points": int(account.points), "frozen": bool(account.frozen),
            "deleted_at": account.deleted_at, "identity_key": account.identity_key}


def _audited(user_id: str) -> list[AuditRecord]:
    month = clock.now().strftime("%Y-%m")
    return [r for r in AuditRecord.query(month, consistent_read=True) if user_id in json.dumps(r.arguments)]


def _refused_as_missing(command: str, user: str, platform: list[str], capsys) -> None:
    capsys.readouterr()
    status = admin(_run(command, user, *platform))
    err = capsys.readouterr().err
    nobody = "u_" + uuid.uuid4().hex[:20]
    assert admin(_run(command, nobody, *platform)) == status == 1
    assert err.replace(user, "USER") == capsys.readouterr().err.replace(nobody, "USER") \
        == "error: no user with id or openid USER\n"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_user_of_another_platform_is_refused_as_a_missing_user_and_nothing_is_written(
        command, client, user, demo_user, capsys):
    before = {u["id"]: _state(u["id"]) for u in (user, demo_user)}
    _refused_as_missing(command, demo_user["id"], [], capsys)  # --platform default, the default
    _refused_as_missing(command, demo_user["id"], ["--platform", "default"], capsys)
    _refused_as_missing(command, demo_user["openid"], [], capsys)  # an openid of the demo mini program
    _refused_as_missing(command, user["id"], ["--platform", DEMO_PLATFORM], capsys)
    _refused_as_missing(command, user["openid"], ["--platform", DEMO_PLATFORM], capsys)
    assert {u["id"]: _state(u["id"]) for u in (user, demo_user)} == before
    assert _audited(user["id"]) == _audited(demo_user["id"]) == []


def test_the_right_platform_shows_and_changes_its_user_and_audits_the_platform(client, demo_user, capsys):
    on_demo = ["--platform", DEMO_PLATFORM]
    assert Account.get(demo_user["id"]).identity_key == f"wx#{DEMO_PLATFORM}#{demo_user['openid']}"
    capsys.readouterr()
    assert admin(["user", "show", demo_user["openid"], "--json", *on_demo]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["id"], shown["platform"]) == (demo_user["id"], DEMO_PLATFORM)
    assert admin(["points", "adjust", demo_user["id"], "30", "--reason", "welcome", *on_demo]) == 0
    assert admin(["user", "freeze", demo_user["id"], "--reason", "fraud check", *on_demo]) == 0
    assert _state(demo_user["id"])["frozen"]
    assert admin(["user", "unfreeze", demo_user["id"], "--reason", "cleared", *on_demo]) == 0
    me = call(client, "GET", "/v1/me", token=demo_user["token"])[1]
    assert (me["points"], me["platform"]["id"]) == (30, DEMO_PLATFORM)
    assert admin(["user", "delete", demo_user["id"], "--reason", "ticket-2", "--yes", *on_demo]) == 0
    assert _state(demo_user["id"])["deleted_at"]
    capsys.readouterr()
    assert admin(["audit", "--json"]) == 0
    trail = [r for r in json.loads(capsys.readouterr().out) if r["arguments"].get("user") == demo_user["id"]]
    assert [(r["command"], r["platform"]) for r in trail] == [
        ("points adjust", DEMO_PLATFORM), ("user freeze", DEMO_PLATFORM), ("user unfreeze", DEMO_PLATFORM),
        ("user delete", DEMO_PLATFORM)]
    assert admin(["audit"]) == 0
    assert f"{DEMO_PLATFORM:<14} points adjust" in capsys.readouterr().out


def test_a_command_without_platform_audits_default_and_old_records_read_as_default(client, user, capsys):
    assert admin(["points", "adjust", user["id"], "3", "--reason", "bonus"]) == 0
    now = clock.now()
    AuditRecord(now.strftime("%Y-%m"), "0-before-platforms-" + uuid.uuid4().hex, at=clock.iso(now),
                operator="someone", command="user freeze", arguments={"user": user["id"]}, reason="old").save()
    capsys.readouterr()
    assert admin(["audit", "--json"]) == 0
    trail = [r for r in json.loads(capsys.readouterr().out) if r["arguments"].get("user") == user["id"]]
    assert sorted((r["command"], r["platform"]) for r in trail) == [("points adjust", "default"),
                                                                    ("user freeze", "default")]


@pytest.mark.parametrize("command", [*COMMANDS, "reconcile"])
def test_an_unknown_platform_is_a_usage_error_before_any_account_is_read(command, user, monkeypatch, capsys):
    def no_read(*args, **kwargs):
        raise AssertionError("read an account for an unknown platform")

    monkeypatch.setattr(accounts, "find_account", no_read)
    monkeypatch.setattr(accounts, "reconcile", no_read)
    before = _state(user["id"])
    argv = ["reconcile"] if command == "reconcile" else _run(command, user["id"])
    capsys.readouterr()
    assert admin([*argv, "--platform", "no-such-platform"]) == 2
    assert capsys.readouterr().err == "usage error: --platform no-such-platform: no such platform (default or a " \
                                      "platform of the catalog)\n"
    assert _state(user["id"]) == before and _audited(user["id"]) == []


def _reconcile(capsys, *platform: str) -> tuple[int, dict]:
    capsys.readouterr()
    status = admin(["reconcile", "--json", *platform])
    return status, json.loads(capsys.readouterr().out)


def test_reconcile_of_a_platform_checks_only_its_accounts(client, user, demo_user, capsys):
    demo_accounts = sum(1 for a in Account.scan() if a.platform == DEMO_PLATFORM)
    default_accounts = sum(1 for a in Account.scan() if a.platform is None)
    assert demo_accounts >= 1 and default_accounts >= 1
    corrupted = Account.get(demo_user["id"])
    corrupted.update(actions=[Account.points.add(1000)])  # corruption no code path can make
    try:
        status, demo = _reconcile(capsys, "--platform", DEMO_PLATFORM)
        assert (status, demo["accounts"], demo["platform"]) == (1, demo_accounts, DEMO_PLATFORM)
        assert [m["user_id"] for m in demo["mismatches"]] == [demo_user["id"]]
        status, default = _reconcile(capsys, "--platform", "default")
        assert default["accounts"] == default_accounts
        assert demo_user["id"] not in [m["user_id"] for m in default["mismatches"]]
        status, every = _reconcile(capsys)
        assert (status, every["platform"]) == (1, None)
        assert every["accounts"] >= demo_accounts + default_accounts
        assert demo_user["id"] in [m["user_id"] for m in every["mismatches"]]
    finally:
        corrupted.update(actions=[Account.points.add(-1000)])
    assert _reconcile(capsys, "--platform", DEMO_PLATFORM)[0] == 0


def test_an_operator_reads_only_their_platforms_audit_records(client, user, demo_user, capsys):
    assert admin(["points", "adjust", user["id"], "2", "--reason", "default's"]) == 0
    assert admin(["points", "adjust", demo_user["id"], "2", "--reason", "demo's", "--platform", DEMO_PLATFORM]) == 0
    mine = {user["id"], demo_user["id"]}
    for platform, expected in ((DEMO_PLATFORM, {demo_user["id"]}), ("default", {user["id"]})):
        capsys.readouterr()
        assert admin(["audit", "--json", "--platform", platform]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert {r["platform"] for r in rows} == {platform}
        assert {r["arguments"].get("user") for r in rows} & mine == expected
    assert admin(["audit", "--platform", "no-such-platform"]) == 2  # before anything is read
