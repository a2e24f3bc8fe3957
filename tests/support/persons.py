"""Helpers of the persons tests: a user of the second platform, the person behind an account."""
from __future__ import annotations

import uuid

from chalicelib.store.models import Account
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import call, login
from tests.support.partners import bind, phone


def login_on(client, openid: str, platform: str = DEMO_PLATFORM) -> dict:
    """`openid`'s WeChat user logged in on `platform` (the fake WeChat gives the same unionid on every mini
    program: one person)."""
    status, body = call(client, "POST", "/v1/auth/login",
                        {"code": f"wx:{openid}:{uuid.uuid4().hex[:8]}", "platform": platform})
    assert status == 200, body
    return {"token": body["token"], "id": body["user"]["id"], "openid": openid, "login": body}


def person_of(user_id: str) -> str | None:
    return Account.get(user_id, consistent_read=True).person_id


TRANSIT_PLATFORM, TRANSIT_PLATFORM_APPID, TRANSIT_PLATFORM_SECRET = "t-rides", "wx-t-rides", "test-rides-secret"


def rides_platform(stack, tmp_dir) -> str:
    """A second platform that rewards bus rides (6 points a ride, 2 rides a day at most) and works with the
    transit partner, onboarded as docs/platforms.md says: a catalog load, its secret, its mini program."""
    return _onboard(stack, tmp_dir, {
        "id": TRANSIT_PLATFORM, "name": "公交平台", "wechat_appid": TRANSIT_PLATFORM_APPID,
        "branding": {"name": "公交平台", "slogan": "坐公交", "primary_color": "#123456", "logo_url": None},
        "behaviors": [{"code": "bus_ride", "points": {"points": 6, "per": 1}, "daily_limit": 2}],
        "partners": ["transit"]}, TRANSIT_PLATFORM_SECRET)


STEPS_PLATFORM, STEPS_PLATFORM_APPID, STEPS_PLATFORM_SECRET = "t-steps", "wx-t-steps", "test-steps-secret"


def steps_platform(stack, tmp_dir) -> str:
    """A platform that rewards WeChat Sports steps (1 point a 1,000 steps), onboarded as rides_platform is."""
    return _onboard(stack, tmp_dir, {
        "id": STEPS_PLATFORM, "name": "步行平台", "wechat_appid": STEPS_PLATFORM_APPID,
        "branding": {"name": "步行平台", "slogan": "走路", "primary_color": "#654321", "logo_url": None},
        "behaviors": [{"code": "walk_steps", "points": {"points": 1, "per": 1000}}], "partners": []},
        STEPS_PLATFORM_SECRET)


def _onboard(stack, tmp_dir, entry: dict, secret: str) -> str:
    import json
    import os

    from admin.__main__ import main as admin
    from chalicelib.services import catalog
    from chalicelib.settings import get_settings

    path = tmp_dir / f"{entry['id']}-platform.json"
    path.write_text(json.dumps({"platforms": [entry]}, ensure_ascii=False), encoding="utf-8")
    assert admin(["load", str(path)]) == 0
    stack.wechat.add_app(entry["wechat_appid"], secret)
    os.environ["WECHAT_SECRET__" + entry["id"].upper().replace("-", "_")] = secret
    get_settings.cache_clear()
    catalog.forget()
    return entry["id"]


def bind_on(client, user: dict, stack, number: str, appid: str = TRANSIT_PLATFORM_APPID,
            partner: str = "transit") -> tuple[int, dict]:
    """PUT /v1/partners/{partner}/consent for the rider (or customer) of `number`, with a phone code WeChat
    issued to the mini program `appid` (the user's platform's): (status, body)."""
    code = "pc_" + uuid.uuid4().hex
    stack.wechat.add_phone_code(code, number, appid=appid)
    return call(client, "PUT", f"/v1/partners/{partner}/consent", {"phone_code": code}, token=user["token"])


def bind_without_route(user_id: str, number: str) -> None:
    """Binds the user's transit consent to the rider of `number` as a bind writes it, without claiming the
    partner account's link (so webhooks do not reach it; pulls do). Tests written before the route served other
    platforms use it; new tests bind through the route (`bind_on`)."""
    from chalicelib.domain import clock
    from chalicelib.domain import consents as rules
    from chalicelib.services.partners import client
    from chalicelib.store.repositories_consent import Bindings

    binding = client("transit").authorize(number)
    after = rules.bound(None, user_id, "transit", binding.partner_ref, binding.authorization_id,
                        clock.iso(clock.now()), True)
    Bindings._commit(None, after)


def rider(client, stack, openid: str, platform: str) -> tuple[dict, dict, str]:
    """One person bound to one bus account on `default` (through the route) and on `platform` (as
    `bind_without_route` writes it): (the `default` user, the `platform` user, the partner's reference)."""
    number = phone()
    on_default = login(client, openid)
    ref = bind(client, stack, on_default, "transit", number)
    other = login_on(client, openid, platform)
    bind_without_route(other["id"], number)
    return on_default, other, ref


def pull(user_id: str) -> dict:
    """POST /v1/partners/transit/sync as the use case runs it, for a user of any platform."""
    from chalicelib import bootstrap
    from chalicelib.services import partner_sync

    result = partner_sync.pull(user_id, "transit", bootstrap.partner_uow())
    return {"imported": result.imported, "duplicates": result.duplicates, "points": result.points,
            "carbon_mg": result.carbon_mg}


def rewind(user_id: str, partner: str = "transit") -> None:
    """The user's pull cursor back to the start, so that the next pull reads every event again."""
    from chalicelib.store.partners import Consent

    Consent.get(user_id, partner, consistent_read=True).update(actions=[Consent.cursor.set(None)])


def bound_on_both(client, stack, openid: str, platform: str) -> tuple[dict, dict, str, str]:
    """One person: a `default` user and a user of `platform`, each bound to one bus account by the route: (the
    `default` user, the `platform` user, the partner's reference, the phone number)."""
    number = phone()
    on_default = login(client, openid)
    ref = bind(client, stack, on_default, "transit", number)
    on_other = login_on(client, openid, platform)
    status, body = bind_on(client, on_other, stack, number)
    assert (status, body["status"]) == (200, "bound"), body
    return on_default, on_other, ref, number


LEDGER_PLATFORM, LEDGER_PLATFORM_APPID, LEDGER_PLATFORM_SECRET = "t-ledger", "wx-t-ledger", "test-ledger-secret"


def ledger_platform(stack, tmp_dir) -> str:
    """A platform of its own for the issuance verifier's end-to-end test (its own chain of daily roots): check-ins
    without a photo and WeChat Sports steps, onboarded as rides_platform is."""
    return _onboard(stack, tmp_dir, {
        "id": LEDGER_PLATFORM, "name": "账本平台", "wechat_appid": LEDGER_PLATFORM_APPID,
        "branding": {"name": "账本平台", "slogan": "可验证", "primary_color": "#224466", "logo_url": None},
        "behaviors": [{"code": "no_cutlery"}, {"code": "green_parking"}, {"code": "walk_steps"}], "partners": []},
        LEDGER_PLATFORM_SECRET)
