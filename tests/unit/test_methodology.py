"""Methodology arithmetic (operations.md, "The catalog file"): pure, no database.

carbon(q) = round_half_up(q * carbon.mg / carbon.per) integer milligrams;
points(q) = floor(q / points.per) * points.points.
"""
from __future__ import annotations

import copy
import json
import math
import re
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.methodology import (
    CHANNELS,
    Rule,
    RuleError,
    from_milli,
    parse_quantity,
    rule_from_catalog,
    to_milli,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_CATALOG = ROOT / "admin" / "demo_catalog.json"
FACTORS = Path(__file__).resolve().parents[2] / "docs" / "methodology" / "factors.md"  # our copy of shared/methodology


def demo_entries() -> dict[str, dict]:
    return {b["code"]: b for b in json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["behaviors"]}


def demo_rule(code: str) -> Rule:
    return rule_from_catalog(demo_entries()[code])


def make_rule(mg: int, per: str | int = 1, points: int = 0, points_per: str | int = 1, unit: str = "unit") -> Rule:
    return rule_from_catalog({
        "code": "t", "name": "t", "unit": unit,
        "carbon": {"mg": mg, "per": per}, "points": {"points": points, "per": points_per},
        "channels": ["checkin"], "methodology": {"id": "T", "version": "1"},
    })


def q(text: str) -> Decimal:
    return parse_quantity(text)


# --- the demo values -------------------------------------------------------------------------------


def test_one_clean_plate_is_144000_mg_and_5_points():
    rule = demo_rule("clean_plate")
    assert rule.takes_quantity is False
    assert rule.carbon_for(Decimal(1)) == 144000
    assert rule.points_for(Decimal(1)) == 5


def test_12345_steps_are_202458_mg_and_24_raw_points():
    rule = demo_rule("walk_steps")
    assert rule.carbon_for(q("12345")) == 202458  # 12345 * 8200 / 500 = 202458 exactly
    assert rule.points_for(q("12345")) == 24  # floor(12345 / 500) = 24; the daily cap is not the rule's business


def test_one_bus_ride_is_80_g_and_10_points():
    rule = demo_rule("bus_ride")
    assert rule.carbon_for(Decimal(1)) == 80000
    assert rule.points_for(Decimal(1)) == 10


def test_6400_metres_of_metro_are_298880_mg_at_46_7_g_per_km_and_6_points():
    rule = demo_rule("metro_ride")
    assert rule.carbon_for(q("6400")) == 298880
    assert rule.carbon_for(q("1000")) == 46700
    assert rule.points_for(q("6400")) == 6


def test_2_5_kg_of_old_clothes_are_3200000_mg_and_60_points_because_points_floor_whole_kilograms():
    rule = demo_rule("old_clothes")
    assert rule.carbon_for(q("2.5")) == 3200000
    assert rule.points_for(q("2.5")) == 60  # floor(2.5 / 1) * 30, not 2.5 * 30 = 75


def test_a_metro_ride_shorter_than_a_km_earns_carbon_but_no_points():
    rule = demo_rule("metro_ride")
    assert rule.carbon_for(q("999")) == 46653  # 46653.3 -> 46653
    assert rule.points_for(q("999")) == 0
    assert rule.points_for(q("1000")) == 1
    assert rule.points_for(q("1999.999")) == 1
    assert rule.points_for(q("2000")) == 2


def test_499_steps_earn_carbon_but_no_points_and_500_earn_one():
    rule = demo_rule("walk_steps")
    assert rule.carbon_for(q("499")) == 8184  # 8183.6 -> 8184
    assert rule.points_for(q("499")) == 0
    assert rule.carbon_for(q("500")) == 8200
    assert rule.points_for(q("500")) == 1


# --- half-up rounding -------------------------------------------------------------------------------


@pytest.mark.parametrize(("mg", "per", "quantity", "expected"), [
    (1, 2, "1", 1),  # 0.5 -> 1
    (1, 2, "3", 2),  # 1.5 -> 2
    (1, 2, "5", 3),  # 2.5 -> 3 (half-even would give 2)
    (5, 10, "9", 5),  # 4.5 -> 5 (half-even would give 4)
    (4999, 10000, "1", 0),  # 0.4999 -> 0
    (14999, 10000, "1", 1),  # 1.4999 -> 1
    (25001, 10000, "1", 3),  # 2.5001 -> 3
    (24999, 10000, "1", 2),  # 2.4999 -> 2
    (1, 1, "2.5", 3),  # a decimal quantity at .5
    (1, 1, "2.499", 2),
    (500, 1, "0.001", 1),  # 0.5 mg from a thousandth
    (499, 1, "0.001", 0),  # 0.499 mg
    (46700, 1000, "15", 701),  # metro: 700.5 -> 701 (half-even would give 700)
    (46700, 1000, "5", 234),  # metro: 233.5 -> 234
    (8200, 500, "0.625", 10),  # steps: 10.25 -> 10
    (3, 7, "7", 3),  # exact
    (1, 3, "1", 0),  # 0.333.. -> 0
    (2, 3, "1", 1),  # 0.666.. -> 1
])
def test_carbon_rounds_half_up_to_integer_milligrams(mg, per, quantity, expected):
    rule = make_rule(mg, per)
    value = rule.carbon_for(q(quantity))
    assert type(value) is int
    assert value == expected


def test_carbon_is_exact_decimal_arithmetic_where_floats_would_round_down():
    rule = make_rule(100, 1)
    assert round(1.005 * 100) == 100  # what binary floats give
    assert rule.carbon_for(parse_quantity(1.005)) == 101  # 100.5 exactly -> 101


def test_carbon_of_a_thousandth_of_a_kilogram_of_clothes_is_1280_mg():
    assert demo_rule("old_clothes").carbon_for(q("0.001")) == 1280
    assert demo_rule("old_clothes").points_for(q("0.001")) == 0


@pytest.mark.parametrize(("points", "per", "quantity", "expected"), [
    (30, 1, "2.5", 60),
    (30, 1, "0.999", 0),
    (30, 1, "1", 30),
    (30, 1, "2.999", 60),
    (1, 500, "12345", 24),
    (1, "0.5", "2.25", 4),  # floor(4.5) * 1
    (7, 3, "10", 21),  # floor(3.33..) * 7
    (0, 1, "50", 0),
])
def test_points_are_whole_multiples_of_per_times_points(points, per, quantity, expected):
    rule = make_rule(1, 1, points, per)
    value = rule.points_for(q(quantity))
    assert type(value) is int
    assert value == expected


def test_carbon_matches_the_formula_for_many_quantities():
    rule = make_rule(46700, 1000, 1, 1000)
    for milli in range(1, 200_000, 997):
        quantity = from_milli(milli)
        exact = Decimal(milli) * 46700 / 1000 / 1000
        floor_ = math.floor(exact)
        expected = floor_ + (1 if exact - floor_ >= Decimal("0.5") else 0)
        assert rule.carbon_for(quantity) == expected, quantity
        assert rule.points_for(quantity) == math.floor(quantity / 1000)


# --- parse_quantity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (3, Decimal("3")),
    (12345, Decimal("12345")),
    (2.5, Decimal("2.5")),
    (0.001, Decimal("0.001")),
    (1.005, Decimal("1.005")),
    ("2.5", Decimal("2.5")),
    ("0.001", Decimal("0.001")),
    ("2.500", Decimal("2.5")),
    ("12345", Decimal("12345")),
    (Decimal("2.50"), Decimal("2.5")),
    (100000000, Decimal("100000000")),
])
def test_parse_quantity_accepts_positive_numbers_with_at_most_3_decimals(raw, expected):
    value = parse_quantity(raw)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize("raw", [
    True, False,
    0, 0.0, "0", "0.000", -1, -0.5, "-2.5", "-0",
    float("nan"), float("inf"), float("-inf"), "NaN", "sNaN", "Infinity", "-Infinity",
    "0.0001", 2.0001, "1.2345", 0.1 + 0.2,  # 0.30000000000000004
    "abc", "", "2,5", None, [1], {"quantity": 1}, b"1",
    100000001, "100000000.001", 1e30, 10**30, "1e27",
])
def test_parse_quantity_refuses_anything_but_a_positive_number_with_at_most_3_decimals(raw):
    with pytest.raises(RuleError):
        parse_quantity(raw)


