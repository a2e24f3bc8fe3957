"""Recomputing one ledger entry's carbon from its methodology version and its stored inputs: pure, no I/O.

`python -m admin verify-ledger` (admin/verify_ledger.py) runs it on every entry that carries carbon; the standalone
verifier an exchange runs (verifier/verify_issuance.py, standard library only) repeats the same arithmetic from the
published registry export, and tests/unit/test_verifier_arithmetic.py holds the two together on every behaviour of
the demo catalog.

Which arithmetic, from what the inputs hold (domain/caps.py, domain/readings.py, domain/accrual.py write them):
- `annual_uptake_mg` and `day_n`: a tree's accrual day, floor(A*n/365) - floor(A*(n-1)/365) mg, where A must be the
  annual uptake of the methodology version (`tree_rule`: A mg per 365 days);
- `previous_revision`: a partner's corrected reading (an `adjust`): carbon_for(quantity) - carbon_for(previous_quantity)
  on the platform holding the reading's carbon (`previous_quantity` present), 0 on another platform's;
- `day_total`: a day total (WeChat steps): carbon_for(min(total, cap)) - carbon_for(min(previous total, cap));
- `quantity` (and `counted_quantity` when a cap or a check counted less): carbon_for(counted).
An entry `counted_via` another platform holds no carbon: 0. `held` and `release` entries keep the inputs of the
credit they hold, so they recompute as it does.

The day caps that applied, as the inputs record them, are checked too: what was counted is never more than the
quantity, nor than `daily_quantity_max`; without that cap a counted quantity is the quantity (or 0: a check-in whose
check failed, domain/odometer.py); a self-reported quantity is within `daily_quantity_max`; a day total never went
down. The exactness limit: a reading's correction recomputes against the reading's previous quantity, as credited
when the behaviour has no `daily_quantity_max` (no demo reading behaviour has one).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .accrual import YEAR_DAYS, day_amount
from .methodology import Rule
from .values import immutable

TREE_BEHAVIOR = "tree_uptake"  # domain/adoptions.BEHAVIOR: the behaviour code of tree accrual entries


class RecomputeError(ValueError):
    """An entry whose inputs cannot give its carbon back under its rule: the message says why."""


@immutable
class Outcome:
    """A recomputed entry: `carbon_mg` as recomputed, `why` the reason of a mismatch ("" when it matches)."""

    carbon_mg: int | None
    why: str = ""

    @property
    def matches(self) -> bool:
        return not self.why


def carries_carbon(carbon_mg: int, methodology_id: str | None) -> bool:
    """An entry verify-ledger recomputes: it has carbon, or names a methodology (a capped or unverified credit of 0
    carbon still has to recompute to 0). Spends, refunds, expiry and an operator's points adjustments do not."""
    return carbon_mg != 0 or bool(methodology_id)


def tree_rule(methodology_id: str, version: str, annual_uptake_mg: int, source: str = "",
              estimate: bool = False) -> Rule:
    """A tree methodology version as a rule (domain/adoptions.accrual_rule): A mg per 365 days, no points."""
    return Rule(code=TREE_BEHAVIOR, name="认养树木固碳", category="tree", unit="day", carbon_mg=int(annual_uptake_mg),
                carbon_per=Decimal(YEAR_DAYS), points=0, points_per=Decimal(1), channels=(),
                methodology_id=methodology_id, version=version, source=source, estimate=estimate)


def arithmetic(inputs: dict) -> str | None:
    """Which arithmetic the inputs call for: "accrual", "correction", "day_total", "event", or None."""
    if "annual_uptake_mg" in inputs and "day_n" in inputs:
        return "accrual"
    if "previous_revision" in inputs:
        return "correction"
    if "day_total" in inputs:
        return "day_total"
    if "quantity" in inputs:
        return "event"
    return None


