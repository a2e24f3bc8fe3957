"""`python -m admin demo rides OPENID`: bus rides for a demo user of `make run`, through the real partner path.

Nothing is written to the database directly. The command logs in as the user through the API (the fake WeChat
accepts `wx:<openid>:...` codes), binds the fake bus company with the phone-number button's flow if the user is
not bound yet (PUT /v1/partners/transit/consent; the fake WeChat and bus company learn the phone through their
control APIs), records rides boarded now in the fake bus company's log, and has it push them to our webhook
signed as the partner signs (POST /v1/webhooks/transit). The API awards them exactly as it would real ones: 10
points a ride, at most 6 a day (the demo catalog's `bus_ride`).

Only against fakes on this machine: the command refuses when the WeChat or bus company base URL is not local.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TIMEOUT = 30


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    demo = sub.add_parser("demo", help="demo data for `make run`, through the real API and partner paths")
    demo_sub = demo.add_subparsers(dest="action", required=True, metavar="ACTION")
    rides = demo_sub.add_parser("rides", parents=[writes], help="bus rides pushed by the fake bus company",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rides.add_argument("openid", help="the user's openid, as in the login code wx:OPENID:N (e.g. o-demo)")
    rides.add_argument("--count", type=int, default=6, help="rides boarded now (default 6, the daily cap)")
    rides.add_argument("--api", help="the API's URL (default: the local stack's, else http://127.0.0.1:8000)")
    bikes = demo_sub.add_parser("bikes", parents=[writes], help="bike rides pushed by the fake open-protocol "
                                "partner (bikeshare), the user linked by a link code")
    bikes.add_argument("openid", help="the user's openid, as in the login code wx:OPENID:N (e.g. o-demo)")
    bikes.add_argument("--count", type=int, default=3, help="rides of 2.4 km ridden now (default 3)")
    bikes.add_argument("--api", help="the API's URL (default: the local stack's, else http://127.0.0.1:8000)")


def _local(url: str | None, what: str) -> str:
    from .console import CommandError  # the parsers are added before any setting is read: import when run

    if not url or urlsplit(url).hostname not in LOOPBACK:
        raise CommandError(f"demo commands drive the fakes of `make run`; the {what} is {url or 'not set'}, "
                           "not on this machine")
    return url.rstrip("/")


def _call(method: str, address: str, expect: tuple[int, ...], token: str | None = None, **body) -> dict:
    import requests

    from .console import CommandError

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.request(method, address, json=body or None, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CommandError(f"{method} {address}: {exc} (is `make run` running?)") from None
    data = response.json() if response.content else {}
    if response.status_code not in expect:
        raise CommandError(f"{method} {address} answered {response.status_code}: {data}")
    return data


def _phone(openid: str) -> str:
    """The demo user's phone at the fake partners: the same for the same openid."""
    return "139" + str(int(hashlib.sha256(openid.encode()).hexdigest(), 16))[-8:]


def _bind_transit(api: str, wechat: str, transit: str, token: str, phone: str) -> str:
    """Binds the user to the fake bus company's rider of `phone` (the user's consent, as the mini program
    gives it); returns the rider's user_ref."""
    user_ref = _call("POST", f"{transit}/__fake__/riders", (200,), phone=phone)["user_ref"]
    partners = _call("GET", f"{api}/v1/partners", (200,), token)["items"]
    bound = any(p["id"] == "transit" and p["status"] == "bound" for p in partners)
    known = any(a["user_ref"] == user_ref and a["active"]
                for a in _call("GET", f"{transit}/__fake__/authorizations", (200,))["authorizations"])
    if bound and known:
        return user_ref
    if bound:  # bound at a fake bus company of an earlier `make run` (the fakes keep nothing): bind anew
        _call("DELETE", f"{api}/v1/partners/transit/consent", (200,), token)
    code = "pc_demo_" + secrets.token_hex(8)
    _call("POST", f"{wechat}/__fake__/phone_codes", (200,), code=code, phone=phone)
    _call("PUT", f"{api}/v1/partners/transit/consent", (200,), token, phone_code=code)
    time.sleep(1.1)  # rides count from the consent on; the fake records boarding times to the second
    return user_ref


