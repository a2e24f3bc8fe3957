"""Collection points (回收点): GET /v1/me/member-code and POST /v1/operator/credit.

A user shows a short-lived, single-use member code; staff of a merchant flagged `collection_point`
credit a behaviour with the `operator` channel to that user (2.5 kg of old clothes). The credit is an
ordinary posting on the user's account (same ledger, same caps: refused whole at any cap), remembered
under the staff member's request_id, and it consumes the member code by a condition in its own
transaction, so a code credits once even when two staff scan it together. Unknown member codes count
against the staff member's window of failed scans (services/attempts.py), and the credit's transaction
checks that window: after 10 wrong codes in 10 minutes, even a right code is 429 until the window ends.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from decimal import Decimal

from pynamodb.exceptions import PutError

from ..domain import clock
from ..domain import market as rules
from ..domain.caps import CapReachedError, award_self_reported
from ..domain.methodology import Rule, to_milli
from ..errors import (
    AccountFrozenError,
    CodeExpiredError,
    CodeNotFoundError,
    DailyLimitReachedError,
    ForbiddenError,
    NotOperatorCreditableError,
    ServiceUnavailableError,
    ValidationError,
)
from ..store.idempotency import IdempotencyKey, parse_request_id
from ..store.market import Counter, MemberCode, credited_key
from ..store.models import Account
from ..store.tx import Tx
from . import attempts, catalog, profile
from .checkins import quantity_of
from .posting import Plan, Posting, day_count, post
from .staff import require_staff
from .tokens import Caller

CREDIT_ROUTE = "POST /v1/operator/credit"
_USED_OR_EXPIRED = "会员码已使用或已过期，请让用户刷新后再出示"
_CEILING_MESSAGES = {"staff": "你今日记录该行为的数量已达上限", "merchant": "本回收点今日记录该行为的数量已达上限"}


def issue_member_code(caller: Caller) -> dict:
    """GET /v1/me/member-code: a fresh code each time, valid 5 minutes, for one credit."""
    if profile.account(caller.user_id).frozen:
        raise AccountFrozenError()
    now = clock.now()
    expires = now + rules.MEMBER_CODE_TTL
    for _ in range(3):
        code = rules.member_code()
        item = MemberCode(code, user_id=caller.user_id, created_at=clock.iso(now),
                          expires_epoch=int(expires.timestamp()), purge_at=expires + timedelta(days=1))
        try:
            item.save(condition=MemberCode.code.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue  # 60 random bits collided with a live code: draw again
            raise ServiceUnavailableError() from exc
        return {"member_code": code, "qr_payload": rules.MEMBER_QR_PREFIX + code, "expires_at": clock.iso(expires),
                "expires_in": int(rules.MEMBER_CODE_TTL.total_seconds())}
    raise ServiceUnavailableError()


def credit(caller: Caller, body: dict) -> tuple[int, dict]:
    """POST /v1/operator/credit by staff of a collection point, never to their own code."""
    merchant_id = require_staff(caller)
    merchant = catalog.merchants().get(merchant_id) or {}
    if not merchant.get("collection_point"):
        raise ForbiddenError("只有回收点的工作人员可以记录", merchant_id=merchant_id)
    request_id = parse_request_id(body.get("request_id"))
    rule = catalog.behavior(body.get("behavior"))
    if "operator" not in rule.channels:
        raise NotOperatorCreditableError(behavior=rule.code)
    quantity = quantity_of(rule, body.get("quantity"))
    raw = body.get("member_code")
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("请扫描或输入会员码", field="member_code")
    code = rules.normalize_code(raw, rules.MEMBER_QR_PREFIX, rules.MEMBER_CODE_LENGTH)
    idem = IdempotencyKey(caller.user_id, request_id, CREDIT_ROUTE,
                          {"member_code": code or raw, "behavior": rule.code, "quantity": str(quantity)})
    now = clock.now()
    member = _lookup(code)
    if member is None or member.used_at or now.timestamp() >= int(member.expires_epoch):
        remembered = idem.find()  # a retry of a credit that succeeded gets its first answer
        if remembered:
            return remembered
        if member is None:
            attempts.refuse(caller.user_id, CodeNotFoundError("会员码不存在"), now)
        raise CodeExpiredError(_USED_OR_EXPIRED)
    if member.user_id == caller.user_id:
        raise ForbiddenError("不能为自己的会员码记录")

    return post(member.user_id, _planner(caller.user_id, merchant_id, rules.credit_ceilings(merchant), rule,
                                         quantity, member, now), idem, request_id)


def _planner(staff_user_id: str, merchant_id: str, ceilings: dict[str, Decimal], rule: Rule, quantity: Decimal,
             member: MemberCode, now: datetime) -> Callable[[Account], Plan]:
    """The credit's plan: the member's entry (it names the staff member, for operators), and in the same
    transaction the member code consumed, the staff member's failed-scan window checked, and the staff
    member's and the merchant's day of this behaviour grown within their ceilings."""

    def plan(account: Account) -> Plan:
        if account.frozen:
            raise AccountFrozenError()
        at = clock.now()
        day = clock.business_day(at)
        try:
            award = award_self_reported(rule, day_count(account, day, rule.code), quantity)
        except CapReachedError as exc:
            raise DailyLimitReachedError(cap=exc.cap, behavior=rule.code) from None
        taken = to_milli(quantity)
        for cap, ceiling in ceilings.items():
            if taken > to_milli(ceiling):
                raise _ceiling_reached(cap, rule.code)
        posting = Posting("earn", award.points, award.carbon_mg, "operator", behavior=rule.code, rule=rule,
                          inputs={**award.inputs, "merchant_id": merchant_id, "staff_user_id": staff_user_id},
                          day=day, day_count=award.day, ref=merchant_id)
        purge = datetime.combine(day + timedelta(days=3), time(), clock.SHANGHAI)

        def consume(tx: Tx) -> None:
            tx.update("member_code", MemberCode(member.code), actions=[
                MemberCode.used_at.set(clock.iso(at)), MemberCode.used_by.set(staff_user_id)],
                condition=MemberCode.used_at.does_not_exist() & (MemberCode.expires_epoch > int(at.timestamp()))
                & (MemberCode.user_id == member.user_id))
            attempts.check(tx, staff_user_id, now)  # 10 wrong codes: even the right one is 429 (no oracle)
            for cap, owner in (("staff", staff_user_id), ("merchant", merchant_id)):  # the day's ceilings
                tx.update(cap, Counter(credited_key(cap, owner, rule.code, day)),
                          actions=[Counter.count.add(taken), Counter.purge_at.set(purge)],
                          condition=Counter.count.does_not_exist()
                          | (Counter.count <= to_milli(ceilings[cap]) - taken))

        return Plan([posting], respond=lambda entries, after: (201, {
            "entry": entries[0], "member": {"nickname": account.nickname}}),
            extra=consume, refusals={"attempts": attempts.limited(now),
                                     "member_code": CodeExpiredError(_USED_OR_EXPIRED),
                                     **{cap: _ceiling_reached(cap, rule.code) for cap in ceilings}})

    return plan


def _ceiling_reached(cap: str, behavior: str) -> DailyLimitReachedError:
    """A collection point's own ceiling (`cap` "staff" or "merchant") would be passed: refused whole."""
    return DailyLimitReachedError(_CEILING_MESSAGES[cap], cap=cap, behavior=behavior)


def _lookup(code: str | None) -> MemberCode | None:
    """The member code's item (one consistent GetItem), or None when there is no such code."""
    if code is None:
        return None
    try:
        return MemberCode.get(code, consistent_read=True)
    except MemberCode.DoesNotExist:
        return None
