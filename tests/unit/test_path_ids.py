"""The rule for ids in a path: every id we issue or load passes; nothing that could not be one does."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.api.path_ids import path_id
from chalicelib.domain import ids
from chalicelib.errors import NotFoundError, UnknownPartnerError
from chalicelib.services.partners import PARTNERS

CATALOG = json.loads((Path(__file__).resolve().parents[2] / "admin" / "demo_catalog.json").read_text("utf-8"))


@pytest.mark.parametrize("value", [
    *(item["id"] for kind in ("goods", "trees", "orgs") for item in CATALOG[kind]),
    *PARTNERS,
    ids.sortable_id(1_790_000_000_000),  # redemption ids
    ids.user_id(),
    "o_" + "Z" * 62,  # the longest org id admin/orgs_load.py accepts
    "g" * 64,  # the longest goods or tree id domain/market.py and domain/trees.py accept
])
def test_every_id_we_issue_or_load_passes(value):
    assert path_id(value) == value


@pytest.mark.parametrize("value", ["", "x" * 65, "x" * 3000, "中" * 10, "a b", "a.b", "a/b", "a%2F", "bank\n", "\x00",
                                   None, 42])
def test_anything_else_is_an_unknown_object(value):
    with pytest.raises(NotFoundError):
        path_id(value)


def test_the_route_chooses_its_own_not_found():
    with pytest.raises(UnknownPartnerError):
        path_id("x" * 3000, UnknownPartnerError())