def test_quantities_round_trip_through_integer_thousandths():
    for text in ("0.001", "2.5", "12345", "30000", "49.999"):
        value = q(text)
        assert to_milli(value) == int(Decimal(text) * 1000)
        assert from_milli(to_milli(value)) == value


# --- rule_from_catalog ------------------------------------------------------------------------------


def base_entry() -> dict:
    return copy.deepcopy(demo_entries()["walk_steps"])


def test_a_catalog_entry_becomes_a_rule_with_every_field():
    rule = rule_from_catalog(base_entry())
    assert (rule.code, rule.unit, rule.category) == ("walk_steps", "step", "travel")
    assert (rule.carbon_mg, rule.carbon_per, rule.points, rule.points_per) == (8200, 500, 1, 500)
    assert (rule.daily_limit, rule.daily_points_max, rule.daily_quantity_max) == (None, 20, 30000)
    assert rule.channels == ("werun",)
    assert (rule.methodology_id, rule.version) == ("LZ-walk", "2024.1")
    assert rule.estimate is False


def test_per_defaults_to_one_and_zero_carbon_or_points_are_allowed():
    entry = base_entry()
    entry["carbon"] = {"mg": 0}
    entry["points"] = {"points": 0}
    rule = rule_from_catalog(entry)
    assert (rule.carbon_mg, rule.carbon_per, rule.points, rule.points_per) == (0, 1, 0, 1)


