"""Each test proves the ledger of the accounts it touched, not of the whole table: the same check as
`python -m admin reconcile` (admin/accounts.py), for the given people only, so a test depends on no other
test's accounts and costs the same however long the suite grows."""
from __future__ import annotations


def reconciled(*people: dict | str) -> dict:
    """`reconcile_accounts` of the given users (login dicts or user ids); at least one, each must exist."""
    from admin.accounts import reconcile_accounts

    assert people, "name the accounts the test touched"
    return reconcile_accounts(p["id"] if isinstance(p, dict) else p for p in people)
