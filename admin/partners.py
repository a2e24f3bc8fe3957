"""partner list / partner test ID (shared/partners/open-protocol.md, "Operations").

    partner list              every partner: its protocol, event types, the users holding a consent to it and its
                              deliveries of the last 24 hours (accepted, duplicate and ignored events, refused
                              deliveries), from counters read by key (store/partner_tallies.py): no scan
    partner test ID --base URL
                              signs a sample batch (one event of each type the partner's entry maps, for a
                              `user_ref` nobody linked: ignored and counted, nothing credited) with the partner's
                              secret, POSTs it to URL/v1/webhooks/ID and prints the answer: a partner's integration
                              checked end to end, our side included
"""
from __future__ import annotations

import argparse
import json
import secrets
import time

TIMEOUT = 30
TEST_USER_REF = "gs-partner-test"  # nobody links it: the sample's events are ignored and counted


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    partner = sub.add_parser("partner", help="partners: their deliveries, and a signed test push",
                             description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = partner.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[common], help="every partner, its consents and last 24 h of deliveries")
    test = actions.add_parser("test", parents=[common], help="sign and send a sample event batch to the API")
    test.add_argument("partner", help="an open-protocol partner's id")
    test.add_argument("--base", help="the API's URL (default: the local stack's, else http://127.0.0.1:8000)")


def partner_list(args, out) -> int:
    from chalicelib.domain.open_partners import PROTOCOL, usable_secret
    from chalicelib.services import catalog
    from chalicelib.services.partners import PARTNERS
    from chalicelib.settings import get_settings
    from chalicelib.store.partner_tallies import PartnerTallies

    tallies, settings, rows = PartnerTallies(), get_settings(), []
    for pid, spec in PARTNERS.items():
        rows.append({"id": pid, "name": spec.name, "protocol": "built-in", "events": list(spec.scopes),
                     "status": "ok", **tallies.read(pid)})
    for pid, data in sorted(catalog.open_partners().items()):
        ok = usable_secret(settings.partner_secret_of(pid))
        rows.append({"id": pid, "name": data["name"], "protocol": PROTOCOL,
                     "events": [f"{m['type']}->{m['behavior']}" for m in data["events"]],
                     "status": "ok" if ok else "misconfigured: PARTNER_SECRET__ unset or shorter than 32 bytes",
                     **tallies.read(pid)})
    lines = [f"{'partner':<12} {'protocol':<9} {'bound':>6} {'accepted':>9} {'dup':>6} {'ignored':>8} "
             f"{'refused':>8}  events / status"]
    for r in rows:
        d = r["last_24h"]
        lines.append(f"{r['id']:<12} {r['protocol']:<9} {r['bound']:>6} {d['accepted']:>9} {d['duplicates']:>6} "
                     f"{d['ignored']:>8} {d['refused']:>8}  {', '.join(r['events'])}"
                     + ("" if r["status"] == "ok" else f"  [{r['status']}]"))
    out.result(rows, "\n".join(lines))
    return 0


def partner_test(args, out) -> int:
    import requests

    from chalicelib.domain.open_partners import from_catalog, usable_secret
    from chalicelib.partners.signing import open_headers
    from chalicelib.services import catalog
    from chalicelib.settings import get_settings

    from .console import CommandError

    data = catalog.open_partners().get(args.partner)
    if data is None:
        raise CommandError(f"no open-protocol partner {args.partner} in the catalog (partner list shows them)")
    secret = get_settings().partner_secret_of(args.partner)
    if not usable_secret(secret):
        raise CommandError(f"{args.partner}: PARTNER_SECRET__ is unset or shorter than 32 bytes")
    spec = from_catalog(data)
    moment = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
    events = [{"event_id": f"gs-test-{secrets.token_hex(8)}", "user_ref": TEST_USER_REF, "type": m.type,
               "occurred_at": moment, m.quantity: 1} for m in spec.events]
    body = json.dumps({"events": events}, ensure_ascii=False).encode()
    path = f"/v1/webhooks/{spec.id}"
    headers = {"Content-Type": "application/json",
               **open_headers(spec.id, secret, "POST", path, body, time.time())}
    base = (args.base or _local_api()).rstrip("/")
    try:
        response = requests.post(base + path, data=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CommandError(f"POST {base}{path}: {exc}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    result = {"partner": spec.id, "url": base + path, "sent": len(events), "status": response.status_code,
              "answer": answer}
    out.result(result, f"POST {base}{path}: {len(events)} sample event(s) -> {response.status_code} "
                       f"{json.dumps(answer, ensure_ascii=False)}")
    return 0 if response.status_code == 200 else 1


def _local_api() -> str:
    import os

    return os.environ.get("GREENSPROUT_API_URL") or "http://127.0.0.1:8000"


HANDLERS = {("partner", "list"): partner_list, ("partner", "test"): partner_test}