@pytest.mark.parametrize("channels", [["sms"], ["werun", "sms"], [], "werun", ["WERUN"]])
def test_a_rule_with_an_unknown_or_no_channel_is_refused(channels):
    entry = base_entry()
    entry["channels"] = channels
    with pytest.raises(RuleError):
        rule_from_catalog(entry)


def test_every_known_channel_is_accepted():
    for channel in CHANNELS:
        entry = base_entry()
        entry["channels"] = [channel]
        assert rule_from_catalog(entry).channels == (channel,)


@pytest.mark.parametrize("path", [
    ("code",), ("name",), ("unit",), ("carbon",), ("carbon", "mg"), ("points",), ("points", "points"),
    ("channels",), ("methodology",), ("methodology", "id"), ("methodology", "version"),
])
def test_a_rule_missing_a_required_field_is_refused(path):
    entry = base_entry()
    holder = entry
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    with pytest.raises(RuleError):
        rule_from_catalog(entry)


@pytest.mark.parametrize(("section", "key", "value"), [
    ("carbon", "mg", -1),
    ("carbon", "per", 0),
    ("carbon", "per", -500),
    ("carbon", "per", "NaN"),
    ("carbon", "mg", "abc"),
    ("carbon", "mg", 8200.5),  # a fraction of a milligram is not silently truncated
    ("points", "points", -1),
    ("points", "per", 0),
    ("points", "per", "-1"),
    ("points", "per", "Infinity"),
    ("points", "points", 1.5),
])
def test_a_rule_with_a_negative_or_malformed_number_is_refused(section, key, value):
    entry = base_entry()
    entry[section][key] = value
    with pytest.raises(RuleError):
        rule_from_catalog(entry)


@pytest.mark.parametrize("limit", ["daily_limit", "daily_points_max", "daily_quantity_max"])
@pytest.mark.parametrize("value", [0, -1, "NaN", "abc"])
def test_a_rule_with_a_limit_not_above_zero_is_refused(limit, value):
    entry = base_entry()
    entry[limit] = value
    with pytest.raises(RuleError, match="walk_steps"):
        rule_from_catalog(entry)


@pytest.mark.parametrize("limit", ["daily_limit", "daily_points_max", "daily_quantity_max"])
def test_a_limit_of_one_is_accepted(limit):
    entry = base_entry()
    entry[limit] = 1
    assert getattr(rule_from_catalog(entry), limit) == 1


def test_a_rule_error_is_a_value_error_naming_the_behaviour():
    entry = base_entry()
    entry["carbon"]["mg"] = -5
    with pytest.raises(ValueError, match="walk_steps"):
        rule_from_catalog(entry)


# --- rule_fields ------------------------------------------------------------------------------------


