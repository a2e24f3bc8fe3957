"""What an amount of carbon means to a person (api.md definitions): days of one tree's uptake and km not driven.

Pure arithmetic over milligrams; GET /v1/me/summary shows it.
"""
from __future__ import annotations

from typing import NamedTuple

TREE_DAY_G = 49.3  # an 18 kg-a-year tree for one day (api.md definitions)
CAR_KM_G = 200.0  # a petrol car at 0.2 kg/km


class Equivalents(NamedTuple):
    tree_days: float
    car_km: float


def equivalents(carbon_mg: int) -> Equivalents:
    """To one decimal, from the grams the API shows (202458 mg -> 202.458 g -> 4.1 tree-days, 1.0 km)."""
    grams = carbon_mg / 1000
    return Equivalents(tree_days=round(grams / TREE_DAY_G, 1), car_km=round(grams / CAR_KM_G, 1))
