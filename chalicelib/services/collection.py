"""Collection points (回收点): GET /v1/me/member-code and POST /v1/operator/credit.

    route (api/merchant.py) -> credit_collection -> caps, ceilings (domain/) -> one posting
    (store/collection_uow.py: a consistent GetItem of the member's account, one TransactWriteItems)

A user shows a short-lived, single-use member code; staff of a merchant flagged `collection_point`
credit a behaviour with the `operator` channel to that user (2.5 kg of old clothes). The credit is an
ordinary posting on the user's account (same ledger, same caps: refused whole at any cap), remembered
under the staff member's request_id, and its transaction holds the guards (domain/guards_collection.py):
the member code consumed (`MemberCodeUnused`: a code credits once even when two staff scan it together),
the staff member's failed-scan window (`ScansNotLimited`: after 10 wrong codes in 10 minutes, even a right
code is 429 until the window ends; unknown codes count against it, services/attempts.py), the staff
member's and the merchant's day of this behaviour within their ceilings (`CreditUnderCeiling`), and the staff
member's own standing (`StaffStanding`, docs/risk.md: a staff member under review has the credit held on the
member's account and listed for their review).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..domain import clock
from ..domain import market as rules
from ..domain.caps import DayCount
from ..domain.commands_collection import CreditCollection
from ..domain.guards import Guard, GuardFailed, IdempotencyKeyFree
from ..domain.guards_collection import CreditUnderCeiling, MemberCodeUnused, ScansNotLimited
from ..domain.guards_risk import StaffDaysRemembered, staff_person_key
from ..domain.methodology import Rule, to_milli
from ..domain.platforms import DEFAULT, scoped
from ..domain.posting import Posting, day_count
from ..domain.refusals import award_within_caps, refuse_frozen
from ..domain.results_collection import CollectionCredit, MemberCodeIssued
from ..domain.review import HELD, StaffCreditListed, StaffStanding
from ..errors import (
    AppError,
    CodeExpiredError,
    CodeNotFoundError,
    DailyLimitReachedError,
    ForbiddenError,
    NotOperatorCreditableError,
    ServiceUnavailableError,
    ValidationError,
)
from . import attempts, staff_rules
from .checkins import quantity_of

CREDIT_ROUTE = "POST /v1/operator/credit"  # the operation idempotency records name (kept: they replay)
_USED_OR_EXPIRED = "会员码已使用或已过期，请让用户刷新后再出示"
_CEILING_MESSAGES = {"staff": "你今日记录该行为的数量已达上限", "merchant": "本回收点今日记录该行为的数量已达上限"}


def issue_member_code(user_id: str, uow: Any, platform: str = DEFAULT) -> MemberCodeIssued:
    """GET /v1/me/member-code: a fresh code each time, valid 5 minutes, for one credit, by staff of the user's
    platform (the code's key is the platform's, store/market.code_key)."""
    refuse_frozen(uow.members.get(user_id))
    now = clock.now()
    expires = now + rules.MEMBER_CODE_TTL
    for _ in range(3):
        code = rules.member_code()
        if uow.member_codes.add(code, user_id, now, expires, platform):  # else 60 random bits hit a live code
            return MemberCodeIssued(code, clock.iso(expires), int(rules.MEMBER_CODE_TTL.total_seconds()))
    raise ServiceUnavailableError()


def credit_collection(command: CreditCollection, uow: Any) -> CollectionCredit:
    """POST /v1/operator/credit by staff of a collection point, never to their own code. Everything is the staff
    token's platform's: its merchant, its rule of the behaviour (its points; one it does not reward is 404
    UNKNOWN_BEHAVIOR), its member codes (another platform's code is 404 CODE_NOT_FOUND as an unknown one)."""
    merchant = uow.catalog.merchant(command.merchant_id, command.platform) or {}
    if not merchant.get("collection_point"):
        raise ForbiddenError("只有回收点的工作人员可以记录", merchant_id=command.merchant_id)
    rule = uow.catalog.behavior(command.behavior, command.platform)
    if "operator" not in rule.channels:
        raise NotOperatorCreditableError(behavior=rule.code)
    quantity = quantity_of(rule, command.quantity)
    raw = command.member_code
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("请扫描或输入会员码", field="member_code")
    code = rules.normalize_code(raw, rules.MEMBER_QR_PREFIX, rules.MEMBER_CODE_LENGTH)
    once = IdempotencyKeyFree(command.user_id, command.request_id, CREDIT_ROUTE,
                              {"member_code": code or raw, "behavior": rule.code, "quantity": str(quantity)})
    now = clock.now()
    member = uow.member_codes.get(code, command.platform) if code else None
    if member is None or member.used_at or now.timestamp() >= int(member.expires_epoch):
        remembered = uow.remembered(once)  # a retry of a credit that succeeded gets its first answer
        if remembered is not None:
            return remembered
        if member is None:
            uow.failed_scans.refuse(command.user_id, CodeNotFoundError("会员码不存在"), now)
        raise CodeExpiredError(_USED_OR_EXPIRED)
    if member.user_id == command.user_id:
        raise ForbiddenError("不能为自己的会员码记录")
    return _credit_tries(command, uow, member, rule, quantity, rules.credit_ceilings(merchant), once, now)


def _credit_tries(command: CreditCollection, uow: Any, member: Any, rule: Rule, quantity: Decimal,
                  ceilings: dict[str, Decimal], once: IdempotencyKeyFree, now: datetime) -> CollectionCredit:
    """The credit, tried again as held when the staff member is under review, and exactly when rule 4's memory
    holds another day of the window (services/staff_rules.py); a refusal at the staff ceiling is remembered."""
    staff_reviewed = False  # the usual case; a refused StaffStanding says otherwise (one more transaction)
    pair = staff_rules.Pair(staff_person_key(command.platform, command.user_id, member.user_id),
                            uow.catalog.risk_settings(), uow.risk_memory)
    try:
        for _ in range(4):
            try:
                credited = _credit(command, uow, member, rule, quantity, ceilings, once, now, staff_reviewed, pair)
            except GuardFailed as failed:
                if isinstance(failed.guard, StaffStanding):
                    staff_reviewed = not staff_reviewed
                elif isinstance(failed.guard, StaffDaysRemembered):
                    pair.read(clock.business_day(clock.now()))  # the rare path: the pair's days, then exactly
                else:
                    raise _refusal(failed.guard, now) from None
                continue
            staff_rules.after_credit(command, member.user_id, pair, uow)
            return credited
    except DailyLimitReachedError as refused:
        if (refused.details or {}).get("cap") == "staff":
            staff_rules.ceiling_refused(command, uow)  # the refusal stays the answer, whatever happens to this
        raise
    raise ServiceUnavailableError()  # reviewed and cleared again between two tries: let the client retry


def _credit(command: CreditCollection, uow: Any, member: Any, rule: Rule, quantity: Decimal,
            ceilings: dict[str, Decimal], once: IdempotencyKeyFree, now: datetime,
            staff_reviewed: bool, pair: Any) -> CollectionCredit:
    """The posting; a staff member under review (docs/risk.md) has the credit held on the member's account and
    listed for their own review, in the same transaction, which checks the staff member's standing."""
    with uow.posting(member.user_id, once, command.request_id) as posting:
        for account in posting.attempts():
            refuse_frozen(account)
            at = clock.now()
            day = clock.business_day(at)
            entry = _entry(command, rule, quantity, ceilings, day, day_count(account, day, rule.code))
            staged = posting.stage([replace(entry, hold=staff_reviewed)])
            for guard in _guards(command, member, rule.code, day, to_milli(quantity), ceilings, now, at):
                posting.guard(guard)
            posting.guard(StaffStanding(command.user_id, staff_reviewed))
            posting.guard(pair.guard(day))  # rule 4's memory (services/staff_rules.py)
            line = staged.lines[0]
            if staff_reviewed and line.kind == HELD:
                posting.guard(StaffCreditListed(command.user_id, member.user_id, line.entry_id))
            posting.commit(CollectionCredit(line.receipt(), account.nickname))
    return posting.result


def _entry(command: CreditCollection, rule: Rule, quantity: Decimal, ceilings: dict[str, Decimal], day: date,
           before: DayCount) -> Posting:
    """The member's entry (it names the staff member, for operators), refused whole at a cap or a ceiling."""
    award = award_within_caps(rule, before, quantity)
    for cap, ceiling in ceilings.items():
        if to_milli(quantity) > to_milli(ceiling):
            raise _ceiling_reached(cap, rule.code)
    inputs = {**award.inputs, "merchant_id": command.merchant_id, "staff_user_id": command.user_id}
    return Posting("earn", award.points, award.carbon_mg, "operator", behavior=rule.code, rule=rule, inputs=inputs,
                   day=day, day_count=award.day, ref=command.merchant_id)


def _guards(command: CreditCollection, member: Any, behavior: str, day: date, taken: int,
            ceilings: dict[str, Decimal], now: datetime, at: datetime) -> list[Guard]:
    """In the credit's transaction, in the order their refusals answer: the staff member's failed-scan window
    (as of the request), the member code consumed, the staff member's and the merchant's day of the behaviour
    grown by `taken` (milli-units) within their ceilings."""
    merchant = scoped(command.platform, command.merchant_id)  # "P#{id}" for P's merchant (store/market.credited_key)
    ceiling_guards = [CreditUnderCeiling(cap, owner, behavior, day, taken, to_milli(ceilings[cap]))
                      for cap, owner in (("staff", command.user_id), ("merchant", merchant))]
    return [ScansNotLimited(attempts.window_key(command.user_id, now), attempts.MAX_FAILURES),
            MemberCodeUnused(member.code, member.user_id, clock.iso(at), command.user_id, int(at.timestamp())),
            *ceiling_guards]


def _refusal(guard: Any, now: datetime) -> AppError:
    if isinstance(guard, ScansNotLimited):
        return attempts.limited(now)
    if isinstance(guard, MemberCodeUnused):
        return CodeExpiredError(_USED_OR_EXPIRED)
    return _ceiling_reached(guard.cap, guard.behavior)


def _ceiling_reached(cap: str, behavior: str) -> DailyLimitReachedError:
    """A collection point's own ceiling (`cap` "staff" or "merchant") would be passed: refused whole."""
    return DailyLimitReachedError(_CEILING_MESSAGES[cap], cap=cap, behavior=behavior)
