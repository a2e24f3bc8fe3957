"""Trees as the catalog defines them, and certificate numbers."""
from __future__ import annotations

import pytest

from chalicelib.domain.trees import CERTIFICATE, TreeError, certificate_number, tree_from_catalog

CAMPHOR = {"id": "t-camphor-2026", "species": "香樟", "location": "泸州市江阳区", "points_price": 300,
           "annual_uptake_g": 18000, "stock": 1000}


def test_grams_become_exact_milligrams():
    assert tree_from_catalog(CAMPHOR).annual_uptake_mg == 18_000_000
    assert tree_from_catalog({**CAMPHOR, "annual_uptake_g": 18000.001}).annual_uptake_mg == 18_000_001
    assert tree_from_catalog({**CAMPHOR, "annual_uptake_g": "7000.5"}).annual_uptake_mg == 7_000_500


def test_a_tree_without_a_methodology_is_an_estimate_under_its_own_id():
    tree = tree_from_catalog(CAMPHOR)
    assert (tree.methodology_id, tree.version, tree.estimate) == ("GS-tree-t-camphor-2026", "1", True)
    published = tree_from_catalog({**CAMPHOR, "methodology": {"id": "X", "version": "2026.1", "source": "s"}})
    assert (published.methodology_id, published.version, published.estimate) == ("X", "2026.1", False)


@pytest.mark.parametrize("change", [
    {"id": "Bad Id"}, {"species": ""}, {"location": None}, {"points_price": 0}, {"points_price": 1.5},
    {"points_price": True}, {"stock": -1}, {"annual_uptake_g": 0}, {"annual_uptake_g": 0.0001},
    {"annual_uptake_g": "lots"}, {"annual_uptake_g": float("nan")}, {"annual_uptake_g": 10**10},
    {"methodology": "x"},
])
def test_impossible_trees_are_refused(change):
    with pytest.raises(TreeError):
        tree_from_catalog({**CAMPHOR, **change})


def test_certificate_numbers_are_quotable_and_random():
    numbers = {certificate_number(2026) for _ in range(1000)}
    assert len(numbers) == 1000
    assert all(CERTIFICATE.match(n) and n.startswith("GS-2026-") for n in numbers)
    assert not any(ch in n[8:] for n in numbers for ch in "ILOU")  # no look-alikes
