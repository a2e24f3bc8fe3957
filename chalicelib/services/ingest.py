"""Ingesting events a partner verified, shared by pull (`POST /v1/partners/{id}/sync`) and push (webhooks).

For each user: one consistent batch read of what is known (account with its day counters, consent,
which event ids are already seen), then postings planned in time order with the verified-event caps,
written by `posting.post` with a seen-event item per event (`attribute_not_exists`) and a check that
the consent is still bound, in one transaction per group of at most 100 actions. A write cancelled by
a race (the same event pushed and pulled at once, a revocation, a freeze) re-reads and plans again:
nothing counts twice and nothing of a revoked or frozen user lands.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from ..domain import clock
from ..domain.caps import award_verified_event
from ..domain.methodology import Rule
from ..domain.partner_events import SEEN_TTL, PartnerEvent, chunks, consented, timely
from ..errors import AppError
from ..store.models import Account
from ..store.partners import Consent, PartnerLink, SeenEvent
from ..store.tx import connection as tx_connection
from . import catalog
from .posting import Plan, Posting, carbon_g, day_count, post

WORKERS = 8  # users of one webhook batch written in parallel (each user's transactions stay in order)


@dataclass
class Outcome:
    imported: int = 0
    duplicates: int = 0
    ignored: int = 0
    points: int = 0
    carbon_mg: int = 0

    def add(self, other: Outcome) -> Outcome:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.points += other.points
        self.carbon_mg += other.carbon_mg
        return self

    def sync_json(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "ignored": self.ignored,
                "awarded": {"points": self.points, "carbon_g": carbon_g(self.carbon_mg)}}

    def webhook_json(self) -> dict:
        return {"accepted": self.imported, "duplicates": self.duplicates, "ignored": self.ignored}


@dataclass
class Known:
    """What a batch read said about one user: their account, their consent, the event keys already seen."""

    account: Account | None
    consent: Consent | None
    seen: set[str] = field(default_factory=set)


class NothingToPost(AppError):
    """Raised by a planner whose events all turned out seen or no longer eligible (nothing to write)."""


def ingest_batch(partner: str, events: list[PartnerEvent]) -> Outcome:
    """A webhook batch: users found through their partner links, everything known read in batches, then
    each user's transactions, several users at a time (their writes touch disjoint items)."""
    outcome = Outcome()
    if not events:
        return outcome
    links = {link.key: link.user_id for link in PartnerLink.batch_get(
        {f"{partner}#{e.partner_ref}" for e in events}, consistent_read=True) if link.user_id}
    by_user: dict[str, list[PartnerEvent]] = {}
    for event in events:
        user_id = links.get(f"{partner}#{event.partner_ref}")
        if user_id is None:
            outcome.ignored += 1
        else:
            by_user.setdefault(user_id, []).append(event)
    if not by_user:
        return outcome
    consents = {c.user_id: c for c in Consent.batch_get([(u, partner) for u in by_user], consistent_read=True)}
    accounts = {a.user_id: a for a in Account.batch_get(list(by_user), consistent_read=True)}
    seen = seen_keys(e.key for group in by_user.values() for e in group)

    def one_user(item: tuple[str, list[PartnerEvent]]) -> Outcome:
        user_id, group = item
        return ingest_user(user_id, partner, group, Known(accounts.get(user_id), consents.get(user_id), seen))

    if len(by_user) == 1:
        return outcome.add(one_user(next(iter(by_user.items()))))
    catalog.behaviors()
    tx_connection().client  # noqa: B018 - build the shared clients once, before threads use them
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(by_user))) as pool:
        for result in pool.map(one_user, by_user.items()):
            outcome.add(result)
    return outcome


def seen_keys(keys) -> set[str]:
    keys = set(keys)
    return {item.key for item in SeenEvent.batch_get(keys, consistent_read=True)} if keys else set()