def _number(inputs: dict, key: str) -> Decimal:
    raw = inputs.get(key)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise RecomputeError(f"inputs.{key} is missing or not a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise RecomputeError(f"inputs.{key} is not a number: {raw!r}") from exc
    if not value.is_finite() or value < 0:
        raise RecomputeError(f"inputs.{key} is not a number >= 0: {raw!r}")
    return value


def _whole(inputs: dict, key: str) -> int:
    value = _number(inputs, key)
    if value != value.to_integral_value():
        raise RecomputeError(f"inputs.{key} is not a whole number: {inputs.get(key)!r}")
    return int(value)


def carbon_of(rule: Rule, inputs: dict, counted_via: str | None = None) -> int:
    """The carbon the rule gives for these inputs, the caps they record checked; RecomputeError says why not."""
    how = arithmetic(inputs)
    if how is None:
        raise RecomputeError("inputs say nothing to recompute from (no quantity, day total, reading or tree day)")
    if how == "accrual":
        uptake, n = _whole(inputs, "annual_uptake_mg"), _whole(inputs, "day_n")
        if uptake != rule.carbon_mg or rule.carbon_per != YEAR_DAYS:
            raise RecomputeError(f"inputs.annual_uptake_mg {uptake} is not the methodology's "
                                 f"{rule.carbon_mg} mg a year")
        if not 1 <= n <= YEAR_DAYS:
            raise RecomputeError(f"inputs.day_n {n} is outside the accrual year 1..{YEAR_DAYS}")
        carbon = day_amount(uptake, n)
    elif how == "correction":
        quantity = _number(inputs, "quantity")
        carbon = rule.carbon_for(quantity) - rule.carbon_for(_number(inputs, "previous_quantity")) \
            if "previous_quantity" in inputs else 0
    elif how == "day_total":
        now, before = _number(inputs, "day_total"), _number(inputs, "previous_day_total")
        if before > now:
            raise RecomputeError(f"the day total went down ({before} -> {now})")
        ceiling = rule.daily_quantity_max
        if ceiling is not None:
            now, before = min(now, ceiling), min(before, ceiling)
        carbon = rule.carbon_for(now) - rule.carbon_for(before)
    else:
        carbon = rule.carbon_for(_counted(rule, inputs))
    return 0 if counted_via else carbon


def _counted(rule: Rule, inputs: dict) -> Decimal:
    """The quantity an event counted, checked against the caps recorded."""
    quantity = _number(inputs, "quantity")
    ceiling = rule.daily_quantity_max
    if "counted_quantity" not in inputs:  # self-reported: all of it, within the cap (else refused whole)
        if ceiling is not None and quantity > ceiling:
            raise RecomputeError(f"quantity {quantity} is above daily_quantity_max {ceiling}")
        return quantity
    counted = _number(inputs, "counted_quantity")
    if counted > quantity:
        raise RecomputeError(f"counted_quantity {counted} is above the quantity {quantity}")
    if ceiling is not None and counted > ceiling:
        raise RecomputeError(f"counted_quantity {counted} is above daily_quantity_max {ceiling}")
    if ceiling is None and counted not in (quantity, 0):
        raise RecomputeError(f"counted_quantity {counted} is less than the quantity {quantity} without a quantity cap")
    return counted


def recompute_entry(rule: Rule | None, carbon_mg: int, inputs: dict | None, methodology_id: str | None,
                    counted_via: str | None = None) -> Outcome:
    """One entry against its rule (None: its methodology version is not known): its recomputed carbon, and why it
    does not match the stored `carbon_mg` when it does not."""
    if rule is None:
        return Outcome(None, "methodology version not in the catalog's rule history")
    if rule.methodology_id != methodology_id:
        return Outcome(None, f"methodology id {methodology_id} is not that version's ({rule.methodology_id})")
    if not isinstance(inputs, dict):
        return Outcome(None, "no inputs")
    try:
        carbon = carbon_of(rule, inputs, counted_via)
    except RecomputeError as exc:
        return Outcome(None, str(exc))
    if carbon != carbon_mg:
        return Outcome(carbon, f"stored {carbon_mg} mg, recomputed {carbon} mg")
    return Outcome(carbon)
