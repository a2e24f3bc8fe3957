"""Methodology arithmetic: how a quantity of a behaviour becomes milligrams of CO2e and points.

Pure functions over a `Rule` (one version of one behaviour's methodology). Carbon is always
integer milligrams; quantities are Decimals (2.5 kg of clothes), never floats.
"""
from __future__ import annotations

from dataclasses import field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from .values import immutable

CHANNELS = ("checkin", "werun", "transit", "bank", "operator", "partner")  # partner: the open protocol's
SELF_REPORTED = ("checkin", "operator")  # refused whole at a cap; partner channels are verified

QUANTITY_SCALE = Decimal("0.001")  # quantities carry at most 3 decimals


class RuleError(ValueError):
    """A catalog rule that cannot be applied (bad field, inconsistent numbers)."""


@immutable
class Rule:
    """One version of a behaviour's rule, as loaded from the catalog. Immutable once stored."""

    code: str
    name: str
    category: str
    unit: str
    carbon_mg: int
    carbon_per: Decimal
    points: int
    points_per: Decimal
    channels: tuple[str, ...]
    methodology_id: str
    version: str
    source: str
    daily_limit: int | None = None
    daily_points_max: int | None = None
    daily_quantity_max: Decimal | None = None
    evidence: tuple[str, ...] = ()
    estimate: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def takes_quantity(self) -> bool:
        return self.unit != "event"

    def carbon_for(self, quantity: Decimal) -> int:
        """round_half_up(q * mg / per) milligrams."""
        value = quantity * self.carbon_mg / self.carbon_per
        return int(value.to_integral_value(rounding=ROUND_HALF_UP))

    def points_for(self, quantity: Decimal) -> int:
        """floor(q / per) * points."""
        return int((quantity / self.points_per).to_integral_value(rounding=ROUND_FLOOR)) * self.points

    def rule_fields(self) -> dict:
        """The fields that define the arithmetic: a change to any of them needs a new version."""
        return {
            "unit": self.unit,
            "carbon": {"mg": self.carbon_mg, "per": str(self.carbon_per)},
            "points": {"points": self.points, "per": str(self.points_per)},
            "daily_limit": self.daily_limit,
            "daily_points_max": self.daily_points_max,
            "daily_quantity_max": None if self.daily_quantity_max is None else str(self.daily_quantity_max),
            "channels": sorted(self.channels),
            "evidence": sorted(self.evidence),
            "estimate": self.estimate,
        }


def parse_quantity(raw: object) -> Decimal:
    """A positive quantity with at most 3 decimals, from JSON (int, float literal or string)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise RuleError("quantity must be a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise RuleError("quantity must be a number") from exc
    if not value.is_finite() or value <= 0:
        raise RuleError("quantity must be a positive number")
    if value > Decimal("100000000"):  # before quantize, which overflows the context on huge values
        raise RuleError("quantity is too large")
    if value != value.quantize(QUANTITY_SCALE):
        raise RuleError("quantity has at most 3 decimals")
    return plain(value.quantize(QUANTITY_SCALE))


def plain(value: Decimal) -> Decimal:
    """Without trailing zeros and never in exponent form: 2.500 -> 2.5, 10.000 -> 10 (not 1E+1)."""
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized.as_tuple().exponent > 0 else normalized


def to_milli(quantity: Decimal) -> int:
    """Quantity as integer thousandths, the form daily counters keep."""
    return int(quantity * 1000)


def from_milli(milli: int) -> Decimal:
    return plain(Decimal(milli) / 1000)


def rule_from_catalog(entry: dict) -> Rule:
    """Builds a Rule from a catalog file's behaviour entry (operations.md), checking every field."""
    try:
        carbon, points, methodology = entry["carbon"], entry["points"], entry["methodology"]
        channels = tuple(entry["channels"])
        rule = Rule(
            code=str(entry["code"]), name=str(entry["name"]), category=str(entry.get("category", "other")),
            unit=str(entry["unit"]),
            carbon_mg=_whole(carbon["mg"]), carbon_per=Decimal(str(carbon.get("per", 1))),
            points=_whole(points["points"]), points_per=Decimal(str(points.get("per", 1))),
            channels=channels,
            methodology_id=str(methodology["id"]), version=str(methodology["version"]),
            source=str(methodology.get("source", "")),
            daily_limit=_optional_int(entry.get("daily_limit")),
            daily_points_max=_optional_int(entry.get("daily_points_max")),
            daily_quantity_max=None if entry.get("daily_quantity_max") is None
            else Decimal(str(entry["daily_quantity_max"])),
            evidence=tuple(entry.get("evidence") or ()),
            estimate=bool(methodology.get("estimate", entry.get("estimate", False))),
        )
    except (KeyError, TypeError, ValueError, OverflowError, InvalidOperation) as exc:
        raise RuleError(f"behaviour {entry.get('code', '?')!r}: {exc!r}") from exc
    unknown = set(channels) - set(CHANNELS)
    if unknown or not channels:
        raise RuleError(f"behaviour {rule.code!r}: channels must be among {CHANNELS}")
    if not (rule.carbon_per.is_finite() and rule.points_per.is_finite()):
        raise RuleError(f"behaviour {rule.code!r}: per must be a finite number")
    if rule.carbon_mg < 0 or rule.points < 0 or rule.carbon_per <= 0 or rule.points_per <= 0:
        raise RuleError(f"behaviour {rule.code!r}: carbon and points must be >= 0 and per > 0")
    ceiling = rule.daily_quantity_max
    if ceiling is not None and not (ceiling.is_finite() and ceiling > 0):
        raise RuleError(f"behaviour {rule.code!r}: limits must be positive")
    return rule


def _whole(value: object) -> int:
    """An integer field: 1.7 mg is refused, not silently truncated to 1."""
    number = int(value)  # type: ignore[arg-type]
    if isinstance(value, bool) or Decimal(str(value)) != number:
        raise ValueError(f"{value!r} is not a whole number")
    return number


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    number = _whole(value)
    if number <= 0:
        raise ValueError("limits must be positive")
    return number