def _set(entry: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        entry = entry[key]
    entry[path[-1]] = value


@pytest.mark.parametrize(("path", "value"), [
    (("unit",), "km"),
    (("carbon", "mg"), 8201),
    (("carbon", "per"), 499),
    (("points", "points"), 2),
    (("points", "per"), 1000),
    (("daily_limit",), 5),
    (("daily_points_max",), 21),
    (("daily_points_max",), None),
    (("daily_quantity_max",), 29999),
    (("daily_quantity_max",), None),
    (("channels",), ["werun", "transit"]),
    (("evidence",), ["screenshot"]),
    (("methodology", "estimate"), True),
])
def test_rule_fields_change_when_any_arithmetic_field_changes(path, value):
    before = rule_from_catalog(base_entry()).rule_fields()
    entry = base_entry()
    _set(entry, path, value)
    assert rule_from_catalog(entry).rule_fields() != before


@pytest.mark.parametrize(("path", "value"), [
    (("name",), "步行"),
    (("category",), "health"),
    (("methodology", "source"), "another citation"),
])
def test_rule_fields_ignore_what_does_not_change_the_arithmetic(path, value):
    before = rule_from_catalog(base_entry()).rule_fields()
    entry = base_entry()
    _set(entry, path, value)
    assert rule_from_catalog(entry).rule_fields() == before


def test_rule_fields_are_stable_through_a_json_round_trip():
    for entry in demo_entries().values():
        again = json.loads(json.dumps(entry))
        fields = rule_from_catalog(entry).rule_fields()
        assert rule_from_catalog(again).rule_fields() == fields
        assert json.loads(json.dumps(fields)) == fields


# --- the demo catalog against factors.md -------------------------------------------------------------

UNIT_OF = {"km": ("metre", 1000), "kg": ("kg", 1), "steps": ("step", 1)}


def _per(text: str, unit: str) -> tuple[Decimal, Decimal]:
    """'46.7 g per km' -> (46.7 g, 1000 metres); '8.2 g per 500 steps' -> (8.2, 500); '144 g' -> (144, 1)."""
    m = re.fullmatch(r"([\d,.]+)(?: g)?(?: per (?:(\d+) )?(\w+))?", text.strip())
    assert m, text
    value = Decimal(m.group(1).replace(",", ""))
    if m.group(3) is None:
        return value, Decimal(1)
    expected_unit, scale = UNIT_OF[m.group(3)]
    assert unit == expected_unit, (text, unit)
    return value, Decimal(m.group(2) or 1) * scale


def factors_table() -> dict[str, dict]:
    rows = {}
    in_demo = False
    for line in FACTORS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_demo = "demo catalog" in line
        if not in_demo or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        code, name, unit, carbon, points, limits, channel, source = cells
        rows[code.strip("`")] = {"name": name, "unit": unit, "carbon": carbon, "points": points,
                                 "limits": limits, "channel": channel, "source": source}
    return rows


def test_factors_md_table_has_the_seventeen_demo_behaviours():
    assert len(factors_table()) == 17


def test_the_demo_catalog_has_exactly_the_behaviours_of_factors_md():
    assert set(demo_entries()) == set(factors_table())


@pytest.mark.parametrize("code", sorted(factors_table()))
def test_every_demo_behaviour_parses_and_its_per_unit_figures_match_factors_md(code):
    row = factors_table()[code]
    rule = rule_from_catalog(demo_entries()[code])
    assert rule.name == row["name"]
    assert rule.unit == row["unit"]
    assert rule.channels == (row["channel"],)

    grams, per = _per(row["carbon"], rule.unit)
    assert rule.carbon_for(per) == int(grams * 1000)

    points, points_per = _per(row["points"], rule.unit)
    assert rule.points_for(points_per) == int(points)
    assert rule.points_for(points_per - Decimal("0.001")) == 0  # just short of one "per" earns no points


@pytest.mark.parametrize("code", sorted(factors_table()))
def test_every_demo_behaviours_limits_match_factors_md(code):
    limits = factors_table()[code]["limits"]
    rule = demo_rule(code)
    per_day = re.match(r"(?:points for )?(\d+) (?:rides )?a day", limits)
    points_a_day = re.match(r"(\d+) points a day", limits)
    quantity_a_day = re.search(r"(?:above ([\d,]+) a day|^(\d+) kg a day)", limits)
    assert rule.daily_limit == (int(per_day.group(1)) if per_day else None)
    assert rule.daily_points_max == (int(points_a_day.group(1)) if points_a_day else None)
    expected_ceiling = None
    if quantity_a_day:
        expected_ceiling = Decimal((quantity_a_day.group(1) or quantity_a_day.group(2)).replace(",", ""))
    assert rule.daily_quantity_max == expected_ceiling
    assert rule.evidence == (("odometer_km",) if "odometer" in limits else ("photo",) if "photo" in limits else ())


@pytest.mark.parametrize("code", sorted(factors_table()))
def test_demo_behaviours_tagged_as_estimates_in_factors_md_are_marked_estimate(code):
    row = factors_table()[code]
    assert demo_rule(code).estimate is row["source"].startswith("[E]")
