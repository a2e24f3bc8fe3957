"""python -m admin risk simulate --honest N --farmers M [--seed S] [--days D] [--json] (contract/risk.md
"Operations"): a simulated population driven through the real API on a local stack of its own, then, per rule
and in total, farmers caught and honest people flagged.

The stack is the bench's (infra/local/ephemeral.running: DynamoDB Local in memory, the fake WeChat, bus company,
bank and S3 on free ports, `init-db`, `seed-demo`), started in a process of its own: the simulation never reads
or writes the tables of the environment the console runs in. On top of the demo catalog it loads its own
merchants (six shops with two coupons each, two collection points), their staff, and the farmers' clerks.

Time: the app's clock (`chalicelib.domain.clock.now`) is the simulation's, so a day of the plan is a business
day to every rule; what WeChat and the partners sign (watermarks, webhook timestamps) and our tokens are real
time, as they are checked against it. The plan (admin/risk_population.py) is carried out in time order, one
request after another, through the Chalice app (the same route, use case and store code as Lambda).

Judged at the end, from each account: a farmer is caught when their account is under review (any rule; a ring's
member or clerk is a farmer of the ring); an honest person (or an honest clerk) is flagged when theirs is.
Accomplices (a crooked clerk's friends) are neither: the rules aim at the clerk.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .risk_population import HISTORY_DAYS, Actor, Intent, Plan, plan

GOODS_PRICES = (15, 60)  # each simulated shop's two coupons
STAFF_PER_POINT = 2


@dataclass
class Person:
    """An actor's side of the API: their login and what they hold."""

    user_id: str
    token: str
    openid: str
    bus_ref: str | None = None
    last_photo: bytes | None = None


@dataclass
class Tally:
    requests: Counter = field(default_factory=Counter)  # "METHOD path -> status"

    def count(self, what: str, status: int) -> None:
        self.requests[f"{what} {status}"] += 1


