"""Ingesting events a partner verified, shared by pull (`POST /v1/partners/{id}/sync`) and push (webhooks).

    pull (services/partner_sync.py) or push (services/webhooks.py) -> ingest_user -> caps (domain/caps.py)
    -> one posting per chunk (store/unit_of_work.py, guards of domain/guards_ingest.py)

For each user: what is known (account with its day counters, consent, which event ids are already seen)
comes from one batch read; events past the 7-day limit are ignored before their seen item is looked at
(that item expires by TTL), seen ones are duplicates, ineligible ones (no bound consent covering the
moment, a frozen account, a behaviour not earned through this partner) are ignored; the rest are posted
in time order with the verified-event caps (beyond a cap an event counts, for 0 points), in chunks the
unit of work says fit one transaction. Each chunk's transaction marks its events seen (`EventUnseen`) and
holds only while the consent is the bound one (`ConsentStillBound`): a race lost to the same event pushed
and pulled at once, a revocation or a freeze reads the consent and the seen items again and decides again,
so nothing counts twice and nothing of a revoked or frozen user lands.

Across platforms (docs/platforms.md "Each reduction counted once"): an event is seen once per platform (its seen
key names the platform, `PartnerEvent.seen_key`), and its carbon is the person's, claimed once for every platform
(`CarbonClaimed`, in the same transaction). A refused claim names the platform holding it; the next attempt
records the event here with its points and 0 carbon, `counted_via` that platform (`CarbonHeldBy`).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain import clock, persons
from ..domain.caps import award_verified_event
from ..domain.guards import Guard
from ..domain.guards_ingest import CarbonClaimed, CarbonHeldBy, ConsentStillBound, EventUnseen
from ..domain.methodology import Rule
from ..domain.partner_events import PartnerEvent, chunks, consented, timely
from ..domain.platforms import DEFAULT
from ..domain.posting import Posting, day_count
from ..domain.results_ingest import Outcome
from ..errors import UnknownBehaviorError

WORKERS = 8  # users of one webhook batch written in parallel (each user's transactions stay in order)


@dataclass
class Known:
    """What a batch read said about one user: their account, their consent, the event keys already seen."""

    account: Any
    consent: Any
    seen: set[str] = field(default_factory=set)


def ingest_batch(partner: str, events: list[PartnerEvent], new_uow: Any) -> Outcome:
    """A webhook batch: users found through their partner links, everything known read in batches, then
    each user's transactions, several users at a time (each with its own unit of work from `new_uow()`;
    their writes touch disjoint items)."""
    outcome = Outcome()
    if not events:
        return outcome
    uow = new_uow()
    users = uow.links.users(partner, {e.partner_ref for e in events})
    by_user: dict[str, list[PartnerEvent]] = {}
    for event in events:
        user_id = users.get(event.partner_ref)
        if user_id is None:
            outcome.ignored += 1
        else:
            by_user.setdefault(user_id, []).append(event)
    if not by_user:
        return outcome
    consents = uow.consents.many(list(by_user), partner)
    accounts = uow.accounts.many(list(by_user))
    seen = uow.seen.seen(e.seen_key(platform_of(accounts.get(user))) for user, group in by_user.items() for e in group)
    rules = rules_of(uow.catalog, events)

    def one_user(item: tuple[str, list[PartnerEvent]]) -> Outcome:
        user_id, group = item
        known = Known(accounts.get(user_id), consents.get(user_id), seen)
        return ingest_user(user_id, partner, group, known, new_uow() if len(by_user) > 1 else uow, rules)

    if len(by_user) == 1:
        return outcome.add(one_user(next(iter(by_user.items()))))
    uow.prepare_threads()
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(by_user))) as pool:
        for result in pool.map(one_user, by_user.items()):
            outcome.add(result)
    return outcome


def platform_of(account: Any) -> str:
    return (getattr(account, "platform", None) or DEFAULT) if account is not None else DEFAULT


def rules_of(catalog: Any, events: list[PartnerEvent], platform: str = DEFAULT) -> dict[str, Rule]:
    """The rules of the events' behaviours on `platform` (a type the partner added later has none yet, and a
    behaviour the platform does not reward has none there)."""
    rules = {}
    for code in {e.behavior for e in events}:
        try:
            rules[code] = catalog.behavior(code, platform)
        except UnknownBehaviorError:
            pass
    return rules


def ingest_user(user_id: str, partner: str, events: list[PartnerEvent], known: Known, uow: Any,
                rules: dict[str, Rule] | None = None) -> Outcome:
    """One user's events: duplicates and ineligible ones counted, the rest posted in time order.

    An event past the 7-day limit is ignored before its seen item is even looked at: that item expires
    (TTL, SEEN_TTL) and may be gone, so the answer must not depend on it."""
    outcome, now, platform = Outcome(), clock.now(), platform_of(known.account)
    if rules is None or platform != DEFAULT:  # a batch's rules are `default`'s
        rules = rules_of(uow.catalog, events, platform)
    fresh: dict[str, PartnerEvent] = {}
    for event in events:
        if not timely(event, now):
            outcome.ignored += 1
        elif event.seen_key(platform) in known.seen or event.key in fresh:
            outcome.duplicates += 1
        else:
            fresh[event.key] = event
    eligible = [e for e in fresh.values() if _eligible(e, known.consent, known.account, rules, now)]
    outcome.ignored += len(fresh) - len(eligible)
    eligible.sort(key=lambda e: (e.occurred_at, e.event_id))
    for index, chunk in enumerate(transactions(uow, user_id, partner, eligible, known.account)):
        account = known.account if index == 0 else None
        outcome.add(_post_chunk(uow, user_id, partner, chunk, known.consent, account, rules))
    return outcome


def transactions(uow: Any, user_id: str, partner: str, events: list[PartnerEvent],
                 account: Any = None) -> list[list[PartnerEvent]]:
    """The events cut into consecutive groups, each as many as the unit of work says one transaction holds
    with their entries, month summaries and guards."""
    consent = ConsentStillBound(user_id, partner, None)
    claims = persons.joinable(account)
    slots = [(e, Posting("earn", 0, 0, e.partner, behavior=e.behavior, day=e.day),
              (EventUnseen(e.key, user_id, e.day), *([CarbonHeldBy(e.key, "")] if claims else []))) for e in events]

    def fits(group: list[tuple]) -> bool:
        return uow.fits([posting for _, posting, _ in group], [*(g for _, _, pair in group for g in pair), consent])

    return [[event for event, _, _ in group] for group in chunks(slots, fits)]


def _eligible(event: PartnerEvent, consent: Any, account: Any, rules: dict[str, Rule], now: datetime) -> bool:
    rule = rules.get(event.behavior)
    return (account is not None and not account.frozen and consent is not None and consent.status == "bound"
            and consent.partner_ref == event.partner_ref and consented(consent.periods, event.occurred_at)
            and timely(event, now) and rule is not None and event.partner in rule.channels)


def _post_chunk(uow: Any, user_id: str, partner: str, chunk: list[PartnerEvent], consent: Any, account: Any,
                rules: dict[str, Rule]) -> Outcome:
    """One transaction's worth of events; a lost race reads the consent and the seen items again."""
    with uow.posting(user_id, account=account) as posting:
        for attempt, current in enumerate(posting.attempts()):
            todo = chunk
            platform = platform_of(current)
            if attempt:
                consent = uow.consents.get(user_id, partner)
                seen = uow.seen.seen(e.seen_key(platform) for e in chunk)
                todo = [e for e in chunk if e.seen_key(platform) not in seen]
            now = clock.now()
            eligible = [e for e in todo if _eligible(e, consent, current, rules, now)]
            outcome = Outcome(duplicates=len(chunk) - len(todo), ignored=len(todo) - len(eligible))
            if not eligible:
                posting.answer(outcome)
                continue
            postings = _postings(current, partner, eligible, rules, posting.holders)
            staged = posting.stage(postings)
            for guard in _guards(current, partner, eligible, consent.authorization_id, staged.lines, posting.holders):
                posting.guard(guard)
            outcome.imported = len(postings)
            outcome.points = sum(p.points for p in postings)
            outcome.carbon_mg = sum(p.carbon_mg for p in postings)
            posting.commit(outcome)
    return posting.result


