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
    from .domain.trees import Tree


class ServedCatalog:
    """The catalog as the use cases read it: the per-container caches of services/catalog.py and goods.py."""

    @staticmethod
    def behavior(code: object) -> Rule:
        return catalog.behavior(code)

    @staticmethod
    def goods_on_sale(goods_id: str) -> Goods:
        return goods.on_sale(goods_id)

    @staticmethod
    def tree(tree_id: object) -> Tree:
        from .domain.trees import tree_from_catalog  # here: a check-in's cold start does not load it

        return tree_from_catalog(catalog.tree(tree_id))

    @staticmethod
    def trees() -> list[Tree]:
        from .domain.trees import tree_from_catalog

        return [tree_from_catalog(data) for data in catalog.trees().values()]


def posting_uow() -> DynamoPostingUnitOfWork:
    return DynamoPostingUnitOfWork(ServedCatalog())


def trees_uow() -> DynamoPostingUnitOfWork:
    """Adopting and accruing (services/trees.py, services/accrual.py): the adoptions and the trees' stock too
    (store/uow_trees.py, imported here: a check-in's cold start does not load it)."""
    from .store.uow_trees import DynamoTreesUnitOfWork

    return DynamoTreesUnitOfWork(ServedCatalog())
