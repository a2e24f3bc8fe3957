"""Rules 4 and 5 (docs/risk.md): collection-point patterns and redemption rings, judged where their data arrives.

- `staff_same_person`: every collection credit keeps its day on the (staff member, person) item in its own
  transaction (domain/guards_risk.StaffDaysRemembered). Usually on condition that no other day of the window is
  kept, so it costs no call; when that condition refuses, the day is another of the window: the item is read
  (one GetItem), the rule judged, the credit written again conditioned on what was read, and, when the rule
  fires, the staff member goes under review (`services/review.flag_once`).
- `staff_ceiling`: a credit refused at the merchant's staff ceiling remembers its day (one UpdateItem on the
  refusal path); on the 2nd day of the window the staff member goes under review.
- `redemption_ring`: a verification of a young account's redemption keeps it on the (goods, staff member) item in
  the verification's transaction (domain/guards_risk.RingRemembered), while fewer than a ring are kept; else the
  item is read, trimmed to the window (domain/risk.trim_ring), judged (domain/risk.ring), and written again with
  the accounts it puts under review marked, so each is flagged once; then those accounts and the staff member go
  under review.
A flag after the write it judges is a posting of its own (the rare path). A crash between the two loses that
flag, not the memory: the next credit or verification of the pattern fires it again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from ..domain import clock
from ..domain import risk as risk_rules
from ..domain.guards_risk import RingEntry, RingRemembered, StaffDaysRemembered, staff_ceiling_key
from ..domain.risk import RingRedemption, RiskSettings
from ..errors import AppError
from . import review

logger = logging.getLogger("greensprout.risk")


@dataclass
class Pair:
    """A staff member and the person they credit: the memory's key, and what the rare path read."""

    key: str
    settings: RiskSettings
    memory: Any  # store/risk_memory.RiskMemory
    rev: int | None = None  # None: the usual shape
    fired: bool = False
    days: list[date] = field(default_factory=list)
    stale: tuple[date, ...] = ()

    def guard(self, day: date) -> StaffDaysRemembered:
        return StaffDaysRemembered(self.key, day, self.settings.staff_window_days, self.rev, self.stale)

    def read(self, today: date) -> None:
        days, self.rev = self.memory.staff_days(self.key)
        self.days = risk_rules.trim_days([*days, today], today, self.settings)
        self.stale = tuple(sorted(set(days) - set(self.days)))
        self.fired = risk_rules.staff_same_person(self.days, today, self.settings)


def after_credit(command: Any, member_id: str, pair: Pair, uow: Any) -> None:
    if pair.fired:
        days = ", ".join(day.isoformat() for day in pair.days)
        today = clock.business_day(clock.now())
        _flag(command.user_id, risk_rules.STAFF_SAME_PERSON,
              f"credited {member_id} on {len(pair.days)} days within {pair.settings.staff_window_days}: {days}"
              f" (merchant {command.merchant_id})", uow,
              still=lambda staff: risk_rules.staff_same_person(
                  risk_rules.days_since_review(pair.days, staff, today), today, pair.settings))


def ceiling_refused(command: Any, uow: Any) -> None:
    """A credit refused at the staff ceiling: its day remembered; the 2nd such day of the window flags. The
    refusal is the request's answer: a memory that cannot be written now (DynamoDB unavailable) is logged and
    skipped, not turned into a 503."""
    try:
        _remember_ceiling_refusal(command, uow)
    except AppError:
        logger.warning("staff_ceiling: the refusal of staff %s could not be remembered", command.user_id)


def _remember_ceiling_refusal(command: Any, uow: Any) -> None:
    settings = uow.catalog.risk_settings()
    today = clock.business_day(clock.now())
    key = staff_ceiling_key(command.platform, command.user_id)
    days = uow.risk_memory.remember_ceiling_refusal(key, today, settings.staff_window_days)
    stale = sorted(set(days) - set(risk_rules.trim_days(days, today, settings)))
    if stale:
        uow.risk_memory.forget_ceiling_days(key, stale)
    if risk_rules.staff_ceiling(days, today, settings):
        kept = ", ".join(day.isoformat() for day in risk_rules.trim_days(days, today, settings))
        _flag(command.user_id, risk_rules.STAFF_CEILING,
              f"credits refused at the staff ceiling of merchant {command.merchant_id} on {kept}", uow,
              still=lambda staff: risk_rules.staff_ceiling(
                  risk_rules.days_since_review(days, staff, today), today, settings))


