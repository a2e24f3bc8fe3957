"""People in steady state, built through the app, and what their operations cost with the aggregation they cause.

A steady-state person (issue 19) has 30 days of history, 4 behaviours a day (3 check-ins and a WeChat steps
sync, each through the API with the app's clock set to that day), and belongs to organizations from the first
day; after each day the streams are handed to their handlers and the person's fold shard is folded, as AWS
does, so the account, summaries, totals and rank histograms are the items they would be after a month.

An operation is then measured on that person, with its aggregation: the stream handler's inbox put (the
stream bookkeeping of DynamoDB Local's drain is left out: in AWS the event source mapping does it) and the
fold job over the shard (services/fold.py through chalicelib/jobs.py's slice), which then holds only what the
operation produced: its share of the aggregation measured alone, an upper bound (a busy page shares its
histograms, counters, markers and lease among its items; `spread()` measures that share).
"""
from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from .measure import Call, Recorder, table_keys
from .units import Cost, cost, reader

HISTORY_DAYS = 30
CHECKINS_A_DAY = ("clean_plate", "no_cutlery", "garbage_sorting")  # and one steps sync: 4 behaviours a day
PHOTO_CHECKINS = ("clean_plate", "garbage_sorting")  # the demo catalog's behaviours whose evidence is a photo
MEASURED_CHECKIN = "no_cutlery"  # the check-in the plan measures: one without a photo (docs/capacity.md)
STEPS_A_DAY = 8000
SPREAD_USERS = 256  # new people in the spread sample (about 4 a fold shard): one login, a join, a check-in each


@contextlib.contextmanager
def business_time(moment: datetime) -> Iterator[None]:
    """The app's clock (chalicelib/domain/clock.now) reads `moment` inside the block; nothing else moves."""
    from chalicelib.domain import clock

    real = clock.now
    clock.now = lambda: moment
    try:
        yield
    finally:
        clock.now = real


@dataclass
class Person:
    openid: str
    user_id: str = ""
    token: str = ""
    orgs: list[str] = field(default_factory=list)


class Driver:
    """Requests through the whole app (chalice.test.Client), and the fakes of the stack it runs on."""

    def __init__(self, client, stack) -> None:
        self.client, self.stack, self.logins = client, stack, 0
        self.phones: dict[str, str] = {}  # partner reference -> the phone number bound to it

    def call(self, method: str, path: str, body: dict | None = None, token: str = "",
             headers: dict | None = None, raw: bytes | None = None) -> tuple[int, dict]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body, ensure_ascii=False) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=data)
        return response.status_code, (json.loads(response.body) if response.body else {})

    def login(self, person: Person, platform: str | None = None) -> None:
        """A login of the person's WeChat user, on `default` or on `platform` (the fake WeChat gives the same
        unionid on every mini program: one person)."""
        self.logins += 1
        body = {"code": f"wx:{person.openid}:{self.logins}", **({"platform": platform} if platform else {})}
        status, body = self.call("POST", "/v1/auth/login", body)
        if status != 200:
            raise RuntimeError(f"login answered {status}: {body}")
        person.token, person.user_id = body["token"], body["user"]["id"]

    def join(self, person: Person, org: dict) -> None:
        status, body = self.call("POST", f"/v1/orgs/{org['id']}/join", {"invite_code": org["invite_code"]},
                                 token=person.token)
        if status not in (200, 201):
            raise RuntimeError(f"join answered {status}: {body}")
        person.orgs.append(org["id"])

    def check_in(self, person: Person, behaviour: str) -> tuple[int, dict]:
        """A self-reported check-in; a photo behaviour's (the demo catalog's clean_plate, garbage_sorting) with a
        fresh photo uploaded first, as the mini program does (not part of what is measured: the history)."""
        body = {"request_id": "cap_" + uuid.uuid4().hex, "behavior": behaviour}
        if behaviour in PHOTO_CHECKINS:
            body["evidence"] = {"upload_id": self.upload(person)}
        return self.call("POST", "/v1/checkins", body, token=person.token)

    def upload(self, person: Person) -> str:
        """A fresh photo uploaded by `person` (POST /v1/uploads, then the form POST to the object storage)."""
        from infra.local.photos import photo, post_form

        data = photo()
        status, body = self.call("POST", "/v1/uploads", {"purpose": "checkin_evidence", "content_type": "image/jpeg",
                                                         "size": len(data)}, token=person.token)
        if status != 201:
            raise RuntimeError(f"upload answered {status}: {body}")
        sent = post_form(body, data)
        if sent.status_code != 204:
            raise RuntimeError(f"the object storage answered {sent.status_code}: {sent.text}")
        return body["upload_id"]

    def steps(self, person: Person, steps: int) -> tuple[int, dict]:
        from chalicelib.domain import clock

        now = clock.now()
        day = clock.business_day(now)
        start = int(datetime.combine(day, time(0), clock.SHANGHAI).timestamp())
        data = self.stack.wechat.werun(person.openid, [{"timestamp": start, "step": steps}])  # stamped now
        return self.call("POST", "/v1/werun/sync", data, token=person.token)

    def bind(self, person: Person, partner: str, phone: str | None = None, appid: str | None = None) -> str:
        """The person's consent to a new partner account (a new phone number), or with `phone` to the account of
        that number again (the same person on another platform, whose mini program is `appid`)."""
        fake = self.stack.transit if partner == "transit" else self.stack.bank
        if phone is None:
            phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
            ref = fake.add_rider(phone) if partner == "transit" else fake.add_customer(phone)
            self.phones[ref] = phone
        else:
            ref = next(ref for ref, number in self.phones.items() if number == phone)
        code = "pc_" + uuid.uuid4().hex
        self.stack.wechat.add_phone_code(code, phone, **({"appid": appid} if appid else {}))
        status, body = self.call("PUT", f"/v1/partners/{partner}/consent", {"phone_code": code}, token=person.token)
        if status != 200:
            raise RuntimeError(f"{partner} consent answered {status}: {body}")
        return ref

    def ride(self, ref: str) -> tuple[int, dict]:
        from chalicelib.domain import clock

        ride = {"ride_id": f"r_cap_{uuid.uuid4().hex}", "user_ref": ref, "mode": "bus", "line": "泸州 12 路",
                "boarded_at": clock.now().replace(microsecond=0).isoformat(), "distance_m": 6400, "fare_cents": 200}
        path, headers, body = self.stack.transit.webhook_request([ride])
        return self.call("POST", path, headers=headers, raw=body)

    def bank_event(self, ref: str) -> tuple[int, dict]:
        event = self.stack.bank.add_event(ref, "e_statement")
        path, headers, body = self.stack.bank.webhook_request([event])
        return self.call("POST", path, headers=headers, raw=body)


