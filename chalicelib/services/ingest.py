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

Across platforms (docs/platforms.md "Each reduction counted once"): an event has one seen item for every
platform, naming the platforms that imported it and the one holding its carbon. The first platform to import it
holds the carbon; another imports it once with its own points and 0 carbon, `counted_via` the holder, on the
condition that the item still names that holder (`EventUnseen`); a lost race reads the item again.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain import clock, persons
from ..domain.caps import award_verified_event
from ..domain.guards import Guard
from ..domain.guards_ingest import ConsentStillBound, EventUnseen, ReadingRecorded
from ..domain.methodology import Rule
from ..domain.open_partners import channel_of
from ..domain.partner_events import PartnerEvent, Sighting, chunks, consented, timely
from ..domain.platforms import DEFAULT, platform_of
from ..domain.posting import Posting, day_count
from ..domain.readings import Recorded, credit
from ..domain.results_ingest import Outcome
from ..errors import UnknownBehaviorError

WORKERS = 8  # users of one webhook batch written in parallel (each user's transactions stay in order)
# A person on several platforms: each transaction also ADDs the person's carbon on their other accounts (as
# many as read), with room kept for the platforms a person joins while their events are posted.
PEERS_MARGIN = 2


@dataclass
class Known:
    """What a batch read said about one user: their account, their consent, the events already seen (on any
    platform), and the readings recorded for their monthly readings' months and the year-earlier months."""

    account: Any
    consent: Any
    seen: dict[str, Sighting] = field(default_factory=dict)
    readings: dict[str, Recorded] = field(default_factory=dict)  # monthly readings and their baselines, by key


def ingest_batch(partner: str, events: list[PartnerEvent], new_uow: Any) -> Outcome:
    """A webhook batch: users found through their partner links (every platform's user of the person holding a
    partner account), everything known read in batches, then each person's transactions, several persons at a
    time (each user with its own unit of work from `new_uow()`; different persons' writes touch disjoint items).

    One person's users are posted one after the other, `default`'s first: the first to import an event holds its
    carbon, and each next one reads the seen items of its events again (one BatchGetItem) to import them
    `counted_via` the holder, rather than losing a race to its own person."""
    outcome = Outcome()
    if not events:
        return outcome
    uow = new_uow()
    holders = uow.links.holders(partner, {e.partner_ref for e in events})
    by_user: dict[str, list[PartnerEvent]] = {}
    for event in events:
        users = holders.get(event.partner_ref) or ()
        if not users:
            outcome.ignored += 1
        for user_id in users:
            by_user.setdefault(user_id, []).append(event)
    if not by_user:
        return outcome
    consents = uow.consents.many(list(by_user), partner)
    accounts = uow.accounts.many(list(by_user))
    seen = uow.seen.seen(e.key for group in by_user.values() for e in group if e.reading is None)
    readings = recorded_readings(uow, [e for group in by_user.values() for e in group])
    rules = rules_of(uow.catalog, events)
    people, assigned = [], set()
    for users in holders.values():
        person = tuple(u for u in users if u not in assigned)
        assigned.update(person)
        if person:
            people.append(person)

    def one_person(users: tuple[str, ...]) -> Outcome:
        result = Outcome()
        for index, user_id in enumerate(users):
            own = new_uow() if len(by_user) > 1 else uow
            group = by_user[user_id]
            known = Known(accounts.get(user_id), consents.get(user_id),
                          seen if index == 0 else own.seen.seen(e.key for e in group if e.reading is None),
                          readings if index == 0 else recorded_readings(own, group))
            result.add(ingest_user(user_id, partner, group, known, own, rules))
        return result if len(users) == 1 else _once_each(result, events, holders, set(users), seen, readings)

    if len(people) == 1:
        return outcome.add(one_person(people[0]))
    uow.prepare_threads()
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(people))) as pool:
        for result in pool.map(one_person, people):
            outcome.add(result)
    return outcome