class Simulation:
    def __init__(self, population: Plan, stack, seed: int) -> None:
        from chalice.test import Client

        import app as app_module

        self.plan, self.stack = population, stack
        self.rng = random.Random(seed ^ 0x5EED)
        self.client = Client(app_module.app, stage_name="local")
        self.people: dict[str, Person] = {}
        self.staff: dict[str, list[str]] = {}  # merchant or collection point -> its honest staff's actor keys
        self.tally = Tally()
        self.now = population.intents[0].at if population.intents else datetime.now().astimezone()

    # the API --------------------------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = getattr(self.client.http, method.lower())(
            path, headers=headers, body=json.dumps(body) if body is not None else None)
        self.tally.count(f"{method} {path.split('?')[0] if '/redeem' not in path else '/v1/market/redeem'}",
                         response.status_code)
        return response.status_code, json.loads(response.body or b"{}")

    def login(self, key: str, openid: str) -> Person:
        status, body = self.call("POST", "/v1/auth/login", {"code": f"wx:{openid}:{uuid.uuid4().hex[:8]}"})
        if status != 200:
            raise RuntimeError(f"login of {key}: {status} {body}")
        person = Person(body["user"]["id"], body["token"], openid)
        self.people[key] = person
        return person

    # the catalog ----------------------------------------------------------------------------------------------
    def setup(self) -> None:
        from admin.catalog_load import load

        merchants, goods = [], []
        clerks = [a for a in self.plan.actors.values() if a.staff]
        for merchant in self.plan.merchants + self.plan.collection_points:
            honest = [f"staff-{merchant}-{n}" for n in range(STAFF_PER_POINT)]
            self.staff[merchant] = honest
            crooked = [a.key for a in clerks if a.group == merchant]
            entry = {"id": merchant, "name": f"模拟商户 {merchant}", "staff_openids": [
                self.openid(key) for key in honest + crooked]}
            if merchant in self.plan.collection_points:
                entry |= {"collection_point": True, "daily_staff_quantity_max": 100, "daily_quantity_max": 2000}
            else:
                goods += [{"id": f"g-{merchant}-{price}", "name": f"模拟兑换券 {price}", "kind": "coupon",
                           "category": "simulation", "merchant_id": merchant, "points_price": price,
                           "stock": 1_000_000, "per_user_limit": 50, "valid_days": 30, "cancellable": True,
                           "refund_on_expiry": False} for price in GOODS_PRICES]
            merchants.append(entry)
        load({"merchants": merchants, "goods": goods}, dry_run=False)
        for keys in self.staff.values():
            for key in keys:
                self.login(key, self.openid(key))
        for clerk in clerks:
            self.login(clerk.key, self.openid(clerk.key))

    @staticmethod
    def openid(key: str) -> str:
        return f"o-sim-{key}"

    # carrying out the plan -------------------------------------------------------------------------------------
    def run(self) -> None:
        from chalicelib.domain import clock

        real_now = clock.now
        clock.now = lambda: self.now
        try:
            for intent in self.plan.intents:
                self.now = intent.at
                self.do(intent)
        finally:
            clock.now = real_now

    def do(self, intent: Intent) -> None:
        actor = self.plan.actors[intent.actor]
        if intent.what == "login":
            self.login(actor.key, self.openid(actor.key))
            return
        person = self.people.get(actor.key)
        if person is None:
            return
        getattr(self, f"_{intent.what}")(actor, person, intent.detail)

    def _steps(self, actor: Actor, person: Person, detail: dict) -> None:
        from chalicelib.domain import clock

        today = clock.business_day(self.now)
        info = []
        for ago in range(HISTORY_DAYS):
            day = today - timedelta(days=ago)
            steps = actor.steps.get(day, 0)
            if ago == 0:  # today so far: the share of the day's walking done by now
                steps = int(steps * min(1.0, max(0.0, (self.now.hour + self.now.minute / 60 - 6) / 16)))
            start = datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI)
            info.append({"timestamp": int(start.timestamp()), "step": steps})
        data = self.stack.wechat.werun(person.openid, info)
        self.call("POST", "/v1/werun/sync", data, token=person.token)

    def _checkin(self, actor: Actor, person: Person, detail: dict) -> None:
        body = {"request_id": uuid.uuid4().hex, "behavior": detail["behavior"]}
        if "photo" in detail:
            data = self.photo(person, detail["photo"])
            upload_id = self.upload(person, data)
            if upload_id is None:
                return
            body["evidence"] = {"upload_id": upload_id}
        self.call("POST", "/v1/checkins", body, token=person.token)

    def photo(self, person: Person, spec: tuple) -> bytes:
        """A fresh photo of the person's own, a double-sent one (the last again), or a farmer's re-used one."""
        from infra.local.photos import photo

        if spec[0] == "again":  # a double tap: the last photo again (or, with none yet, a first one)
            return person.last_photo or photo(self.rng.getrandbits(48))
        if spec[0] == "reuse":
            variant = spec[2]
            data = photo(spec[1], quality=60) if variant == "requality" else \
                photo(spec[1], size=360) if variant == "resize" else photo(spec[1])
        else:
            data = photo(spec[1])
        person.last_photo = data
        return data

    def upload(self, person: Person, data: bytes) -> str | None:
        import requests

        status, body = self.call("POST", "/v1/uploads", {"purpose": "checkin_evidence", "content_type": "image/jpeg",
                                                         "size": len(data)}, token=person.token)
        if status != 201:
            return None
        sent = requests.post(body["url"], data=body["fields"], files={"file": ("photo", data, "image/jpeg")},
                             timeout=10)
        return body["upload_id"] if sent.status_code == 204 else None

    def _ride(self, actor: Actor, person: Person, detail: dict) -> None:
        if person.bus_ref is None:
            number = "139" + "".join(self.rng.choices("0123456789", k=8))
            person.bus_ref = self.stack.transit.add_rider(number)
            code = "pc_" + uuid.uuid4().hex
            self.stack.wechat.add_phone_code(code, number)
            status, _ = self.call("PUT", "/v1/partners/transit/consent", {"phone_code": code}, token=person.token)
            if status != 200:
                return
        boarded = self.now - timedelta(minutes=self.rng.randint(15, 50))
        ride = {"ride_id": f"r_{uuid.uuid4().hex}", "user_ref": person.bus_ref, "mode": "bus",
                "line": f"泸州 {self.rng.randint(1, 40)} 路", "boarded_at": boarded.replace(microsecond=0).isoformat(),
                "alighted_at": self.now.replace(microsecond=0).isoformat(),
                "distance_m": self.rng.randint(1500, 12000), "fare_cents": 200}
        path, headers, body = self.stack.transit.webhook_request([ride])
        response = self.client.http.post(path, headers=headers, body=body)
        self.tally.count("POST /v1/webhooks/transit", response.status_code)

    def _shop(self, actor: Actor, person: Person, detail: dict) -> None:
        status, me = self.call("GET", "/v1/me", token=person.token)
        if status != 200:
            return
        prices = [p for p in GOODS_PRICES if p <= me["points"]]
        if not prices:
            return
        merchant = detail["merchant"]
        self.redeem_and_hand_over(person, f"g-{merchant}-{self.rng.choice(prices)}",
                                  self.rng.choice(self.staff[merchant]))

    def _ring_redeem(self, actor: Actor, person: Person, detail: dict) -> None:
        self.redeem_and_hand_over(person, f"g-{detail['merchant']}-{GOODS_PRICES[0]}", detail["clerk"])

    def redeem_and_hand_over(self, person: Person, goods_id: str, staff_key: str) -> None:
        status, body = self.call("POST", f"/v1/market/goods/{goods_id}/redeem", {"request_id": uuid.uuid4().hex},
                                 token=person.token)
        if status != 201:
            return
        redeemed_at = self.now
        self.now += timedelta(minutes=self.rng.randint(1, 30))  # walks to the counter
        self.call("POST", "/v1/merchant/verify", {"code": body["redemption"]["code"]},
                  token=self.people[staff_key].token)
        self.now = redeemed_at  # the plan's next intent keeps its own time (a bot's second, say)

    def _recycle(self, actor: Actor, person: Person, detail: dict) -> None:
        status, body = self.call("GET", "/v1/me/member-code", token=person.token)
        if status != 200:
            return
        clerk = detail.get("clerk") or self.rng.choice(self.staff[detail["point"]])
        self.call("POST", "/v1/operator/credit", {"request_id": uuid.uuid4().hex, "member_code": body["member_code"],
                                                  "behavior": "old_clothes", "quantity": detail["kg"]},
                  token=self.people[clerk].token)

    # the verdict ----------------------------------------------------------------------------------------------
    def verdict(self) -> dict:
        from chalicelib.domain import review
        from chalicelib.domain.risk import RULES
        from chalicelib.store.models import Account

        ids = {key: person.user_id for key, person in self.people.items()}
        accounts = {a.user_id: a for a in Account.batch_get(list(ids.values()), consistent_read=True)}

        def rules(key: str) -> list[str]:
            account = accounts.get(ids.get(key, ""))
            return review.rules_of(account) if account is not None and review.under_review(account) else []

        honest = [a for a in self.plan.actors.values() if a.kind == "honest"]
        honest_staff = [key for keys in self.staff.values() for key in keys]
        farmers = [a for a in self.plan.actors.values() if a.kind in RULES]
        by_rule = {rule: {"farmers": 0, "caught": 0, "flagged_honest": 0} for rule in RULES}
        flagged = 0
        for key in [a.key for a in honest] + honest_staff:
            fired = rules(key)
            flagged += bool(fired)
            for rule in fired:
                if rule in by_rule:
                    by_rule[rule]["flagged_honest"] += 1
        caught = 0
        for actor in farmers:
            hit = bool(rules(actor.key))
            caught += hit
            by_rule[actor.kind]["farmers"] += 1
            by_rule[actor.kind]["caught"] += hit
        return {"honest": len(honest), "honest_staff": len(honest_staff), "farmers": len(farmers), "caught": caught,
                "flagged_honest": flagged, "by_rule": by_rule,
                "requests": dict(sorted(self.tally.requests.items()))}


