"""GET /v1/me/summary's equivalents (domain/equivalents.py): tree-days and km not driven, to one decimal."""
from __future__ import annotations

from chalicelib.domain.equivalents import Equivalents, equivalents


def test_equivalents_are_days_of_an_18_kg_tree_and_km_of_a_petrol_car():
    assert equivalents(333_720) == Equivalents(tree_days=round(333.72 / 49.3, 1), car_km=round(333.72 / 200, 1))
    assert equivalents(493_000) == Equivalents(tree_days=10.0, car_km=2.5)
    assert equivalents(0) == Equivalents(tree_days=0.0, car_km=0.0)
