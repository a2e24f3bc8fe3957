"""Who the risk simulator drives (contract/risk.md "Operations": `risk simulate`): honest people with the
variation of real usage, and farmers of every pattern the rules look for. Pure: a seeded plan of timed intents;
admin/risk_simulate.py carries them out through the API.

The honest population is drawn from the seed's Luzhou figures (350,000 users, 40,000 of them active on a day:
about 11%), not to flatter the rules:
- activity: each person's chance of being active on a day is drawn from Beta(0.6, 4.7) (mean 11%): many
  occasional users, a few daily regulars;
- joining: 70% are there from the start, with accounts opened 8 days to half a year before it (their login is
  carried out then, so the account's age is real; their first day in the run is an ordinary one), 30% join during
  the simulation (a campaign brings young accounts, who are active on the day they join and may redeem within
  their first week, the ring rule's honest near-miss);
- steps: a personal mean (log-normal around 6,500 a day; 3% are runners around 20,000 who approach the 30,000
  ceiling), a day's total varying 35% around it, days without the phone (0 steps), desk days of a few hundred;
  WeChat hands over the last 30 days at every sync, whatever the person did in the app;
- meals: 0 to 2 clean-plate check-ins on an active day at lunch or dinner time, each with a photo of its own (a
  plate on a table), now and then the last photo sent again by a double tap (a refusal the photo rule counts:
  its honest near-miss), a cutlery-free order now and then,
  garbage sorting with a photo; check-ins minutes to hours apart;
- rides: 40% ride the bus (bound to the bus company), 0 to 2 rides on an active day;
- shopping: on an active day a person with enough points may redeem a coupon of one of the merchants, handed over
  by whichever of its staff is on duty within two days;
- recycling: 10% bring old clothes to a collection point now and then, credited by the clerk on duty.

Farmers, split evenly over the patterns (a ring is 5 to 7 accounts and the clerk who hands their coupons over,
all counted as farmers of the ring):
- `steps_repeat`: a step script that sets one total on most days; `steps_near_max`: one that walks the phone to
  just under the ceiling every day;
- `machine_timing`: a bot checking in at the same second every day (a cron job, within a second);
- `photo_reuse`: a person re-uploading a few meal photos (the same file, or re-encoded, resized);
- `staff_same_person`: a clerk crediting old clothes to two friends on 3 to 5 days a week;
- `staff_ceiling`: a clerk crediting friends far beyond the merchant's daily ceiling, day after day;
- `redemption_ring`: fresh accounts opened the same day that earn a little and redeem the same coupon within
  hours, all handed over by one clerk.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chalicelib.domain import clock
from chalicelib.domain.risk import RULES

LUZHOU_ACTIVE_SHARE = 40_000 / 350_000
STEPS_CEILING = 30_000  # the demo catalog's walk_steps daily_quantity_max
FARMER_PATTERNS = RULES  # one pattern a rule (contract/risk.md "Rules")
HISTORY_DAYS = 30  # what wx.getWeRunData hands over
OLD_ACCOUNT_DAYS = (8, 180)  # how long before the run the 70% who are there from the start opened their account


@dataclass
class Actor:
    """A simulated user (or clerk): who, since when, and what kind (`honest` or a rule id)."""

    key: str
    kind: str
    joins: date
    staff: bool = False
    activity: float = 0.0
    steps: dict[date, int] = field(default_factory=dict)
    rides: bool = False
    recycles: bool = False
    group: str | None = None  # a ring's id; a clerk's collection point


@dataclass(frozen=True)
class Intent:
    """One thing an actor does at `at`: `what` is login, steps, checkin, ride, shop, recycle or ring_redeem."""

    at: datetime
    actor: str
    what: str
    detail: dict = field(default_factory=dict)


@dataclass
class Plan:
    actors: dict[str, Actor]
    intents: list[Intent]
    collection_points: list[str]
    merchants: list[str]

    def honest(self) -> list[Actor]:
        return [a for a in self.actors.values() if a.kind == "honest" and not a.staff]

    def farmers(self) -> list[Actor]:
        return [a for a in self.actors.values() if a.kind != "honest"]


def _moment(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI) + timedelta(hours=hour)


class Planner:
    def __init__(self, honest: int, farmers: int, seed: int, first: date, days: int) -> None:
        self.rng = random.Random(seed)
        self.first, self.days = first, days
        self.n_honest, self.n_farmers = honest, farmers
        self.actors: dict[str, Actor] = {}
        self.intents: list[Intent] = []
        self.collection_points = ["sim-cp-0", "sim-cp-1"]
        self.merchants = [f"sim-m-{i}" for i in range(6)]

    def plan(self) -> Plan:
        for i in range(self.n_honest):
            self._honest(f"h{i}")
        self._farmers()
        self.intents.sort(key=lambda intent: intent.at)
        return Plan(self.actors, self.intents, self.collection_points, self.merchants)

    # the honest -------------------------------------------------------------------------------------------------
    def day_list(self) -> list[date]:
        return [self.first + timedelta(days=d) for d in range(self.days)]

    def _steps_history(self, mean: float) -> dict[date, int]:
        rng, history = self.rng, {}
        for d in range(-HISTORY_DAYS, self.days):
            day = self.first + timedelta(days=d)
            roll = rng.random()
            if roll < 0.04:
                history[day] = 0  # the phone stayed home, or was off
            elif roll < 0.10:
                history[day] = rng.randint(5, 600)  # a desk day
            else:
                history[day] = max(0, int(rng.gauss(mean, 0.35 * mean)))
        return history

    def _honest(self, key: str) -> None:
        rng = self.rng
        if rng.random() < 0.7:  # an account opened before the run, 8 days to half a year before: not young
            joins = self.first - timedelta(days=rng.randint(OLD_ACCOUNT_DAYS[0], OLD_ACCOUNT_DAYS[1]))
        else:
            joins = self.first + timedelta(days=rng.randrange(self.days))
        runner = rng.random() < 0.03
        mean = rng.uniform(17_000, 23_000) if runner else math.exp(rng.gauss(math.log(6_500), 0.4))
        actor = Actor(key, "honest", joins, activity=rng.betavariate(0.6, 4.7), steps=self._steps_history(mean),
                      rides=rng.random() < 0.4, recycles=rng.random() < 0.1)
        self.actors[key] = actor
        self._add(_moment(joins, rng.uniform(7, 22)), key, "login")
        for day in self.day_list():
            if day < joins or (day > joins and rng.random() >= actor.activity):
                continue
            self._honest_day(actor, day)

    def _honest_day(self, actor: Actor, day: date) -> None:
        rng, key = self.rng, actor.key
        start = _moment(day, 0)
        if day == actor.joins:
            start = max(start, next(i.at for i in self.intents if i.actor == key and i.what == "login"))
        later = lambda low, high: max(start + timedelta(minutes=1), _moment(day, rng.uniform(low, high)))  # noqa: E731
        for _ in range(rng.choice((1, 1, 2))):
            self._add(later(7, 23), key, "steps")
        meals = rng.choice((0, 1, 1, 2))
        for meal in range(meals):
            self._add(later(11.5, 14) if meal == 0 else later(17.5, 21), key, "checkin",
                      {"behavior": "clean_plate", "photo": ("fresh", rng.getrandbits(48))})
        if meals and rng.random() < 0.03:  # a double tap: the last photo sent again with a new upload
            self._add(later(12, 22), key, "checkin", {"behavior": "clean_plate", "photo": ("again",)})
        if rng.random() < 0.25:
            self._add(later(11, 21), key, "checkin", {"behavior": "no_cutlery"})
        if rng.random() < 0.15:
            self._add(later(7, 22), key, "checkin",
                      {"behavior": "garbage_sorting", "photo": ("fresh", rng.getrandbits(48))})
        if actor.rides:
            for _ in range(rng.choice((0, 1, 1, 2))):
                self._add(later(7, 21), key, "ride")
        if rng.random() < 0.35:
            self._add(later(9, 21), key, "shop", {"merchant": rng.choice(self.merchants)})
        if actor.recycles and rng.random() < 0.2:
            self._add(later(9, 18), key, "recycle", {"point": rng.choice(self.collection_points),
                                                     "kg": round(rng.uniform(1, 6), 1)})

    # the farmers ------------------------------------------------------------------------------------------------
    def _farmers(self) -> None:
        share, left = divmod(self.n_farmers, len(FARMER_PATTERNS))
        for i, pattern in enumerate(FARMER_PATTERNS):
            count = share + (1 if i < left else 0)
            getattr(self, f"_{pattern}")(count)

    def _farmer(self, key: str, pattern: str, joins: date | None = None, **fields) -> Actor:
        actor = Actor(key, pattern, joins or self.first, activity=1.0, **fields)
        self.actors[key] = actor
        if not actor.staff:
            self._add(_moment(actor.joins, self.rng.uniform(7, 9)), key, "login")
        return actor

    def _steps_repeat(self, count: int) -> None:
        for i in range(count):
            actor = self._farmer(f"f-steps-repeat-{i}", "steps_repeat")
            actor.steps = self._steps_history(self.rng.uniform(5_000, 9_000))
            total = self.rng.choice((16_888, 18_000, 20_000, 19_999, 15_000, 12_345))
            for day in self.day_list():
                if self.rng.random() < 0.8:
                    actor.steps[day] = total
                self._add(_moment(day, self.rng.uniform(21, 23)), actor.key, "steps")

    def _steps_near_max(self, count: int) -> None:
        for i in range(count):
            actor = self._farmer(f"f-steps-max-{i}", "steps_near_max")
            actor.steps = self._steps_history(self.rng.uniform(5_000, 9_000))
            for day in self.day_list():
                actor.steps[day] = self.rng.randint(int(STEPS_CEILING * 0.955), STEPS_CEILING)
                self._add(_moment(day, self.rng.uniform(21, 23)), actor.key, "steps")

    def _machine_timing(self, count: int) -> None:
        for i in range(count):
            actor = self._farmer(f"f-timing-{i}", "machine_timing")
            second = self.rng.uniform(9 * 3600, 10 * 3600)
            for day in self.day_list():
                at = _moment(day, 0) + timedelta(seconds=second + self.rng.uniform(-0.4, 0.4))
                self._add(at, actor.key, "checkin", {"behavior": "no_cutlery"})

    def _photo_reuse(self, count: int) -> None:
        for i in range(count):
            actor = self._farmer(f"f-photo-{i}", "photo_reuse")
            photos = [self.rng.getrandbits(48) for _ in range(2)]
            for day in self.day_list():
                if self.rng.random() < 0.7:
                    variant = self.rng.choice(("same", "requality", "resize"))
                    self._add(_moment(day, self.rng.uniform(11.5, 13.5)), actor.key, "checkin",
                              {"behavior": "clean_plate", "photo": ("reuse", self.rng.choice(photos), variant)})

    def _clerk(self, key: str, pattern: str, friends: int) -> tuple[Actor, list[Actor]]:
        point = self.rng.choice(self.collection_points)
        clerk = self._farmer(key, pattern, staff=True, group=point)
        pals = [self._farmer(f"{key}-friend-{n}", "accomplice") for n in range(friends)]
        return clerk, pals

    def _staff_same_person(self, count: int) -> None:
        for i in range(count):
            clerk, pals = self._clerk(f"f-clerk-friends-{i}", "staff_same_person", 2)
            for day in self.day_list():
                if self.rng.random() < 4 / 7:
                    for pal in pals:
                        self._add(_moment(day, self.rng.uniform(9, 18)), pal.key, "recycle",
                                  {"point": clerk.group, "kg": round(self.rng.uniform(3, 8), 1), "clerk": clerk.key})

    def _staff_ceiling(self, count: int) -> None:
        for i in range(count):
            clerk, pals = self._clerk(f"f-clerk-ceiling-{i}", "staff_ceiling", 6)
            for day in self.day_list():
                if self.rng.random() < 0.5:
                    for pal in pals:
                        self._add(_moment(day, self.rng.uniform(9, 18)), pal.key, "recycle",
                                  {"point": clerk.group, "kg": 45.0, "clerk": clerk.key})

    def _redemption_ring(self, count: int) -> None:
        n = 0
        while count > 0:
            size = min(count - 1, self.rng.randint(5, 7))
            if size < 5:  # too few farmers left for a ring: the rest farm steps instead
                self._steps_repeat_extra(count, n)
                return
            merchant = self.rng.choice(self.merchants)
            clerk = self._farmer(f"f-ring-{n}-clerk", "redemption_ring", staff=True, group=merchant)
            opened = self.first + timedelta(days=self.rng.randrange(max(1, self.days - 6)))
            for k in range(size):
                member = self._farmer(f"f-ring-{n}-{k}", "redemption_ring", joins=opened, group=f"ring-{n}")
                for d in range(3):  # earn enough for the coupon: cutlery-free orders, human-looking times
                    day = opened + timedelta(days=d)
                    for meal in range(3):
                        self._add(_moment(day, 10 + 4 * meal + self.rng.uniform(0, 2)), member.key, "checkin",
                                  {"behavior": "no_cutlery"})
                redeem_day = opened + timedelta(days=3)
                self._add(_moment(redeem_day, self.rng.uniform(10, 20)), member.key, "ring_redeem",
                          {"merchant": merchant, "clerk": clerk.key})
            count -= size + 1
            n += 1

    def _steps_repeat_extra(self, count: int, n: int) -> None:
        for i in range(count):
            actor = self._farmer(f"f-ring-spare-{n}-{i}", "steps_repeat")
            actor.steps = self._steps_history(7_000)
            for day in self.day_list():
                actor.steps[day] = 13_131
                self._add(_moment(day, 22), actor.key, "steps")

    def _add(self, at: datetime, actor: str, what: str, detail: dict | None = None) -> None:
        self.intents.append(Intent(at, actor, what, detail or {}))


def plan(honest: int, farmers: int, seed: int, first: date, days: int) -> Plan:
    return Planner(honest, farmers, seed, first, days).plan()
