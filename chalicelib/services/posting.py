"""Transitional: two names services/consent.py, orgs.py, boards.py, stats.py and profile.py still import from
here (the planner form `post`/`Plan` and the JSON of entries are gone: every posting goes through
store/unit_of_work.py, and the entry's JSON is api/shapes.entry_json). Delete this module once they import
`carbon_g` from api/shapes.py and read the account through store/repositories.Accounts."""
from __future__ import annotations

from ..api.shapes import carbon_g
from ..store.models import Account
from ..store.repositories import Accounts

__all__ = ["carbon_g", "load_account"]


def load_account(user_id: str) -> Account:
    """The account, read consistently (store/repositories.Accounts.get)."""
    return Accounts().get(user_id)