def _flag(user_id: str, rule: str, reason: str, uow: Any, still: Any = None) -> bool:
    """Whether the account is now under review for `rule` (put there now or before); False when it could not be
    (DynamoDB unavailable: the write it judged stands; a deleted or frozen account, logged likewise). `still`:
    the rule judged again on the account read, leaving out what its last review cleared (review.flag_once)."""
    try:
        review.flag_once(user_id, rule, reason, uow, still)
    except AppError as exc:
        logger.warning("%s: could not put %s under review: %s", rule, user_id, exc.code)
        return False
    return True


# Rule 5 --------------------------------------------------------------------------------------------------------

def ring_entry(pointer: Any, settings: RiskSettings) -> RingEntry | None:
    """The verified redemption as the ring keeps it, if its account was young when it redeemed (else None:
    nothing kept, nothing written). Pointers of redemptions made before rule 5 name no account: None."""
    if not (pointer.user_id and pointer.redeemed_at and pointer.joined_at):
        return None
    redeemed = clock.parse_iso(pointer.redeemed_at)
    age = redeemed - clock.parse_iso(pointer.joined_at)
    if age >= timedelta(days=settings.ring_account_age_days):
        return None
    return RingEntry(pointer.user_id, redeemed, int(age.total_seconds()))


@dataclass
class Ring:
    """A verification's part in rule 5: the guard it writes, and on the rare path what it read and judged."""

    key: str
    entry: RingEntry
    settings: RiskSettings
    kept: tuple[RingEntry, ...] | None = None
    rev: int = 0
    to_flag: list[str] = field(default_factory=list)
    caught: int = 0  # the ring's size

    def guard(self) -> RingRemembered:
        return RingRemembered(self.key, self.entry, self.settings.ring_accounts - 1, self.kept, self.rev,
                              self.settings.ring_window_hours)

    def read(self, scans: Any) -> None:
        """The kept redemptions with this one, trimmed to the window before the latest of them (none earlier can
        be within the window of a later one), judged. The ring's accounts are marked flagged only once they are
        (`after_verification`), so a flag lost between the two writes is made by the next judgement."""
        kept, self.rev = scans.ring_entries(self.key)
        entries = [e for e in kept if e.user_id != self.entry.user_id or e.redeemed_at != self.entry.redeemed_at]
        entries.append(self.entry)
        as_ring = {(e.user_id, e.redeemed_at): e for e in entries}
        trimmed = risk_rules.trim_ring([RingRedemption(e.user_id, e.redeemed_at, timedelta(seconds=e.age_s))
                                        for e in entries], max(e.redeemed_at for e in entries), self.settings)
        caught = risk_rules.ring(trimmed, self.settings)
        flagged = {e.user_id for e in entries if e.flagged}
        self.to_flag, self.caught = sorted(caught - flagged), len(caught)
        self.kept = tuple(RingEntry(r.user_id, r.redeemed_at, as_ring[(r.user_id, r.redeemed_at)].age_s,
                                    r.user_id in flagged) for r in trimmed)

    def marked(self) -> tuple[RingEntry, ...]:
        return tuple(replace(e, flagged=e.flagged or e.user_id in self.to_flag) for e in self.kept or ())


def after_verification(ring: Ring | None, pointer: Any, staff_id: str, uow_of: Any, scans: Any) -> None:
    """The ring's accounts not yet flagged by it, and then the staff member, put under review; then marked on
    the memory (one UpdateItem, conditioned on the `rev` the verification left: after a later write, the later
    judgement flags and marks them, flag_once skipping those under review already)."""
    if ring is None or not ring.to_flag:
        return
    uow = uow_of()
    reason = (f"{ring.caught} accounts younger than {ring.settings.ring_account_age_days} days redeemed "
              f"{pointer.goods_name} ({pointer.goods_id}) within {ring.settings.ring_window_hours} h, "
              f"all verified by staff {staff_id}")
    ring.to_flag = [user_id for user_id in ring.to_flag if _flag(user_id, risk_rules.REDEMPTION_RING, reason, uow)]
    _flag(staff_id, risk_rules.REDEMPTION_RING, reason, uow)
    if not ring.to_flag:
        return
    try:
        scans.mark_ring(ring.key, ring.rev + 1, ring.marked())  # only those now under review
    except AppError as exc:
        logger.warning("redemption_ring: %s not marked: %s", ring.key, exc.code)
