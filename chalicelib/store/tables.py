"""Every table the app uses, for init-db, the infrastructure template and the tests.

A feature that adds a model in its own module under store/ lists it here.
"""
from __future__ import annotations

from pynamodb.models import Model

from .models import Account, AuditRecord, BehaviorMonth, CatalogItem, IdempotencyRecord, Identity, LedgerEntry

ALL_MODELS: tuple[type[Model], ...] = (
    Account, Identity, LedgerEntry, IdempotencyRecord, CatalogItem, AuditRecord, BehaviorMonth,
)