def run(honest: int, farmers: int, seed: int, days: int) -> dict:
    """The simulation in this process, on a stack of its own (see the module's docstring)."""
    from chalicelib.domain import clock
    from infra.local.ephemeral import running

    today = clock.business_day(clock.now())
    first = today - timedelta(days=days + 1)  # the simulation ends yesterday: every day of it is whole
    population = plan(honest, farmers, seed, first, days)
    settings = {"WRITE_RATE_PER_MINUTE": "1000000", "LOGIN_RATE_PER_MINUTE": "1000000"}
    with running(**settings) as stack:
        simulation = Simulation(population, stack, seed)
        simulation.setup()
        simulation.run()
        result = simulation.verdict()
    result |= {"seed": seed, "days": days, "first_day": first.isoformat()}
    return result


def text(result: dict) -> str:
    def share(part: int, whole: int) -> str:
        return f"{100 * part / whole:.1f}%" if whole else "-"

    lines = [f"risk simulate: {result['honest']} honest people (and {result['honest_staff']} honest clerks), "
             f"{result['farmers']} farmers, {result['days']} days from {result['first_day']}, seed {result['seed']}",
             f"{'rule':<20}{'farmers':>9}{'caught':>9}{'share':>8}{'honest flagged':>16}"]
    for rule, row in result["by_rule"].items():
        lines.append(f"{rule:<20}{row['farmers']:>9}{row['caught']:>9}{share(row['caught'], row['farmers']):>8}"
                     f"{row['flagged_honest']:>16}")
    lines.append(f"{'total':<20}{result['farmers']:>9}{result['caught']:>9}"
                 f"{share(result['caught'], result['farmers']):>8}{result['flagged_honest']:>16}"
                 f"  ({share(result['flagged_honest'], result['honest'] + result['honest_staff'])} of the honest)")
    goal = result["caught"] >= 0.9 * result["farmers"] and \
        result["flagged_honest"] <= 0.01 * (result["honest"] + result["honest_staff"])
    lines.append("goal (>= 90% of farmers caught, <= 1% of honest people flagged): " + ("met" if goal else "NOT met"))
    return "\n".join(lines)


def simulate(args, out) -> int:
    """The console's `risk simulate`: the simulation in a child process, with none of this environment's
    database settings (it starts its own)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_ENDPOINT_URL", "TABLE_PREFIX", "EVIDENCE_BUCKET"))}
    argv = [sys.executable, "-m", "admin.risk_simulate", "--honest", str(args.honest), "--farmers",
            str(args.farmers), "--seed", str(args.seed), "--days", str(args.days)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        return done.returncode
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.result({k: v for k, v in result.items() if k != "requests"}, text(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin.risk_simulate")
    parser.add_argument("--honest", type=int, required=True)
    parser.add_argument("--farmers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=21)
    args = parser.parse_args(argv)
    quiet = io.StringIO()
    import contextlib
    import logging

    logging.disable(logging.CRITICAL)  # the app's request logs: one line a request, thousands of them
    with contextlib.redirect_stdout(quiet):
        result = run(args.honest, args.farmers, args.seed, args.days)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