def _once_each(result: Outcome, events: list[PartnerEvent], holders: dict, users: set[str],
               seen: dict[str, Sighting], readings: dict[str, Recorded]) -> Outcome:
    """A person's outcome on several platforms, as the partner sees its batch: each event of the person once,
    imported if some platform imported it, a duplicate if some platform had counted it before, else ignored;
    the points and carbon of every platform."""
    counted = Outcome(points=result.points, carbon_mg=result.carbon_mg, imported_keys=result.imported_keys)
    done: set[str] = set()
    for event in events:
        if not users & set(holders.get(event.partner_ref) or ()):
            continue
        if event.key in done:
            counted.duplicates += 1
        elif event.key in result.imported_keys:
            counted.imported += 1
        elif event.key in seen or (event.reading and event.once_key in readings):
            counted.duplicates += 1
        else:
            counted.ignored += 1
        done.add(event.key)
    return counted


def recorded_readings(uow: Any, events: list[PartnerEvent]) -> dict[str, Recorded]:
    """The recorded readings of the monthly readings' months and of the months a year earlier (their baselines):
    one batch read for all of them, none when there are no readings."""
    keys = {key for e in events if e.reading for key in (e.once_key, e.baseline_key)}
    return uow.readings.many(keys) if keys else {}


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
        elif _counted(known.seen, known.readings, event, platform, user_id):
            outcome.duplicates += 1
        elif event.once_key in fresh:
            outcome.duplicates += 1
            if _corrects(event, fresh[event.once_key]):  # a batch with two revisions of a reading: the later one
                fresh[event.once_key] = event
        else:
            fresh[event.once_key] = event
    eligible = [e for e in fresh.values() if _eligible(e, known.consent, known.account, rules, now)]
    outcome.ignored += len(fresh) - len(eligible)
    # readings of one moment oldest month first: a year-earlier month sent with its month is the latter's baseline
    eligible.sort(key=lambda e: (e.occurred_at, e.reading.month if e.reading else "", e.event_id))
    peers = len(persons.peers_of(known.account)) + PEERS_MARGIN
    for index, chunk in enumerate(transactions(uow, user_id, partner, eligible, peers)):
        account = known.account if index == 0 else None
        outcome.add(_post_chunk(uow, user_id, partner, chunk, known, account, rules))
    return outcome


def transactions(uow: Any, user_id: str, partner: str, events: list[PartnerEvent],
                 peers: int = 0) -> list[list[PartnerEvent]]:
    """The events cut into consecutive groups, each as many as the unit of work says one transaction holds
    with their entries, month summaries and guards."""
    consent = ConsentStillBound(user_id, partner, None)
    slots = [(e, Posting("earn", 0, 0, e.partner, behavior=e.behavior, day=e.day), EventUnseen(e.key, user_id, e.day))
             for e in events]

    def fits(group: list[tuple]) -> bool:
        return uow.fits([posting for _, posting, _ in group], [*(guard for _, _, guard in group), consent],
                        peers=peers)

    return [[event for event, _, _ in group] for group in chunks(slots, fits)]


def _eligible(event: PartnerEvent, consent: Any, account: Any, rules: dict[str, Rule], now: datetime) -> bool:
    rule = rules.get(event.behavior)
    return (account is not None and not account.frozen and consent is not None and consent.status == "bound"
            and consent.partner_ref == event.partner_ref and consented(consent.periods, event.occurred_at)
            and timely(event, now) and rule is not None and channel_of(event.partner) in rule.channels)


def _seen_on(seen: dict[str, Sighting], event: PartnerEvent, platform: str) -> bool:
    return event.key in seen and seen[event.key].seen_on(platform)


def _counted(seen: dict[str, Sighting], readings: dict[str, Recorded], event: PartnerEvent, platform: str,
             user_id: str) -> bool:
    """Already counted: an event seen on this platform; a reading whose month holds another event, or whose
    credit on this platform (the holder's, or this platform's share) is another user's or of this revision or a
    later one."""
    if event.reading is None:
        return _seen_on(seen, event, platform)
    recorded = readings.get(event.once_key)
    if recorded is None:
        return False
    share = recorded.share_of(platform)
    return recorded.event_id != event.event_id or (share is not None and (
        share.user_id != user_id or share.revision >= event.reading.revision))


def _corrects(event: PartnerEvent, other: PartnerEvent) -> bool:
    return bool(event.reading and other.reading and event.event_id == other.event_id
                and event.reading.revision > other.reading.revision)


