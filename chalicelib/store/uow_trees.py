"""The posting unit of work of the saplings: adopting (the tree's stock and the adoption with the spend)
and accrual (each adoption advanced with its days' entries), over DynamoDB (store/dynamo_uow.py)."""
from __future__ import annotations

from typing import Any

from ..domain.guards import Guard
from ..domain.guards_trees import AdoptionAdvanced, AdoptionRecorded, CertificateKeyFree
from .dynamo_uow import DynamoPostingUnitOfWork
from .repositories_trees import AdoptionKey, Adoptions, TreeStock
from .tx import Tx


class DynamoTreesUnitOfWork(DynamoPostingUnitOfWork):
    def __init__(self, catalog: Any = None) -> None:
        super().__init__(catalog)
        self.adoptions = Adoptions()
        self.tree_stock = TreeStock()

    def posting(self, user_id: str, once: Any = None, request_id: str | None = None,
                account: Any = None) -> DynamoTreesUnitOfWork:
        if isinstance(once, CertificateKeyFree):  # the token names the certificate number (AdoptionKey)
            once = AdoptionKey(once.scope, once.request_id, once.operation, once.payload, once.certificate_no)
        super().posting(user_id, once, request_id, account)
        return self

    def _stage_guard(self, tx: Tx, label: str, guard: Guard) -> None:
        if isinstance(guard, AdoptionRecorded):
            self.adoptions.stage_new(tx, label, guard.adoption)
        elif isinstance(guard, AdoptionAdvanced):
            self.adoptions.stage_advance(tx, label, guard.read, guard.to)
        else:
            super()._stage_guard(tx, label, guard)