def _postings(account: Any, partner: str, events: list[PartnerEvent], rules: dict[str, Rule],
              holders: dict[str, str]) -> list[Posting]:
    """Each event against its day's counters as they stand after the events before it; one whose carbon another
    platform holds (`holders`, learned from its refused claim) earns its points here for 0 carbon."""
    person = persons.person_of(account)
    counters: dict = {}
    postings = []
    for event in events:
        rule = rules[event.behavior]
        key = (event.day, rule.code)
        award = award_verified_event(rule, counters.get(key) or day_count(account, event.day, rule.code),
                                     event.quantity)
        counters[key] = award.day
        held = holders.get(event.claim_key(person))
        postings.append(Posting("earn", award.points, 0 if held else award.carbon_mg, partner, behavior=rule.code,
                                rule=rule, inputs={**award.inputs, **event.detail}, ref=event.event_id,
                                day=event.day, day_count=award.day, counted_via=held))
    return postings


def _guards(account: Any, partner: str, events: list[PartnerEvent], authorization_id: str | None,
            lines: list, holders: dict[str, str]) -> list[Guard]:
    """Each event is new on this platform, its carbon claimed for the person here (or still held where another
    platform claimed it), and the consent is still the bound one the events were checked against."""
    user_id, platform, person = account.user_id, platform_of(account), persons.person_of(account)
    guards: list[Guard] = [EventUnseen(e.seen_key(platform), user_id, e.day) for e in events]
    for event, line in zip(events, lines, strict=True) if persons.joinable(account) else ():  # else: one platform
        key = event.claim_key(person)
        guards.append(CarbonHeldBy(key, holders[key]) if key in holders else
                      CarbonClaimed(key, platform, user_id, line.entry_id, int(line.carbon_mg), event.day))
    return [*guards, ConsentStillBound(user_id, partner, authorization_id)]
