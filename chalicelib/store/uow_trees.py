"""The posting unit of work of the saplings: adopting (the tree's stock and the adoption with the spend)
and accrual (each adoption advanced with its days' entries), over DynamoDB (store/dynamo_uow.py)."""
from __future__ import annotations

from typing import Any

from ..domain.guards import Guard
from ..domain.guards_trees import AdoptionAdvanced, AdoptionRecorded
from .dynamo_uow import DynamoPostingUnitOfWork
from .repositories_trees import Adoptions, TreeStock
from .tx import Tx


class DynamoTreesUnitOfWork(DynamoPostingUnitOfWork):
    ACCESS = (Adoptions, TreeStock)

    def __init__(self, catalog: Any = None) -> None:
        super().__init__(catalog)
        self.adoptions = Adoptions()
        self.tree_stock = TreeStock()

    def _stage_guard(self, tx: Tx, label: str, guard: Guard) -> None:
        if isinstance(guard, AdoptionRecorded):
            self.adoptions.stage_new(tx, label, guard.adoption)
        elif isinstance(guard, AdoptionAdvanced):
            self.adoptions.stage_advance(tx, label, guard.read, guard.to)
        else:
            super()._stage_guard(tx, label, guard)