def _post_chunk(uow: Any, user_id: str, partner: str, chunk: list[PartnerEvent], known: Known, account: Any,
                rules: dict[str, Rule]) -> Outcome:
    """One transaction's worth of events; a lost race reads the consent and the seen items again."""
    consent, seen, readings = known.consent, known.seen, known.readings
    with uow.posting(user_id, account=account) as posting:
        for attempt, current in enumerate(posting.attempts()):
            todo = chunk
            platform = platform_of(current)
            if attempt:
                consent = uow.consents.get(user_id, partner)
                seen = uow.seen.seen(e.key for e in chunk if e.reading is None)
                readings = recorded_readings(uow, chunk)
                todo = [e for e in chunk if not _counted(seen, readings, e, platform, user_id)]
            now = clock.now()
            eligible = [e for e in todo if _eligible(e, consent, current, rules, now)]
            outcome = Outcome(duplicates=len(chunk) - len(todo), ignored=len(todo) - len(eligible))
            if not eligible:
                posting.answer(outcome)
                continue
            holders = {e.key: seen[e.key].holder for e in eligible if e.key in seen}  # another platform's
            postings, recorded = _postings(current, partner, eligible, rules, holders, readings)
            posting.stage(postings)
            for guard in [*recorded, *_guards(current, partner, eligible, consent.authorization_id, holders)]:
                posting.guard(guard)
            outcome.imported, outcome.imported_keys = len(eligible), {e.key for e in eligible}
            outcome.points = sum(p.points for p in postings)
            outcome.carbon_mg = sum(p.carbon_mg for p in postings)
            posting.commit(outcome)
            if posting.result is outcome:  # written: the next chunks see these readings as recorded
                known.readings.update((guard.key, guard.recorded) for guard in recorded)
    return posting.result


def _postings(account: Any, partner: str, events: list[PartnerEvent], rules: dict[str, Rule],
              holders: dict[str, str], readings: dict[str, Recorded]) -> tuple[list[Posting], list[ReadingRecorded]]:
    """Each event against its day's counters as they stand after the events before it; one whose carbon another
    platform holds (`holders`: event key -> that platform) earns its points here for 0 carbon. A monthly reading
    credits its saving, or corrects what its month credited (domain/readings.py): the first platform to record it
    holds its carbon, another earns its own points for 0 carbon `counted_via` the holder. It is recorded in the
    same transaction (the guards returned); one with nothing to credit is recorded without an entry."""
    counters: dict = {}
    postings, recorded = [], []
    balance = int(account.points)
    readings = dict(readings)  # with the readings this transaction records, as the next events see them
    for event in events:
        rule = rules[event.behavior]
        key = (event.day, rule.code)
        count = counters.get(key) or day_count(account, event.day, rule.code)
        if event.reading:
            before = readings.get(event.once_key)
            entry, record = credit(rule, partner, event.event_id, account.user_id, event.reading, event.day,
                                   event.detail, before, readings.get(event.baseline_key), count, balance,
                                   platform_of(account))
            recorded.append(ReadingRecorded(event.once_key, record, event.day, platform_of(account), before))
            readings[event.once_key] = record
            if entry is None:
                continue
            if entry.day_count is not None:
                counters[key] = entry.day_count
        else:
            award = award_verified_event(rule, count, event.quantity)
            counters[key] = award.day
            held = holders.get(event.key)
            entry = Posting("earn", award.points, 0 if held else award.carbon_mg, partner, behavior=rule.code,
                            rule=rule, inputs={**award.inputs, **event.detail}, ref=event.event_id, day=event.day,
                            day_count=award.day, counted_via=held)
        balance += entry.points
        postings.append(entry)
    return postings, recorded


def _guards(account: Any, partner: str, events: list[PartnerEvent], authorization_id: str | None,
            holders: dict[str, str]) -> list[Guard]:
    """Each event is new on this platform (its carbon taken here, or still held where another platform holds
    it), and the consent is still the bound one the events were checked against."""
    user_id, platform = account.user_id, platform_of(account)
    guards: list[Guard] = [EventUnseen(e.key, user_id, e.day, platform, holders.get(e.key)) for e in events
                           if e.reading is None]  # a reading counts once by its reading item (_postings)
    return [*guards, ConsentStillBound(user_id, partner, authorization_id)]
