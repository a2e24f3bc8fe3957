"""init-db: creates the missing tables under TABLE_PREFIX and waits until they are active.

PynamoDB's create_table also turns on TTL for models with a TTLAttribute (the idempotency records)."""
from __future__ import annotations

from chalicelib.store.tables import ALL_MODELS


def init_db(dry_run: bool) -> dict:
    created, present = [], []
    for model in ALL_MODELS:
        name = model.Meta.table_name
        if model.exists():
            present.append(name)
            continue
        created.append(name)
        if not dry_run:
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    return {"created": created, "present": present, "dry_run": dry_run}
