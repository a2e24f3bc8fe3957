"""Trees offered for adoption, as the catalog defines them, and the certificate number format.

Pure: parsing and checking a catalog entry, and making a number; no I/O.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from . import ids
from .platforms import DEFAULT, scoped
from .values import immutable

TREE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CERTIFICATE_RANDOM_CHARS = 8  # 40 random bits a year; uniqueness is the adoption's conditional put
CERTIFICATE = re.compile(r"^GS-\d{4}-[0-9A-HJKMNP-TV-Z]{8}$")


class TreeError(ValueError):
    """A catalog tree that cannot be offered (a missing or impossible field)."""


@immutable
class Tree:
    """One tree offer. `annual_uptake_mg` is what one adopted tree is credited over its year."""

    id: str
    species: str
    location: str
    points_price: int
    annual_uptake_mg: int
    stock: int
    methodology_id: str
    version: str
    source: str
    estimate: bool
    platform: str = DEFAULT  # whose catalog offers it (`P#tree`); its stock is that platform's

    @property
    def stock_key(self) -> str:
        """Its stock item: "tree#{id}" on `default`, "P#tree#{id}" on P (store/stock.py)."""
        return scoped(self.platform, f"tree#{self.id}")

    def methodology(self) -> dict:
        return {"id": self.methodology_id, "version": self.version, "source": self.source,
                "estimate": self.estimate}

    @property
    def figure(self) -> tuple[int, bool]:
        """What its methodology version fixes for good: the annual uptake (mg) and whether it is an estimate."""
        return self.annual_uptake_mg, self.estimate

    def version_record(self) -> dict:
        """Its methodology version as the catalog's history keeps it (`history_kind`): what recomputing an
        accrual needs, and the tree that first offered it."""
        return {"methodology_id": self.methodology_id, "version": self.version,
                "annual_uptake_mg": self.annual_uptake_mg, "source": self.source, "estimate": self.estimate,
                "tree_id": self.id}


def history_kind(methodology_id: str, platform: str = DEFAULT) -> str:
    """The catalog partition of a tree methodology's versions (sort key: the version), written once each by
    the catalog load: "tree_methodology#{id}" on `default`, "P#tree_methodology#{id}" on P."""
    return scoped(platform, f"tree_methodology#{methodology_id}")


def record_figure(record: dict) -> tuple[int, bool]:
    """A stored version record's figure, as `Tree.figure`."""
    return int(record["annual_uptake_mg"]), bool(record["estimate"])


def tree_from_catalog(entry: object, platform: str = DEFAULT) -> Tree:
    """A tree from its catalog entry: {"id", "species", "location", "points_price", "annual_uptake_g",
    "stock", "methodology"?: {"id", "version", "source", "estimate"}}. Without a methodology the figure
    is an unpublished estimate under the tree's own id, version "1"."""
    if not isinstance(entry, dict):
        raise TreeError(f"a tree is an object, got {entry!r}")
    tree_id = entry.get("id")
    if not isinstance(tree_id, str) or not TREE_ID.fullmatch(tree_id):
        raise TreeError(f"tree id must be 1..64 of a-z, 0-9 and '-': {tree_id!r}")
    texts = {name: entry.get(name) for name in ("species", "location")}
    for name, value in texts.items():
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise TreeError(f"tree {tree_id}: {name} must be a text of 1..64 characters")
    price, stock = entry.get("points_price"), entry.get("stock")
    if not _is_int(price) or price < 1:
        raise TreeError(f"tree {tree_id}: points_price must be a whole number of points, at least 1")
    if not _is_int(stock) or stock < 0:
        raise TreeError(f"tree {tree_id}: stock must be a whole number, 0 or more")
    methodology = entry.get("methodology") or {}
    if not isinstance(methodology, dict):
        raise TreeError(f"tree {tree_id}: methodology must be an object")
    return Tree(
        id=tree_id, species=texts["species"].strip(), location=texts["location"].strip(), points_price=price,
        annual_uptake_mg=_milligrams(tree_id, entry.get("annual_uptake_g")), stock=stock,
        methodology_id=str(methodology.get("id") or f"GS-tree-{tree_id}"),
        version=str(methodology.get("version") or "1"), source=str(methodology.get("source") or ""),
        estimate=bool(methodology.get("estimate", not methodology)), platform=platform,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _milligrams(tree_id: str, grams: object) -> int:
    """Grams with at most 3 decimals as exact milligrams (18000 -> 18000000)."""
    try:
        if isinstance(grams, bool) or not isinstance(grams, (int, float, str)):
            raise InvalidOperation
        value = Decimal(str(grams)) * 1000
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0 or value != value.to_integral_value() or value > 10**12:
        raise TreeError(f"tree {tree_id}: annual_uptake_g must be a positive number of grams, at most 3 decimals")
    return int(value)


def certificate_number(year: int) -> str:
    """A number a person can quote: "GS-2026-7K3M9QX2" (Crockford base32, no look-alike letters)."""
    return f"GS-{year:04d}-{ids.random_code(CERTIFICATE_RANDOM_CHARS)}"
