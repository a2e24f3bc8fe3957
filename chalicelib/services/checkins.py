"""Self-reported check-ins (POST /v1/checkins): one behaviour, one entry, refused whole at a cap."""
from __future__ import annotations

from decimal import Decimal

from ..domain import clock
from ..domain.caps import CapReachedError, award_self_reported
from ..domain.methodology import Rule, RuleError, parse_quantity
from ..errors import AccountFrozenError, DailyLimitReachedError, NotSelfReportableError, ValidationError
from ..store.idempotency import IdempotencyKey, parse_request_id
from ..store.models import Account
from . import catalog
from .posting import Plan, Posting, carbon_g, day_count, post
from .tokens import Caller

ROUTE = "POST /v1/checkins"
ODOMETER_MAX_KM = Decimal("2000000")


def checkin(caller: Caller, body: dict) -> tuple[int, dict]:
    request_id = parse_request_id(body.get("request_id"))
    rule = catalog.behavior(body.get("behavior"))
    if "checkin" not in rule.channels:
        raise NotSelfReportableError(behavior=rule.code)
    quantity = quantity_of(rule, body.get("quantity"))
    evidence = evidence_of(rule, body.get("evidence"))
    idem = IdempotencyKey(caller.user_id, request_id, ROUTE,
                          {"behavior": rule.code, "quantity": str(quantity), "evidence": evidence})
    day = clock.business_day(clock.now())

    def plan(account: Account) -> Plan:
        if account.frozen:
            raise AccountFrozenError()
        try:
            award = award_self_reported(rule, day_count(account, day, rule.code), quantity)
        except CapReachedError as exc:
            raise DailyLimitReachedError(cap=exc.cap, behavior=rule.code) from None
        inputs = {**award.inputs, **({"evidence": evidence} if evidence else {})}
        posting = Posting("earn", award.points, award.carbon_mg, "checkin", behavior=rule.code, rule=rule,
                          inputs=inputs, day=day, day_count=award.day)
        return Plan([posting], respond=lambda entries, after: (201, {
            "entry": entries[0], "points": int(after.points), "carbon_g": carbon_g(int(after.carbon_mg))}))

    return post(caller.user_id, plan, idem, request_id)


def quantity_of(rule: Rule, raw: object) -> Decimal:
    """A behaviour counted in events takes no quantity (or exactly 1); others require one."""
    if not rule.takes_quantity:
        if raw is not None and raw != 1:
            raise ValidationError("该行为按次计算，不需要数量", field="quantity")
        return Decimal(1)
    if raw is None:
        raise ValidationError(f"请填写数量（单位：{rule.unit}）", field="quantity")
    try:
        return parse_quantity(raw)
    except RuleError as exc:
        raise ValidationError("数量须为正数，最多 3 位小数", field="quantity", reason=str(exc)) from None


def evidence_of(rule: Rule, raw: object) -> dict:
    """The evidence the catalog demands (an odometer reading for green parking), validated."""
    if not rule.evidence:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError("该行为需要提供凭证", field="evidence", required=list(rule.evidence))
    evidence = {}
    for name in rule.evidence:
        if name == "odometer_km":
            evidence[name] = str(_odometer(raw.get(name)))
        else:
            value = raw.get(name)
            if not isinstance(value, str) or not 1 <= len(value) <= 256:
                raise ValidationError("凭证不完整", field=f"evidence.{name}")
            evidence[name] = value
    return evidence


def _odometer(raw: object) -> Decimal:
    try:
        value = parse_quantity(raw)
    except RuleError:
        raise ValidationError("里程表读数须为正数（公里）", field="evidence.odometer_km") from None
    if value > ODOMETER_MAX_KM:
        raise ValidationError("里程表读数不合理", field="evidence.odometer_km")
    return value