def settle(user_ids: list[str], at: datetime | None = None) -> None:
    """What AWS does after requests: the streams to their handlers, then the fold of the people's shards."""
    from admin import streams
    from chalicelib.domain import clock
    from chalicelib.domain.ranking import shard_of
    from chalicelib.services import fold

    streams.drain()
    for shard in sorted({shard_of(user_id) for user_id in user_ids}):
        fold.fold_slice(shard, at or clock.now())


def build_person(driver: Driver, orgs: list[dict], days: int = HISTORY_DAYS) -> Person:
    """A person with `days` days of history in `orgs`, built day by day through the API."""
    from chalicelib.domain import clock

    person = Person("o-steady-" + uuid.uuid4().hex[:12])
    today = clock.business_day(clock.now())
    for ago in range(days, 0, -1):
        moment = datetime.combine(today - timedelta(days=ago), time(12), clock.SHANGHAI)
        with business_time(moment):
            driver.login(person)  # a new session a day (tokens live 2 hours)
            for org in orgs if ago == days else ():
                driver.join(person, org)
            answers = [driver.check_in(person, behaviour) for behaviour in CHECKINS_A_DAY]
            answers.append(driver.steps(person, STEPS_A_DAY))
            refused = [answer for answer in answers if answer[0] not in (200, 201)]
            if refused:
                raise RuntimeError(f"steady-state history refused on day -{ago}: {refused}")
            settle([person.user_id], moment)
    driver.login(person)
    return person


# --- measuring an operation with its aggregation --------------------------------------------------------
def stream_bookkeeping(call: Call) -> bool:
    """DynamoDB Local's drain describing tables and saving its stream positions: AWS's event source does that."""
    return call.operation == "DescribeTable" or "stream#arn:" in json.dumps(call.params, default=str)


@dataclass
class Parts:
    """One operation's calls, and the aggregation it caused: the stream handler's and the fold's."""

    request: list[Call]
    filed: list[Call]
    folded: list[Call]
    status: int | None = None
    answer: dict = field(default_factory=dict)


def with_aggregation(work: Callable[[], tuple[int, dict]], user_id: str, also: list[str] | None = None) -> Parts:
    """Runs `work` (a request), then the stream handlers and the fold over the person's shard, and over the
    shards of the user ids in `also` as it is after the work (the person's users on other platforms, which a
    login may create), each recorded."""
    from admin import streams
    from chalicelib.domain import clock
    from chalicelib.domain.ranking import shard_of
    from chalicelib.services import fold

    settle([user_id, *(also or [])])  # nothing of earlier steps left to fold
    schema = table_keys()
    with Recorder(schema) as recorder:
        status, answer = work()
    request = recorder.take()
    with Recorder(schema) as recorder:
        streams.drain()
    filed = [c for c in recorder.take() if not stream_bookkeeping(c)]
    with Recorder(schema) as recorder:
        for shard in sorted({shard_of(user) for user in (user_id, *(also or []))}):
            fold.fold_slice(shard, clock.now())
    return Parts(request, filed, recorder.take(), status, answer)


def cost_of(calls: list[Call]) -> Cost:
    return cost(calls, table_keys(), reader())


def own_units(calls: list[Call], user_ids: set[str]) -> float:
    """The write units of items keyed by one of `user_ids` (with their index writes): what one person's items
    cost, as against what a run's items shared by everybody in it cost (histograms, counters, markers, lease)."""
    total = cost_of(calls)
    return sum(units for (table, key), units in total.key_units.items() if any(u in key for u in user_ids))