def rides(openid: str, count: int, api: str | None, dry_run: bool = False) -> dict:
    from chalicelib.settings import get_settings

    from .console import CommandError

    if not 1 <= count <= 50:
        raise CommandError("--count must be 1 to 50")
    settings = get_settings()
    api = _local(api or os.environ.get("GREENSPROUT_API_URL") or "http://127.0.0.1:8000", "API")
    wechat = _local(settings.wechat_api_base, "WeChat API base (WECHAT_API_BASE)")
    transit = _local(settings.transit_api_base, "bus company base (TRANSIT_API_BASE)")
    if dry_run:
        return {"openid": openid, "rides": count, "api": api, "transit": transit, "dry_run": True}
    login = _call("POST", f"{api}/v1/auth/login", (200,), code=f"wx:{openid}:demo-{secrets.token_hex(6)}")
    token, user_id = login["token"], login["user"]["id"]
    before = _call("GET", f"{api}/v1/me", (200,), token)["points"]
    user_ref = _bind_transit(api, wechat, transit, token, _phone(openid))
    recorded = [_call("POST", f"{transit}/__fake__/rides", (200,), user_ref=user_ref, mode="bus")
                for _ in range(count)]
    return _pushed(api, transit, token, recorded, {"user_id": user_id, "openid": openid, "points_before": before})


def _pushed(api: str, fake: str, token: str, events: list, result: dict) -> dict:
    """Has the fake partner at `fake` push `events` to the API's webhook, signed; `result` with the webhook's
    answer and the user's points after it."""
    from .console import CommandError

    pushed = _call("POST", f"{fake}/__fake__/push", (200,), url=api, events=events)
    if pushed["status"] != 200:
        raise CommandError(f"the webhook answered {pushed['status']}: {pushed['body']}")
    after = _call("GET", f"{api}/v1/me", (200,), token)["points"]
    return {**result, "rides": len(events), "webhook": pushed["body"], "points": after}


def _report(args, out, run, command: str, rides: str, pusher: str, earns: str) -> int:
    """A demo command's console side: its dry run, its audit record and its line."""
    from .console import audit

    result = run(args.openid, args.count, args.api, args.dry_run)
    if args.dry_run:
        source = result.get("transit") or result.get("partner")
        out.result(result, f"would push {args.count} {rides} of {args.openid} from {source} to {result['api']} "
                           "(dry run)")
        return 0
    audit(command, {"user": result["user_id"], "rides": result["rides"]}, outcome=result["webhook"])
    webhook = result["webhook"]
    out.result(result, f"{result['user_id']} ({args.openid}): {result['rides']} {rides} pushed by {pusher}'s "
                       f"signed webhook ({webhook['accepted']} accepted, {webhook['duplicates']} duplicates, "
                       f"{webhook['ignored']} ignored); points {result['points_before']} -> {result['points']} "
                       f"({earns})")
    return 0


def _rides(args, out) -> int:
    return _report(args, out, rides, "demo rides", "rides", "the fake bus company",
                   "bus rides earn on at most 6 a day")


def bikes(openid: str, count: int, api: str | None, dry_run: bool = False) -> dict:
    """The user linked to the fake open-protocol partner `bikeshare` (a link code from the API, handed to the
    fake, which links it by the signed POST /v1/open/links), then `count` rides pushed by its signed webhook."""
    from .console import CommandError

    if not 1 <= count <= 50:
        raise CommandError("--count must be 1 to 50")
    api = _local(api or os.environ.get("GREENSPROUT_API_URL") or "http://127.0.0.1:8000", "API")
    fake = _local(os.environ.get("GREENSPROUT_FAKE_OPEN_PARTNER_URL"),
                  "fake open-protocol partner (GREENSPROUT_FAKE_OPEN_PARTNER_URL)")
    if dry_run:
        return {"openid": openid, "rides": count, "api": api, "partner": fake, "dry_run": True}
    login = _call("POST", f"{api}/v1/auth/login", (200,), code=f"wx:{openid}:demo-{secrets.token_hex(6)}")
    token, user_id = login["token"], login["user"]["id"]
    before = _call("GET", f"{api}/v1/me", (200,), token)["points"]
    user_ref = "demo-" + hashlib.sha256(openid.encode()).hexdigest()[:12]
    partners = _call("GET", f"{api}/v1/partners", (200,), token)["items"]
    if not any(p["id"] == "bikeshare" and p["status"] == "bound" for p in partners):
        code = _call("POST", f"{api}/v1/partners/bikeshare/link-code", (201,), token)["link_code"]
        linked = _call("POST", f"{fake}/__fake__/link", (200,), url=api, link_code=code, user_ref=user_ref)
        if linked["status"] != 200:
            raise CommandError(f"the link answered {linked['status']}: {linked['body']}")
    now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0).isoformat()
    events = [{"event_id": f"demo-{secrets.token_hex(8)}", "user_ref": user_ref, "type": "bike_ride",
               "occurred_at": now, "distance_km": 2.4} for _ in range(count)]
    return _pushed(api, fake, token, events, {"user_id": user_id, "openid": openid, "points_before": before})


def _bikes(args, out) -> int:
    return _report(args, out, bikes, "demo bikes", "bike rides", "the fake open-protocol partner",
                   "1 a km, at most 20 a day")


HANDLERS = {("demo", "rides"): _rides, ("demo", "bikes"): _bikes}