def ingest_user(user_id: str, partner: str, events: list[PartnerEvent], known: Known) -> Outcome:
    """One user's events: duplicates and ineligible ones counted, the rest posted in time order.

    An event past the 7-day limit is ignored before its seen item is even looked at: that item expires
    (TTL, SEEN_TTL) and may be gone, so the answer must not depend on it."""
    outcome, now, rules = Outcome(), clock.now(), catalog.behaviors()
    fresh: dict[str, PartnerEvent] = {}
    for event in events:
        if not timely(event, now):
            outcome.ignored += 1
        elif event.key in known.seen or event.key in fresh:
            outcome.duplicates += 1
        else:
            fresh[event.key] = event
    eligible = [e for e in fresh.values() if _eligible(e, known.consent, known.account, rules, now)]
    outcome.ignored += len(fresh) - len(eligible)
    eligible.sort(key=lambda e: (e.occurred_at, e.event_id))
    for index, chunk in enumerate(chunks(eligible)):
        outcome.add(_post_chunk(user_id, partner, chunk, known.consent, known.account if index == 0 else None))
    return outcome


def _eligible(event: PartnerEvent, consent: Consent | None, account: Account | None, rules: dict[str, Rule],
              now: datetime) -> bool:
    rule = rules.get(event.behavior)
    return (account is not None and not account.frozen and consent is not None and consent.status == "bound"
            and consent.partner_ref == event.partner_ref and consented(consent.periods, event.occurred_at)
            and timely(event, now) and rule is not None and event.partner in rule.channels)


def _post_chunk(user_id: str, partner: str, chunk: list[PartnerEvent], consent: Consent | None,
                account: Account | None) -> Outcome:
    """One transaction's worth of events; on a lost race, re-reads consent and seen ids and plans again."""
    state: dict = {"attempt": 0, "outcome": Outcome()}

    def plan(current: Account) -> Plan:
        nonlocal consent
        todo, outcome = chunk, Outcome()
        rules, now = catalog.behaviors(), clock.now()
        if state["attempt"]:
            consent = _consent(user_id, partner)
            seen = seen_keys(e.key for e in chunk)
            todo = [e for e in chunk if e.key not in seen]
            outcome.duplicates = len(chunk) - len(todo)
        state["attempt"] += 1
        eligible = [e for e in todo if _eligible(e, consent, current, rules, now)]
        outcome.ignored = len(todo) - len(eligible)
        state["outcome"] = outcome
        if not eligible or consent is None:
            raise NothingToPost()
        postings = _postings(current, partner, eligible, rules)
        outcome.imported = len(postings)
        outcome.points = sum(p.points for p in postings)
        outcome.carbon_mg = sum(p.carbon_mg for p in postings)
        bound = consent
        return Plan(postings, respond=lambda entries, after: (200, {}),
                    extra=lambda tx: _guards(tx, user_id, partner, eligible, bound, now))

    try:
        post(user_id, plan, account=account)
    except NothingToPost:
        pass
    return state["outcome"]


def _consent(user_id: str, partner: str) -> Consent | None:
    try:
        return Consent.get(user_id, partner, consistent_read=True)
    except Consent.DoesNotExist:
        return None


def _postings(account: Account, partner: str, events: list[PartnerEvent], rules: dict[str, Rule]) -> list[Posting]:
    """Each event against its day's counters as they stand after the events before it."""
    counters: dict = {}
    postings = []
    for event in events:
        rule = rules[event.behavior]
        key = (event.day, rule.code)
        award = award_verified_event(rule, counters.get(key) or day_count(account, event.day, rule.code),
                                     event.quantity)
        counters[key] = award.day
        postings.append(Posting("earn", award.points, award.carbon_mg, partner, behavior=rule.code, rule=rule,
                                inputs={**award.inputs, **event.detail}, ref=event.event_id, day=event.day,
                                day_count=award.day))
    return postings


def _guards(tx, user_id: str, partner: str, events: list[PartnerEvent], consent: Consent, now: datetime) -> None:
    """Each event is new, and the consent is still the bound one the plan was made with."""
    at = clock.iso(now)
    expires = now + SEEN_TTL
    for index, event in enumerate(events):
        tx.put(f"seen:{index}", SeenEvent(event.key, user_id=user_id, day=event.day.isoformat(), at=at,
                                          expires_at=expires),
               condition=SeenEvent.key.does_not_exist())
    tx.check("consent", Consent, user_id, partner,
             condition=(Consent.status == "bound") & (Consent.authorization_id == consent.authorization_id))
