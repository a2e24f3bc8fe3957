"""Wires the use cases to their adapters: the one place that says which unit of work a request uses.

Built per request (a unit of work holds one posting's state); the clients beneath it are built once per
container (store/tx.connection). Tests of use cases build tests/unit/fakes.py's in-memory one instead.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .domain.market import Goods
from .domain.methodology import Rule
from .services import catalog, goods
from .store.dynamo_uow import DynamoPostingUnitOfWork

if TYPE_CHECKING:
    from .store.repositories_market import SoldRedemptions
    from .store.scans import Scans


class ServedCatalog:
    """The catalog as the use cases read it: the per-container caches of services/catalog.py and goods.py."""

    @staticmethod
    def behavior(code: object) -> Rule:
        return catalog.behavior(code)

    @staticmethod
    def goods_on_sale(goods_id: str) -> Goods:
        return goods.on_sale(goods_id)


def posting_uow() -> DynamoPostingUnitOfWork:
    return DynamoPostingUnitOfWork(ServedCatalog())


def sold_redemptions() -> SoldRedemptions:
    """Imported when first asked for, like the one below: a check-in's cold start does not load them."""
    from .store.repositories_market import SoldRedemptions

    return SoldRedemptions()


def scans() -> Scans:
    from .store.scans import Scans

    return Scans()
